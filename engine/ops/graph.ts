/**
 * Graph ops in PyTorch Geometric's conventions: node features x [num_nodes, F], an int32
 * edge_index [2, E] whose row 0 holds the source and row 1 the target of each edge, an
 * optional edge_weight [E], and a batch vector [num_nodes] naming the graph of each node
 * when several graphs share one batch. Messages flow from source to target.
 */
import { apply, applyMulti, recordGrad, tensor } from '../core/engine.ts';
import { noGrad } from '../core/autograd.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { arange, ones } from './creation.ts';
import { add, clamp, div, eq, exp, gt, mul, pow, sub, where } from './elementwise.ts';
import { cat, indexSelect, narrow, reshape, stack } from './layout.ts';

export type Aggregation = 'sum' | 'mean' | 'max';

/** A single graph. */
export interface GraphData {
  x: Tensor;
  edgeIndex: Tensor;
  edgeWeight?: Tensor | null;
}

/** Many graphs as one disconnected graph, with the batch vector naming each node's graph. */
export interface GraphBatch extends GraphData {
  /** int32 [num_nodes] */
  batch: Tensor;
  numGraphs: number;
}

function checkIndex(index: Tensor, rows: number, what: string): void {
  if (index.dtype !== 'int32' || index.rank !== 1 || index.shape[0] !== rows) {
    throw new Error(`${what}: index must be int32 [${rows}] (one entry per source row), got ${index.dtype} ${shapeStr(index.shape)}`);
  }
}

/**
 * Reduces the rows of src [E, ...] into dimSize groups given by index [E]: out[g] =
 * reduce over { src[e] : index[e] = g }. Empty groups give 0 (as torch_scatter / PyG).
 */
export function scatter(src: Tensor, index: Tensor, dimSize: number, reduce: Aggregation = 'sum'): Tensor {
  if (src.rank < 1) throw new Error('scatter: src must have at least one dimension');
  checkIndex(index, src.shape[0], 'scatter');
  if (!Number.isInteger(dimSize) || dimSize < 0) throw new Error(`scatter: dimSize must be a non-negative integer, got ${dimSize}`);
  const attrs = { dimSize, reduce };
  if (reduce === 'sum') {
    // d src[e] = dy[index[e]]
    return apply('ScatterReduce', [src, index], attrs, (dy) => [indexSelect(dy, 0, index), null]);
  }
  if (reduce === 'mean') {
    const [res, count] = applyMulti('ScatterReduce', [src, index], attrs);
    // d src[e] = dy[index[e]] / count[index[e]]
    recordGrad('ScatterMean', [src], [res], ([dy]) => {
      const scale = reshape(clamp(count, 1), [dimSize, ...src.shape.slice(1).map(() => 1)]);
      return [indexSelect(div(dy, scale), 0, index)];
    });
    return res;
  }
  if (reduce === 'max') {
    const [res, arg] = applyMulti('ScatterReduce', [src, index], attrs);
    // the gradient goes to the row that held each maximum
    recordGrad('ScatterMax', [src], [res], ([dy]) => [apply('ScatterMaxGrad', [dy, arg], { numSrc: src.shape[0] })]);
    return res;
  }
  throw new Error(`scatter: reduce must be 'sum', 'mean' or 'max', got '${String(reduce)}'`);
}

/** Softmax of src [E, ...] within each group of rows sharing index[e] (e.g. over a node's incoming edges). */
export function scatterSoftmax(src: Tensor, index: Tensor, dimSize: number): Tensor {
  checkIndex(index, src.shape[0], 'scatterSoftmax');
  // The per-group maximum only shifts for stability; it carries no gradient.
  const shift = noGrad(() => indexSelect(scatter(src, index, dimSize, 'max'), 0, index));
  const e = exp(sub(src, shift));
  return div(e, indexSelect(scatter(e, index, dimSize, 'sum'), 0, index));
}

/** Source (row 0) and target (row 1) node indices of an edge_index [2, E], as int32 [E] each. */
export function edgeEnds(edgeIndex: Tensor, numNodes?: number): { source: Tensor; target: Tensor } {
  if (edgeIndex.dtype !== 'int32' || edgeIndex.rank !== 2 || edgeIndex.shape[0] !== 2) {
    throw new Error(`edge_index must be int32 [2, num_edges] (sources in row 0, targets in row 1), got ${edgeIndex.dtype} ${shapeStr(edgeIndex.shape)}`);
  }
  const E = edgeIndex.shape[1];
  if (numNodes !== undefined && edgeIndex.backend.readSync) {
    const v = edgeIndex.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] >= 0 && v[i] < numNodes)) {
        throw new Error(`edge_index: ${i < E ? 'source' : 'target'} of edge ${i % E} is node ${v[i]}, but the graph has ${numNodes} nodes`);
      }
    }
  }
  return { source: reshape(narrow(edgeIndex, 0, 0, 1), [E]), target: reshape(narrow(edgeIndex, 0, 1, 1), [E]) };
}

/** Appends one self-loop i -> i per node to edge_index (and weight `fill` to edge_weight when given). */
export function addSelfLoops(edgeIndex: Tensor, numNodes: number, edgeWeight: Tensor | null = null, fill = 1): { edgeIndex: Tensor; edgeWeight: Tensor | null } {
  const loops = arange(0, numNodes, 1, 'int32');
  const ei = cat([edgeIndex, stack([loops, loops], 0)], 1);
  const ew = edgeWeight ? cat([edgeWeight, mul(ones([numNodes]), fill)], 0) : null;
  return { edgeIndex: ei, edgeWeight: ew };
}

