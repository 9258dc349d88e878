import { describe, expect, it } from 'vitest';
import { categories, defaultParams, getLayer, listLayers, validateParams } from '../catalogue.ts';
import { decoderBlock, encoderBlock, groupNodes, inceptionBlock, residualBlock, ungroupNode, vggBlock } from '../blocks.ts';
import { canConnect, inferGraph } from '../infer.ts';
import type { ModelGraph } from '../types.ts';
import { chain, edge, lenet, node } from './fixtures.ts';

const messages = (g: ModelGraph) => inferGraph(g).problems.map((p) => p.message);

describe('catalogue', () => {
  it('lists every layer once with a description, ports and defaults that pass validation', () => {
    const types = listLayers().map((d) => d.type);
    expect(new Set(types).size).toBe(types.length);
    for (const d of listLayers()) {
      expect(d.description.length, d.type).toBeGreaterThan(20);
      if (d.type !== 'Block') expect(validateParams({ id: 'n', type: d.type, params: defaultParams(d.type) }), d.type).toEqual([]);
    }
    expect(categories().map((c) => c.category)).toContain('Loss');
  });

  it('names the unknown type and the known ones', () => {
    expect(() => getLayer('Conv3d')).toThrow(/Unknown layer type "Conv3d"; the catalogue has: .*Conv2d/);
  });

  it('reports bad parameter values with the numbers', () => {
    const g = chain([node('in', 'VectorInput'), node('fc', 'Linear', { out_features: 0 })]);
    expect(messages(g)).toEqual(['fc (Linear): out_features must be at least 1, got 0']);
  });
});

describe('shape inference', () => {
  it('LeNet-5 on 28x28 with padding 2 has 61,706 parameters and the classic shapes', () => {
    const a = inferGraph(lenet());
    expect(a.problems).toEqual([]);
    expect(a.totals.params).toBe(61706);
    expect(a.nodes.conv1.outputs[0]!.shape).toEqual([6, 28, 28]);
    expect(a.nodes.pool2.outputs[0]!.shape).toEqual([16, 5, 5]);
    expect(a.nodes.fc1.paramCount).toBe(400 * 120 + 120);
    expect(a.nodes.conv1.flops).toBe(2 * 6 * 28 * 28 * 25);
    expect(a.edges['fc3.y->loss.prediction']).toEqual({ kind: 'tensor', shape: [10], dtype: 'float32' });
  });

  it('asks for Flatten when a Linear gets an image', () => {
    const g = lenet();
    g.nodes = g.nodes.filter((n) => n.id !== 'flatten');
    g.edges = g.edges.filter((e) => e.source !== 'flatten' && e.target !== 'flatten');
    g.edges.push(edge('pool2', 'fc1'));
    expect(messages(g)).toEqual(['fc1 (Linear): needs a flat input; add Flatten after pool2 (shape 16x5x5)']);
  });

  it('names channel mismatches and uses the label as the display name', () => {
    const g = chain([node('in', 'ImageInput', { channels: 1 }), node('conv2', 'Conv2d', { in_channels: 3 })]);
    expect(messages(g)).toEqual(['conv2 (Conv2d): expects 3 input channels, its input has 1']);
    g.nodes[1].label = 'first conv';
    expect(messages(g)[0]).toMatch(/^first conv \(Conv2d\)/);
  });

  it('reports an input too small for the kernel', () => {
    const g = chain([node('in', 'ImageInput', { height: 4, width: 4 }), node('c', 'Conv2d', { kernel_size: [5] })]);
    expect(messages(g)).toEqual(['c (Conv2d): its 4x4 input is too small for a 5x5 kernel with padding 0: the output would be 0x0']);
  });

  it('reports cycles, unconnected ports and kind mismatches per node', () => {
    const g = chain([node('in', 'VectorInput'), node('a', 'Linear'), node('b', 'ReLU')]);
    g.edges.push(edge('b', 'a'));
    const m = messages(g);
    expect(m.some((x) => /input "x" is connected twice/.test(x))).toBe(true);
    const cyc: ModelGraph = { nodes: [node('a', 'ReLU'), node('b', 'ReLU')], edges: [edge('a', 'b'), edge('b', 'a')] };
    expect(messages(cyc)).toEqual([
      'a (ReLU): is part of a cycle (a (ReLU), b (ReLU)); remove one of these connections',
      'b (ReLU): is part of a cycle (a (ReLU), b (ReLU)); remove one of these connections',
    ]);
    expect(messages({ nodes: [node('loss', 'MSELoss')], edges: [] })).toEqual([
      'loss (MSELoss): input "prediction" is not connected',
      'loss (MSELoss): input "target" is not connected',
    ]);
    const gr = chain([node('g', 'GraphInput'), node('conv', 'Conv2d')]);
    expect(messages(gr)).toEqual(['conv (Conv2d): input "x" takes a tensor, but g gives a graph batch (shape nx8)']);
  });

  it('explains merge and loss mismatches', () => {
    const g: ModelGraph = {
      nodes: [node('in', 'ImageInput', { channels: 3, height: 8, width: 8 }), node('conv', 'Conv2d', { out_channels: 8, padding: [1] }), node('sum', 'Add')],
      edges: [edge('in', 'conv'), edge('conv', 'sum', 'y', 'in0'), edge('in', 'sum', 'y', 'in1')],
    };
    expect(messages(g)).toEqual(['sum (Add): all inputs must have the same shape: conv gives 8x8x8, in gives 3x8x8; a 1x1 Conv2d on one branch can match the channels']);
    const l: ModelGraph = {
      nodes: [node('in', 'VectorInput', { features: 3 }), node('t', 'Target', { target: 'class', shape: [2] }), node('ce', 'CrossEntropyLoss')],
      edges: [edge('in', 'ce', 'y', 'prediction'), edge('t', 'ce', 'y', 'target')],
    };
    expect(messages(l)[0]).toBe('ce (CrossEntropyLoss): in gives scores of shape 3, so the target must hold one class index per sample; t gives 2');
  });

  it('propagates nothing past a broken node (no cascade of messages)', () => {
    const g = chain([node('in', 'VectorInput'), node('c', 'Conv2d'), node('r', 'ReLU'), node('fc', 'Linear')]);
    expect(inferGraph(g).problems.map((p) => p.nodeId)).toEqual(['c']);
    expect(inferGraph(g).nodes.fc.outputs).toEqual([undefined]);
  });
});

