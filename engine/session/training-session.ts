/**
 * The training side of the engine protocol, environment-neutral: it starts runs, relays
 * their progress, pauses, resumes and stops them, and answers inspection, export, preview
 * and checkpoint requests. Electron's worker, the web host's Web Worker (through
 * dispatch.ts) and the CLI (in-process) all drive it with the same messages.
 */
import { Generator } from '../core/random.ts';
import { augmentSample } from '../data/augment.ts';
import { inputSize } from '../data/dataset.ts';
import { loadSource, prepareData, prepareSplits } from '../data/prepare.ts';
import { sequentialBatches } from '../data/pipeline.ts';
import { classCounts } from '../data/class-counts.ts';
import { listDatasets, previewDataset } from '../data/registry.ts';
import { compileGraph, type GraphModel } from '../graph/compile.ts';
import { listBackends } from '../core/backend.ts';
import { activeBackend, setBackend } from '../core/engine.ts';
import { FeedPlan } from '../train/feeds.ts';
import { loadInitialWeights } from '../train/import-layers.ts';
import { inspect, type InspectContext, type SplitName } from '../train/inspect.ts';
import { argmaxRows } from '../train/metrics.ts';
import { validateDataSettings, validateTrainingSettings, withDataDefaults, withTrainingDefaults } from '../train/settings.ts';
import { type NamedValues, snapshotWeights, Trainer, type TrainResult } from '../train/trainer.ts';
import { nowMs } from '../train/clock.ts';
import { noGrad } from '../core/autograd.ts';
import { tidy } from '../core/scope.ts';
import { parseTrainingBackend } from './backend-choice.ts';
import type { TrainingBackend, TrainingEvent, TrainingRequest } from './protocol.ts';

/** Progress events are sent at most this often (the last step of an epoch always is). */
const PROGRESS_INTERVAL_MS = 100;

interface Run {
  runId: string;
  kind: 'train' | 'load';
  trainer: Trainer | null;
  /** A model with loaded weights (a `load-model` request): inspectable, not trainable. */
  loaded: InspectContext | null;
  /** The backend its model's tensors live on (set once it has chosen one). */
  backend: string | null;
  /** A training run (not loaded weights) whose loop has ended or failed. */
  ended: boolean;
  /** Settles when the run has finished (or failed). */
  done: Promise<void>;
}

const TRAINING_TYPES = new Set<string>([
  'train-start',
  'train-pause',
  'train-resume',
  'train-stop',
  'train-checkpoint',
  'inspect',
  'export-weights',
  'confusion-samples',
  'load-model',
  'list-datasets',
  'data-preview',
]);

export function isTrainingRequest(req: { type: string }): req is TrainingRequest {
  return TRAINING_TYPES.has(req.type);
}

/** What is missing from a training request's identifiers, or null when they are present. */
export function malformedTrainingRequest(req: TrainingRequest): string | null {
  const r = req as unknown as Record<string, unknown>;
  const needsRun = req.type !== 'list-datasets' && req.type !== 'data-preview';
  const needsRequest = !req.type.startsWith('train-') || req.type === 'train-checkpoint';
  if (needsRun && (typeof r.runId !== 'string' || r.runId === '')) return `${req.type} request needs a string "runId"`;
  if (needsRequest && (typeof r.requestId !== 'string' || r.requestId === '')) return `${req.type} request needs a string "requestId"`;
  if (req.type === 'train-start' && (typeof r.graph !== 'object' || r.graph === null)) return 'train-start request needs the model "graph"';
  if (req.type === 'train-start' && r.initialWeights !== undefined && !Array.isArray(r.initialWeights)) return 'train-start request: "initialWeights" must be a list of {name, shape, values}';
  if (req.type === 'inspect' && (typeof r.query !== 'object' || r.query === null)) return 'inspect request needs a "query"';
  if (req.type === 'load-model' && (typeof r.graph !== 'object' || r.graph === null)) return 'load-model request needs the model "graph"';
  if (req.type === 'load-model' && !Array.isArray(r.weights)) return 'load-model request needs the "weights" (a list of {name, shape, values})';
  return null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Makes `choice` the active compute backend (enabling the gpu.js backend on first use) and
 * says which it is, e.g. "cpu" or "gpu (gpu.js webasm)".
 */
export async function chooseBackend(choice: TrainingBackend | undefined): Promise<string> {
  const parsed = parseTrainingBackend(choice ?? 'cpu');
  if (typeof parsed === 'string') throw new Error(parsed);
  if (!parsed.gpu) {
    setBackend('cpu');
    return 'cpu';
  }
  // Loaded on demand: hosts that never ask for the gpu do not load gpu.js.
  const gpu = await import('../backends/gpu/register.ts');
  if (!listBackends().includes('gpu')) {
    try {
      gpu.enableGpuBackend(parsed.mode);
    } catch (err) {
      throw new Error(`The gpu backend could not be enabled${parsed.mode ? ` in gpu.js ${parsed.mode} mode` : ''} here (${message(err)}); choose ${parsed.mode ? 'another mode or ' : ''}the cpu backend`);
    }
  } else if (parsed.mode && gpu.activeGpuMode() !== parsed.mode) {
    throw new Error(`The gpu backend already runs gpu.js ${gpu.activeGpuMode()} in this engine; restart the app to use ${parsed.mode}, or choose the gpu without a mode`);
  }
  setBackend('gpu');
  return gpu.describeBackend();
}

/**
 * Makes the cpu active again once a run's loop (or a load) is over, so that work outside
 * this session computes on the default backend; requests about the run switch to the
 * run's backend while they compute (see `reply`).
 */
function restoreDefaultBackend(): void {
  if (activeBackend().name !== 'cpu') setBackend('cpu');
}

/** Checks a state dict sent over the protocol: names, shapes and value counts. */
function checkWeights(weights: readonly NamedValues[]): void {
  weights.forEach((w, i) => {
    if (typeof w !== 'object' || w === null || typeof w.name !== 'string') throw new Error(`weights[${i}] needs a string "name"`);
    if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`Weight "${w.name}" needs a "shape" of whole numbers, got ${JSON.stringify(w.shape)}`);
    const n = w.shape.reduce((a, b) => a * b, 1);
    const length = (w.values as ArrayLike<number> | undefined)?.length;
    if (length !== n) throw new Error(`Weight "${w.name}" has ${length ?? 'no'} values; its shape [${w.shape.join(', ')}] needs ${n}`);
  });
}
export class TrainingSession {
  private run: Run | null = null;

