/** Embedding lookup (torch.nn.functional.embedding). */
import { apply } from '../core/engine.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { cast, mul, ne } from './elementwise.ts';
import { reshape } from './layout.ts';

/**
 * Looks up rows of `weight` [num_embeddings, embedding_dim] for int32 `indices` of any
 * shape; output is [...indices.shape, embedding_dim]. Rows at `paddingIdx` (negative
 * counts from the end) receive no gradient.
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  if (indices.dtype !== 'int32') throw new Error(`embedding: indices must be int32, got ${indices.dtype}`);
  if (weight.shape.length !== 2) throw new Error(`embedding: weight must be [num_embeddings, embedding_dim], got ${shapeStr(weight.shape)}`);
  const [num, dim] = weight.shape;
  let pad: number | null = null;
  if (paddingIdx !== null) {
    pad = paddingIdx < 0 ? paddingIdx + num : paddingIdx;
    if (!Number.isInteger(pad) || pad < 0 || pad >= num) throw new Error(`embedding: padding_idx ${paddingIdx} is out of range for ${num} embeddings`);
  }
  if (indices.backend.readSync) {
    const iv = indices.dataSync();
    for (let i = 0; i < iv.length; i++) {
      if (iv[i] < 0 || iv[i] >= num) throw new Error(`embedding: index ${iv[i]} is out of range for ${num} embeddings (valid: 0 to ${num - 1})`);
    }
  }
  const flat = reshape(indices, [indices.size]);
  const rows = apply('IndexSelect', [weight, flat], { dim: 0 }, (dy) => {
    // Each looked-up row sends its gradient back to its row of the table, except padding.
    const g = pad === null ? dy : mul(dy, reshape(ne(cast(flat, 'float32'), pad), [flat.size, 1]));
    return [apply('IndexAdd', [g, flat], { dim: 0, shape: [num, dim] }), null];
  });
  return reshape(rows, [...indices.shape, dim]);
}
