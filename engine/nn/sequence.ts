/**
 * Positional encodings for sequence models. Sequences are [N, T, d_model] (batch-first) or
 * [T, N, d_model] with batchFirst false. Masks for attention live in engine/ops/attention.ts
 * (causalMask, paddingMaskFromLengths, paddingMaskFromTokens); token embeddings in
 * engine/nn/embedding.ts.
 */
import { fromValues } from '../core/engine.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { dropout } from '../ops/dropout.ts';
import { add } from '../ops/elementwise.ts';
import { narrow, unsqueeze } from '../ops/layout.ts';
import { normalValues } from './init.ts';
import { Module, parameter } from './module.ts';

/** The sinusoid table [maxLen, dModel]: pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...). */
export function sinusoidTable(maxLen: number, dModel: number): Float32Array {
  const pe = new Float32Array(maxLen * dModel);
  for (let t = 0; t < maxLen; t++) {
    for (let i = 0; i < dModel; i += 2) {
      const angle = t * Math.exp((-i * Math.log(10000)) / dModel);
      pe[t * dModel + i] = Math.sin(angle);
      if (i + 1 < dModel) pe[t * dModel + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

function checkSeq(x: Tensor, dModel: number, maxLen: number, batchFirst: boolean, layer: string): number {
  const layout = batchFirst ? '[batch, seq, d_model]' : '[seq, batch, d_model]';
  if (x.rank !== 3 || x.shape[2] !== dModel) throw new Error(`${layer}: input must be ${layout} with d_model ${dModel}, got ${shapeStr(x.shape)}`);
  const T = x.shape[batchFirst ? 1 : 0];
  if (T > maxLen) throw new Error(`${layer}: sequence of length ${T} is longer than max_len ${maxLen}`);
  return T;
}

/**
 * Fixed sinusoidal positional encoding (Vaswani et al.), added to the input, then dropout.
 * x [N, T, d_model] -> same shape. No parameters.
 */
export class SinusoidalPositionalEncoding extends Module {
  private readonly table: Float32Array;
  private readonly generator: Generator;

  constructor(
    readonly dModel: number,
    readonly opts: { maxLen?: number; dropout?: number; batchFirst?: boolean; generator?: Generator } = {},
  ) {
    super();
    this.table = sinusoidTable(opts.maxLen ?? 5000, dModel);
    this.generator = opts.generator ?? defaultGenerator;
  }

  /** The encodings of positions 0..T-1, [T, d_model]. */
  encodings(T: number): Tensor {
    return fromValues(this.table.slice(0, T * this.dModel), [T, this.dModel]);
  }

  forward(x: Tensor): Tensor {
    const batchFirst = this.opts.batchFirst ?? true;
    const T = checkSeq(x, this.dModel, this.opts.maxLen ?? 5000, batchFirst, 'SinusoidalPositionalEncoding');
    const pe = this.encodings(T);
    const y = add(x, batchFirst ? pe : unsqueeze(pe, 1));
    return dropout(y, this.opts.dropout ?? 0, this.training, this.generator);
  }
}

/**
 * Learned absolute position embedding: weight [max_len, d_model] (N(0, 1), as nn.Embedding),
 * row t added at position t. x [N, T, d_model] -> same shape.
 */
export class LearnedPositionalEmbedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly maxLen: number,
    readonly dModel: number,
    readonly opts: { batchFirst?: boolean; generator?: Generator } = {},
  ) {
    super();
    this.weight = parameter(normalValues(maxLen * dModel, 0, 1, opts.generator), [maxLen, dModel]);
    this.registerParameter('weight', this.weight);
  }

  forward(x: Tensor): Tensor {
    const batchFirst = this.opts.batchFirst ?? true;
    const T = checkSeq(x, this.dModel, this.maxLen, batchFirst, 'LearnedPositionalEmbedding');
    const pe = narrow(this.weight, 0, 0, T);
    return add(x, batchFirst ? pe : unsqueeze(pe, 1));
  }
}
