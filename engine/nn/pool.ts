/** Pooling layers (torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d), NCHW. */
import type { Tensor } from '../core/tensor.ts';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type Pair } from '../ops/pool.ts';
import { Module } from './module.ts';

/**
 * MaxPool2d: the maximum over each kernelSize window (stride defaults to kernelSize).
 * Input [N, C, H, W] -> output [N, C, H', W'],
 * H' = floor_or_ceil((H + 2 pad - dilation (k - 1) - 1) / stride) + 1.
 */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, ...this.opts });
  }
}

/**
 * AvgPool2d: the mean over each kernelSize window (stride defaults to kernelSize; padded
 * zeros count in the divisor unless countIncludePad is false).
 * Input [N, C, H, W] -> output [N, C, H', W'], H' = floor_or_ceil((H + 2 pad - k) / stride) + 1.
 */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: { stride?: Pair | null; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernelSize: this.kernelSize, ...this.opts });
  }
}

/**
 * AdaptiveAvgPool2d: averages into a fixed outputSize grid (null keeps that input size).
 * Input [N, C, H, W] -> output [N, C, outH, outW].
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly [number | null, number | null]) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
