/**
 * From a dataset to training batches: seeded train/validation/test splits, input
 * standardisation fitted on the training split only, seeded shuffling and batching.
 * Batches are plain typed arrays; the trainer turns them into tensors inside its step.
 */
import type { Generator } from '../core/random.ts';
import { type Dataset, DataError, inputSize, subset, targetSize } from './dataset.ts';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface DatasetSplits {
  train: Dataset;
  val: Dataset;
  test: Dataset;
}

/**
 * Splits a dataset with a seeded permutation. Classification data is stratified so each
 * split keeps the class balance. Fractions are normalised by their sum.
 */
export function splitDataset(ds: Dataset, fractions: SplitFractions, gen: Generator): DatasetSplits {
  const { train, val, test } = fractions;
  for (const [k, v] of Object.entries(fractions)) if (!(v >= 0 && Number.isFinite(v))) throw new Error(`Split fraction "${k}" must be a number >= 0, got ${v}`);
  const total = train + val + test;
  if (!(train > 0) || total <= 0) throw new Error(`The training split must be larger than 0 (fractions ${train}/${val}/${test})`);
  // Each sample gets a key: its position in a seeded permutation of its class (or of all
  // samples), scaled to [0, 1). Cutting the samples sorted by key at the global counts gives
  // every class its share of every split (stratification) with exact overall sizes.
  const stratify = ds.meta.targetShape.length === 0 && ds.targets instanceof Int32Array && ds.meta.numClasses !== undefined;
  const groups: number[][] = [];
  if (stratify) {
    for (let c = 0; c < ds.meta.numClasses!; c++) groups.push([]);
    for (let i = 0; i < ds.length; i++) groups[ds.targets[i]].push(i);
  } else {
    groups.push(Array.from({ length: ds.length }, (_, i) => i));
  }
  const keyed: { i: number; key: number }[] = [];
  for (const g of groups) {
    const perm = gen.permutation(g.length);
    perm.forEach((p, k) => keyed.push({ i: g[p], key: (k + 0.5) / g.length }));
  }
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  const n = ds.length;
  const nVal = Math.round((n * val) / total);
  const nTest = Math.round((n * test) / total);
  const nTrain = n - nVal - nTest;
  const parts: number[][] = [[], [], []];
  keyed.forEach(({ i }, k) => parts[k < nTrain ? 0 : k < nTrain + nVal ? 1 : 2].push(i));
  // Keep the order independent of the class grouping.
  for (const p of parts) p.sort((a, b) => a - b);
  if (parts[0].length === 0) throw new DataError(`the training split is empty (${ds.length} samples, fractions ${train}/${val}/${test})`, { file: ds.meta.name });
  return { train: subset(ds, parts[0]), val: subset(ds, parts[1]), test: subset(ds, parts[2]) };
}

/** Per-feature mean and standard deviation; `groupSize` consecutive values share a feature. */
export interface Standardizer {
  mean: number[];
  std: number[];
  /** How the statistics map onto a sample: per 'feature' (last axis) or per 'channel' (first axis of [C, H, W]). */
  axis: 'feature' | 'channel';
}

function layoutOf(ds: Dataset): { axis: 'feature' | 'channel'; groups: number; per: number } {
  const shape = ds.meta.inputShape;
  if (ds.meta.preview === 'image' && shape.length === 3) return { axis: 'channel', groups: shape[0], per: shape[1] * shape[2] };
  const f = shape.length === 0 ? 1 : shape[shape.length - 1];
  return { axis: 'feature', groups: f, per: 1 };
}

function featureValues(ds: Dataset): { values: Float32Array; n: number; stride: number } {
  if (ds.meta.nodeLevel) {
    const g = ds.graphs![0];
    return { values: g.x, n: g.numNodes, stride: ds.meta.inputShape[0] };
  }
  if (ds.meta.task === 'graph') {
    const f = ds.meta.inputShape[0];
    const total = ds.graphs!.reduce((a, g) => a + g.numNodes, 0);
    const values = new Float32Array(total * f);
    let o = 0;
    for (const g of ds.graphs!) {
      values.set(g.x, o);
      o += g.x.length;
    }
    return { values, n: total, stride: f };
  }
  return { values: ds.inputs as Float32Array, n: ds.length, stride: inputSize(ds.meta) };
}

/** Fits standardisation statistics (population std, as sklearn's StandardScaler) on a split. */
export function fitStandardizer(train: Dataset): Standardizer {
  if (train.meta.inputDtype !== 'float32') throw new Error(`Standardisation needs numeric inputs; "${train.meta.name}" has token ids`);
  const { values, n, stride } = featureValues(train);
  const { axis, groups, per } = train.meta.task === 'graph' ? { axis: 'feature' as const, groups: stride, per: 1 } : layoutOf(train);
  const sum = new Float64Array(groups);
  const sq = new Float64Array(groups);
  const count = new Float64Array(groups);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < stride; k++) {
      const g = axis === 'channel' ? Math.floor(k / per) : k % groups;
      const v = values[i * stride + k];
      sum[g] += v;
      sq[g] += v * v;
      count[g]++;
    }
  }
  const mean = Array.from(sum, (s, g) => s / Math.max(1, count[g]));
  // A constant feature keeps std 1 so it is only centred.
  const std = Array.from(sq, (s, g) => {
    const v = s / Math.max(1, count[g]) - mean[g] * mean[g];
    return v > 1e-12 ? Math.sqrt(v) : 1;
  });
  return { mean, std, axis };
}

