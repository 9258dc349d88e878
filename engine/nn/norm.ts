/** Normalisation layers (torch.nn.BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm). */
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { fromValues } from '../core/engine.ts';
import { batchNorm, groupNorm, layerNorm } from '../ops/norm.ts';
import { buffer, Module, parameter } from './module.ts';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: cumulative average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Shared batch norm: weight [C] (ones), bias [C] (zeros), and buffers running_mean [C]
 * (zeros), running_var [C] (ones), num_batches_tracked (int32 scalar), as torch.
 */
abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  protected abstract readonly ranks: readonly number[];

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${this.constructor.name}: num_features must be a positive integer, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine ?? true;
    const track = opts.trackRunningStats ?? true;
    this.weight = affine ? parameter(new Float32Array(numFeatures).fill(1), [numFeatures]) : null;
    this.bias = affine ? parameter(new Float32Array(numFeatures), [numFeatures]) : null;
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
    this.runningMean = track ? buffer(new Float32Array(numFeatures), [numFeatures]) : null;
    this.runningVar = track ? buffer(new Float32Array(numFeatures).fill(1), [numFeatures]) : null;
    this.numBatchesTracked = track ? buffer(new Int32Array(1), []) : null;
    this.registerBuffer('running_mean', this.runningMean);
    this.registerBuffer('running_var', this.runningVar);
    this.registerBuffer('num_batches_tracked', this.numBatchesTracked);
  }

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.shape.length)) {
      throw new Error(`${name}: expected input of rank ${this.ranks.join(' or ')} ([N, C${this.ranks.includes(4) ? ', H, W' : ', L'}]), got ${shapeStr(x.shape)}`);
    }
    if (x.shape[1] !== this.numFeatures) throw new Error(`${name}: expected ${this.numFeatures} channels in dimension 1, got input ${shapeStr(x.shape)}`);
    let momentum = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      const count = this.numBatchesTracked.dataSync()[0] + 1;
      this.numBatchesTracked.assign(fromValues(Int32Array.of(count), [], 'int32'));
      if (this.momentum === null) momentum = 1 / count;
    }
    // Batch statistics in training, and in eval when no running statistics are tracked (as torch).
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, this.training || !this.runningMean, momentum, this.eps);
  }
}

/** BatchNorm1d: input [N, C] or [N, C, L] -> output of the same shape. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
}

/** BatchNorm2d: input [N, C, H, W] -> output [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
}

/**
 * LayerNorm over the trailing dims `normalizedShape`, with weight (ones) and bias (zeros)
 * of that shape when elementwiseAffine. Input [*, ...normalizedShape] -> same shape.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(
    normalizedShape: number | readonly number[],
    readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const n = this.normalizedShape.reduce((a, b) => a * b, 1);
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? parameter(new Float32Array(n).fill(1), this.normalizedShape) : null;
    this.bias = affine && opts.bias !== false ? parameter(new Float32Array(n), this.normalizedShape) : null;
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}

/** GroupNorm: numGroups groups over numChannels channels. Input [N, C, *] -> same shape. */
export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    readonly opts: { eps?: number; affine?: boolean } = {},
  ) {
    super();
    if (numChannels % numGroups !== 0) throw new Error(`GroupNorm: ${numChannels} channels cannot be split into ${numGroups} groups`);
    const affine = opts.affine ?? true;
    this.weight = affine ? parameter(new Float32Array(numChannels).fill(1), [numChannels]) : null;
    this.bias = affine ? parameter(new Float32Array(numChannels), [numChannels]) : null;
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}
