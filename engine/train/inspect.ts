/**
 * Looking inside a model, while training is paused or after it: the activations of any
 * node for one sample (feature maps for convolutions), the filters of a convolution, the
 * per-head attention weights of an attention node, a saliency map (gradient of a class
 * score with respect to the input) and 2-D PCA projections of a node's outputs for many
 * samples. Results are plain arrays.
 */
import { enableGrad, noGrad } from '../core/autograd.ts';
import { Generator } from '../core/random.ts';
import { tidy } from '../core/scope.ts';
import type { Tensor } from '../core/tensor.ts';
import type { Dataset } from '../data/dataset.ts';
import { makeBatch, type Batch, type DatasetSplits } from '../data/pipeline.ts';
import { inputPorts, outputPorts } from '../graph/catalogue.ts';
import type { Feed, GraphModel, RunResult } from '../graph/compile.ts';
import { MultiheadAttention } from '../nn/attention.ts';
import type { Module } from '../nn/module.ts';
import { abs } from '../ops/elementwise.ts';
import { narrow } from '../ops/layout.ts';
import { sum } from '../ops/reduce.ts';
import type { FeedPlan } from './feeds.ts';
import { argmaxRows } from './metrics.ts';

export type SplitName = 'train' | 'val' | 'test';

export interface SampleRef {
  split: SplitName;
  index: number;
  /**
   * A sample drawn by hand, used as the model's input in place of the split's sample (same
   * per-sample size, fed as is); the split's sample still supplies the target.
   */
  values?: number[];
}

export type InspectQuery =
  | { kind: 'activations'; nodeId: string; sample: SampleRef; output?: number }
  | { kind: 'filters'; nodeId: string }
  | { kind: 'attention'; nodeId: string; sample: SampleRef }
  | { kind: 'saliency'; sample: SampleRef; classIndex?: number }
  | { kind: 'embeddings'; nodeId: string; split: SplitName; count: number; output?: number };

export type InspectResult =
  /** One sample's output of a node, batch dimension dropped; `featureMaps` when it is [C, H, W]. */
  | { kind: 'activations'; nodeId: string; shape: number[]; values: number[]; featureMaps: boolean }
  /** Convolution weights [out, in/groups, kh, kw] (or [out, in, k] for 1-D). */
  | { kind: 'filters'; nodeId: string; shape: number[]; values: number[] }
  /** Weights [heads, queries, keys], row-normalised. */
  | { kind: 'attention'; nodeId: string; heads: number; queries: number; keys: number; values: number[] }
  /** |d score / d input| with the input's shape, and its maximum over channels ([H, W]) for images. */
  | { kind: 'saliency'; shape: number[]; values: number[]; map: { shape: number[]; values: number[] }; classIndex: number; predicted: number }
  /** Each sample's output projected on the first two principal components. */
  | { kind: 'embeddings'; nodeId: string; points: [number, number][]; labels: number[]; explainedVariance: [number, number]; dimension: number };

export interface InspectContext {
  model: GraphModel;
  plan: FeedPlan;
  data: DatasetSplits;
}

/** Runs `fn` in a scope that frees every tensor it creates; returns plain data. */
function scoped<T>(fn: () => T): T {
  let out!: T;
  tidy(() => {
    out = fn();
  });
  return out;
}

function splitOf(ctx: InspectContext, name: SplitName): Dataset {
  const ds = ctx.data[name];
  if (!ds) throw new Error(`Unknown split "${name}"; use train, val or test`);
  return ds;
}

function sampleBatch(ctx: InspectContext, ref: SampleRef): Batch {
  const ds = splitOf(ctx, ref.split);
  if (!Number.isInteger(ref.index) || ref.index < 0 || ref.index >= ds.length) {
    throw new Error(`Sample ${ref.index} does not exist: the ${ref.split} split has ${ds.length} samples (0..${ds.length - 1})`);
  }
  const batch = makeBatch(ds, [ref.index]);
  if (ref.values === undefined) return batch;
  if (ds.meta.task === 'graph' || batch.inputs instanceof Int32Array) throw new Error('Samples drawn by hand need numeric (image, vector or sequence) inputs');
  if (ref.values.length !== batch.inputs.length || !ref.values.every((v) => Number.isFinite(v))) {
    throw new Error(`A drawn sample needs ${batch.inputs.length} finite values (shape [${ds.meta.inputShape.join(', ')}]), got ${ref.values.length}`);
  }
  return { ...batch, inputs: Float32Array.from(ref.values) };
}

function nodeOf(ctx: InspectContext, nodeId: string) {
  const node = ctx.model.graph.nodes.find((n) => n.id === nodeId);
  if (!node) throw new Error(`The model has no node "${nodeId}"`);
  return node;
}

