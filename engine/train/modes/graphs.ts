/**
 * Ready-made graphs for the special modes, as plain `ModelGraph` data. The examples and
 * tests start from them; a user builds the same in the editor.
 */
import type { ModelGraph } from '../../graph/types.ts';
import { edge, graphOf, node } from './build.ts';

const image = (c = 1, h = 28, w = 28) => node('input', 'ImageInput', { channels: c, height: h, width: w });

/**
 * Dense autoencoder 784 -> hidden -> latent -> hidden -> 784 (sigmoid), MSE against the
 * clean input. The bottleneck node is "code".
 */
export function denseAutoencoderGraph(o: { hidden?: number; latent?: number } = {}): ModelGraph {
  const hidden = o.hidden ?? 128;
  return graphOf(
    [
      image(),
      node('flat', 'Flatten'),
      node('enc1', 'Linear', { out_features: hidden }),
      node('enc1_act', 'ReLU'),
      node('code', 'Linear', { out_features: o.latent ?? 16 }),
      node('dec1', 'Linear', { out_features: hidden }),
      node('dec1_act', 'ReLU'),
      node('dec2', 'Linear', { out_features: 784 }),
      node('dec2_act', 'Sigmoid'),
      node('recon', 'Unflatten', { sizes: [1, 28, 28] }),
      node('clean', 'Target', { target: 'values', shape: [1, 28, 28] }),
      node('loss', 'MSELoss'),
    ],
    [edge('recon', 'loss', 'y', 'prediction'), edge('clean', 'loss', 'y', 'target')],
    [['input', 'flat', 'enc1', 'enc1_act', 'code', 'dec1', 'dec1_act', 'dec2', 'dec2_act', 'recon']],
  );
}

/**
 * Convolutional autoencoder: two stride-2 convolutions (28 -> 14 -> 7) and two transposed
 * convolutions with output_padding 1 back to exactly 28 x 28.
 */
export function convAutoencoderGraph(o: { channels?: [number, number]; outputPadding?: number } = {}): ModelGraph {
  const [c1, c2] = o.channels ?? [8, 16];
  const op = o.outputPadding ?? 1;
  const down = { kernel_size: [3], stride: [2], padding: [1] };
  const up = { kernel_size: [3], stride: [2], padding: [1], output_padding: [op] };
  return graphOf(
    [
      image(),
      node('enc1', 'Conv2d', { out_channels: c1, ...down }),
      node('enc1_act', 'ReLU'),
      node('enc2', 'Conv2d', { out_channels: c2, ...down }),
      node('enc2_act', 'ReLU'),
      node('dec1', 'ConvTranspose2d', { out_channels: c1, ...up }),
      node('dec1_act', 'ReLU'),
      node('dec2', 'ConvTranspose2d', { out_channels: 1, ...up }),
      node('recon', 'Sigmoid'),
      node('clean', 'Target', { target: 'values', shape: [1, 28, 28] }),
      node('loss', 'MSELoss'),
    ],
    [edge('recon', 'loss', 'y', 'prediction'), edge('clean', 'loss', 'y', 'target')],
    [['input', 'enc1', 'enc1_act', 'enc2', 'enc2_act', 'dec1', 'dec1_act', 'dec2', 'recon']],
  );
}

/**
 * VAE: 784 -> hidden -> (mu, logvar) -> Reparameterize -> hidden -> 784 (sigmoid). The
 * reconstruction is BCE per pixel; the GaussianKL node (weight `klWeight`) is summed over
 * latent dimensions, so a weight of about 1/784 matches the per-image ELBO.
 */
