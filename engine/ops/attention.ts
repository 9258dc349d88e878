/**
 * Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention, also
 * returning the attention weights) and the masks used with it.
 *
 * Mask conventions follow torch: a float mask is added to the scores (-Infinity blocks);
 * an int32 mask given to `scaledDotProductAttention` marks with nonzero the pairs that TAKE
 * PART (as SDPA's boolean mask), whereas the masks of MultiheadAttention and the
 * transformer layers mark with nonzero the positions that are BLOCKED (as nn.MultiheadAttention).
 */
import { dropoutMask } from '../core/dropout-mask.ts';
import { hasKernel } from '../core/backend.ts';
import { activeBackend, apply, applyMulti, recordGrad } from '../core/engine.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import { shapeStr, sizeOf } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { fromValues } from './creation.ts';
import { add, mul, ne, where } from './elementwise.ts';
import { dropout } from './dropout.ts';
import { softmax } from './activation.ts';
import { expand, reshape } from './layout.ts';
import { bmm, linear } from './matmul.ts';

export interface AttentionOptions {
  /** Broadcastable to [..., L, S]: float (added) or int32 (nonzero = take part). */
  attnMask?: Tensor | null;
  /** Each query i attends to keys j <= i (top-left aligned, as torch). */
  isCausal?: boolean;
  dropoutP?: number;
  /** Dropout acts only while training (default true, as the functional form in torch). */
  training?: boolean;
  generator?: Generator;
  /** Default 1 / sqrt(E). */
  scale?: number;
}

export interface AttentionResult {
  /** [..., L, Ev] */
  output: Tensor;
  /** [..., L, S], each row summing to 1 (before dropout). */
  weights: Tensor;
}

/**
 * An additive causal mask [L, S]: 0 where key j <= query i, -Infinity above the diagonal
 * (nn.Transformer.generate_square_subsequent_mask for L = S).
 */
export function causalMask(L: number, S = L): Tensor {
  const v = new Float32Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) v[i * S + j] = -Infinity;
  return fromValues(v, [L, S]);
}

/** A key-padding mask [N, S] from sequence lengths: int32, 1 at padded positions (t >= length). */
export function paddingMaskFromLengths(lengths: readonly number[], maxLength: number): Tensor {
  const v = new Int32Array(lengths.length * maxLength);
  lengths.forEach((len, n) => {
    if (!(len >= 0 && len <= maxLength)) throw new Error(`paddingMaskFromLengths: length ${len} of sequence ${n} is outside [0, ${maxLength}]`);
    for (let t = len; t < maxLength; t++) v[n * maxLength + t] = 1;
  });
  return fromValues(v, [lengths.length, maxLength], 'int32');
}

/** A key-padding mask [N, S] from token ids [N, S]: int32, 1 where the token is `padIdx`. */
export function paddingMaskFromTokens(tokens: Tensor, padIdx: number): Tensor {
  if (tokens.rank !== 2) throw new Error(`paddingMaskFromTokens: tokens must be [batch, time], got ${shapeStr(tokens.shape)}`);
  const src = tokens.dataSync();
  const v = new Int32Array(src.length);
  for (let i = 0; i < v.length; i++) v[i] = src[i] === padIdx ? 1 : 0;
  return fromValues(v, tokens.shape, 'int32');
}

/**
 * Turns a mask into an additive float mask. int32 masks: `blockedWhen` says whether nonzero
 * means blocked ('nonzero', MultiheadAttention) or allowed ('zero', SDPA).
 */
export function additiveMask(mask: Tensor, blockedWhen: 'nonzero' | 'zero'): Tensor {
  if (mask.dtype === 'float32') return mask;
  const isNonzero = ne(mask, 0);
  return blockedWhen === 'nonzero' ? where(isNonzero, -Infinity, 0) : where(isNonzero, 0, -Infinity);
}

