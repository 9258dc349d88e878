/**
 * Shared pieces of the special training modes: images as plain data for the UI, a seeded
 * batch cursor over a dataset, and an optimisation step over a compiled graph that reports
 * every loss node separately.
 */
import { noGrad } from '../../core/autograd.ts';
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { type Dataset, inputSize } from '../../data/dataset.ts';
import type { Feed, GraphModel, RunResult } from '../../graph/compile.ts';
import { add, mul } from '../../ops/elementwise.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { type OptimizerSettings, DEFAULT_OPTIMIZER } from '../settings.ts';
import { makeOptimizer } from '../trainer.ts';

/** An image as plain data: row-major values in [0, 1], channels last per pixel (RGB for 3). */
export interface ImageView {
  width: number;
  height: number;
  channels: number;
  values: number[];
}

/** A 2-D point with an optional class, for scatter plots (latent spaces, projections, 2-D GANs). */
export interface PointView {
  x: number;
  y: number;
  label?: number;
  /** Index of the sample (or word) it stands for. */
  index?: number;
  text?: string;
}

/**
 * One CHW sample as an image. Values are clamped to `range` and mapped to [0, 1]; with
 * `range: 'auto'` the sample's own min..max is stretched to [0, 1].
 */
export function toImage(values: ArrayLike<number>, shape: readonly number[], range: [number, number] | 'auto' = [0, 1]): ImageView {
  const [c, h, w] = shape.length === 3 ? shape : shape.length === 2 ? [1, shape[0], shape[1]] : [1, 1, shape[0]];
  if (c * h * w !== values.length) throw new Error(`toImage: ${values.length} values do not fill an image of shape [${c}, ${h}, ${w}]`);
  let lo: number;
  let hi: number;
  if (range === 'auto') {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      lo = Math.min(lo, values[i]);
      hi = Math.max(hi, values[i]);
    }
    if (!(hi > lo)) hi = lo + 1;
  } else [lo, hi] = range;
  const out = new Array<number>(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const v = (values[ch * h * w + p] - lo) / (hi - lo);
      out[p * c + ch] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { width: w, height: h, channels: c, values: out };
}

/** Tiles same-sized images into one, `cols` per row, with `gap` pixels of 0 between them. */
export function imageGrid(images: readonly ImageView[], cols: number, gap = 1): ImageView {
  if (images.length === 0) return { width: 0, height: 0, channels: 1, values: [] };
  const { width: w, height: h, channels: c } = images[0];
  for (const im of images) {
    if (im.width !== w || im.height !== h || im.channels !== c) throw new Error(`imageGrid: every image must be ${w}x${h}x${c}, got ${im.width}x${im.height}x${im.channels}`);
  }
  const cl = Math.max(1, Math.min(cols, images.length));
  const rows = Math.ceil(images.length / cl);
  const W = cl * w + (cl - 1) * gap;
  const H = rows * h + (rows - 1) * gap;
  const values = new Array<number>(W * H * c).fill(0);
  images.forEach((im, k) => {
    const ox = (k % cl) * (w + gap);
    const oy = Math.floor(k / cl) * (h + gap);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) values[((oy + y) * W + ox + x) * c + ch] = im.values[(y * w + x) * c + ch];
  });
  return { width: W, height: H, channels: c, values };
}

/** Seeded mini-batches drawn without replacement, reshuffled every epoch. */
export class BatchCursor {
  private order: Int32Array;
  private pos = 0;
  epoch = 0;

  constructor(
    readonly length: number,
    readonly batchSize: number,
    private readonly gen: Generator,
  ) {
    if (length < 1) throw new Error('BatchCursor: the dataset is empty');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`BatchCursor: batchSize must be a whole number of at least 1, got ${batchSize}`);
    this.order = gen.permutation(length);
  }

  /** Indices of the next batch (the last batch of an epoch may be smaller). */
  next(): Int32Array {
    if (this.pos >= this.length) {
      this.order = this.gen.permutation(this.length);
      this.pos = 0;
      this.epoch++;
    }
    const idx = this.order.slice(this.pos, Math.min(this.length, this.pos + this.batchSize));
    this.pos += idx.length;
    return idx;
  }

  /** Steps in one pass over the data. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.length / this.batchSize);
  }
}

/** The inputs of the samples `indices` as one flat array. */
export function gatherInputs(ds: Dataset, indices: ArrayLike<number>): Float32Array {
  const s = inputSize(ds.meta);
  const out = new Float32Array(indices.length * s);
  for (let k = 0; k < indices.length; k++) out.set(ds.inputs.subarray(indices[k] * s, (indices[k] + 1) * s), k * s);
  return out;
}

