/** A workload for the benchmark: shape inference over a large graph, as on every edit in the editor. */
import { defaultParams } from './catalogue.ts';
import { inferGraph } from './infer.ts';
import type { GraphEdge, GraphNode, ModelGraph } from './types.ts';

/** A residual CNN of about `size` nodes: conv-bn-relu units with skip connections every two units. */
export function largeGraph(size = 200): ModelGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const add = (id: string, type: string, params: Record<string, unknown> = {}) => nodes.push({ id, type, params: { ...defaultParams(type), ...params } as GraphNode['params'] });
  const link = (source: string, target: string, targetPort = 'x') => edges.push({ id: `${source}->${target}:${targetPort}`, source, sourcePort: 'y', target, targetPort });
  add('input', 'ImageInput', { channels: 3, height: 32, width: 32 });
  add('stem', 'Conv2d', { out_channels: 16, kernel_size: [3], padding: [1] });
  link('input', 'stem');
  let prev = 'stem';
  let skip = 'stem';
  for (let i = 0; nodes.length < size - 5; i++) {
    add(`conv${i}`, 'Conv2d', { out_channels: 16, kernel_size: [3], padding: [1] });
    add(`bn${i}`, 'BatchNorm2d');
    add(`relu${i}`, 'ReLU');
    link(prev, `conv${i}`);
    link(`conv${i}`, `bn${i}`);
    link(`bn${i}`, `relu${i}`);
    prev = `relu${i}`;
    if (i % 2 === 1) {
      add(`add${i}`, 'Add');
      link(prev, `add${i}`, 'in0');
      link(skip, `add${i}`, 'in1');
      prev = skip = `add${i}`;
    }
  }
  add('gap', 'GlobalAvgPool');
  add('fc', 'Linear', { out_features: 10 });
  add('label', 'Target');
  add('loss', 'CrossEntropyLoss');
  link(prev, 'gap');
  link('gap', 'fc');
  edges.push({ id: 'fc->loss', source: 'fc', sourcePort: 'y', target: 'loss', targetPort: 'prediction' });
  edges.push({ id: 'label->loss', source: 'label', sourcePort: 'y', target: 'loss', targetPort: 'target' });
  return { nodes, edges };
}

/** Runs inference `iterations` times over a graph of `size` nodes; returns milliseconds per inference. */
export function benchInfer(size = 200, iterations = 50, now: () => number = () => Date.now()): { nodes: number; msPerInfer: number } {
  const g = largeGraph(size);
  if (!inferGraph(g).valid) throw new Error('benchInfer: the benchmark graph is not valid');
  const t0 = now();
  for (let i = 0; i < iterations; i++) inferGraph(g);
  return { nodes: g.nodes.length, msPerInfer: (now() - t0) / iterations };
}