/**
 * softmax(q k^T * scale + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev] (batch dims
 * broadcast). Returns the output and the attention weights (after dropout, as torch's MHA).
 * A query whose keys are all blocked gets NaN, as in torch. On the CPU, q, k and v with the
 * same batch dims and a mask that needs no gradient run as one fused kernel.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) {
    throw new Error(`scaled_dot_product_attention: q, k, v need at least 2 dims [..., seq, features], got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  }
  const E = q.shape[q.rank - 1];
  const L = q.shape[q.rank - 2];
  const S = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== E) throw new Error(`scaled_dot_product_attention: queries have ${E} features but keys have ${k.shape[k.rank - 1]} (q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)})`);
  if (v.shape[v.rank - 2] !== S) throw new Error(`scaled_dot_product_attention: ${S} keys but ${v.shape[v.rank - 2]} values (k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)})`);
  let mask: Tensor | null = null;
  if (opts.attnMask) {
    const ms = opts.attnMask.shape;
    const fits = (d: number, want: number) => d === want || d === 1;
    if (ms.length < 2 || !fits(ms[ms.length - 1], S) || !fits(ms[ms.length - 2], L)) {
      throw new Error(`scaled_dot_product_attention: attn_mask must end in [${L}, ${S}] (queries, keys; 1 broadcasts), got ${shapeStr(ms)}`);
    }
    mask = additiveMask(opts.attnMask, 'zero');
  }
  const batch = q.shape.slice(0, -2);
  const sameBatch = (t: Tensor) => t.rank === q.rank && batch.every((d, i) => t.shape[i] === d);
  if (useFusedKernel(mask) && sameBatch(k) && sameBatch(v) && (!mask || mask.rank <= q.rank)) {
    const Ev = v.shape[v.rank - 1];
    const B = sizeOf(batch);
    let maskStrides: MaskStrides | null = null;
    if (mask) {
      // Right-aligned on [...batch, L, S]; a batch part other than all ones is materialised.
      const mb = mask.shape.slice(0, -2);
      const ones = mb.every((d) => d === 1);
      const mL = mask.shape[mask.rank - 2];
      const mS = mask.shape[mask.rank - 1];
      if (!ones && (mb.length !== batch.length || mb.some((d, i) => d !== batch[i]))) mask = expand(mask, [...batch, mL, mS]);
      maskStrides = [ones ? 0 : mL * mS, 0, mL === 1 ? 0 : mS, mS === 1 ? 0 : 1];
    }
    return fusedAttention(
      { tensor: q, offset: 0, batchStride: L * E, headStride: 0, rowStride: E },
      { tensor: k, offset: 0, batchStride: S * E, headStride: 0, rowStride: E },
      { tensor: v, offset: 0, batchStride: S * Ev, headStride: 0, rowStride: Ev },
      { B, heads: 1, L, S, E, Ev },
      {
        mask, maskStrides, isCausal: opts.isCausal, dropoutP: opts.dropoutP, training: opts.training, generator: opts.generator, scale: opts.scale,
        outShape: [...batch, L, Ev], weightsShape: [...batch, L, S], outStrides: [L * Ev, 0, Ev], weightsGrad: true,
      },
    );
  }
  return attentionReference(q, k, v, { ...opts, attnMask: mask });
}

/**
 * The unfused chain (bmm, scale, mask, softmax, dropout, bmm): the fused kernel's reference,
 * and the path for broadcast batch dims, masks that need gradients and other backends.
 */
export function attentionReference(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
  const E = q.shape[q.rank - 1];
  const L = q.shape[q.rank - 2];
  const S = k.shape[k.rank - 2];
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = mul(bmm(q, k, false, true), scale);
  if (opts.isCausal) scores = add(scores, causalMask(L, S));
  if (opts.attnMask) scores = add(scores, additiveMask(opts.attnMask, 'zero'));
  let weights = softmax(scores, -1);
  const p = opts.dropoutP ?? 0;
  if (p > 0 && (opts.training ?? true)) weights = dropout(weights, p, true, opts.generator ?? defaultGenerator);
  return { output: bmm(weights, v, false, false), weights };
}

/**
 * Where the rows of q, k or v live: element (b, h, l, e) of `tensor`'s values at
 * offset + b*batchStride + h*headStride + l*rowStride + e (features contiguous).
 */
export interface HeadView {
  tensor: Tensor;
  offset: number;
  batchStride: number;
  headStride: number;
  rowStride: number;
}

/** Strides of the additive mask over (batch, head, query, key); 0 broadcasts. */
export type MaskStrides = [number, number, number, number];

export interface FusedAttentionOptions {
  /** Additive float mask read through `maskStrides`; must not need a gradient. */
  mask?: Tensor | null;
  maskStrides?: MaskStrides | null;
  isCausal?: boolean;
  dropoutP?: number;
  training?: boolean;
  generator?: Generator;
  scale?: number;
  /** Output shape and its strides over (batch, head, query); features contiguous. */
  outShape: number[];
  outStrides: [number, number, number];
  /** Shape given to the weights, whose values are [B, heads, L, S] in order. */
  weightsShape: number[];
  /** Whether gradients flow back through the returned weights (off when only the output is used). */
  weightsGrad: boolean;
}

