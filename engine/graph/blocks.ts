/**
 * Composite blocks as pure functions on graph data: group a selection into one Block node,
 * ungroup it again, and ready-made blocks (residual, inception, VGG, encoder/decoder).
 */
import { defaultParams } from './catalogue.ts';
import type { BlockGraph, GraphEdge, GraphNode, ModelGraph, ParamValues } from './types.ts';

function uniqueId(base: string, taken: ReadonlySet<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]+/g, '_') || 'block';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}${i}`)) return `${clean}${i}`;
}

const edgeId = (e: Pick<GraphEdge, 'source' | 'sourcePort' | 'target' | 'targetPort'>) => `${e.source}:${e.sourcePort}->${e.target}:${e.targetPort}`;

/**
 * Moves `nodeIds` into a new Block node (appended last, id derived from `name`). Edges
 * inside the selection move with it; edges crossing it become the block's exposed ports.
 */
export function groupNodes(graph: ModelGraph, nodeIds: readonly string[], name: string): ModelGraph {
  const sel = new Set(nodeIds);
  const missing = nodeIds.filter((id) => !graph.nodes.some((n) => n.id === id));
  if (missing.length) throw new Error(`groupNodes: no node ${missing.map((m) => `"${m}"`).join(', ')} in the graph`);
  if (!sel.size) throw new Error('groupNodes: select at least one node');
  const id = uniqueId(name, new Set(graph.nodes.map((n) => n.id)));
  const inner: BlockGraph = { nodes: graph.nodes.filter((n) => sel.has(n.id)), edges: [], inputs: [], outputs: [] };
  const outerEdges: GraphEdge[] = [];
  const inputName = new Map<string, string>();
  const outputName = new Map<string, string>();
  const names = new Set<string>();
  const portName = (base: string) => uniqueId(base, names);
  for (const e of graph.edges) {
    const s = sel.has(e.source);
    const t = sel.has(e.target);
    if (s && t) inner.edges.push(e);
    else if (!s && !t) outerEdges.push(e);
    else if (t) {
      const key = `${e.target}:${e.targetPort}`;
      let pn = inputName.get(key);
      if (!pn) {
        pn = portName(`${e.target}_${e.targetPort}`);
        names.add(pn);
        inputName.set(key, pn);
        inner.inputs.push({ name: pn, node: e.target, port: e.targetPort });
      }
      outerEdges.push({ ...e, target: id, targetPort: pn, id: edgeId({ ...e, target: id, targetPort: pn }) });
    } else {
      const key = `${e.source}:${e.sourcePort}`;
      let pn = outputName.get(key);
      if (!pn) {
        pn = portName(`${e.source}_${e.sourcePort}`);
        names.add(pn);
        outputName.set(key, pn);
        inner.outputs.push({ name: pn, node: e.source, port: e.sourcePort });
      }
      outerEdges.push({ ...e, source: id, sourcePort: pn, id: edgeId({ ...e, source: id, sourcePort: pn }) });
    }
  }
  const block: GraphNode = { id, type: 'Block', params: {}, label: name, subgraph: inner };
  return { nodes: [...graph.nodes.filter((n) => !sel.has(n.id)), block], edges: outerEdges };
}

/** Replaces a Block node by its inner nodes; inner ids that clash with outer ones get a suffix. */
export function ungroupNode(graph: ModelGraph, nodeId: string): ModelGraph {
  const block = graph.nodes.find((n) => n.id === nodeId);
  if (!block) throw new Error(`ungroupNode: no node "${nodeId}" in the graph`);
  if (!block.subgraph) throw new Error(`ungroupNode: ${nodeId} (${block.type}) is not a block`);
  const sub = block.subgraph;
  const taken = new Set(graph.nodes.filter((n) => n.id !== nodeId).map((n) => n.id));
  const rename = new Map<string, string>();
  for (const n of sub.nodes) {
    const nid = uniqueId(n.id, taken);
    taken.add(nid);
    rename.set(n.id, nid);
  }
  const r = (id: string) => rename.get(id) ?? id;
  const nodes = [...graph.nodes.filter((n) => n.id !== nodeId), ...sub.nodes.map((n) => ({ ...n, id: r(n.id) }))];
  const edges: GraphEdge[] = sub.edges.map((e) => {
    const ne = { ...e, source: r(e.source), target: r(e.target) };
    return { ...ne, id: edgeId(ne) };
  });
  for (const e of graph.edges) {
    if (e.target === nodeId) {
      const p = sub.inputs.find((i) => i.name === e.targetPort);
      if (!p) continue;
      const ne = { ...e, target: r(p.node), targetPort: p.port };
      edges.push({ ...ne, id: edgeId(ne) });
    } else if (e.source === nodeId) {
      const p = sub.outputs.find((o) => o.name === e.sourcePort);
      if (!p) continue;
      const ne = { ...e, source: r(p.node), sourcePort: p.port };
      edges.push({ ...ne, id: edgeId(ne) });
    } else edges.push(e);
  }
  return { nodes, edges };
}

// ---------------------------------------------------------------------------------------
// Ready-made blocks

class Builder {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  add(id: string, type: string, params: ParamValues = {}): string {
    this.nodes.push({ id, type, params: { ...defaultParams(type), ...params } });
    return id;
  }
  link(source: string, target: string, targetPort = 'x', sourcePort = 'y'): void {
    const e = { source, sourcePort, target, targetPort };
    this.edges.push({ ...e, id: edgeId(e) });
  }
  chain(...ids: string[]): void {
    for (let i = 1; i < ids.length; i++) this.link(ids[i - 1], ids[i]);
  }
}

function blockNode(id: string, label: string, b: Builder, inputs: BlockGraph['inputs'], outputs: BlockGraph['outputs']): GraphNode {
  return { id, type: 'Block', params: {}, label, subgraph: { nodes: b.nodes, edges: b.edges, inputs, outputs } };
}

/**
 * Residual block (ResNet basic block): conv-bn-relu-conv-bn plus the input, then ReLU.
 * With a stride or a change of channels the shortcut is a 1x1 conv + batch norm.
 */
export function residualBlock(id: string, opts: { inChannels: number; outChannels: number; stride?: number }): GraphNode {
  const stride = opts.stride ?? 1;
  const b = new Builder();
  b.add('conv1', 'Conv2d', { out_channels: opts.outChannels, kernel_size: [3], stride: [stride], padding: [1], bias: false });
  b.add('bn1', 'BatchNorm2d');
  b.add('relu1', 'ReLU');
  b.add('conv2', 'Conv2d', { out_channels: opts.outChannels, kernel_size: [3], padding: [1], bias: false });
  b.add('bn2', 'BatchNorm2d');
  b.add('add', 'Add');
  b.add('relu2', 'ReLU');
  b.chain('conv1', 'bn1', 'relu1', 'conv2', 'bn2');
  b.link('bn2', 'add', 'in0');
  b.link('add', 'relu2');
  const inputs: BlockGraph['inputs'] = [{ name: 'x', node: 'conv1', port: 'x' }];
  if (stride !== 1 || opts.inChannels !== opts.outChannels) {
    b.add('downsample', 'Conv2d', { out_channels: opts.outChannels, kernel_size: [1], stride: [stride], bias: false });
    b.add('downsample_bn', 'BatchNorm2d');
    b.chain('downsample', 'downsample_bn');
    b.link('downsample_bn', 'add', 'in1');
    inputs.push({ name: 'x', node: 'downsample', port: 'x' });
  } else {
    inputs.push({ name: 'x', node: 'add', port: 'in1' });
  }
  return blockNode(id, 'Residual block', b, inputs, [{ name: 'y', node: 'relu2', port: 'y' }]);
}

/** Inception block (GoogLeNet): 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches, concatenated. */
export function inceptionBlock(id: string, opts: { c1: number; c3reduce: number; c3: number; c5reduce: number; c5: number; poolProj: number }): GraphNode {
  const b = new Builder();
  const conv = (nid: string, out: number, k: number) => b.add(nid, 'Conv2d', { out_channels: out, kernel_size: [k], padding: [(k - 1) / 2] });
  conv('b1', opts.c1, 1);
  b.add('b1_relu', 'ReLU');
  conv('b2_reduce', opts.c3reduce, 1);
  b.add('b2_relu1', 'ReLU');
  conv('b2', opts.c3, 3);
  b.add('b2_relu2', 'ReLU');
  conv('b3_reduce', opts.c5reduce, 1);
  b.add('b3_relu1', 'ReLU');
  conv('b3', opts.c5, 5);
  b.add('b3_relu2', 'ReLU');
  b.add('b4_pool', 'MaxPool2d', { kernel_size: [3], stride: [1], padding: [1] });
  conv('b4', opts.poolProj, 1);
  b.add('b4_relu', 'ReLU');
  b.add('concat', 'Concat', { inputs: 4, dim: 0 });
  b.chain('b1', 'b1_relu');
  b.chain('b2_reduce', 'b2_relu1', 'b2', 'b2_relu2');
  b.chain('b3_reduce', 'b3_relu1', 'b3', 'b3_relu2');
  b.chain('b4_pool', 'b4', 'b4_relu');
  ['b1_relu', 'b2_relu2', 'b3_relu2', 'b4_relu'].forEach((s, i) => b.link(s, 'concat', `in${i}`));
  const inputs = ['b1', 'b2_reduce', 'b3_reduce', 'b4_pool'].map((n) => ({ name: 'x', node: n, port: 'x' }));
  return blockNode(id, 'Inception block', b, inputs, [{ name: 'y', node: 'concat', port: 'y' }]);
}

/** VGG block: `convs` 3x3 convolutions (padding 1) with ReLU, then 2x2 max pooling. */
export function vggBlock(id: string, opts: { convs: number; channels: number; batchNorm?: boolean }): GraphNode {
  const b = new Builder();
  const ids: string[] = [];
  for (let i = 1; i <= opts.convs; i++) {
    ids.push(b.add(`conv${i}`, 'Conv2d', { out_channels: opts.channels, kernel_size: [3], padding: [1] }));
    if (opts.batchNorm) ids.push(b.add(`bn${i}`, 'BatchNorm2d'));
    ids.push(b.add(`relu${i}`, 'ReLU'));
  }
  ids.push(b.add('pool', 'MaxPool2d', { kernel_size: [2] }));
  b.chain(...ids);
  return blockNode(id, 'VGG block', b, [{ name: 'x', node: 'conv1', port: 'x' }], [{ name: 'y', node: 'pool', port: 'y' }]);
}

/** Convolutional encoder: per entry of `channels`, a stride-2 3x3 conv and ReLU (halves height and width). */
export function encoderBlock(id: string, opts: { channels: number[] }): GraphNode {
  const b = new Builder();
  const ids: string[] = [];
  opts.channels.forEach((c, i) => {
    ids.push(b.add(`conv${i + 1}`, 'Conv2d', { out_channels: c, kernel_size: [3], stride: [2], padding: [1] }));
    ids.push(b.add(`relu${i + 1}`, 'ReLU'));
  });
  b.chain(...ids);
  return blockNode(id, 'Encoder', b, [{ name: 'x', node: ids[0], port: 'x' }], [{ name: 'y', node: ids[ids.length - 1], port: 'y' }]);
}

/**
 * Convolutional decoder: per entry of `channels`, a stride-2 transposed conv (kernel 3,
 * padding 1, output_padding 1: doubles height and width), ReLU between, Sigmoid at the end.
 */
export function decoderBlock(id: string, opts: { channels: number[] }): GraphNode {
  const b = new Builder();
  const ids: string[] = [];
  opts.channels.forEach((c, i) => {
    ids.push(b.add(`deconv${i + 1}`, 'ConvTranspose2d', { out_channels: c, kernel_size: [3], stride: [2], padding: [1], output_padding: [1] }));
    ids.push(b.add(i === opts.channels.length - 1 ? 'sigmoid' : `relu${i + 1}`, i === opts.channels.length - 1 ? 'Sigmoid' : 'ReLU'));
  });
  b.chain(...ids);
  return blockNode(id, 'Decoder', b, [{ name: 'x', node: ids[0], port: 'x' }], [{ name: 'y', node: ids[ids.length - 1], port: 'y' }]);
}
