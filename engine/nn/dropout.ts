/** Dropout layer (torch.nn.Dropout). */
import { defaultGenerator, type Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { dropout } from '../ops/dropout.ts';
import { Module } from './module.ts';

/**
 * Dropout: in training, zeroes each element with probability p (default 0.5) and scales
 * the rest by 1/(1-p); the identity in eval. Input [*] -> output [*].
 */
export class Dropout extends Module {
  readonly generator: Generator;

  constructor(
    readonly p = 0.5,
    opts: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: probability must be between 0 and 1, got ${p}`);
    this.generator = opts.generator ?? defaultGenerator;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }
}