/** 1 for edges i -> i, 0 otherwise (float32 [E]). */
export function selfLoopMask(edgeIndex: Tensor): Tensor {
  const { source, target } = edgeEnds(edgeIndex);
  return eq(source, target);
}

/**
 * GCN normalisation (Kipf and Welling): adds self-loops of weight 1 where a node has none
 * (existing self-loops keep their weight), then weights each edge j -> i by
 * w_ji / sqrt(deg(j) deg(i)) with deg(i) the weighted in-degree of i including its loop.
 * Returns the edges (with the loops appended) and their normalised weights.
 */
export function gcnNorm(edgeIndex: Tensor, numNodes: number, edgeWeight: Tensor | null = null, selfLoops = true): { edgeIndex: Tensor; weight: Tensor } {
  const { target } = edgeEnds(edgeIndex, numNodes);
  const E = edgeIndex.shape[1];
  let w = edgeWeight ?? ones([E]);
  if (w.rank !== 1 || w.shape[0] !== E) throw new Error(`edge_weight must be [${E}] (one per edge), got ${shapeStr(w.shape)}`);
  let ei = edgeIndex;
  if (selfLoops) {
    // add_remaining_self_loops: an existing loop's weight replaces the default 1.
    const isLoop = selfLoopMask(edgeIndex);
    const loopWeight = scatter(mul(w, isLoop), target, numNodes, 'sum');
    const hasLoop = clamp(scatter(isLoop, target, numNodes, 'sum'), 0, 1);
    const fresh = add(loopWeight, sub(1, hasLoop));
    w = cat([mul(w, sub(1, isLoop)), fresh], 0);
    ei = addSelfLoops(edgeIndex, numNodes).edgeIndex;
  }
  const ends = edgeEnds(ei);
  const deg = scatter(w, ends.target, numNodes, 'sum');
  const positive = gt(deg, 0);
  const invSqrt = where(positive, pow(where(positive, deg, 1), -0.5), 0);
  const weight = mul(mul(indexSelect(invSqrt, 0, ends.source), w), indexSelect(invSqrt, 0, ends.target));
  return { edgeIndex: ei, weight };
}

/**
 * One round of message passing: out[i] = aggregate over edges j -> i of w_ji * x[j]
 * (x [num_nodes, ...], weights optional [E]).
 */
export function propagate(x: Tensor, edgeIndex: Tensor, aggr: Aggregation = 'sum', edgeWeight: Tensor | null = null): Tensor {
  const numNodes = x.shape[0];
  const { source, target } = edgeEnds(edgeIndex, numNodes);
  let messages = indexSelect(x, 0, source);
  if (edgeWeight) {
    const E = edgeIndex.shape[1];
    if (edgeWeight.rank !== 1 || edgeWeight.shape[0] !== E) throw new Error(`edge_weight must be [${E}] (one per edge), got ${shapeStr(edgeWeight.shape)}`);
    messages = mul(messages, reshape(edgeWeight, [E, ...x.shape.slice(1).map(() => 1)]));
  }
  return scatter(messages, target, numNodes, aggr);
}

function graphCount(batch: Tensor, numGraphs?: number): number {
  if (numGraphs !== undefined) return numGraphs;
  const v = batch.dataSync();
  let m = -1;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
  return m + 1;
}

/** Sum of node features per graph: x [num_nodes, F], batch [num_nodes] -> [num_graphs, F]. */
export function globalAddPool(x: Tensor, batch: Tensor, numGraphs?: number): Tensor {
  return scatter(x, batch, graphCount(batch, numGraphs), 'sum');
}

/** Mean of node features per graph -> [num_graphs, F]. */
export function globalMeanPool(x: Tensor, batch: Tensor, numGraphs?: number): Tensor {
  return scatter(x, batch, graphCount(batch, numGraphs), 'mean');
}

/** Elementwise maximum of node features per graph -> [num_graphs, F]. */
export function globalMaxPool(x: Tensor, batch: Tensor, numGraphs?: number): Tensor {
  return scatter(x, batch, graphCount(batch, numGraphs), 'max');
}

/**
 * Joins graphs into one batch: node features are concatenated, each graph's edge indices
 * are offset by the nodes before it, and the batch vector records each node's graph.
 */
export function batchGraphs(graphs: readonly GraphData[]): GraphBatch {
  if (graphs.length === 0) throw new Error('batchGraphs: no graphs given');
  const F = graphs[0].x.shape.slice(1);
  const edges: number[][] = [[], []];
  const batch: number[] = [];
  let offset = 0;
  graphs.forEach((g, gi) => {
    const n = g.x.shape[0];
    if (g.x.shape.length !== F.length + 1 || g.x.shape.slice(1).some((d, i) => d !== F[i])) {
      throw new Error(`batchGraphs: graph ${gi} has node features ${shapeStr(g.x.shape)}, graph 0 has ${shapeStr(graphs[0].x.shape)}`);
    }
    edgeEnds(g.edgeIndex, n);
    const ev = g.edgeIndex.dataSync();
    const E = g.edgeIndex.shape[1];
    for (let e = 0; e < E; e++) {
      edges[0].push(ev[e] + offset);
      edges[1].push(ev[E + e] + offset);
    }
    for (let i = 0; i < n; i++) batch.push(gi);
    offset += n;
  });
  const withWeights = graphs.some((g) => g.edgeWeight);
  return {
    x: cat(graphs.map((g) => g.x), 0),
    edgeIndex: tensor([...edges[0], ...edges[1]], [2, edges[0].length], 'int32'),
    edgeWeight: withWeights ? cat(graphs.map((g) => g.edgeWeight ?? ones([g.edgeIndex.shape[1]])), 0) : null,
    batch: tensor(batch, [batch.length], 'int32'),
    numGraphs: graphs.length,
  };
}
