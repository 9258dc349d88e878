/**
 * Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention, also
 * returning the attention weights) and the masks used with it.
 *
 * Mask conventions follow torch: a float mask is added to the scores (-Infinity blocks);
 * an int32 mask given to `scaledDotProductAttention` marks with nonzero the pairs that TAKE
 * PART (as SDPA's boolean mask), whereas the masks of MultiheadAttention and the
 * transformer layers mark with nonzero the positions that are BLOCKED (as nn.MultiheadAttention).
 */
import { defaultGenerator, type Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { fromValues } from './creation.ts';
import { add, mul, ne, where } from './elementwise.ts';
import { dropout } from './dropout.ts';
import { softmax } from './activation.ts';
import { bmm } from './matmul.ts';

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
 * A query whose keys are all blocked gets NaN, as in torch.
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
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = mul(bmm(q, k, false, true), scale);
  if (opts.isCausal) scores = add(scores, causalMask(L, S));
  if (opts.attnMask) {
    const m = opts.attnMask;
    const ms = m.shape;
    const fits = (d: number, want: number) => d === want || d === 1;
    if (ms.length < 2 || !fits(ms[ms.length - 1], S) || !fits(ms[ms.length - 2], L)) {
      throw new Error(`scaled_dot_product_attention: attn_mask must end in [${L}, ${S}] (queries, keys; 1 broadcasts), got ${shapeStr(ms)}`);
    }
    scores = add(scores, additiveMask(m, 'zero'));
  }
  let weights = softmax(scores, -1);
  const p = opts.dropoutP ?? 0;
  if (p > 0 && (opts.training ?? true)) weights = dropout(weights, p, true, opts.generator ?? defaultGenerator);
  return { output: bmm(weights, v, false, false), weights };
}
