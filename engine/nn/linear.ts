/** Fully-connected layers. */
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { linear } from '../ops/matmul.ts';
import { torchDefaultBias, torchDefaultWeight } from './init.ts';
import { Module, parameter } from './module.ts';

/** Linear: y = x W^T + b. Input [*, in_features] -> output [*, out_features]. weight [out, in]. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; generator?: Generator } = {},
  ) {
    super();
    const shape = [outFeatures, inFeatures];
    this.weight = parameter(torchDefaultWeight(shape, opts.generator), shape);
    this.registerParameter('weight', this.weight);
    this.bias = opts.bias === false ? null : parameter(torchDefaultBias(outFeatures, inFeatures, opts.generator), [outFeatures]);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Identity: returns its input. Input [*] -> output [*] (a placeholder layer, as torch.nn.Identity). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