export function gatherTargets(ds: Dataset, indices: ArrayLike<number>): Int32Array {
  const s = Math.max(1, ds.meta.targetShape.reduce((a, b) => a * b, 1));
  const out = new Int32Array(indices.length * s);
  for (let k = 0; k < indices.length; k++) for (let j = 0; j < s; j++) out[k * s + j] = ds.targets[indices[k] * s + j];
  return out;
}

/** One-hot rows [n, classes] as a float tensor. */
export function oneHot(labels: ArrayLike<number>, classes: number): Tensor {
  const v = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`oneHot: label ${c} of row ${i} is outside 0..${classes - 1}`);
    v[i * classes + c] = 1;
  }
  return fromValues(v, [labels.length, classes]);
}

/** Losses of one step: the weighted total and each loss node's own (unweighted) value. */
export interface StepLosses {
  total: number;
  losses: Record<string, number>;
}

export type OptimizerChoice = Partial<OptimizerSettings>;

/**
 * The optimiser of a compiled graph, with the graph's per-node learning-rate scales and
 * frozen nodes (the trainer's `makeOptimizer`).
 */
export function optimizerFor(model: GraphModel, opt: OptimizerChoice = {}): Optimizer<BaseOptions> {
  return makeOptimizer(model, { ...DEFAULT_OPTIMIZER, ...opt });
}

/**
 * One optimisation step of a graph: runs it in training mode on `feeds`, adds `extra(result)`
 * (a mode's own loss term, such as a contrastive loss) to the graph's weighted losses,
 * backpropagates and updates. Returns every loss as a number.
 */
export function graphStep(
  model: GraphModel,
  optimizer: Optimizer<BaseOptions>,
  feeds: () => Record<string, Feed>,
  generator: Generator,
  extra?: (result: RunResult) => { name: string; value: Tensor; weight?: number } | null,
): StepLosses {
  let out!: StepLosses;
  tidy(() => {
    optimizer.zeroGrad();
    const result = model.run(feeds(), { training: true, generator });
    const losses: Record<string, number> = {};
    let total = result.totalLoss;
    for (const l of result.losses) losses[l.nodeId] = l.value.item();
    const more = extra?.(result);
    if (more) {
      losses[more.name] = more.value.item();
      const w = more.weight ?? 1;
      const term = w === 1 ? more.value : mul(more.value, w);
      total = total ? add(total, term) : term;
    }
    if (!total) throw new Error('The model computed no loss: connect a loss node (or choose a mode that adds its own)');
    const value = total.item();
    if (Number.isFinite(value)) {
      total.backward();
      optimizer.step();
    }
    out = { total: value, losses };
  });
  return out;
}

/** Runs a graph in evaluation mode without gradients and returns `read(result)`'s plain data. */
export function evalRun<T>(model: GraphModel, feeds: () => Record<string, Feed>, read: (r: RunResult) => T, capture = false): T {
  const wasTraining = model.training;
  try {
    return noGrad(() => {
      let out!: T;
      tidy(() => {
        out = read(model.run(feeds(), { training: false, capture, generator: new Generator(0) }));
      });
      return out;
    });
  } finally {
    model.train(wasTraining);
  }
}

/** A node's output from a run (model outputs or captured activations), with a clear message when absent. */
export function outputOf(r: RunResult, nodeId: string, port = 0): Tensor {
  const t = r.outputs[nodeId]?.[port] ?? r.activations?.[nodeId]?.[port];
  if (!t) throw new Error(`The model produced no value at node "${nodeId}" (output ${port}); run with capture, or check the node id`);
  return t;
}

/** Fraction of rows of `logits` [n, C] whose argmax equals the label. */
export function accuracyOf(logits: Float32Array, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[i * classes + j] > logits[i * classes + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return labels.length ? correct / labels.length : 0;
}

/** Argmax of each row of [n, C] values. */
export function argmaxRows(values: ArrayLike<number>, classes: number): number[] {
  const n = values.length / classes;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (values[i * classes + j] > values[i * classes + best]) best = j;
    out.push(best);
  }
  return out;
}

/** Softmax of one row. */
export function softmaxRow(values: ArrayLike<number>, offset: number, n: number): number[] {
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, values[offset + j]);
  const e = Array.from({ length: n }, (_, j) => Math.exp(values[offset + j] - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** Float tensor from plain values. */
export function floats(values: Float32Array, shape: number[]): Tensor {
  return fromValues(values, shape, 'float32');
}

export function ints(values: Int32Array, shape: number[]): Tensor {
  return fromValues(values, shape, 'int32');
}
