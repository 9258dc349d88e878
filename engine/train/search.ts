/**
 * Hyperparameter search: grid or random search over the learning rate, batch size,
 * optimiser and graph parameters (layer sizes, activation types, as overrides of one node's
 * parameter), optionally on a subset of the training data, with the trials ranked by a
 * validation metric.
 */
import { Generator } from '../core/random.ts';
import { subset } from '../data/dataset.ts';
import type { DatasetSplits } from '../data/pipeline.ts';
import { defaultParams, hasLayer } from '../graph/catalogue.ts';
import { compileGraph } from '../graph/compile.ts';
import type { ModelGraph, ParamValue } from '../graph/types.ts';
import { type EpochMetrics, higherIsBetter, type MetricName } from './metrics.ts';
import type { OptimizerType, TrainingSettings } from './settings.ts';
import { type RunStatus, Trainer } from './trainer.ts';

/**
 * A graph parameter to vary: `param` of node `nodeId` takes each of `values`. The param
 * `type` swaps the node's layer type (e.g. ReLU / Tanh / GELU for an activation node).
 */
export interface GraphParamAxis {
  nodeId: string;
  param: string;
  values: ParamValue[];
}

export interface SearchSpace {
  lr?: number[];
  batchSize?: number[];
  optimizer?: OptimizerType[];
  graphParams?: GraphParamAxis[];
}

export interface SearchOptions {
  strategy: 'grid' | 'random';
  /** Random search: number of trials (distinct configurations while there are any left). */
  trials?: number;
  /** Seeds the random choices and the training subset. */
  seed?: number;
  /** Validation metric to rank by (training metric without a validation split). */
  metric?: MetricName;
  /** Train each trial on this many training samples (seeded subset); default all. */
  subset?: number;
}

export interface TrialConfig {
  lr: number;
  batchSize: number;
  optimizer: OptimizerType;
  /** "nodeId.param" -> value */
  graphParams: Record<string, ParamValue>;
}

export interface TrialResult {
  /** 1-based rank by the metric (failed trials last). */
  rank: number;
  /** Order in which the trial ran (0-based). */
  trial: number;
  config: TrialConfig;
  /** Best value of the metric over the epochs; null when the trial failed or diverged. */
  score: number | null;
  bestEpoch: number | null;
  status: RunStatus | 'failed';
  final: EpochMetrics | null;
  error?: string;
}

export interface SearchArgs {
  graph: ModelGraph;
  data: DatasetSplits;
  training: TrainingSettings;
  space: SearchSpace;
  options: SearchOptions;
  /** Called after each trial with the results so far. */
  onTrial?(result: TrialResult, done: number, total: number): void;
  /** Checked between trials; true stops the search. */
  shouldStop?(): boolean;
  /** Called with each trial's trainer before it runs (to stop a running trial). */
  onTrainer?(trainer: Trainer): void;
}

/** The configurations of a grid (every combination, in a fixed order). */
export function gridConfigs(space: SearchSpace, base: TrainingSettings): TrialConfig[] {
  const axes = axesOf(space, base);
  const configs: TrialConfig[] = [];
  const idx = new Array<number>(axes.length).fill(0);
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  for (let k = 0; k < total; k++) {
    configs.push(configFrom(axes, idx));
    for (let a = axes.length - 1; a >= 0; a--) {
      if (++idx[a] < axes[a].values.length) break;
      idx[a] = 0;
    }
  }
  return configs;
}

/** `count` configurations drawn at random (distinct until the space is exhausted). */
export function randomConfigs(space: SearchSpace, base: TrainingSettings, count: number, seed = 0): TrialConfig[] {
  const axes = axesOf(space, base);
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  const gen = new Generator(seed);
  const seen = new Set<string>();
  const configs: TrialConfig[] = [];
  while (configs.length < count) {
    const idx = axes.map((a) => gen.int(a.values.length));
    const key = idx.join(',');
    if (seen.has(key) && seen.size < total) continue;
    seen.add(key);
    configs.push(configFrom(axes, idx));
  }
  return configs;
}

interface Axis {
  key: string;
  values: ParamValue[];
}

function axesOf(space: SearchSpace, base: TrainingSettings): Axis[] {
  const axes: Axis[] = [
    { key: 'lr', values: space.lr?.length ? space.lr : [base.optimizer.lr] },
    { key: 'batchSize', values: space.batchSize?.length ? space.batchSize : [base.batchSize] },
    { key: 'optimizer', values: space.optimizer?.length ? space.optimizer : [base.optimizer.type] },
  ];
  for (const g of space.graphParams ?? []) {
    if (!g.values.length) throw new Error(`Search: no values given for ${g.nodeId}.${g.param}`);
    axes.push({ key: `${g.nodeId}.${g.param}`, values: g.values });
  }
  for (const v of axes[0].values) if (!(typeof v === 'number' && v > 0)) throw new Error(`Search: learning rates must be numbers above 0, got ${JSON.stringify(v)}`);
  for (const v of axes[1].values) if (!(Number.isInteger(v) && (v as number) >= 1)) throw new Error(`Search: batch sizes must be whole numbers of at least 1, got ${JSON.stringify(v)}`);
  return axes;
}

