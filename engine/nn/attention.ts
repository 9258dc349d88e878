/**
 * Multi-head attention (torch.nn.MultiheadAttention): parameter names, layouts and init as
 * torch. in_proj_weight [3E, E] (q, k, v stacked; xavier uniform), in_proj_bias [3E] (zeros),
 * out_proj.weight [E, E], out_proj.bias [E] (zeros). With kdim or vdim different from E,
 * separate q_proj_weight [E, E], k_proj_weight [E, kdim], v_proj_weight [E, vdim].
 */
import { fromValues } from '../core/engine.ts';
import type { Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { additiveMask, fusedAttention, type HeadView, type MaskStrides, scaledDotProductAttention, transformerLinear, useFusedKernel } from '../ops/attention.ts';
import { add } from '../ops/elementwise.ts';
import { narrow, permute, reshape, split, squeeze, transpose, unsqueeze } from '../ops/layout.ts';
import { linear } from '../ops/matmul.ts';
import { mean } from '../ops/reduce.ts';
import { xavierUniform } from './init.ts';
import { Linear } from './linear.ts';
import { Module, parameter } from './module.ts';

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  /** Inputs [batch, seq, embed] (default true here; torch defaults to false: [seq, batch, embed]). */
  batchFirst?: boolean;
  kdim?: number;
  vdim?: number;
  generator?: Generator;
}

export interface MhaCallOptions {
  /** [N, S]: int32 nonzero = padding (ignored), or float added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** [L, S] or [N*heads, L, S]: int32 nonzero = blocked, or float added to the scores. */
  attnMask?: Tensor | null;
  /** Adds a causal mask (query i sees keys j <= i). */
  isCausal?: boolean;
  needWeights?: boolean;
  /** Average the weights over heads ([N, L, S]) or keep them per head ([N, heads, L, S]). */
  averageAttnWeights?: boolean;
}

export interface MhaResult {
  /** Same layout as the query: [N, L, E] batch-first, [L, N, E] otherwise, [L, E] unbatched. */
  output: Tensor;
  /** [N, L, S] averaged or [N, heads, L, S]; batch dim dropped when unbatched; null if not needed. */
  weights: Tensor | null;
}

/**
 * MultiheadAttention. query [N, L, E], key [N, S, kdim], value [N, S, vdim] (batch-first),
 * or sequence-first, or unbatched [L, E]. Output like the query.
 */
