/** Small model graphs and settings for the training tests. */
import { defaultParams } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../../graph/types.ts';

export function node(id: string, type: string, params: ParamValues = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}

export function edge(source: string, target: string, sourcePort = 'y', targetPort = 'x'): GraphEdge {
  return { id: `${source}.${sourcePort}->${target}.${targetPort}`, source, sourcePort, target, targetPort };
}

/** A chain of layers from `input`, ending in a cross-entropy (or other) loss against a Target. */
export function classifier(layers: GraphNode[], loss = 'CrossEntropyLoss', target: ParamValues = {}): ModelGraph {
  const nodes = [...layers, node('label', 'Target', target), node('loss', loss)];
  const edges: GraphEdge[] = [];
  for (let i = 1; i < layers.length; i++) edges.push(edge(layers[i - 1].id, layers[i].id));
  edges.push(edge(layers[layers.length - 1].id, 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target'));
  return { nodes, edges };
}

/** 2 -> hidden -> hidden -> classes MLP. */
export function mlp(hidden = 32, classes = 2, activation = 'Tanh'): ModelGraph {
  return classifier([
    node('input', 'VectorInput', { features: 2 }),
    node('fc1', 'Linear', { out_features: hidden }),
    node('act1', activation),
    node('fc2', 'Linear', { out_features: hidden }),
    node('act2', activation),
    node('out', 'Linear', { out_features: classes }),
  ]);
}
