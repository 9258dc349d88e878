/**
 * Pooling (torch.nn.functional.max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool2d), NCHW.
 * Output sizes follow torch: out = floor_or_ceil((L + 2*pad - dilation*(k-1) - 1) / stride) + 1,
 * and in ceil mode the last window must start inside the input or its left padding.
 */
import { apply, applyMulti, recordGrad } from '../core/engine.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { reshape } from './layout.ts';

export type Pair = number | readonly [number, number];

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (torch's default: true). */
  countIncludePad?: boolean;
}

export interface MaxPool1dOptions {
  kernelSize: number;
  stride?: number | null;
  padding?: number;
  dilation?: number;
  ceilMode?: boolean;
}

export interface AvgPool1dOptions {
  kernelSize: number;
  stride?: number | null;
  padding?: number;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

function pair(v: Pair, op: string, name: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`${op}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** torch's pooling_output_shape. */
export function poolOutputSize(inSize: number, kernel: number, stride: number, pad: number, dilation: number, ceilMode: boolean): number {
  const span = inSize + 2 * pad - dilation * (kernel - 1) - 1;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

interface Window {
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
}

/** Validates a pooling window on a 4-D input; `dims` names the caller's sizes in messages. */
function windowFor(
  op: string, x: Tensor, shownShape: readonly number[], kernel: [number, number], stride: [number, number],
  pad: [number, number], dilation: [number, number], ceilMode: boolean, oneD: boolean,
): Window {
  const [, C, H, W] = x.shape;
  const show = (p: [number, number]) => (oneD ? `${p[1]}` : `${p[0]}x${p[1]}`);
  if (pad[0] > kernel[0] / 2 || pad[1] > kernel[1] / 2) {
    throw new Error(`${op}: padding ${show(pad)} must be at most half the kernel size ${show(kernel)}`);
  }
  const outH = poolOutputSize(H, kernel[0], stride[0], pad[0], dilation[0], ceilMode);
  const outW = poolOutputSize(W, kernel[1], stride[1], pad[1], dilation[1], ceilMode);
  if (outH < 1 || outW < 1) {
    const eff = `${oneD ? '' : `${dilation[0] * (kernel[0] - 1) + 1}x`}${dilation[1] * (kernel[1] - 1) + 1}`;
    throw new Error(`${op}: kernel ${show(kernel)} (spanning ${eff}) does not fit the padded input (input ${shapeStr(shownShape)}, padding ${show(pad)}): output size ${oneD ? '' : `${outH}x`}${outW} for ${C} channels is too small`);
  }
  return {
    kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1], padH: pad[0], padW: pad[1],
    dilationH: dilation[0], dilationW: dilation[1], outH, outW,
  };
}

/** Adds a leading batch dimension to unbatched input and returns how to undo it. */
function batched(x: Tensor, rank: number, op: string, layout: string): [Tensor, (y: Tensor) => Tensor] {
  if (x.shape.length === rank) return [x, (y) => y];
  if (x.shape.length === rank - 1) return [reshape(x, [1, ...x.shape]), (y) => reshape(y, y.shape.slice(1))];
  throw new Error(`${op}: expects a ${rank}-D input ${layout} (or ${rank - 1}-D unbatched), got shape ${shapeStr(x.shape)}`);
}

/**
 * The gradient is recorded on the values alone: the int32 indices take no gradient, and a
 * node that listed them would get a zero-filled gradient for them on every backward pass.
 */
function maxPoolCore(x: Tensor, win: Window): { values: Tensor; indices: Tensor } {
  const [values, indices] = applyMulti('MaxPool2D', [x], { ...win });
  recordGrad('MaxPool2D', [x], [values], ([dy]) => [
    apply('MaxPool2DGrad', [dy, indices], { ...win, inputShape: [...x.shape] }),
  ]);
  return { values, indices };
}

function avgPoolCore(x: Tensor, win: Window, countIncludePad: boolean): Tensor {
  const attrs = { ...win, countIncludePad };
  return apply('AvgPool2D', [x], attrs, (dy) => [apply('AvgPool2DGrad', [dy], { ...attrs, inputShape: [...x.shape] })]);
}

/**
 * F.max_pool2d with return_indices: values [N, C, Ho, Wo] and int32 indices of each maximum
 * within its input plane (h*W + w), as torch.
 */
export function maxPool2dWithIndices(x: Tensor, opts: MaxPool2dOptions): { values: Tensor; indices: Tensor } {
  const op = 'max_pool2d';
  const [x4, unbatch] = batched(x, 4, op, '[N, C, H, W]');
  const kernel = pair(opts.kernelSize, op, 'kernel_size', 1);
  const stride = opts.stride == null ? kernel : pair(opts.stride, op, 'stride', 1);
  const win = windowFor(op, x4, x.shape, kernel, stride, pair(opts.padding ?? 0, op, 'padding', 0), pair(opts.dilation ?? 1, op, 'dilation', 1), opts.ceilMode ?? false, false);
  const { values, indices } = maxPoolCore(x4, win);
  return { values: unbatch(values), indices: unbatch(indices) };
}

/** F.max_pool2d: [N, C, H, W] (or [C, H, W]) -> [N, C, Ho, Wo]. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  return maxPool2dWithIndices(x, opts).values;
}

/** F.avg_pool2d: [N, C, H, W] (or [C, H, W]) -> [N, C, Ho, Wo]. */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  const op = 'avg_pool2d';
  const [x4, unbatch] = batched(x, 4, op, '[N, C, H, W]');
  const kernel = pair(opts.kernelSize, op, 'kernel_size', 1);
  const stride = opts.stride == null ? kernel : pair(opts.stride, op, 'stride', 1);
  const win = windowFor(op, x4, x.shape, kernel, stride, pair(opts.padding ?? 0, op, 'padding', 0), [1, 1], opts.ceilMode ?? false, false);
  return unbatch(avgPoolCore(x4, win, opts.countIncludePad ?? true));
}

/** F.max_pool1d: [N, C, L] (or [C, L]) -> [N, C, Lout]. */
export function maxPool1d(x: Tensor, opts: MaxPool1dOptions): Tensor {
  const op = 'max_pool1d';
  const [x3, unbatch] = batched(x, 3, op, '[N, C, L]');
  const [N, C, L] = x3.shape;
  const k = pair([1, opts.kernelSize], op, 'kernel_size', 1);
  const stride = opts.stride == null ? k : pair([1, opts.stride], op, 'stride', 1);
  const x4 = reshape(x3, [N, C, 1, L]);
  const win = windowFor(op, x4, x.shape, k, stride, pair([0, opts.padding ?? 0], op, 'padding', 0), pair([1, opts.dilation ?? 1], op, 'dilation', 1), opts.ceilMode ?? false, true);
  const y = maxPoolCore(x4, win).values;
  return unbatch(reshape(y, [N, C, win.outW]));
}

/** F.avg_pool1d: [N, C, L] (or [C, L]) -> [N, C, Lout]. */
export function avgPool1d(x: Tensor, opts: AvgPool1dOptions): Tensor {
  const op = 'avg_pool1d';
  const [x3, unbatch] = batched(x, 3, op, '[N, C, L]');
  const [N, C, L] = x3.shape;
  const k = pair([1, opts.kernelSize], op, 'kernel_size', 1);
  const stride = opts.stride == null ? k : pair([1, opts.stride], op, 'stride', 1);
  const x4 = reshape(x3, [N, C, 1, L]);
  const win = windowFor(op, x4, x.shape, k, stride, pair([0, opts.padding ?? 0], op, 'padding', 0), [1, 1], opts.ceilMode ?? false, true);
  const y = avgPoolCore(x4, win, opts.countIncludePad ?? true);
  return unbatch(reshape(y, [N, C, win.outW]));
}

/**
 * F.adaptive_avg_pool2d: [N, C, H, W] (or [C, H, W]) -> [N, C, oh, ow]; cell i averages
 * input rows [floor(i*H/oh), ceil((i+1)*H/oh)). A null size keeps the input's size.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = 'adaptive_avg_pool2d';
  const [x4, unbatch] = batched(x, 4, op, '[N, C, H, W]');
  const [, , H, W] = x4.shape;
  const req = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const outH = req[0] ?? H;
  const outW = req[1] ?? W;
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new Error(`${op}: output size must be positive integers, got ${JSON.stringify(outputSize)}`);
  }
  if (H < 1 || W < 1) throw new Error(`${op}: input ${shapeStr(x.shape)} has an empty spatial dimension`);
  const y = apply('AdaptiveAvgPool2D', [x4], { outH, outW }, (dy) => [apply('AdaptiveAvgPool2DGrad', [dy], { inputShape: [...x4.shape] })]);
  return unbatch(y);
}
