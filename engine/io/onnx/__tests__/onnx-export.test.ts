/**
 * The exported ONNX models run in ONNX Runtime and give the engine's outputs on the same
 * inputs (inference mode, trained-looking weights and running statistics).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import { compileGraph } from '../../../graph/compile.ts';
import type { ModelGraph } from '../../../graph/types.ts';
import { helpersGraph, seq2seqGraph, vitGraph } from '../../__tests__/attention-graphs.ts';
import { chain, link, node, withLoss } from '../../__tests__/graphs.ts';
import { randomFeeds, randomiseState, worstRelative } from '../../__tests__/model-feeds.ts';
import { readProject } from '../../project.ts';
import { exportOnnx, onnxProblems } from '../export.ts';

const gen = new Generator(7);
const examplesDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../../examples');

async function compare(graph: ModelGraph, batch = 3, opts: { randomise?: boolean; tolerance?: number; ints?: number } = {}): Promise<void> {
  const model = compileGraph(graph, { seed: 1 });
  if (opts.randomise !== false) randomiseState(model, gen);
  model.eval();
  const { bytes, inputs, outputs } = exportOnnx(model);
  expect(inputs.map((i) => i.name)).toEqual(model.inputIds);
  const random = randomFeeds(model, gen, batch, { ints: opts.ints });
  const feeds = Object.fromEntries(Object.entries(random).map(([id, f]) => [id, f.tensor]));
  const ortFeeds = Object.fromEntries(Object.entries(random).map(([id, f]) => [id, new ort.Tensor(f.values instanceof Int32Array ? 'int32' : 'float32', f.values, f.shape)]));
  const engine = model.run(feeds, { training: false });
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run(ortFeeds);
  expect(outputs.length).toBeGreaterThan(0);
  for (const o of outputs) {
    const want = engine.outputs[o.nodeId]![o.port]!;
    const got = result[o.name]!;
    expect(got.dims).toEqual(want.shape);
    const w = want.dataSync() as Float32Array;
    const g = got.data as Float32Array;
    expect(worstRelative(w, g), `output ${o.name}`).toBeLessThan(opts.tolerance ?? 1e-4);
  }
}

describe('ONNX export matches the engine in ONNX Runtime', () => {
  it('MLP with every activation', async () => {
    const g = chain([
      node('x', 'VectorInput', { features: 8 }),
      node('fc1', 'Linear', { out_features: 16 }),
      node('relu', 'ReLU'),
      node('fc2', 'Linear', { out_features: 16 }),
      node('leaky', 'LeakyReLU', { negative_slope: 0.2 }),
      node('silu', 'SiLU'),
      node('gelu', 'GELU'),
      node('gelu_tanh', 'GELU', { approximate: 'tanh' }),
      node('softplus', 'Softplus', { beta: 2 }),
      node('prelu', 'PReLU', { num_parameters: 16 }),
      node('drop', 'Dropout', { p: 0.5 }),
      node('tanh', 'Tanh'),
      node('fc3', 'Linear', { out_features: 4, bias: false }),
      node('sigmoid', 'Sigmoid'),
      node('fc4', 'Linear', { out_features: 5 }),
      node('softmax', 'LogSoftmax', { dim: -1 }),
    ]);
    await compare(withLoss(g, 'fc4'));
  });

  it('LeNet-5-style CNN with batch norm, both poolings and layer norm', async () => {
    const g = chain([
      node('image', 'ImageInput', { channels: 1, height: 28, width: 28 }),
      node('conv1', 'Conv2d', { out_channels: 6, kernel_size: [5], padding: [2] }),
      node('bn1', 'BatchNorm2d'),
      node('relu1', 'ReLU'),
      node('pool1', 'MaxPool2d', { kernel_size: [2] }),
      node('conv2', 'Conv2d', { out_channels: 16, kernel_size: [5] }),
      node('bn2', 'BatchNorm2d', { affine: false }),
      node('relu2', 'ReLU'),
      node('pool2', 'AvgPool2d', { kernel_size: [2] }),
      node('flatten', 'Flatten'),
      node('fc1', 'Linear', { out_features: 120 }),
      node('bn3', 'BatchNorm1d'),
      node('relu3', 'ReLU'),
      node('fc2', 'Linear', { out_features: 84 }),
      node('ln', 'LayerNorm'),
      node('relu4', 'ReLU'),
      node('fc3', 'Linear', { out_features: 10 }),
    ]);
    await compare(withLoss(g, 'fc3'), 2);
  });

  it('residual block with strides, dilation, groups, concat and global pooling', async () => {
    const nodes = [
      node('image', 'ImageInput', { channels: 3, height: 12, width: 12 }),
      node('stem', 'Conv2d', { out_channels: 8, kernel_size: [3], padding: [1], stride: [2] }),
      node('a', 'Conv2d', { out_channels: 8, kernel_size: [3], padding: [2], dilation: [2], groups: 2 }),
      node('relu', 'ReLU'),
      node('b', 'Conv2d', { out_channels: 8, kernel_size: [4, 2], padding: 'same' }),
      node('add', 'Add'),
      node('cat', 'Concat', { dim: 0 }),
      node('pool', 'MaxPool2d', { kernel_size: [3], stride: [2], padding: [1], ceil_mode: true }),
      node('adapt', 'AdaptiveAvgPool2d', { output_size: [2] }),
      node('gap', 'GlobalAvgPool'),
      node('fc', 'Linear', { out_features: 3 }),
    ];
    const edges = [
      link(nodes, 'image', 'stem'),
      link(nodes, 'stem', 'a'),
      link(nodes, 'a', 'relu'),
      link(nodes, 'relu', 'b'),
      link(nodes, 'b', 'add', 0, 0),
      link(nodes, 'stem', 'add', 0, 1),
      link(nodes, 'add', 'cat', 0, 0),
      link(nodes, 'stem', 'cat', 0, 1),
      link(nodes, 'cat', 'pool'),
      link(nodes, 'pool', 'adapt'),
      link(nodes, 'adapt', 'gap'),
      link(nodes, 'gap', 'fc'),
    ];
    await compare({ nodes, edges });
  });

  it('convolutional autoencoder with transposed convolution and output padding', async () => {
    const g = chain([
      node('image', 'ImageInput', { channels: 1, height: 14, width: 14 }),
      node('enc', 'Conv2d', { out_channels: 4, kernel_size: [3], stride: [2], padding: [1] }),
      node('relu', 'ReLU'),
      node('flat', 'Flatten'),
      node('code', 'Linear', { out_features: 8 }),
      node('expand', 'Linear', { out_features: 4 * 7 * 7 }),
      node('unflat', 'Unflatten', { sizes: [4, 7, 7] }),
      node('dec', 'ConvTranspose2d', { out_channels: 1, kernel_size: [3], stride: [2], padding: [1], output_padding: [1] }),
      node('out', 'Sigmoid'),
    ]);
    await compare(g);
  });

  it('recurrent layers: stacked bidirectional LSTM, GRU and ReLU RNN, with embeddings', async () => {
    const nodes = [
      node('tokens', 'TokenInput', { length: 6, vocab_size: 10 }),
      node('embed', 'Embedding', { num_embeddings: 10, embedding_dim: 5 }),
      node('lstm', 'LSTM', { hidden_size: 4, num_layers: 2, bidirectional: true }),
      node('gru', 'GRU', { hidden_size: 3 }),
      node('rnn', 'RNN', { hidden_size: 3, nonlinearity: 'relu', bidirectional: true, bias: false }),
      node('last', 'SelectLast'),
      node('mean', 'MeanPool'),
      node('fc', 'Linear', { out_features: 2 }),
      node('fc_h', 'Linear', { out_features: 2 }),
    ];
    const edges = [
      link(nodes, 'tokens', 'embed'),
      link(nodes, 'embed', 'lstm'),
      link(nodes, 'lstm', 'gru', 0),
      link(nodes, 'gru', 'rnn', 0),
      link(nodes, 'rnn', 'last', 0),
      link(nodes, 'gru', 'mean', 0),
      link(nodes, 'last', 'fc'),
      link(nodes, 'lstm', 'fc_h', 1),
    ];
    await compare({ nodes, edges }, 3, { ints: 10 });
  });

  it('recurrent layers over a feature sequence', async () => {
    const nodes = [
      node('seq', 'SequenceInput', { length: 5, features: 3 }),
      node('lstm', 'LSTM', { hidden_size: 4, num_layers: 2, bidirectional: true }),
      node('gru', 'GRU', { hidden_size: 3, num_layers: 2 }),
      node('rnn', 'RNN', { hidden_size: 3 }),
      node('fc', 'Linear', { out_features: 2 }),
    ];
    const edges = [link(nodes, 'seq', 'lstm'), link(nodes, 'lstm', 'gru', 0), link(nodes, 'gru', 'rnn', 0), link(nodes, 'rnn', 'fc', 1)];
    await compare({ nodes, edges });
  });

  it('transformer example: linear embedding, sinusoidal positions, encoder layer, mean over time', async () => {
    await compare(readProject(new Uint8Array(readFileSync(path.join(examplesDir, 'transformer-sine-frequency.aps')))).graph);
  });

  it('ViT: patch embedding with class token, pre-norm GELU and post-norm encoder layers', async () => {
    await compare(vitGraph(), 2);
  });

  it('ViT without a class token, learned positions, multi-head attention weights', async () => {
    const nodes = [
      node('image', 'ImageInput', { channels: 3, height: 6, width: 9 }),
      node('patches', 'PatchEmbedding', { patch_size: 3, embed_dim: 6, cls_token: false }),
      node('pos', 'PositionalEncoding', { mode: 'learned', max_len: 8 }),
      node('attn', 'MultiheadAttention', { num_heads: 3, bias: false }),
      node('mean', 'MeanPool'),
    ];
    const edges = [link(nodes, 'image', 'patches'), link(nodes, 'patches', 'pos'), link(nodes, 'pos', 'attn'), link(nodes, 'attn', 'mean')];
    await compare({ nodes, edges });
  });

  it('encoder-decoder: causal and plain decoder layers, cross-attention with its weights, both positional encodings', async () => {
    await compare(seq2seqGraph(), 3, { ints: 7 });
  });

  it('DeepSets with sum, max and mean pooling; VAE reparameterisation (z = mu) and its KL term; Step and Sign', async () => {
    await compare(helpersGraph());
  });

  it('names the layers ONNX cannot express, and why', () => {
    const gcn = chain([node('g', 'GraphInput', { node_features: 3 }), node('conv', 'GCNConv', { out_channels: 2 })]);
    const problems = onnxProblems(gcn);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe('g (GraphInput): a batch of graphs has no ONNX tensor form');
    expect(problems[1]).toMatch(/^conv \(GCNConv\): graph layers take a batch of graphs .*varying size.*no fixed-shape ONNX tensor form$/);

    const vae = helpersGraph();
    const sampling = { ...vae, nodes: vae.nodes.map((n) => (n.id === 'z' ? { ...n, params: { ...n.params, sample_in_eval: true } } : n)) };
    expect(onnxProblems(sampling)).toEqual([
      'z (Reparameterize): samples z at random also in evaluation (sample_in_eval), which has no deterministic ONNX form; turn sample_in_eval off to export z = mu',
    ]);
    const model = compileGraph(sampling, { seed: 1 });
    expect(() => exportOnnx(model)).toThrow(/ONNX export cannot express this layer:\n- z \(Reparameterize\): samples z at random/);
  });
});
