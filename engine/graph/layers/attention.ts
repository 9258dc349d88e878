/** Attention and transformers: multi-head attention, encoder/decoder layers, positional encoding, ViT patches. */
import { MultiheadAttention } from '../../nn/attention.ts';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '../../nn/sequence.ts';
import { PatchEmbedding, TransformerDecoderLayer, TransformerEncoderLayer } from '../../nn/transformer.ts';
import type { BuildContext, InferContext, LayerDef, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { bool, choice, flag, float, fmt, input, int, kwargs, num, port, requireFloat, sourceName } from './util.ts';

function seqIn(ctx: InferContext, i: number, what: string): [number, number] {
  const x = input(ctx, i);
  requireFloat(x);
  if (x.kind !== 'sequence' || x.shape.length !== 2) {
    throw new ShapeError(`${what} must be a sequence [time, features], ${sourceName(ctx, i)} gives ${fmt(x.shape)}`);
  }
  return [x.shape[0], x.shape[1]];
}

function modelDim(ctx: InferContext, key: string, e: number, heads: number): number {
  const expected = num(ctx.params, key);
  if (expected > 0 && expected !== e) throw new ShapeError(`expects ${expected} features per position (${key}), its input has ${e}`);
  if (e % heads !== 0) throw new ShapeError(`${e} features cannot be split evenly into ${heads} heads; pick a number of heads that divides ${e}`);
  return e;
}

/** Parameters of one torch MultiheadAttention with equal q/k/v sizes. */
const mhaParams = (e: number, bias: boolean) => 4 * e * e + (bias ? 4 * e : 0);
/** FLOPs of attention with tq queries and tk keys. */
const mhaFlops = (tq: number, tk: number, e: number) => 2 * (tq * e * e + 2 * tk * e * e + 2 * tq * tk * e + tq * e * e);

export const multiheadAttentionLayer: LayerDef = {
  type: 'MultiheadAttention',
  category: 'Attention',
  displayName: 'Multi-head attention',
  description: 'Lets every position look at every other position and take a weighted mix of them; several heads look for different things.',
  inputs: () => [port('query', 'sequence'), port('key', 'sequence', { optional: true }), port('value', 'sequence', { optional: true })],
  outputs: () => [port('output', 'sequence'), port('weights', 'tensor', { label: 'attention weights' })],
  params: {
    num_heads: int(4, 1),
    dropout: float(0, 0, 1),
    bias: flag(true),
    causal: flag(false, 'Each query position sees only the key positions up to its own (needs as many keys as queries)'),
    embed_dim: int(0, 0, { help: '0: taken from the query' }),
  },
  infer(ctx) {
    const [tq, e] = seqIn(ctx, 0, 'the query');
    modelDim(ctx, 'embed_dim', e, num(ctx.params, 'num_heads'));
    let tk = tq;
    for (const i of [1, 2]) {
      if (!ctx.inputs[i]) continue;
      const [t, f] = seqIn(ctx, i, i === 1 ? 'the key' : 'the value');
      if (f !== e) throw new ShapeError(`${i === 1 ? 'key' : 'value'} from ${sourceName(ctx, i)} has ${f} features, the query has ${e}; they must match`);
      tk = t;
    }
    if (ctx.inputs[1] && ctx.inputs[2] && ctx.inputs[1].shape[0] !== ctx.inputs[2].shape[0]) {
      throw new ShapeError(`key and value must have the same length, got ${ctx.inputs[1].shape[0]} and ${ctx.inputs[2].shape[0]}`);
    }
    if (bool(ctx.params, 'causal') && tk !== tq) throw new ShapeError(`causal attention needs as many keys as queries, got ${tk} keys for ${tq} queries`);
    return [
      { kind: 'sequence', shape: [tq, e], dtype: 'float32' },
      { kind: 'tensor', shape: [tq, tk], dtype: 'float32' },
    ];
  },
  paramCount: (ctx) => mhaParams(seqIn(ctx, 0, 'the query')[1], bool(ctx.params, 'bias')),
  flops(ctx) {
    const [tq, e] = seqIn(ctx, 0, 'the query');
    const tk = ctx.inputs[1]?.shape[0] ?? tq;
    return mhaFlops(tq, tk, e);
  },
  build(ctx) {
    const e = seqIn(ctx, 0, 'the query')[1];
    const m = new MultiheadAttention(e, num(ctx.params, 'num_heads'), { dropout: num(ctx.params, 'dropout'), bias: bool(ctx.params, 'bias'), batchFirst: true, generator: ctx.generator });
    return {
      module: m,
      run: ([q, k, v]) => {
        const key = k ?? q;
        const r = m.attend(q, key, v ?? key, { needWeights: true, averageAttnWeights: true, isCausal: bool(ctx.params, 'causal') });
        return [r.output, r.weights!];
      },
    };
  },
  inspect: ['activations', 'attention'],
  torch: (ctx) => ({
    functional: false,
    module: `nn.MultiheadAttention(${seqIn(ctx, 0, 'the query')[1]}, ${num(ctx.params, 'num_heads')}${kwargs(ctx.params, { dropout: 0, bias: true })}, batch_first=True)`,
  }),
};

const transformerParams = {
  nhead: int(4, 1),
  dim_feedforward: int(128, 1),
  dropout: float(0.1, 0, 1),
  activation: choice('relu', ['relu', 'gelu']),
  norm_first: flag(false),
  d_model: int(0, 0, { help: '0: taken from the input' }),
};

function layerOpts(ctx: BuildContext) {
  const p = ctx.params;
  return { dimFeedforward: num(p, 'dim_feedforward'), dropout: num(p, 'dropout'), activation: p.activation === 'gelu' ? ('gelu' as const) : ('relu' as const), normFirst: bool(p, 'norm_first'), batchFirst: true, generator: ctx.generator };
}

function ffnParams(e: number, ff: number): number {
  return e * ff + ff + ff * e + e;
}

export const transformerEncoderLayer: LayerDef = {
  type: 'TransformerEncoderLayer',
  category: 'Attention',
  displayName: 'Transformer encoder layer',
  description: 'Self-attention followed by a small feed-forward network, each with a residual connection and layer norm.',
  inputs: () => [port('x', 'sequence')],
  outputs: () => [port('y', 'sequence')],
  params: { ...transformerParams, causal: flag(false, 'Each position sees only itself and earlier positions (a GPT-style language model)') },
  infer(ctx) {
    const [t, e] = seqIn(ctx, 0, 'its input');
    modelDim(ctx, 'd_model', e, num(ctx.params, 'nhead'));
    return [{ kind: 'sequence', shape: [t, e], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const e = seqIn(ctx, 0, 'its input')[1];
    return mhaParams(e, true) + ffnParams(e, num(ctx.params, 'dim_feedforward')) + 4 * e;
  },
  flops(ctx) {
    const [t, e] = seqIn(ctx, 0, 'its input');
    return mhaFlops(t, t, e) + 4 * t * e * num(ctx.params, 'dim_feedforward') + 10 * t * e;
  },
  build(ctx) {
    const m = new TransformerEncoderLayer(seqIn(ctx, 0, 'its input')[1], num(ctx.params, 'nhead'), layerOpts(ctx));
    const isCausal = bool(ctx.params, 'causal');
    return { module: m, run: (xs) => [m.encode(xs[0], { isCausal })] };
  },
  inspect: ['activations', 'attention'],
  torch: (ctx) => ({
    functional: false,
    module: `nn.TransformerEncoderLayer(${seqIn(ctx, 0, 'its input')[1]}, ${num(ctx.params, 'nhead')}, dim_feedforward=${num(ctx.params, 'dim_feedforward')}${kwargs(ctx.params, { dropout: 0.1, activation: 'relu', norm_first: false })}, batch_first=True)`,
  }),
};

export const transformerDecoderLayer: LayerDef = {
  type: 'TransformerDecoderLayer',
  category: 'Attention',
  displayName: 'Transformer decoder layer',
  description: 'Masked self-attention over the output so far, attention to the encoder memory, then a feed-forward network.',
  inputs: () => [port('tgt', 'sequence', { label: 'target sequence' }), port('memory', 'sequence', { label: 'encoder memory' })],
  outputs: () => [port('y', 'sequence')],
  params: { ...transformerParams, causal: flag(true, 'Each position sees only earlier positions') },
  infer(ctx) {
    const [t, e] = seqIn(ctx, 0, 'the target sequence');
    modelDim(ctx, 'd_model', e, num(ctx.params, 'nhead'));
    const [, em] = seqIn(ctx, 1, 'the memory');
    if (em !== e) throw new ShapeError(`memory from ${sourceName(ctx, 1)} has ${em} features, the target sequence has ${e}; they must match`);
    return [{ kind: 'sequence', shape: [t, e], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const e = seqIn(ctx, 0, 'the target sequence')[1];
    return 2 * mhaParams(e, true) + ffnParams(e, num(ctx.params, 'dim_feedforward')) + 6 * e;
  },
  flops(ctx) {
    const [t, e] = seqIn(ctx, 0, 'the target sequence');
    const tm = ctx.inputs[1]?.shape[0] ?? t;
    return mhaFlops(t, t, e) + mhaFlops(t, tm, e) + 4 * t * e * num(ctx.params, 'dim_feedforward') + 15 * t * e;
  },
  build(ctx) {
    const m = new TransformerDecoderLayer(seqIn(ctx, 0, 'the target sequence')[1], num(ctx.params, 'nhead'), layerOpts(ctx));
    const causal = bool(ctx.params, 'causal');
    return { module: m, run: ([tgt, memory]) => [m.decode(tgt, memory, { tgtIsCausal: causal })] };
  },
  inspect: ['activations', 'attention'],
  torch: (ctx) => ({
    functional: false,
    module: `nn.TransformerDecoderLayer(${seqIn(ctx, 0, 'the target sequence')[1]}, ${num(ctx.params, 'nhead')}, dim_feedforward=${num(ctx.params, 'dim_feedforward')}${kwargs(ctx.params, { dropout: 0.1, activation: 'relu', norm_first: false })}, batch_first=True)`,
  }),
};

export const positionalEncodingLayer: LayerDef = {
  type: 'PositionalEncoding',
  category: 'Attention',
  displayName: 'Positional encoding',
  description: 'Adds a position signal to every time step, so attention knows the order of the sequence.',
  inputs: () => [port('x', 'sequence')],
  outputs: () => [port('y', 'sequence')],
  params: { mode: choice('sinusoidal', ['sinusoidal', 'learned']), max_len: int(512, 1), dropout: float(0, 0, 1) },
  infer(ctx) {
    const [t, e] = seqIn(ctx, 0, 'its input');
    const max = num(ctx.params, 'max_len');
    if (t > max) throw new ShapeError(`its input has ${t} time steps, more than max_len ${max}`);
    return [{ kind: 'sequence', shape: [t, e], dtype: 'float32' }];
  },
  paramCount: (ctx) => (ctx.params.mode === 'learned' ? num(ctx.params, 'max_len') * seqIn(ctx, 0, 'its input')[1] : 0),
  flops: (ctx) => {
    const [t, e] = seqIn(ctx, 0, 'its input');
    return t * e;
  },
  build(ctx) {
    const e = seqIn(ctx, 0, 'its input')[1];
    const max = num(ctx.params, 'max_len');
    const m =
      ctx.params.mode === 'learned'
        ? new LearnedPositionalEmbedding(max, e, { batchFirst: true, generator: ctx.generator })
        : new SinusoidalPositionalEncoding(e, { maxLen: max, dropout: num(ctx.params, 'dropout'), batchFirst: true, generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations'],
  torch: (ctx) => ({ functional: false, module: `PositionalEncoding(${seqIn(ctx, 0, 'its input')[1]}, max_len=${num(ctx.params, 'max_len')}, mode='${String(ctx.params.mode)}')` }),
};

function patchShape(ctx: InferContext) {
  const x = input(ctx);
  requireFloat(x);
  if (x.kind !== 'tensor' || x.shape.length !== 3) throw new ShapeError(`needs an image [channels, height, width], ${sourceName(ctx)} gives ${fmt(x.shape)}`);
  const [c, h, w] = x.shape;
  const p = num(ctx.params, 'patch_size');
  if (h % p !== 0 || w % p !== 0) throw new ShapeError(`patch_size ${p} must divide the image size ${h}x${w}; try ${[1, 2, 4, 7, 8, 14, 16].filter((d) => h % d === 0 && w % d === 0 && d > 1).join(' or ') || 'another size'}`);
  const e = num(ctx.params, 'embed_dim');
  const n = (h / p) * (w / p);
  const cls = bool(ctx.params, 'cls_token');
  return { c, h, w, p, e, n, cls, t: n + (cls ? 1 : 0) };
}

export const patchEmbeddingLayer: LayerDef = {
  type: 'PatchEmbedding',
  category: 'Attention',
  displayName: 'Patch embedding (ViT)',
  description: 'Cuts the image into square patches and turns each into a vector (plus a learned position), so a transformer can read the image as a sequence.',
  inputs: () => [port('x')],
  outputs: () => [port('y', 'sequence')],
  params: { patch_size: int(7, 1), embed_dim: int(64, 1), cls_token: flag(true, 'Prepend a learned [CLS] position for classification') },
  infer(ctx) {
    const s = patchShape(ctx);
    return [{ kind: 'sequence', shape: [s.t, s.e], dtype: 'float32' } satisfies ValueType];
  },
  paramCount(ctx) {
    const s = patchShape(ctx);
    // projection conv, [CLS] token, learned position embeddings for every token
    return s.e * s.c * s.p * s.p + s.e + (s.cls ? s.e : 0) + s.t * s.e;
  },
  flops(ctx) {
    const s = patchShape(ctx);
    return 2 * s.n * s.e * s.c * s.p * s.p;
  },
  build(ctx) {
    const s = patchShape(ctx);
    const m = new PatchEmbedding([s.h, s.w], s.p, s.c, s.e, { classToken: s.cls, generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch: (ctx) => {
    const s = patchShape(ctx);
    return { functional: false, module: `PatchEmbedding(${s.c}, ${s.e}, patch_size=${s.p}, cls_token=${s.cls ? 'True' : 'False'})` };
  },
};

export const attentionLayers: LayerDef[] = [multiheadAttentionLayer, transformerEncoderLayer, transformerDecoderLayer, positionalEncodingLayer, patchEmbeddingLayer];
