/** Graphs with the attention layers, the ViT patch embedding and the helper modules (sets, VAE, step and sign), for the export tests. */
import type { ModelGraph } from '../../graph/types.ts';
import { chain, link, node, withLoss } from './graphs.ts';

/** ViT: patches with a class token, a pre-norm GELU encoder layer, a post-norm one and causal self-attention, the last token's features classified. */
export function vitGraph(): ModelGraph {
  const g = chain([
    node('image', 'ImageInput', { channels: 2, height: 8, width: 8 }),
    node('patches', 'PatchEmbedding', { patch_size: 4, embed_dim: 8, cls_token: true }),
    node('enc1', 'TransformerEncoderLayer', { nhead: 2, dim_feedforward: 16, dropout: 0, norm_first: true, activation: 'gelu' }),
    node('enc2', 'TransformerEncoderLayer', { nhead: 4, dim_feedforward: 12, dropout: 0 }),
    node('causal_attn', 'MultiheadAttention', { num_heads: 2, causal: true }),
    node('cls', 'SelectLast'),
    node('ln', 'LayerNorm'),
    node('head', 'Linear', { out_features: 5 }),
  ]);
  return withLoss(g, 'head');
}

/** Encoder-decoder over a feature sequence and tokens: both positional encodings, a causal encoder layer, causal and plain decoder layers, cross-attention with its weights. */
export function seq2seqGraph(): ModelGraph {
  const nodes = [
    node('src', 'SequenceInput', { length: 6, features: 4 }),
    node('tgt', 'TokenInput', { length: 5, vocab_size: 7 }),
    node('src_proj', 'Linear', { out_features: 8 }),
    node('src_pos', 'PositionalEncoding', { mode: 'sinusoidal', max_len: 16 }),
    node('enc', 'TransformerEncoderLayer', { nhead: 2, dim_feedforward: 16, dropout: 0, causal: true }),
    node('embed', 'Embedding', { num_embeddings: 7, embedding_dim: 8 }),
    node('tgt_pos', 'PositionalEncoding', { mode: 'learned', max_len: 9 }),
    node('dec', 'TransformerDecoderLayer', { nhead: 2, dim_feedforward: 16, dropout: 0, causal: true }),
    node('dec2', 'TransformerDecoderLayer', { nhead: 4, dim_feedforward: 8, dropout: 0, causal: false, norm_first: true }),
    node('attn', 'MultiheadAttention', { num_heads: 4 }),
    node('logits', 'Linear', { out_features: 7 }),
  ];
  const edges = [
    link(nodes, 'src', 'src_proj'),
    link(nodes, 'src_proj', 'src_pos'),
    link(nodes, 'src_pos', 'enc'),
    link(nodes, 'tgt', 'embed'),
    link(nodes, 'embed', 'tgt_pos'),
    link(nodes, 'tgt_pos', 'dec', 0, 0),
    link(nodes, 'enc', 'dec', 0, 1),
    link(nodes, 'dec', 'dec2', 0, 0),
    link(nodes, 'enc', 'dec2', 0, 1),
    link(nodes, 'dec2', 'attn', 0, 0),
    link(nodes, 'enc', 'attn', 0, 1),
    link(nodes, 'attn', 'logits', 0, 0),
  ];
  return { nodes, edges };
}

/** DeepSets with each pooling, the VAE reparameterisation with its KL terms, Step and Sign. */
export function helpersGraph(): ModelGraph {
  const nodes = [
    node('set', 'SequenceInput', { length: 5, features: 3 }),
    node('deepsets_sum', 'DeepSets', { hidden: 6, out_features: 4, pool: 'sum' }),
    node('deepsets_max', 'DeepSets', { hidden: 5, out_features: 4, pool: 'max' }),
    node('deepsets_mean', 'DeepSets', { hidden: 5, out_features: 4, pool: 'mean' }),
    node('merged', 'Add'),
    node('mu', 'Linear', { out_features: 4 }),
    node('logvar', 'Linear', { out_features: 4 }),
    node('z', 'Reparameterize'),
    node('step', 'Step'),
    node('sign', 'Sign'),
    node('both', 'Concat', { dim: 0 }),
    node('kl', 'GaussianKL'),
  ];
  const edges = [
    link(nodes, 'set', 'deepsets_sum'),
    link(nodes, 'set', 'deepsets_max'),
    link(nodes, 'set', 'deepsets_mean'),
    link(nodes, 'deepsets_sum', 'merged', 0, 0),
    link(nodes, 'deepsets_max', 'merged', 0, 1),
    link(nodes, 'merged', 'mu'),
    link(nodes, 'deepsets_mean', 'logvar'),
    link(nodes, 'mu', 'z', 0, 0),
    link(nodes, 'logvar', 'z', 0, 1),
    link(nodes, 'z', 'step'),
    link(nodes, 'z', 'sign'),
    link(nodes, 'step', 'both', 0, 0),
    link(nodes, 'sign', 'both', 0, 1),
    link(nodes, 'mu', 'kl', 0, 0),
    link(nodes, 'logvar', 'kl', 0, 1),
  ];
  return { nodes, edges };
}