  constructor(private emit: (event: TrainingEvent) => void) {}

  /** Routes events to a new sink (a worker that re-created its port). */
  setEmitter(emit: (event: TrainingEvent) => void): void {
    this.emit = emit;
  }

  /** Settles when the current run (if any) has ended. */
  async idle(): Promise<void> {
    await this.run?.done;
  }

  /** Handles one request; replies and run events go through the emitter. */
  handle(req: TrainingRequest): void {
    switch (req.type) {
      case 'train-start':
        this.start(req);
        return;
      case 'train-pause':
        this.control(req.runId, (t) => t.pause());
        return;
      case 'train-resume':
        this.control(req.runId, (t) => t.resume());
        return;
      case 'train-stop':
        this.control(req.runId, (t) => t.stop());
        return;
      case 'train-checkpoint':
        this.reply(req.requestId, () => ({ type: 'checkpoint', runId: req.runId, requestId: req.requestId, checkpoint: this.trainerOf(req.runId).checkpoint() }), req.runId);
        return;
      case 'inspect':
        this.reply(req.requestId, () => {
          const t = this.modelOf(req.runId);
          if (t instanceof Trainer && t.state === 'running') throw new Error('Inspection needs the run to be paused or finished');
          return { type: 'inspect-result', runId: req.runId, requestId: req.requestId, result: inspect({ model: t.model, plan: t.plan, data: t.data }, req.query) };
        }, req.runId);
        return;
      case 'export-weights':
        this.reply(req.requestId, () => ({ type: 'weights', runId: req.runId, requestId: req.requestId, tensors: snapshotWeights(this.modelOf(req.runId).model) }), req.runId);
        return;
      case 'load-model':
        this.load(req);
        return;
      case 'confusion-samples':
        this.reply(req.requestId, () => ({
          type: 'confusion-samples',
          runId: req.runId,
          requestId: req.requestId,
          indices: confusionSamples(this.modelOf(req.runId), req.split, req.actual, req.predicted, req.limit ?? 16),
          }),
          req.runId,
        );
        return;
      case 'list-datasets':
        this.emit({ type: 'datasets', requestId: req.requestId, datasets: listDatasets() });
        return;
      case 'data-preview':
        void this.preview(req);
        return;
    }
  }

  private trainerOf(runId: string): Trainer {
    if (!this.run || this.run.runId !== runId) throw new Error(`There is no training run "${runId}"${this.run ? ` (the current run is "${this.run.runId}")` : ''}`);
    if (this.run.loaded) throw new Error(`"${runId}" holds loaded weights, not a training run`);
    if (!this.run.trainer) throw new Error(`Run "${runId}" is still starting`);
    return this.run.trainer;
  }

  /** The model of a run or of loaded weights, with its feed plan and data. */
  private modelOf(runId: string): Trainer | InspectContext {
    if (this.run?.runId === runId && this.run.loaded) return this.run.loaded;
    if (this.run?.runId === runId && !this.run.trainer && !this.run.loaded) throw new Error(`"${runId}" is still starting (or loading)`);
    return this.trainerOf(runId);
  }