export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly dropoutP: number;
  readonly batchFirst: boolean;
  readonly kdim: number;
  readonly vdim: number;
  readonly sameEmbedDim: boolean;
  readonly outProj: Linear;
  private readonly generator: Generator | undefined;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || embedDim < 1) throw new Error(`MultiheadAttention: embed_dim must be a positive integer, got ${embedDim}`);
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.dropoutP = opts.dropout ?? 0;
    this.batchFirst = opts.batchFirst ?? true;
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    this.generator = opts.generator;
    this.sameEmbedDim = this.kdim === embedDim && this.vdim === embedDim;
    const E = embedDim;
    const g = opts.generator;
    if (this.sameEmbedDim) {
      this.registerParameter('in_proj_weight', parameter(xavierUniform([3 * E, E], 1, g), [3 * E, E]));
    } else {
      this.registerParameter('q_proj_weight', parameter(xavierUniform([E, E], 1, g), [E, E]));
      this.registerParameter('k_proj_weight', parameter(xavierUniform([E, this.kdim], 1, g), [E, this.kdim]));
      this.registerParameter('v_proj_weight', parameter(xavierUniform([E, this.vdim], 1, g), [E, this.vdim]));
    }
    const bias = opts.bias !== false;
    this.registerParameter('in_proj_bias', bias ? parameter(new Float32Array(3 * E), [3 * E]) : null);
    this.outProj = this.registerModule('out_proj', new Linear(E, E, { bias, generator: g }));
    if (this.outProj.bias) this.outProj.bias.assign(fromValues(new Float32Array(E), [E]));
  }

  /** Attention output and weights. See MhaCallOptions for the masks. */
  attend(query: Tensor, key: Tensor, value: Tensor, opts: MhaCallOptions = {}): MhaResult {
    const E = this.embedDim;
    const unbatched = query.rank === 2;
    const want = unbatched ? 2 : 3;
    for (const [name, t, f] of [['query', query, E], ['key', key, this.kdim], ['value', value, this.vdim]] as const) {
      if (t.rank !== want || t.shape[want - 1] !== f) {
        const layout = unbatched ? '[seq, features]' : this.batchFirst ? '[batch, seq, features]' : '[seq, batch, features]';
        throw new Error(`MultiheadAttention: ${name} must be ${layout} with ${f} features (as the query's rank says), got ${shapeStr(t.shape)}`);
      }
    }
    // Batch-first internally.
    const bf = (t: Tensor) => (unbatched ? unsqueeze(t, 0) : this.batchFirst ? t : transpose(t, 0, 1));
    const q0 = bf(query);
    const k0 = key === query ? q0 : bf(key);
    const v0 = value === key ? k0 : bf(value);
    const [N, L] = q0.shape;
    const S = k0.shape[1];
    if (k0.shape[0] !== N || v0.shape[0] !== N) throw new Error(`MultiheadAttention: query, key and value batch sizes differ (${N}, ${k0.shape[0]}, ${v0.shape[0]})`);
    if (v0.shape[1] !== S) throw new Error(`MultiheadAttention: ${S} keys but ${v0.shape[1]} values`);

    const bias = this.getParameter('in_proj_bias');
    const h = this.numHeads;
    const d = this.headDim;
    const needWeights = opts.needWeights ?? true;

    let mask: Tensor | null = null;
    if (opts.attnMask) {
      const m = opts.attnMask;
      const ok2 = m.rank === 2 && m.shape[0] === L && m.shape[1] === S;
      const ok3 = m.rank === 3 && m.shape[0] === N * h && m.shape[1] === L && m.shape[2] === S;
      if (!ok2 && !ok3) throw new Error(`MultiheadAttention: attn_mask must be [${L}, ${S}] or [${N * h}, ${L}, ${S}] (batch * heads, queries, keys), got ${shapeStr(m.shape)}`);
      const add3 = additiveMask(m, 'nonzero');
      mask = ok3 ? reshape(add3, [N, h, L, S]) : add3;
    }
    if (opts.keyPaddingMask) {
      const m = opts.keyPaddingMask;
      const want2 = unbatched ? [S] : [N, S];
      if (m.rank !== want2.length || m.shape.some((x, i) => x !== want2[i])) {
        throw new Error(`MultiheadAttention: key_padding_mask must be ${shapeStr(want2)} (${unbatched ? '' : 'batch, '}keys), got ${shapeStr(m.shape)}`);
      }
      const kp = reshape(additiveMask(m, 'nonzero'), [N, 1, 1, S]);
      mask = mask ? add(mask, kp) : kp;
    }
    const attnOpts = { isCausal: opts.isCausal, dropoutP: this.dropoutP, training: this.training, generator: this.generator };

    let attended: Tensor;
    let headWeights: Tensor;
    if (useFusedKernel(mask)) {
      // Heads read in place from the projections ([N, len, E], head i in columns i*d..) and
      // the output written with heads merged: no split, permute or reshape copies.
      let q: HeadView;
      let k: HeadView;
      let v: HeadView;
      const rows = (t: Tensor, len: number, offset = 0, width = E): HeadView => ({ tensor: t, offset, batchStride: len * width, headStride: d, rowStride: width });
      if (this.sameEmbedDim && query === key && key === value) {
        const qkv = transformerLinear(q0, this.getParameter('in_proj_weight')!, bias);
        [q, k, v] = [rows(qkv, L, 0, 3 * E), rows(qkv, L, E, 3 * E), rows(qkv, L, 2 * E, 3 * E)];
      } else {
        const [wq, wk, wv] = this.projectionWeights();
        const b = bias ? split(bias, E, 0) : [null, null, null];
        [q, k, v] = [rows(linear(q0, wq, b[0]), L), rows(linear(k0, wk, b[1]), S), rows(linear(v0, wv, b[2]), S)];
      }
      const res = fusedAttention(q, k, v, { B: N, heads: h, L, S, E: d, Ev: d }, {
        ...attnOpts,
        mask,
        maskStrides: mask ? maskStridesOf(mask.shape, [N, h, L, S]) : null,
        outShape: [N, L, E],
        outStrides: [L * E, d, E],
        weightsShape: [N, h, L, S],
        weightsGrad: needWeights,
      });
      attended = res.output;
      headWeights = res.weights;
    } else {
      const b = bias ? split(bias, E, 0) : [null, null, null];
      let q: Tensor;
      let k: Tensor;
      let v: Tensor;
      if (this.sameEmbedDim && query === key && key === value) {
        [q, k, v] = split(linear(q0, this.getParameter('in_proj_weight')!, bias), E, 2);
      } else {
        const [wq, wk, wv] = this.projectionWeights();
        q = linear(q0, wq, b[0]);
        k = linear(k0, wk, b[1]);
        v = linear(v0, wv, b[2]);
      }
      const heads = (t: Tensor, len: number) => permute(reshape(t, [N, len, h, d]), [0, 2, 1, 3]);
      const res = scaledDotProductAttention(heads(q, L), heads(k, S), heads(v, S), { ...attnOpts, attnMask: mask });
      // [N, h, L, d] -> [N, L, E]
      attended = reshape(permute(res.output, [0, 2, 1, 3]), [N, L, E]);
      headWeights = res.weights;
    }
    let output = transformerLinear(attended, this.outProj.weight, this.outProj.bias);
    output = unbatched ? squeeze(output, 0) : this.batchFirst ? output : transpose(output, 0, 1);
    let weights: Tensor | null = null;
    if (needWeights) {
      weights = (opts.averageAttnWeights ?? true) ? mean(headWeights, 1) : headWeights;
      if (unbatched) weights = squeeze(weights, 0);
    }
    return { output, weights };
  }

  /** The q, k and v projection weights [E, E], [E, kdim], [E, vdim]. */
  private projectionWeights(): [Tensor, Tensor, Tensor] {
    const E = this.embedDim;
    if (this.sameEmbedDim) {
      const w = this.getParameter('in_proj_weight')!;
      return [narrow(w, 0, 0, E), narrow(w, 0, E, E), narrow(w, 0, 2 * E, E)];
    }
    return [this.getParameter('q_proj_weight')!, this.getParameter('k_proj_weight')!, this.getParameter('v_proj_weight')!];
  }

  /** The attention output only (self-attention when key and value are omitted). */
  forward(query: Tensor, key?: Tensor, value?: Tensor): Tensor {
    const k = key ?? query;
    return this.attend(query, k, value ?? k, { needWeights: false }).output;
  }
}

/** Strides of a mask broadcast (right-aligned, size-1 dims) over `full`, for a contiguous mask. */
function maskStridesOf(shape: readonly number[], full: readonly number[]): MaskStrides {
  const res = [0, 0, 0, 0] as MaskStrides;
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const j = full.length - shape.length + i;
    res[j] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return res;
}
