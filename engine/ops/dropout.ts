/** Dropout (torch.nn.functional.dropout) with seeded masks. */
import { dropoutMask } from '../core/dropout-mask.ts';
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
  // The mask is what `generator.random() < p ? 0 : 1 / (1 - p)` gives element by element.
  return mul(x, fromValues(dropoutMask(x.size, p, generator), x.shape));
}
