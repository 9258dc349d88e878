/** Dropout (torch.nn.functional.dropout) with seeded masks. */
import { fromValues } from '../core/engine.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { mul } from './elementwise.ts';

/**
 * Zeroes each element with probability `p` and scales the survivors by 1 / (1 - p)
 * (inverted dropout), so eval needs no rescaling. Identity when not training or p = 0.
 * The mask comes from `generator`, so one seed reproduces it.
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must be between 0 and 1, got ${p}`);
  if (!training || p === 0) return x;
  const keep = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = generator.random() < p ? 0 : keep;
  return mul(x, fromValues(mask, x.shape));
}
