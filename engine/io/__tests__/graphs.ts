/** Small graph builders for the io tests. */
import { defaultParams, inputPorts, outputPorts } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../../graph/types.ts';

export function node(id: string, type: string, params: ParamValues = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}

/** An edge from an output port (by index) to an input port (by index). */
export function link(nodes: GraphNode[], source: string, target: string, sourcePort = 0, targetPort = 0): GraphEdge {
  const s = nodes.find((n) => n.id === source)!;
  const t = nodes.find((n) => n.id === target)!;
  const sp = outputPorts(s)[sourcePort]!.name;
  const tp = inputPorts(t)[targetPort]!.name;
  return { id: `${source}.${sp}->${target}.${tp}`, source, sourcePort: sp, target, targetPort: tp };
}

/** Nodes connected first output to first input, in order. */
export function chain(nodes: GraphNode[]): ModelGraph {
  const edges: GraphEdge[] = [];
  for (let i = 1; i < nodes.length; i++) edges.push(link(nodes, nodes[i - 1]!.id, nodes[i]!.id));
  return { nodes, edges };
}

/** Adds a Target and a loss fed by `prediction`. */
export function withLoss(g: ModelGraph, prediction: string, loss = 'CrossEntropyLoss', target: ParamValues = {}): ModelGraph {
  const nodes = [...g.nodes, node('label', 'Target', target), node('loss', loss)];
  return { nodes, edges: [...g.edges, link(nodes, prediction, 'loss', 0, 0), link(nodes, 'label', 'loss', 0, 1)] };
}