/** Whether the fused CPU kernel applies: the CPU backend and a mask without gradient. */
export function useFusedKernel(mask: Tensor | null): boolean {
  return activeBackend().name === 'cpu' && !(mask && mask.requiresGrad);
}

/**
 * Scaled dot-product attention over B x heads (query, key, value) blocks read through
 * strides, as one CPU kernel (engine/backends/cpu/attention.ts) with its own backward.
 * Same result as `attentionReference` on the gathered heads, dropout masks included (drawn
 * from the generator in the same order).
 */
export function fusedAttention(
  q: HeadView, k: HeadView, v: HeadView,
  dims: { B: number; heads: number; L: number; S: number; E: number; Ev: number },
  opts: FusedAttentionOptions,
): AttentionResult {
  const { B, heads, L, S, E, Ev } = dims;
  const sources: Tensor[] = [];
  const index = (t: Tensor) => {
    const i = sources.indexOf(t);
    if (i >= 0) return i;
    sources.push(t);
    return sources.length - 1;
  };
  const view = (h: HeadView) => [index(h.tensor), h.offset, h.batchStride, h.headStride, h.rowStride];
  const views = { q: view(q), k: view(k), v: view(v) };
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must be between 0 and 1, got ${p}`);
  const attrs = {
    B, heads, L, S, E, Ev,
    ...views,
    out: opts.outStrides,
    outShape: opts.outShape,
    weightsShape: opts.weightsShape,
    mask: opts.mask ? opts.maskStrides : null,
    scale: opts.scale ?? 1 / Math.sqrt(E),
    causal: opts.isCausal ?? false,
    sources: sources.length,
    dropout: p > 0 && (opts.training ?? true),
    weightsGrad: opts.weightsGrad,
  };
  const inputs = [...sources];
  if (opts.mask) inputs.push(opts.mask);
  if (attrs.dropout) {
    // As ops/dropout.ts: one draw per weight, in order.
    inputs.push(fromValues(dropoutMask(B * heads * L * S, p, opts.generator ?? defaultGenerator), [B, heads, L, S]));
  }
  const outs = applyMulti('Attention', inputs, attrs);
  const [output, weights] = outs;
  const probs = attrs.dropout ? outs[2] : weights;
  const results = opts.weightsGrad ? [output, weights] : [output];
  recordGrad('scaledDotProductAttention', inputs, results, (dys) => {
    const gradInputs = [...inputs, probs, dys[0]];
    if (opts.weightsGrad) gradInputs.push(dys[1]);
    if (attrs.dropout) gradInputs.push(weights);
    const grads = applyMulti('AttentionGrad', gradInputs, attrs);
    return inputs.map((_, i) => (i < sources.length ? grads[i] : null));
  });
  return { output, weights };
}

/**
 * dropout(relu(x), p): the transformer feed-forward activation, one CPU kernel each way
 * (engine/backends/cpu/attention-ff.ts). The mask is drawn as ops/dropout.ts draws it, so
 * the result equals the op chain's; outside training (or p = 0) it is relu(x).
 */
export function reluDropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must be between 0 and 1, got ${p}`);
  const mask = fromValues(training && p > 0 ? dropoutMask(x.size, p, generator) : new Float32Array(x.size).fill(1), x.shape);
  return apply('ReluDropout', [x, mask], {}, (dy) => [apply('ReluDropoutGrad', [dy, x, mask], {}), null]);
}

/**
 * linear(x, weight, bias) as ops/matmul.ts computes it (one kernel writes x W^T + b), with
 * the bias gradient summed by the CPU's 'ColumnSums' kernel (engine/backends/cpu/attention-bias.ts,
 * the same float32 sums as sumTo, on SIMD row adds). Used by the transformer layers' linear
 * maps; elsewhere, or without a bias, it is `linear`.
 */
export function transformerLinear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const backend = activeBackend().name;
  const inF = weight.shape[1];
  if (!bias || weight.rank !== 2 || bias.rank !== 1 || bias.shape[0] !== weight.shape[0] || x.shape[x.rank - 1] !== inF
    || !hasKernel('Linear', backend) || !hasKernel('ColumnSums', backend)) {
    return linear(x, weight, bias);
  }
  const x2 = x.rank === 2 ? x : reshape(x, [-1, inF]);
  const y = apply('Linear', [x2, weight, bias], {}, (dy) => [
    x2.requiresGrad ? bmm(dy, weight, false, false) : null,
    weight.requiresGrad ? bmm(dy, x2, true, false) : null,
    bias.requiresGrad ? apply('ColumnSums', [dy], {}) : null,
  ]);
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
}
