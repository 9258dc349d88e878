/** Small graph builders for the graph tests. */
import { defaultParams } from '../catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../types.ts';

export function node(id: string, type: string, params: ParamValues = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}

export function edge(source: string, target: string, sourcePort = 'y', targetPort = 'x'): GraphEdge {
  return { id: `${source}.${sourcePort}->${target}.${targetPort}`, source, sourcePort, target, targetPort };
}

/** A chain of nodes connected y -> x. */
export function chain(nodes: GraphNode[]): ModelGraph {
  const edges: GraphEdge[] = [];
  for (let i = 1; i < nodes.length; i++) edges.push(edge(nodes[i - 1].id, nodes[i].id));
  return { nodes, edges };
}

/** LeNet-5 for 28x28 digits (padding 2 on the first conv), with a cross-entropy loss. */
export function lenet(): ModelGraph {
  const g = chain([
    node('input', 'ImageInput', { channels: 1, height: 28, width: 28 }),
    node('conv1', 'Conv2d', { out_channels: 6, kernel_size: [5], padding: [2] }),
    node('relu1', 'ReLU'),
    node('pool1', 'MaxPool2d', { kernel_size: [2] }),
    node('conv2', 'Conv2d', { out_channels: 16, kernel_size: [5] }),
    node('relu2', 'ReLU'),
    node('pool2', 'MaxPool2d', { kernel_size: [2] }),
    node('flatten', 'Flatten'),
    node('fc1', 'Linear', { out_features: 120 }),
    node('relu3', 'ReLU'),
    node('fc2', 'Linear', { out_features: 84 }),
    node('relu4', 'ReLU'),
    node('fc3', 'Linear', { out_features: 10 }),
  ]);
  g.nodes.push(node('label', 'Target'), node('loss', 'CrossEntropyLoss'));
  g.edges.push(edge('fc3', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target'));
  return g;
}
