/**
 * Small helpers to write model graphs as code: nodes with their catalogue defaults, edges
 * by port name, and chains of single-input layers. The mode examples and tests use them;
 * the editor produces the same plain `ModelGraph` data.
 */
import { defaultParams } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../../graph/types.ts';

export function node(id: string, type: string, params: ParamValues = {}, extra: Partial<Omit<GraphNode, 'id' | 'type' | 'params'>> = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params }, ...extra };
}

/** An edge from `source`'s output port to `target`'s input port ("y" and "x" by default). */
export function edge(source: string, target: string, sourcePort = 'y', targetPort = 'x'): GraphEdge {
  return { id: `${source}.${sourcePort}->${target}.${targetPort}`, source, sourcePort, target, targetPort };
}

/** Edges linking each node's first output ("y") to the next node's first input ("x"). */
export function chainEdges(ids: readonly string[]): GraphEdge[] {
  const edges: GraphEdge[] = [];
  for (let i = 1; i < ids.length; i++) edges.push(edge(ids[i - 1], ids[i]));
  return edges;
}

/** A graph from nodes and edges, the nodes of `chains` linked one after another. */
export function graphOf(nodes: GraphNode[], edges: GraphEdge[] = [], chains: string[][] = []): ModelGraph {
  return { nodes, edges: [...chains.flatMap(chainEdges), ...edges] };
}