/** Runs the model in evaluation mode, keeping every node's outputs. */
function capture(ctx: InspectContext, batch: Batch): RunResult {
  return ctx.model.run(ctx.plan.feeds(batch), { training: false, capture: true, generator: new Generator(0) });
}

function activationOf(ctx: InspectContext, r: RunResult, nodeId: string, output = 0): Tensor {
  const outs = r.activations?.[nodeId];
  if (!outs) throw new Error(`Node "${nodeId}" was not computed for this sample (is it connected to the input?)`);
  const t = outs[output];
  if (!t) throw new Error(`Node "${nodeId}" has ${outs.length} output(s); output ${output} does not exist`);
  return t;
}

export function inspectActivations(ctx: InspectContext, nodeId: string, sample: SampleRef, output = 0): InspectResult {
  nodeOf(ctx, nodeId);
  return noGrad(() =>
    scoped((): InspectResult => {
      const batch = sampleBatch(ctx, sample);
      const t = activationOf(ctx, capture(ctx, batch), nodeId, output);
      // Graph batches keep [nodes, features]; everything else drops the batch of one.
      const graphLike = !!batch.graph;
      const shape = graphLike ? [...t.shape] : t.shape.slice(1);
      return { kind: 'activations', nodeId, shape, values: Array.from(t.dataSync()), featureMaps: shape.length === 3 };
    }),
  );
}

export function inspectFilters(ctx: InspectContext, nodeId: string): InspectResult {
  const node = nodeOf(ctx, nodeId);
  const w = ctx.model.nodeModule(nodeId)?.getParameter('weight');
  if (!w || (w.rank !== 3 && w.rank !== 4)) throw new Error(`Node "${nodeId}" (${node.type}) has no convolution filters to show`);
  return { kind: 'filters', nodeId, shape: [...w.shape], values: Array.from(w.dataSync()) };
}

function attentionModule(m: Module | null): MultiheadAttention | null {
  if (!m) return null;
  if (m instanceof MultiheadAttention) return m;
  const inner = (m as unknown as { selfAttn?: unknown }).selfAttn;
  return inner instanceof MultiheadAttention ? inner : null;
}

export function inspectAttention(ctx: InspectContext, nodeId: string, sample: SampleRef): InspectResult {
  const node = nodeOf(ctx, nodeId);
  const module = ctx.model.nodeModule(nodeId);
  const mha = attentionModule(module);
  if (!mha) throw new Error(`Node "${nodeId}" (${node.type}) has no attention weights to show`);
  return noGrad(() =>
    scoped((): InspectResult => {
      const r = capture(ctx, sampleBatch(ctx, sample));
      const ports = inputPorts(node);
      const inputOf = (port: number): Tensor | undefined => {
        const e = ctx.model.graph.edges.find((x) => x.target === nodeId && x.targetPort === ports[port]?.name);
        if (!e) return undefined;
        const src = ctx.model.graph.nodes.find((n) => n.id === e.source)!;
        const idx = Math.max(0, outputPorts(src).findIndex((p) => p.name === e.sourcePort));
        return r.activations?.[src.id]?.[idx];
      };
      let q = inputOf(0);
      if (!q) throw new Error(`Node "${nodeId}" did not receive an input for this sample`);
      const layer = module as unknown as { normFirst?: boolean; norm1?: Module };
      if (!(module instanceof MultiheadAttention) && layer.normFirst && layer.norm1) q = layer.norm1.forward(q);
      const k = module instanceof MultiheadAttention ? (inputOf(1) ?? q) : q;
      const v = module instanceof MultiheadAttention ? (inputOf(2) ?? k) : q;
      const w = mha.attend(q, k, v, { needWeights: true, averageAttnWeights: false }).weights!;
      // [1, heads, L, S]
      const [, heads, queries, keys] = w.shape;
      return { kind: 'attention', nodeId, heads, queries, keys, values: Array.from(w.dataSync()) };
    }),
  );
}

export function inspectSaliency(ctx: InspectContext, sample: SampleRef, classIndex?: number): InspectResult {
  if (ctx.plan.meta.inputDtype !== 'float32' || ctx.plan.meta.task === 'graph') throw new Error('Saliency maps need numeric (image, vector or sequence) inputs');
  const batch = sampleBatch(ctx, sample);
  const params = ctx.model.parameters();
  const flags = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = false;
  try {
    return scoped(() =>
      enableGrad((): InspectResult => {
        const feeds = ctx.plan.feeds(batch);
        const x = feeds[ctx.plan.inputId] as Tensor;
        x.requiresGrad_(true);
        const r = ctx.model.run(feeds as Record<string, Feed>, { training: false, generator: new Generator(0) });
        const pred = ctx.plan.predictionOf(r, batch);
        if (!pred || pred.rank !== 2) throw new Error('Saliency needs a model whose prediction is one score per class');
        const scores = pred.dataSync();
        const predicted = argmaxRows(scores, pred.shape[1])[0];
        const c = classIndex ?? predicted;
        if (!Number.isInteger(c) || c < 0 || c >= pred.shape[1]) throw new Error(`Class ${c} does not exist: the model scores ${pred.shape[1]} classes (0..${pred.shape[1] - 1})`);
        sum(narrow(pred, 1, c, 1)).backward();
        const g = abs(x.grad!);
        const values = Array.from(g.dataSync());
        x.grad!.dispose();
        const shape = x.shape.slice(1);
        let map = { shape, values };
        if (shape.length === 3) {
          const [ch, h, w] = shape;
          const m = new Array<number>(h * w).fill(0);
          for (let k = 0; k < ch; k++) for (let i = 0; i < h * w; i++) m[i] = Math.max(m[i], values[k * h * w + i]);
          map = { shape: [h, w], values: m };
        }
        return { kind: 'saliency', shape, values, map, classIndex: c, predicted };
      }),
    );
  } finally {
    params.forEach((p, i) => (p.requiresGrad = flags[i]));
  }
}