export function vaeGraph(o: { hidden?: number; latent?: number; klWeight?: number } = {}): ModelGraph {
  const hidden = o.hidden ?? 256;
  const latent = o.latent ?? 2;
  return graphOf(
    [
      image(),
      node('flat', 'Flatten'),
      node('enc1', 'Linear', { out_features: hidden }),
      node('enc1_act', 'ReLU'),
      node('mu', 'Linear', { out_features: latent }),
      node('logvar', 'Linear', { out_features: latent }),
      node('z', 'Reparameterize'),
      node('dec1', 'Linear', { out_features: hidden }),
      node('dec1_act', 'ReLU'),
      node('dec2', 'Linear', { out_features: 784 }),
      node('dec2_act', 'Sigmoid'),
      node('recon', 'Unflatten', { sizes: [1, 28, 28] }),
      node('clean', 'Target', { target: 'values', shape: [1, 28, 28] }),
      node('recon_loss', 'BCELoss'),
      node('kl', 'GaussianKL', { weight: o.klWeight ?? 0.002 }),
    ],
    [
      edge('enc1_act', 'mu'),
      edge('enc1_act', 'logvar'),
      edge('mu', 'z', 'y', 'mu'),
      edge('logvar', 'z', 'y', 'logvar'),
      edge('z', 'dec1', 'z', 'x'),
      edge('recon', 'recon_loss', 'y', 'prediction'),
      edge('clean', 'recon_loss', 'y', 'target'),
      edge('mu', 'kl', 'y', 'mu'),
      edge('logvar', 'kl', 'y', 'logvar'),
    ],
    [['input', 'flat', 'enc1', 'enc1_act'], ['dec1', 'dec1_act', 'dec2', 'dec2_act', 'recon']],
  );
}

/**
 * GAN generator: noise [+ one-hot label] -> MLP -> a sample of `outShape` (images end in a
 * Sigmoid and an Unflatten; vectors are left linear).
 */
export function ganGeneratorGraph(o: { noise: number; hidden: number; outShape: number[]; classes?: number }): ModelGraph {
  const size = o.outShape.reduce((a, b) => a * b, 1);
  const isImage = o.outShape.length === 3;
  const cond = !!o.classes;
  const nodes = [
    node('noise', 'VectorInput', { features: o.noise }),
    ...(cond ? [node('label', 'VectorInput', { features: o.classes! }), node('join', 'Concat', { inputs: 2, dim: 0 })] : []),
    node('g1', 'Linear', { out_features: o.hidden }),
    node('g1_act', 'LeakyReLU', { negative_slope: 0.2 }),
    node('g2', 'Linear', { out_features: o.hidden }),
    node('g2_act', 'LeakyReLU', { negative_slope: 0.2 }),
    node('g_out', 'Linear', { out_features: size }),
    ...(isImage ? [node('g_sig', 'Sigmoid'), node('sample', 'Unflatten', { sizes: o.outShape })] : []),
  ];
  const chain = ['g1', 'g1_act', 'g2', 'g2_act', 'g_out', ...(isImage ? ['g_sig', 'sample'] : [])];
  const edges = cond ? [edge('noise', 'join', 'y', 'in0'), edge('label', 'join', 'y', 'in1'), edge('join', 'g1')] : [edge('noise', 'g1')];
  return graphOf(nodes, edges, [chain]);
}

/** GAN discriminator: a sample [+ one-hot label] -> MLP -> one logit. */
export function ganDiscriminatorGraph(o: { inShape: number[]; hidden: number; classes?: number }): ModelGraph {
  const isImage = o.inShape.length === 3;
  const cond = !!o.classes;
  const nodes = [
    isImage ? node('x', 'ImageInput', { channels: o.inShape[0], height: o.inShape[1], width: o.inShape[2] }) : node('x', 'VectorInput', { features: o.inShape[0] }),
    node('x_flat', 'Flatten'),
    ...(cond ? [node('label', 'VectorInput', { features: o.classes! }), node('join', 'Concat', { inputs: 2, dim: 0 })] : []),
    node('d1', 'Linear', { out_features: o.hidden }),
    node('d1_act', 'LeakyReLU', { negative_slope: 0.2 }),
    node('d2', 'Linear', { out_features: o.hidden }),
    node('d2_act', 'LeakyReLU', { negative_slope: 0.2 }),
    node('logit', 'Linear', { out_features: 1 }),
  ];
  const edges = cond ? [edge('x_flat', 'join', 'y', 'in0'), edge('label', 'join', 'y', 'in1'), edge('join', 'd1')] : [edge('x_flat', 'd1')];
  return graphOf(nodes, [edge('x', 'x_flat'), ...edges], [['d1', 'd1_act', 'd2', 'd2_act', 'logit']]);
}