  /** Waits for the previous run or model, then frees it; false (with a failure sent) while one is training. */
  private replaceRun(runId: string, kind: Run['kind'], fail: (reason: string) => void): { run: Run; previous: Run | null } | null {
    const current = this.run?.trainer;
    if (current && (current.state === 'running' || current.state === 'paused')) {
      fail(`Run "${this.run!.runId}" is still training; stop it before starting another`);
      return null;
    }
    const previous = this.run;
    const run: Run = { runId, kind, trainer: null, loaded: null, backend: null, ended: false, done: Promise.resolve() };
    this.run = run;
    return { run, previous };
  }

  private load(req: Extract<TrainingRequest, { type: 'load-model' }>): void {
    const { runId, requestId } = req;
    const fail = (reason: string) => this.emit({ type: 'request-failed', requestId, reason });
    // A run that is starting or training keeps its place (loading would wait for it to end).
    if (this.run?.kind === 'train' && !this.run.ended) {
      fail(`Run "${this.run.runId}" is still training; stop it before loading saved weights`);
      return;
    }
    const replaced = this.replaceRun(runId, 'load', fail);
    if (!replaced) return;
    const { run, previous } = replaced;
    run.done = (async () => {
      await previous?.done;
      releaseRun(previous);
      try {
        const data = withDataDefaults(req.data ?? {});
        const problems = validateDataSettings(data).map((m) => `data: ${m}`);
        if (problems.length) throw new Error(`The settings are not valid:\n- ${problems.join('\n- ')}`);
        checkWeights(req.weights);
        const backend = await chooseBackend(req.backend);
        run.backend = activeBackend().name;
        const prepared = await prepareData(data, req.payload ?? {});
        const model = compileGraph(req.graph, { seed: req.seed ?? 0 });
        try {
          model.loadStateDict(new Map(req.weights.map((w) => [w.name, { shape: w.shape, values: Float32Array.from(w.values) }])));
        } catch (err) {
          releaseModel(model);
          throw new Error(`The saved weights do not fit this model: ${message(err).replace(/^loadStateDict: /, '')}`);
        }
        model.eval();
        const plan = new FeedPlan(model, prepared.train.meta);
        if (this.run !== run) {
          releaseModel(model);
          throw new Error(`Loading "${runId}" was replaced by "${this.run?.runId}"`);
        }
        run.loaded = { model, plan, data: prepared };
        this.emit({
          type: 'model-loaded',
          runId,
          requestId,
          numParameters: model.numParameters(),
          dataset: prepared.full.meta,
          splits: { train: prepared.train.length, val: prepared.val.length, test: prepared.test.length },
          backend,
        });
      } catch (err) {
        fail(message(err));
      } finally {
        restoreDefaultBackend();
      }
    })();
  }

  private control(runId: string, fn: (t: Trainer) => void): void {
    try {
      fn(this.trainerOf(runId));
    } catch (err) {
      this.emit({ type: 'train-failed', runId, reason: message(err) });
    }
  }

  /**
   * Answers a one-off request; about a run, it computes on the backend the run's model lives
   * on (another session may have switched since) and switches back after.
   */
  private reply(requestId: string, fn: () => TrainingEvent, runId?: string): void {
    const previous = activeBackend().name;
    const wanted = runId !== undefined && this.run?.runId === runId ? this.run.backend : null;
    const switching = wanted !== null && wanted !== previous;
    let event: TrainingEvent;
    try {
      if (switching) setBackend(wanted);
      event = fn();
    } catch (err) {
      event = { type: 'request-failed', requestId, reason: message(err) };
    } finally {
      if (switching) setBackend(previous);
    }
    this.emit(event);
  }

