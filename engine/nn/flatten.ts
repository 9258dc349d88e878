/** Reshaping layers (torch.nn.Flatten, Unflatten). */
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { flatten, reshape } from '../ops/layout.ts';
import { Module } from './module.ts';

/**
 * Flatten: merges dims startDim..endDim (default 1..-1) into one.
 * Input [N, C, H, W] -> output [N, C*H*W] with the defaults.
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/**
 * Unflatten: expands dim `dim` into `unflattenedSize` (one entry may be -1).
 * Input [N, C*H*W] -> output [N, C, H, W] for dim 1 and size [C, H, W].
 */
export class Unflatten extends Module {
  constructor(
    readonly dim: number,
    readonly unflattenedSize: readonly number[],
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.shape.length : this.dim;
    if (d < 0 || d >= x.shape.length) throw new Error(`Unflatten: dimension ${this.dim} is out of range for input shape ${shapeStr(x.shape)}`);
    const known = this.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const size = this.unflattenedSize.includes(-1) ? x.shape[d] / known : known;
    if (!Number.isInteger(size) || (this.unflattenedSize.includes(-1) ? false : size !== x.shape[d])) {
      throw new Error(`Unflatten: dimension ${d} of size ${x.shape[d]} (input ${shapeStr(x.shape)}) cannot be unflattened into ${shapeStr(this.unflattenedSize)}`);
    }
    return reshape(x, [...x.shape.slice(0, d), ...this.unflattenedSize, ...x.shape.slice(d + 1)]);
  }
}