function configFrom(axes: Axis[], idx: number[]): TrialConfig {
  const graphParams: Record<string, ParamValue> = {};
  for (let a = 3; a < axes.length; a++) graphParams[axes[a].key] = axes[a].values[idx[a]];
  return { lr: axes[0].values[idx[0]] as number, batchSize: axes[1].values[idx[1]] as number, optimizer: axes[2].values[idx[2]] as OptimizerType, graphParams };
}

/** A copy of the graph with the trial's parameter overrides applied. */
export function applyGraphParams(graph: ModelGraph, overrides: Record<string, ParamValue>): ModelGraph {
  const g: ModelGraph = JSON.parse(JSON.stringify(graph));
  for (const [key, value] of Object.entries(overrides)) {
    const dot = key.indexOf('.');
    const nodeId = key.slice(0, dot);
    const param = key.slice(dot + 1);
    const node = g.nodes.find((n) => n.id === nodeId);
    if (!node) throw new Error(`Search: the model has no node "${nodeId}"`);
    if (param === 'type') {
      if (typeof value !== 'string' || !hasLayer(value)) throw new Error(`Search: "${String(value)}" is not a layer type (for node "${nodeId}")`);
      const defaults = defaultParams(value);
      node.type = value;
      node.params = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, k in node.params ? node.params[k] : v]));
    } else {
      if (!(param in defaultParams(node.type))) throw new Error(`Search: layer ${node.type} ("${nodeId}") has no parameter "${param}"`);
      node.params[param] = value;
    }
  }
  return g;
}

/** Runs the trials one after another and returns them ranked by the metric. */
export async function hyperparameterSearch(args: SearchArgs): Promise<TrialResult[]> {
  const { graph, training, space, options } = args;
  const seed = options.seed ?? 0;
  const metric = options.metric ?? 'loss';
  const configs = options.strategy === 'grid' ? gridConfigs(space, training) : randomConfigs(space, training, options.trials ?? 10, seed);
  let data = args.data;
  if (options.subset !== undefined && options.subset < data.train.length) {
    if (!(Number.isInteger(options.subset) && options.subset >= 1)) throw new Error(`Search: subset must be a whole number of samples, got ${options.subset}`);
    const pick = Array.from(new Generator(seed).permutation(data.train.length).subarray(0, options.subset)).sort((a, b) => a - b);
    data = { ...data, train: subset(data.train, pick) };
  }
  const better = higherIsBetter(metric) ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const results: TrialResult[] = [];
  for (let i = 0; i < configs.length; i++) {
    if (args.shouldStop?.()) break;
    const config = configs[i];
    const settings: TrainingSettings = { ...training, batchSize: config.batchSize, optimizer: { ...training.optimizer, lr: config.lr, type: config.optimizer, nesterov: config.optimizer === 'sgd' && training.optimizer.nesterov } };
    let result: TrialResult;
    try {
      const model = compileGraph(applyGraphParams(graph, config.graphParams), { seed: training.seed });
      const trainer = new Trainer({ model, data, settings });
      args.onTrainer?.(trainer);
      const run = await trainer.run();
      let score: number | null = null;
      let bestEpoch: number | null = null;
      if (run.status !== 'diverged') {
        for (const h of run.history) {
          const v = (h.val ?? h.train)[metric];
          if (v === undefined) throw new Error(`The metric "${metric}" is not reported for this task`);
          if (score === null || better(v, score)) {
            score = v;
            bestEpoch = h.epoch;
          }
        }
      }
      const last = run.history[run.history.length - 1];
      result = { rank: 0, trial: i, config, score, bestEpoch, status: run.status, final: last ? (last.val ?? last.train) : null };
      optimizerFree(trainer);
    } catch (err) {
      result = { rank: 0, trial: i, config, score: null, bestEpoch: null, status: 'failed', final: null, error: err instanceof Error ? err.message : String(err) };
    }
    results.push(result);
    args.onTrial?.(result, i + 1, configs.length);
  }
  const ranked = [...results].sort((a, b) => {
    if (a.score === null || b.score === null) return a.score === null ? (b.score === null ? a.trial - b.trial : 1) : -1;
    return better(a.score, b.score) ? -1 : better(b.score, a.score) ? 1 : a.trial - b.trial;
  });
  ranked.forEach((r, k) => (r.rank = k + 1));
  return ranked;
}

/** Frees a finished trial's optimiser state and weights. */
function optimizerFree(t: Trainer): void {
  t.optimizer.dispose();
  for (const p of t.model.stateDict().values()) {
    p.grad?.dispose();
    p.dispose();
  }
}
