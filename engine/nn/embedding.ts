/** Embedding table (torch.nn.Embedding). */
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { embedding } from '../ops/embedding.ts';
import { normalValues } from './init.ts';
import { Module, parameter } from './module.ts';

/**
 * Embedding: a lookup table weight [numEmbeddings, embeddingDim], initialised N(0, 1) with
 * the padding row (if any) zeroed; that row receives no gradient.
 * Input int32 indices [*] -> output [*, embeddingDim].
 */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { paddingIdx?: number | null; generator?: Generator } = {},
  ) {
    super();
    if (!Number.isInteger(numEmbeddings) || numEmbeddings < 1 || !Number.isInteger(embeddingDim) || embeddingDim < 1) {
      throw new Error(`Embedding: sizes must be positive integers, got ${numEmbeddings} x ${embeddingDim}`);
    }
    const pad = opts.paddingIdx ?? null;
    if (pad !== null && (pad >= numEmbeddings || pad < -numEmbeddings)) {
      throw new Error(`Embedding: padding_idx ${pad} is out of range for ${numEmbeddings} embeddings`);
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    const values = normalValues(numEmbeddings * embeddingDim, 0, 1, opts.generator);
    if (this.paddingIdx !== null) values.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    this.weight = parameter(values, [numEmbeddings, embeddingDim]);
    this.registerParameter('weight', this.weight);
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, this.paddingIdx);
  }
}
