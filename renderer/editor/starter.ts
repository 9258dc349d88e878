/**
 * The project a first launch opens: LeNet-5 on MNIST digits. It comes from the bundled
 * example "lenet5-mnist"; `fallbackStarter` builds the same network from the catalogue
 * for installations without that example.
 */
import { defaultParams, hasLayer } from '../../engine/graph/catalogue.ts';
import type { GraphNode, ParamValues } from '../../engine/graph/types.ts';
import { edgeId, emptyDocument, type ProjectDocument } from '../store/document.ts';
import { layeredLayout } from '../store/layout.ts';

export const STARTER_EXAMPLE = 'lenet5-mnist';

export function fallbackStarter(): ProjectDocument {
  const spec: [string, string, ParamValues][] = [
    ['input', 'ImageInput', { channels: 1, height: 28, width: 28 }],
    ['conv1', 'Conv2d', { out_channels: 6, kernel_size: [5], padding: [2] }],
    ['relu1', 'ReLU', {}],
    ['pool1', 'MaxPool2d', { kernel_size: [2] }],
    ['conv2', 'Conv2d', { out_channels: 16, kernel_size: [5] }],
    ['relu2', 'ReLU', {}],
    ['pool2', 'MaxPool2d', { kernel_size: [2] }],
    ['flatten', 'Flatten', {}],
    ['fc1', 'Linear', { out_features: 120 }],
    ['relu3', 'ReLU', {}],
    ['fc2', 'Linear', { out_features: 84 }],
    ['relu4', 'ReLU', {}],
    ['fc3', 'Linear', { out_features: 10 }],
  ];
  const doc = emptyDocument('LeNet-5');
  const nodes: GraphNode[] = spec.filter(([, type]) => hasLayer(type)).map(([id, type, params]) => ({ id, type, params: { ...defaultParams(type), ...params } }));
  const edges = nodes.slice(1).map((n, i) => {
    const e = { source: nodes[i].id, sourcePort: 'y', target: n.id, targetPort: 'x' };
    return { id: edgeId(e), ...e };
  });
  const graph = { nodes, edges };
  return { ...doc, graph, ui: { ...doc.ui, positions: layeredLayout(graph) } };
}