/**
 * The first `k` principal components of the rows of `x` [n, d] by power iteration with
 * deflation, without forming the d x d covariance. Returns the projections [n, k] and the
 * fraction of the total variance each component explains.
 */
export function pca(x: Float64Array | Float32Array, n: number, d: number, k = 2, iterations = 100, seed = 0): { projections: Float64Array; explained: number[]; components: Float64Array[] } {
  const centred = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + j];
    m /= Math.max(1, n);
    for (let i = 0; i < n; i++) centred[i * d + j] = x[i * d + j] - m;
  }
  let total = 0;
  for (const v of centred) total += v * v;
  const gen = new Generator(seed);
  const components: Float64Array[] = [];
  const explained: number[] = [];
  const xv = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    let v = Float64Array.from({ length: d }, () => gen.normal());
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      // w = X^T (X v), with earlier components projected out.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += centred[i * d + j] * v[j];
        xv[i] = s;
      }
      const w = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j] += centred[i * d + j] * xv[i];
      for (const u of components) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += w[j] * u[j];
        for (let j = 0; j < d; j++) w[j] -= dot * u[j];
      }
      let norm = 0;
      for (const a of w) norm += a * a;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      lambda = norm;
      for (let j = 0; j < d; j++) w[j] /= norm;
      v = w;
    }
    components.push(v);
    explained.push(total > 0 ? lambda / total : 0);
  }
  const projections = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[i * d + j] * components[c][j];
      projections[i * k + c] = s;
    }
  return { projections, explained, components };
}

export function inspectEmbeddings(ctx: InspectContext, nodeId: string, split: SplitName, count: number, output = 0): InspectResult {
  nodeOf(ctx, nodeId);
  const ds = splitOf(ctx, split);
  const n = Math.min(count, ds.length);
  if (!(n >= 2)) throw new Error(`Embeddings need at least 2 samples; the ${split} split has ${ds.length}`);
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  noGrad(() => {
    for (let start = 0; start < n; start += 64) {
      const idx = Array.from({ length: Math.min(64, n - start) }, (_, k) => start + k);
      tidy(() => {
        const batch = makeBatch(ds, idx);
        const t = activationOf(ctx, capture(ctx, batch), nodeId, output);
        if (batch.graph) throw new Error('Embeddings of graph nodes are not supported yet; pick a node after the readout');
        const v = t.dataSync() as Float32Array;
        const per = v.length / idx.length;
        for (let k = 0; k < idx.length; k++) rows.push(v.slice(k * per, (k + 1) * per));
      });
      const ts = ds.meta.targetShape.reduce((a, b) => a * b, 1);
      for (const i of idx) labels.push(ts === 1 ? ds.targets[i] : 0);
    }
  });
  const d = rows[0].length;
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => x.set(r, i * d));
  const { projections, explained } = pca(x, n, d, 2);
  const points: [number, number][] = Array.from({ length: n }, (_, i) => [projections[2 * i], projections[2 * i + 1]]);
  return { kind: 'embeddings', nodeId, points, labels, explainedVariance: [explained[0], explained[1]], dimension: d };
}

/** Answers one inspection query. */
export function inspect(ctx: InspectContext, q: InspectQuery): InspectResult {
  switch (q.kind) {
    case 'activations':
      return inspectActivations(ctx, q.nodeId, q.sample, q.output);
    case 'filters':
      return inspectFilters(ctx, q.nodeId);
    case 'attention':
      return inspectAttention(ctx, q.nodeId, q.sample);
    case 'saliency':
      return inspectSaliency(ctx, q.sample, q.classIndex);
    case 'embeddings':
      return inspectEmbeddings(ctx, q.nodeId, q.split, q.count, q.output);
    default:
      throw new Error(`Unknown inspection "${(q as { kind: string }).kind}"; known: activations, filters, attention, saliency, embeddings`);
  }
}