/** A dense classifier for 28x28 digits: 784 -> hidden (ReLU) -> 10, cross-entropy. */
export function mlpClassifierGraph(o: { hidden?: number; classes?: number } = {}): ModelGraph {
  return graphOf(
    [
      image(),
      node('flat', 'Flatten'),
      node('fc1', 'Linear', { out_features: o.hidden ?? 64 }),
      node('fc1_act', 'ReLU'),
      node('logits', 'Linear', { out_features: o.classes ?? 10 }),
      node('label', 'Target'),
      node('loss', 'CrossEntropyLoss'),
    ],
    [edge('logits', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target')],
    [['input', 'flat', 'fc1', 'fc1_act', 'logits']],
  );
}

/**
 * Deep supervision: a digit classifier with an auxiliary head on its first hidden layer,
 * whose cross-entropy joins the total loss with weight `auxWeight`.
 */
export function deepSupervisionGraph(o: { hidden?: number; auxWeight?: number } = {}): ModelGraph {
  const h = o.hidden ?? 64;
  return graphOf(
    [
      image(),
      node('flat', 'Flatten'),
      node('fc1', 'Linear', { out_features: h }),
      node('fc1_act', 'ReLU'),
      node('fc2', 'Linear', { out_features: h }),
      node('fc2_act', 'ReLU'),
      node('logits', 'Linear', { out_features: 10 }),
      node('aux_logits', 'Linear', { out_features: 10 }),
      node('label', 'Target'),
      node('loss', 'CrossEntropyLoss'),
      node('aux_loss', 'CrossEntropyLoss', { weight: o.auxWeight ?? 0.3 }),
    ],
    [
      edge('fc1_act', 'aux_logits'),
      edge('logits', 'loss', 'y', 'prediction'),
      edge('label', 'loss', 'y', 'target'),
      edge('aux_logits', 'aux_loss', 'y', 'prediction'),
      edge('label', 'aux_loss', 'y', 'target'),
    ],
    [['input', 'flat', 'fc1', 'fc1_act', 'fc2', 'fc2_act', 'logits']],
  );
}

/**
 * Sequence to sequence with attention: a GRU (or LSTM) encoder reads the source tokens; a
 * GRU decoder reads BOS and the answer so far (teacher forcing); dot-product attention of
 * each decoder step over the encoder outputs is joined to the decoder state and mapped to
 * next-token scores [T, vocab]. Inputs "src" [srcLength] and "dec_in" [tgtLength]; the
 * Target "label" holds the answer [tgtLength].
 */
export function seq2seqGraph(o: { vocab: number; srcLength: number; tgtLength: number; embed?: number; hidden?: number; cell?: 'GRU' | 'LSTM'; heads?: number }): ModelGraph {
  const e = o.embed ?? 32;
  const h = o.hidden ?? 64;
  const cell = o.cell ?? 'GRU';
  return graphOf(
    [
      node('src', 'TokenInput', { length: o.srcLength, vocab_size: o.vocab }),
      node('dec_in', 'TokenInput', { length: o.tgtLength, vocab_size: o.vocab }),
      node('src_emb', 'Embedding', { num_embeddings: o.vocab, embedding_dim: e }),
      node('dec_emb', 'Embedding', { num_embeddings: o.vocab, embedding_dim: e }),
      node('encoder', cell, { hidden_size: h }),
      node('decoder', cell, { hidden_size: h }),
      node('attention', 'MultiheadAttention', { num_heads: o.heads ?? 1 }),
      node('join', 'Concat', { inputs: 2, dim: -1 }),
      node('logits', 'Linear', { out_features: o.vocab }),
      node('label', 'Target', { target: 'class', shape: [o.tgtLength] }),
      node('loss', 'CrossEntropyLoss'),
    ],
    [
      edge('src', 'src_emb'),
      edge('src_emb', 'encoder'),
      edge('dec_in', 'dec_emb'),
      edge('dec_emb', 'decoder'),
      edge('decoder', 'attention', 'output', 'query'),
      edge('encoder', 'attention', 'output', 'key'),
      edge('encoder', 'attention', 'output', 'value'),
      edge('decoder', 'join', 'output', 'in0'),
      edge('attention', 'join', 'output', 'in1'),
      edge('join', 'logits'),
      edge('logits', 'loss', 'y', 'prediction'),
      edge('label', 'loss', 'y', 'target'),
    ],
  );
}

/**
 * Character-level language model: token ids [length] -> Embedding -> GRU/LSTM -> Linear
 * to next-character scores at every position, cross-entropy against the text shifted by one.
 */
export function charLanguageModelGraph(o: { vocab: number; length: number; embed?: number; hidden?: number; cell?: 'GRU' | 'LSTM' | 'RNN'; layers?: number }): ModelGraph {
  return graphOf(
    [
      node('tokens', 'TokenInput', { length: o.length, vocab_size: o.vocab }),
      node('embed', 'Embedding', { num_embeddings: o.vocab, embedding_dim: o.embed ?? 32 }),
      node('rnn', o.cell ?? 'GRU', { hidden_size: o.hidden ?? 128, num_layers: o.layers ?? 1 }),
      node('logits', 'Linear', { out_features: o.vocab }),
      node('next', 'Target', { target: 'class', shape: [o.length] }),
      node('loss', 'CrossEntropyLoss'),
    ],
    [edge('tokens', 'embed'), edge('embed', 'rnn'), edge('rnn', 'logits', 'output', 'x'), edge('logits', 'loss', 'y', 'prediction'), edge('next', 'loss', 'y', 'target')],
  );
}

/**
 * word2vec with a full softmax over a small vocabulary: context ids [contextLength] ->
 * Embedding "embed" (the word vectors) -> mean over positions -> Linear "out" -> a score per
 * word. Skip-gram feeds one centre word (contextLength 1) and predicts a word around it;
 * CBOW feeds the 2 x window words around a centre (PAD = padding_idx) and predicts it.
 */
export function word2vecGraph(o: { vocab: number; dim?: number; contextLength: number; paddingIdx?: number }): ModelGraph {
  return graphOf(
    [
      node('context', 'TokenInput', { length: o.contextLength, vocab_size: o.vocab }),
      node('embed', 'Embedding', { num_embeddings: o.vocab, embedding_dim: o.dim ?? 16, padding_idx: o.paddingIdx ?? -1 }),
      node('pool', 'MeanPool'),
      node('out', 'Linear', { out_features: o.vocab }),
      node('word', 'Target'),
      node('loss', 'CrossEntropyLoss'),
    ],
    [edge('out', 'loss', 'y', 'prediction'), edge('word', 'loss', 'y', 'target')],
    [['context', 'embed', 'pool', 'out']],
  );
}

/**
 * Convolutional encoder for 28x28 digits: conv(c1, stride 2) -> ReLU -> conv(c2, stride 2)
 * -> ReLU -> Flatten -> Linear(features) -> ReLU; the feature node is "features".
 */
function convEncoderNodes(o: { channels?: [number, number]; features?: number }) {
  const [c1, c2] = o.channels ?? [16, 32];
  const down = { kernel_size: [3], stride: [2], padding: [1] };
  return {
    nodes: [
      image(),
      node('conv1', 'Conv2d', { out_channels: c1, ...down }),
      node('conv1_act', 'ReLU'),
      node('conv2', 'Conv2d', { out_channels: c2, ...down }),
      node('conv2_act', 'ReLU'),
      node('flat', 'Flatten'),
      node('fc', 'Linear', { out_features: o.features ?? 64 }),
      node('features', 'ReLU'),
    ],
    chain: ['input', 'conv1', 'conv1_act', 'conv2', 'conv2_act', 'flat', 'fc', 'features'],
  };
}

/**
 * Rotation prediction (a self-supervised pretext task): the convolutional encoder, then a
 * Linear head "rotation" scoring the 4 rotations (0, 90, 180, 270 degrees).
 */
export function rotationPretextGraph(o: { channels?: [number, number]; features?: number } = {}): ModelGraph {
  const enc = convEncoderNodes(o);
  return graphOf(
    [...enc.nodes, node('rotation', 'Linear', { out_features: 4 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    [edge('rotation', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target')],
    [[...enc.chain, 'rotation']],
  );
}

/**
 * Contrastive learning (SimCLR-style): the convolutional encoder, then a projection head
 * Linear -> ReLU -> Linear "projection" whose outputs the NT-Xent loss compares. It has no
 * loss node: the contrastive mode adds its own loss.
 */
export function contrastiveGraph(o: { channels?: [number, number]; features?: number; projection?: number } = {}): ModelGraph {
  const enc = convEncoderNodes(o);
  return graphOf(
    [...enc.nodes, node('proj1', 'Linear', { out_features: o.features ?? 64 }), node('proj1_act', 'ReLU'), node('projection', 'Linear', { out_features: o.projection ?? 32 })],
    [],
    [[...enc.chain, 'proj1', 'proj1_act', 'projection']],
  );
}

/** The convolutional digit classifier with the same layers as the pretext encoders, for training from scratch. */
export function convClassifierGraph(o: { channels?: [number, number]; features?: number; classes?: number } = {}): ModelGraph {
  const enc = convEncoderNodes(o);
  return graphOf(
    [...enc.nodes, node('head', 'Linear', { out_features: o.classes ?? 10 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    [edge('head', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target')],
    [[...enc.chain, 'head']],
  );
}

/**
 * Convolutional autoencoder whose encoder is exactly the pretext encoders' (conv1, conv2,
 * flat, fc, features), so its weights load into convClassifierGraph by name; the decoder
 * maps the features back through a Linear, an Unflatten to [c2, 7, 7] and two transposed
 * convolutions to 28 x 28.
 */
export function convFeatureAutoencoderGraph(o: { channels?: [number, number]; features?: number } = {}): ModelGraph {
  const [c1, c2] = o.channels ?? [16, 32];
  const enc = convEncoderNodes(o);
  const up = { kernel_size: [3], stride: [2], padding: [1], output_padding: [1] };
  return graphOf(
    [
      ...enc.nodes,
      node('dec_fc', 'Linear', { out_features: c2 * 7 * 7 }),
      node('dec_fc_act', 'ReLU'),
      node('dec_maps', 'Unflatten', { sizes: [c2, 7, 7] }),
      node('dec1', 'ConvTranspose2d', { out_channels: c1, ...up }),
      node('dec1_act', 'ReLU'),
      node('dec2', 'ConvTranspose2d', { out_channels: 1, ...up }),
      node('recon', 'Sigmoid'),
      node('clean', 'Target', { target: 'values', shape: [1, 28, 28] }),
      node('loss', 'MSELoss'),
    ],
    [edge('recon', 'loss', 'y', 'prediction'), edge('clean', 'loss', 'y', 'target')],
    [[...enc.chain, 'dec_fc', 'dec_fc_act', 'dec_maps', 'dec1', 'dec1_act', 'dec2', 'recon']],
  );
}
