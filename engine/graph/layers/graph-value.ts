/**
 * At run time a graph batch travels along an edge as its node-feature tensor [num_nodes, F];
 * its structure (edge_index, batch vector) rides along, looked up by tensor.
 */
import type { Tensor } from '../../core/tensor.ts';

export interface GraphStructure {
  /** int32 [2, E]: row 0 sources, row 1 targets. */
  edgeIndex: Tensor;
  edgeWeight?: Tensor | null;
  /** int32 [num_nodes]: which graph of the batch each node belongs to. */
  batch: Tensor;
  numGraphs: number;
}

const structures = new WeakMap<Tensor, GraphStructure>();

export function attachGraph(x: Tensor, g: GraphStructure): Tensor {
  structures.set(x, g);
  return x;
}

export function graphOf(x: Tensor, who: string): GraphStructure {
  const g = structures.get(x);
  if (!g) throw new Error(`${who}: its input carries no graph structure; feed the Graph input with a batch of graphs (x, edgeIndex, batch)`);
  return g;
}

export function hasGraph(x: Tensor): boolean {
  return structures.has(x);
}
