/**
 * The in-memory dataset every loader produces: samples stored flat in typed arrays with a
 * per-sample shape, plus the metadata the editor and the trainer read (task, shapes,
 * classes). Graph datasets carry a list of small graphs instead of a flat input array.
 */
import { shapeStr, sizeOf } from '../core/shape.ts';

export type DatasetTask = 'classification' | 'regression' | 'sequence' | 'graph';

/** How a dataset is best shown to a person: it selects the preview's form. */
export type PreviewKind = 'image' | 'points' | 'rows' | 'sequence' | 'text' | 'graph';

export interface DatasetMeta {
  id: string;
  name: string;
  description: string;
  task: DatasetTask;
  /** Shape of one input sample (no batch dimension). Images are [C, H, W]. */
  inputShape: number[];
  inputDtype: 'float32' | 'int32';
  /** Shape of one target: [] for a class index or a scalar, [k] for a vector, [T] for token ids. */
  targetShape: number[];
  targetDtype: 'float32' | 'int32';
  numClasses?: number;
  classNames?: string[];
  /** Column names of tabular data, in input order. */
  featureNames?: string[];
  /** Token strings of a text dataset, by id. */
  vocab?: string[];
  preview: PreviewKind;
  /**
   * For node-classification graph datasets: the whole dataset is one graph and samples are
   * its nodes, so splits select nodes and every batch is the full graph with a node mask.
   */
  nodeLevel?: boolean;
}

/** One small graph: node features [nodes, features] and directed edges (PyG's edge_index). */
export interface GraphSample {
  numNodes: number;
  /** [numNodes * numFeatures] row-major. */
  x: Float32Array;
  /** Edge sources and targets, each [numEdges]; undirected graphs list both directions. */
  edgeSrc: Int32Array;
  edgeDst: Int32Array;
}

export interface Dataset {
  meta: DatasetMeta;
  /** Number of samples. */
  length: number;
  /**
   * [length * prod(inputShape)] for tensor data; empty for graph classification; the node
   * ids of the samples for node-level graph data.
   */
  inputs: Float32Array | Int32Array;
  /** [length * prod(targetShape)] */
  targets: Float32Array | Int32Array;
  /** Graph datasets: one graph per sample (graph classification) or one graph in all (node level). */
  graphs?: GraphSample[];
}

/**
 * Malformed user data. `file`, `line`, `column` and `entry` locate the problem (lines and
 * columns are 1-based); the message repeats them so it can be shown as is.
 */
export class DataError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly entry?: string;

  constructor(message: string, where: { file?: string; line?: number; column?: number; entry?: string } = {}) {
    const parts: string[] = [];
    if (where.file !== undefined) parts.push(where.file);
    if (where.entry !== undefined) parts.push(where.entry);
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.column !== undefined) parts.push(`column ${where.column}`);
    super(parts.length > 0 ? `${parts.join(', ')}: ${message}` : message);
    this.name = 'DataError';
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.entry = where.entry;
  }
}

export function inputSize(meta: DatasetMeta): number {
  return sizeOf(meta.inputShape);
}

export function targetSize(meta: DatasetMeta): number {
  return sizeOf(meta.targetShape);
}

/** Checks that the arrays fill the declared shapes; loaders call it before returning. */
export function checkDataset(ds: Dataset): Dataset {
  const { meta, length } = ds;
  if (!Number.isInteger(length) || length < 0) throw new Error(`Dataset "${meta.id}": length must be a non-negative integer, got ${length}`);
  if (meta.task !== 'graph') {
    const want = length * inputSize(meta);
    if (ds.inputs.length !== want) {
      throw new Error(`Dataset "${meta.id}": ${ds.inputs.length} input values do not fill ${length} samples of shape ${shapeStr(meta.inputShape)} (${want} values)`);
    }
  }
  const wantT = length * targetSize(meta);
  if (ds.targets.length !== wantT) {
    throw new Error(`Dataset "${meta.id}": ${ds.targets.length} target values do not fill ${length} targets of shape ${shapeStr(meta.targetShape)} (${wantT} values)`);
  }
  if (meta.task === 'graph' && (!ds.graphs || ds.graphs.length === 0)) throw new Error(`Dataset "${meta.id}": a graph dataset needs its graphs`);
  if (meta.numClasses !== undefined && ds.targets instanceof Int32Array && meta.targetShape.length === 0) {
    for (let i = 0; i < ds.targets.length; i++) {
      const t = ds.targets[i];
      if (t < 0 || t >= meta.numClasses) throw new Error(`Dataset "${meta.id}": sample ${i} has class ${t}, outside 0..${meta.numClasses - 1}`);
    }
  }
  return ds;
}

/** A new dataset holding the given samples (in that order); graphs follow their samples. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  if (ds.meta.nodeLevel) {
    // Node-level data keeps the whole graph; the subset selects nodes through `inputs`
    // holding node ids.
    const sel = new Int32Array(n);
    const tgt = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      sel[i] = ds.inputs[indices[i]];
      tgt[i] = ds.targets[indices[i]];
    }
    return { meta: ds.meta, length: n, inputs: sel, targets: tgt, graphs: ds.graphs };
  }
  const is = inputSize(ds.meta);
  const ts = targetSize(ds.meta);
  const hasInputs = ds.inputs.length > 0;
  const inputs = ds.inputs instanceof Int32Array ? new Int32Array(hasInputs ? n * is : 0) : new Float32Array(hasInputs ? n * is : 0);
  const targets = ds.targets instanceof Int32Array ? new Int32Array(n * ts) : new Float32Array(n * ts);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= ds.length) throw new Error(`subset: index ${j} is outside 0..${ds.length - 1}`);
    if (hasInputs) inputs.set(ds.inputs.subarray(j * is, (j + 1) * is), i * is);
    targets.set(ds.targets.subarray(j * ts, (j + 1) * ts), i * ts);
  }
  const graphs = ds.graphs ? Array.from({ length: n }, (_, i) => ds.graphs![indices[i]]) : undefined;
  return { meta: ds.meta, length: n, inputs, targets, graphs };
}