  private start(req: Extract<TrainingRequest, { type: 'train-start' }>): void {
    const { runId } = req;
    const replaced = this.replaceRun(runId, 'train', (reason) => this.emit({ type: 'train-failed', runId, reason }));
    if (!replaced) return;
    const { run, previous } = replaced;
    run.done = (async () => {
      await previous?.done;
      releaseRun(previous);
      let result: TrainResult;
      try {
        const training = withTrainingDefaults(req.training ?? {});
        const data = withDataDefaults(req.data ?? {});
        const problems = [...validateDataSettings(data).map((m) => `data: ${m}`), ...validateTrainingSettings(training).map((m) => `training: ${m}`)];
        if (problems.length) throw new Error(`The settings are not valid:\n- ${problems.join('\n- ')}`);
        const backend = await chooseBackend(req.backend);
        run.backend = activeBackend().name;
        const prepared = await prepareData(data, req.payload ?? {});
        const model = compileGraph(req.graph, { seed: training.seed });
        if (req.initialWeights?.length) {
          checkWeights(req.initialWeights);
          try {
            loadInitialWeights(model, req.initialWeights);
          } catch (err) {
            releaseModel(model);
            throw err;
          }
        }
        let lastProgress = -Infinity;
        const trainer = new Trainer({
          model,
          data: prepared,
          settings: training,
          augmentation: data.augmentation,
          checkpoint: req.checkpoint,
          onStep: (p) => {
            const t = nowMs();
            if (p.step === p.stepsPerEpoch || t - lastProgress >= PROGRESS_INTERVAL_MS) {
              lastProgress = t;
              this.emit({ type: 'train-progress', runId, ...p });
            }
          },
          onEpoch: (record) => this.emit({ type: 'train-epoch', runId, record }),
          onState: (state) => this.emit({ type: 'train-state', runId, state }),
        });
        run.trainer = trainer;
        this.emit({
          type: 'train-started',
          runId,
          epochs: training.epochs,
          stepsPerEpoch: trainer.stepsPerEpoch,
          numParameters: model.numParameters(),
          dataset: prepared.full.meta,
          splits: { train: prepared.train.length, val: prepared.val.length, test: prepared.test.length },
          backend,
        });
        result = await trainer.run();
      } catch (err) {
        if (run.trainer) run.trainer.state = 'failed';
        run.ended = true;
        restoreDefaultBackend();
        this.emit({ type: 'train-failed', runId, reason: message(err) });
        return;
      }
      run.ended = true;
      restoreDefaultBackend();
      const { status, history, testMetrics, reason, bestEpoch } = result;
      this.emit({ type: 'train-finished', runId, status, history, testMetrics, ...(reason ? { reason } : {}), ...(bestEpoch ? { bestEpoch } : {}) });
    })();
  }

  private async preview(req: Extract<TrainingRequest, { type: 'data-preview' }>): Promise<void> {
    try {
      const data = withDataDefaults(req.data ?? {});
      const problems = validateDataSettings(data);
      if (problems.length) throw new Error(`The data settings are not valid:\n- ${problems.join('\n- ')}`);
      const ds = await loadSource(data, req.payload ?? {});
      const prepared = prepareSplits(ds, data);
      const event: Extract<TrainingEvent, { type: 'data-preview' }> = {
        type: 'data-preview',
        requestId: req.requestId,
        preview: previewDataset(prepared.full, req.count ?? 8),
        splits: { train: prepared.train.length, val: prepared.val.length, test: prepared.test.length },
      };
      const counts = classCounts(prepared.full, prepared);
      if (counts) event.classCounts = counts;
      const n = req.augmentations ?? 0;
      if (n > 0 && data.augmentation.length > 0) {
        const shape = ds.meta.inputShape;
        if (shape.length !== 3) throw new Error(`Augmentation previews need image samples [C, H, W]; this dataset has [${shape.join(', ')}]`);
        const first = prepared.full.inputs.subarray(0, inputSize(ds.meta)) as Float32Array;
        const gen = new Generator(data.splitSeed);
        event.augmented = { shape: [...shape], samples: Array.from({ length: n }, () => Array.from(augmentSample(first, shape, data.augmentation, gen))) };
      }
      this.emit(event);
    } catch (err) {
      this.emit({ type: 'request-failed', requestId: req.requestId, reason: message(err) });
    }
  }
}

/** Frees the model (and optimiser state) of a run or of loaded weights. */
function releaseRun(run: Run | null): void {
  releaseModel(run?.trainer?.model);
  run?.trainer?.optimizer.dispose();
  releaseModel(run?.loaded?.model);
}

function releaseModel(model: GraphModel | undefined): void {
  if (!model) return;
  for (const t of model.stateDict().values()) {
    t.grad?.dispose();
    t.dispose();
  }
}

/** Indices of the samples of a split with true class `actual` predicted as `predicted`. */
function confusionSamples(t: InspectContext, split: SplitName, actual: number, predicted: number, limit: number): number[] {
  const ds = t.data[split];
  if (!ds) throw new Error(`Unknown split "${split}"; use train, val or test`);
  if (t.plan.metricKind !== 'classification') throw new Error('Confusion-matrix samples need a classification task');
  const out: number[] = [];
  noGrad(() => {
    let offset = 0;
    for (const batch of sequentialBatches(ds, 64)) {
      if (out.length >= limit) break;
      tidy(() => {
        const r = t.model.run(t.plan.feeds(batch), { training: false, generator: new Generator(0) });
        const pred = t.plan.predictionOf(r, batch);
        if (!pred) return;
        const scores = t.plan.metricOutputs(pred);
        const p = argmaxRows(scores, scores.length / batch.size);
        for (let k = 0; k < batch.size && out.length < limit; k++) if (batch.targets[k] === actual && p[k] === predicted) out.push(offset + k);
      });
      offset += batch.size;
    }
  });
  return out;
}