function standardizeArray(values: Float32Array, stride: number, s: Standardizer, per: number): Float32Array {
  const out = new Float32Array(values.length);
  const groups = s.mean.length;
  for (let i = 0; i < values.length; i++) {
    const k = i % stride;
    const g = s.axis === 'channel' ? Math.floor(k / per) : k % groups;
    out[i] = (values[i] - s.mean[g]) / s.std[g];
  }
  return out;
}

/** Applies standardisation statistics to a dataset (a new dataset; the input is unchanged). */
export function applyStandardizer(ds: Dataset, s: Standardizer): Dataset {
  if (ds.meta.task === 'graph') {
    const f = ds.meta.inputShape[0];
    return { ...ds, graphs: ds.graphs!.map((g) => ({ ...g, x: standardizeArray(g.x, f, s, 1) })) };
  }
  const { per } = layoutOf(ds);
  return { ...ds, inputs: standardizeArray(ds.inputs as Float32Array, inputSize(ds.meta), s, per) };
}

/** Node features, edges and the graph of each node, for a batch of graphs (as PyG's Batch). */
export interface GraphBatch {
  /** [totalNodes * features] */
  x: Float32Array;
  numNodes: number;
  edgeSrc: Int32Array;
  edgeDst: Int32Array;
  /** Graph index of each node [totalNodes]. */
  batch: Int32Array;
  numGraphs: number;
  /** Node-level tasks: the nodes whose targets this batch trains on. */
  nodeIndex?: Int32Array;
}

/** One mini-batch as plain arrays. */
export interface Batch {
  size: number;
  /** [size, ...inputShape]; for graph data the graph batch holds the inputs instead. */
  inputs: Float32Array | Int32Array;
  inputShape: number[];
  targets: Float32Array | Int32Array;
  targetShape: number[];
  /** Sample indices within the split. */
  indices: Int32Array;
  graph?: GraphBatch;
}

function graphBatch(ds: Dataset, indices: ArrayLike<number>): GraphBatch {
  if (ds.meta.nodeLevel) {
    const g = ds.graphs![0];
    const nodeIndex = Int32Array.from(indices, (i) => ds.inputs[i]);
    return { x: g.x, numNodes: g.numNodes, edgeSrc: g.edgeSrc, edgeDst: g.edgeDst, batch: new Int32Array(g.numNodes), numGraphs: 1, nodeIndex };
  }
  const f = ds.meta.inputShape[0];
  const gs = Array.from(indices, (i) => ds.graphs![i]);
  const nodes = gs.reduce((a, g) => a + g.numNodes, 0);
  const edges = gs.reduce((a, g) => a + g.edgeSrc.length, 0);
  const x = new Float32Array(nodes * f);
  const edgeSrc = new Int32Array(edges);
  const edgeDst = new Int32Array(edges);
  const batch = new Int32Array(nodes);
  let no = 0;
  let eo = 0;
  gs.forEach((g, k) => {
    x.set(g.x, no * f);
    for (let e = 0; e < g.edgeSrc.length; e++) {
      edgeSrc[eo + e] = g.edgeSrc[e] + no;
      edgeDst[eo + e] = g.edgeDst[e] + no;
    }
    batch.fill(k, no, no + g.numNodes);
    no += g.numNodes;
    eo += g.edgeSrc.length;
  });
  return { x, numNodes: nodes, edgeSrc, edgeDst, batch, numGraphs: gs.length };
}

/** Gathers the samples `indices` of a dataset into one batch. */
export function makeBatch(ds: Dataset, indices: ArrayLike<number>): Batch {
  const n = indices.length;
  const is = inputSize(ds.meta);
  const ts = targetSize(ds.meta);
  const targets = ds.targets instanceof Int32Array ? new Int32Array(n * ts) : new Float32Array(n * ts);
  for (let k = 0; k < n; k++) targets.set(ds.targets.subarray(indices[k] * ts, (indices[k] + 1) * ts), k * ts);
  const idx = Int32Array.from(indices);
  if (ds.meta.task === 'graph') {
    return { size: n, inputs: new Float32Array(0), inputShape: ds.meta.inputShape, targets, targetShape: ds.meta.targetShape, indices: idx, graph: graphBatch(ds, indices) };
  }
  const inputs = ds.inputs instanceof Int32Array ? new Int32Array(n * is) : new Float32Array(n * is);
  for (let k = 0; k < n; k++) inputs.set(ds.inputs.subarray(indices[k] * is, (indices[k] + 1) * is), k * is);
  return { size: n, inputs, inputShape: ds.meta.inputShape, targets, targetShape: ds.meta.targetShape, indices: idx };
}

/** The sample order of one epoch: a seeded permutation, or 0..n-1 without shuffling. */
export function epochOrder(n: number, shuffle: boolean, gen: Generator): Int32Array {
  if (shuffle) return gen.permutation(n);
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Number of batches per epoch. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The batch `step` of an epoch with sample order `order`. */
export function batchAt(ds: Dataset, order: Int32Array, step: number, batchSize: number): Batch {
  return makeBatch(ds, order.subarray(step * batchSize, Math.min(order.length, (step + 1) * batchSize)));
}

/** All batches of a split in order (evaluation). */
export function* sequentialBatches(ds: Dataset, batchSize: number): IterableIterator<Batch> {
  for (let s = 0; s * batchSize < ds.length; s++) {
    const idx = Int32Array.from({ length: Math.min(batchSize, ds.length - s * batchSize) }, (_, k) => s * batchSize + k);
    yield makeBatch(ds, idx);
  }
}
