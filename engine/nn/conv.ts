/** Convolution layers (torch.nn.Conv1d, Conv2d, ConvTranspose2d), NCHW. */
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { conv1d, conv2d, type ConvPadding, convTranspose2d, type Pair } from '../ops/conv.ts';
import { torchDefaultBias, torchDefaultWeight } from './init.ts';
import { Module, parameter } from './module.ts';

function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function checkChannels(name: string, inChannels: number, outChannels: number, groups: number): void {
  for (const [what, v] of [
    ['in_channels', inChannels],
    ['out_channels', outChannels],
    ['groups', groups],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: ${what} must be a positive integer, got ${v}`);
  }
  if (inChannels % groups !== 0) throw new Error(`${name}: in_channels ${inChannels} is not divisible by groups ${groups}`);
  if (outChannels % groups !== 0) throw new Error(`${name}: out_channels ${outChannels} is not divisible by groups ${groups}`);
}

/**
 * Registers weight and bias with torch's default init: kaiming_uniform_(a = sqrt(5)) on the
 * weight (bound 1/sqrt(fan_in), fan_in = shape[1] * kernel area) and U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) on the bias.
 */
function initConv(shape: number[], biasSize: number, bias: boolean, gen?: Generator): [Tensor, Tensor | null] {
  const weight = parameter(torchDefaultWeight(shape, gen), shape);
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return [weight, bias ? parameter(torchDefaultBias(biasSize, fanIn, gen), [biasSize]) : null];
}

export interface Conv2dModuleOptions {
  stride?: Pair;
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

/**
 * Conv2d: weight [out, in/groups, kh, kw], bias [out].
 * Input [N, in, H, W] -> output [N, out, H', W'] with
 * H' = floor((H + 2 pad - dilation (kh - 1) - 1) / stride) + 1 (likewise W').
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly opts: Conv2dModuleOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    checkChannels('Conv2d', inChannels, outChannels, groups);
    this.kernelSize = pair(kernelSize);
    [this.weight, this.bias] = initConv([outChannels, inChannels / groups, ...this.kernelSize], outChannels, opts.bias !== false, opts.generator);
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    const { stride = 1, padding = 0, dilation = 1, groups = 1 } = this.opts;
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }
}

export interface Conv1dModuleOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

/**
 * Conv1d: weight [out, in/groups, k], bias [out].
 * Input [N, in, L] -> output [N, out, L'], L' = floor((L + 2 pad - dilation (k - 1) - 1) / stride) + 1.
 */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: Conv1dModuleOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    checkChannels('Conv1d', inChannels, outChannels, groups);
    [this.weight, this.bias] = initConv([outChannels, inChannels / groups, kernelSize], outChannels, opts.bias !== false, opts.generator);
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    const { stride = 1, padding = 0, dilation = 1, groups = 1 } = this.opts;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }
}

export interface ConvTranspose2dModuleOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
  generator?: Generator;
}

/**
 * ConvTranspose2d: weight [in, out/groups, kh, kw], bias [out].
 * Input [N, in, H, W] -> output [N, out, H', W'] with
 * H' = (H - 1) stride - 2 pad + dilation (kh - 1) + output_padding + 1 (likewise W').
 */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly opts: ConvTranspose2dModuleOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    checkChannels('ConvTranspose2d', inChannels, outChannels, groups);
    this.kernelSize = pair(kernelSize);
    [this.weight, this.bias] = initConv([inChannels, outChannels / groups, ...this.kernelSize], outChannels, opts.bias !== false, opts.generator);
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  forward(x: Tensor): Tensor {
    const { stride = 1, padding = 0, outputPadding = 0, groups = 1, dilation = 1 } = this.opts;
    return convTranspose2d(x, this.weight, this.bias, { stride, padding, outputPadding, groups, dilation });
  }
}