describe('canConnect', () => {
  const g: ModelGraph = { nodes: [node('g', 'GraphInput'), node('img', 'ImageInput'), node('conv', 'Conv2d'), node('relu', 'ReLU')], edges: [edge('img', 'conv'), edge('conv', 'relu')] };
  it('refuses kind mismatches, taken ports, cycles and missing ports with a reason', () => {
    expect(canConnect(g, { source: 'g', sourcePort: 'y', target: 'conv', targetPort: 'x' })).toEqual({ ok: false, reason: expect.stringMatching(/already connected/) });
    const free = { ...g, edges: [edge('conv', 'relu')] };
    expect(canConnect(free, { source: 'g', sourcePort: 'y', target: 'conv', targetPort: 'x' })).toEqual({
      ok: false,
      reason: 'conv (Conv2d) input "x" takes a tensor, but g (GraphInput) gives a graph batch',
    });
    expect(canConnect(free, { source: 'relu', sourcePort: 'y', target: 'conv', targetPort: 'x' })).toEqual({ ok: false, reason: expect.stringMatching(/cycle/) });
    expect(canConnect(free, { source: 'img', sourcePort: 'y', target: 'conv', targetPort: 'nope' })).toEqual({ ok: false, reason: 'conv (Conv2d) has no input "nope"' });
    expect(canConnect(free, { source: 'img', sourcePort: 'y', target: 'conv', targetPort: 'x' })).toEqual({ ok: true });
  });
});

describe('blocks', () => {
  it('ready-made blocks infer inside the graph', () => {
    const g: ModelGraph = {
      nodes: [node('in', 'ImageInput', { channels: 3, height: 16, width: 16 }), residualBlock('res', { inChannels: 3, outChannels: 8, stride: 2 }), vggBlock('vgg', { convs: 2, channels: 16 }), inceptionBlock('inc', { c1: 4, c3reduce: 4, c3: 8, c5reduce: 2, c5: 4, poolProj: 4 })],
      edges: [edge('in', 'res'), edge('res', 'vgg'), edge('vgg', 'inc')],
    };
    const a = inferGraph(g);
    expect(a.problems).toEqual([]);
    expect(a.nodes.res.outputs[0]!.shape).toEqual([8, 8, 8]);
    expect(a.nodes.vgg.outputs[0]!.shape).toEqual([16, 4, 4]);
    expect(a.nodes.inc.outputs[0]!.shape).toEqual([20, 4, 4]);
    // conv1 3x3 3->8 + conv2 3x3 8->8 (no bias) + 2 BN(8) + 1x1 shortcut 3->8 + BN(8)
    expect(a.nodes.res.paramCount).toBe(216 + 576 + 32 + 24 + 16);
    const ae: ModelGraph = { nodes: [node('in', 'ImageInput', { channels: 1, height: 28, width: 28 }), encoderBlock('enc', { channels: [8, 16] }), decoderBlock('dec', { channels: [8, 1] })], edges: [edge('in', 'enc'), edge('enc', 'dec')] };
    expect(inferGraph(ae).nodes.dec.outputs[0]!.shape).toEqual([1, 28, 28]);
  });

  it('group then ungroup gives back the same nodes, edges and analysis', () => {
    const g = lenet();
    const grouped = groupNodes(g, ['conv1', 'relu1', 'pool1'], 'stage 1');
    const block = grouped.nodes[grouped.nodes.length - 1];
    expect(block.id).toBe('stage_1');
    expect(block.subgraph!.inputs).toEqual([{ name: 'conv1_x', node: 'conv1', port: 'x' }]);
    const a = inferGraph(grouped);
    expect(a.problems).toEqual([]);
    expect(a.totals.params).toBe(61706);
    const back = ungroupNode(grouped, block.id);
    expect(back.nodes.map((n) => n.id).sort()).toEqual(g.nodes.map((n) => n.id).sort());
    const key = (m: ModelGraph) => m.edges.map((e) => `${e.source}:${e.sourcePort}->${e.target}:${e.targetPort}`).sort();
    expect(key(back)).toEqual(key(g));
    expect(inferGraph(back).totals).toEqual(inferGraph(g).totals);
    expect(g.nodes.length).toBe(15); // the input graph is untouched
  });

  it('reports a problem inside a block on the block node', () => {
    const g: ModelGraph = { nodes: [node('in', 'ImageInput', { channels: 3, height: 8, width: 8 }), residualBlock('res', { inChannels: 4, outChannels: 4 })], edges: [edge('in', 'res')] };
    g.nodes[1].subgraph!.nodes[0].params.in_channels = 4;
    expect(messages(g)[0]).toBe('Residual block (Block): inside the block: conv1 (Conv2d): expects 4 input channels, its input has 3');
  });
});
