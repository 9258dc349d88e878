/**
 * Convolutions (torch.nn.functional.conv1d, conv2d, conv_transpose2d), NCHW, with weights
 * laid out as torch: Conv weight [out, in/groups, k...], ConvTranspose weight
 * [in, out/groups, k...].
 *
 * Everything lowers to three kernels: 'Conv2D' and its gradients 'Conv2DBackpropInput'
 * and 'Conv2DBackpropFilter'. A transposed convolution is the input-gradient of a
 * convolution, so it reuses the same three with their roles swapped.
 */
import { apply } from '../core/engine.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { add } from './elementwise.ts';
import { reshape } from './layout.ts';
import { sum } from './reduce.ts';

export type Pair = number | readonly [number, number];
export type ConvPadding = Pair | 'same' | 'valid';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
}

/** Kernel attributes shared by the three convolution kernels. */
interface ConvGeometry {
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

function pair(v: Pair, op: string, name: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`${op}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Adds a leading batch dimension to unbatched input and returns how to undo it. */
function batched(x: Tensor, rank: number, op: string, layout: string): [Tensor, (y: Tensor) => Tensor] {
  if (x.shape.length === rank) return [x, (y) => y];
  if (x.shape.length === rank - 1) return [reshape(x, [1, ...x.shape]), (y) => reshape(y, y.shape.slice(1))];
  throw new Error(`${op}: expects a ${rank}-D input ${layout} (or ${rank - 1}-D unbatched), got shape ${shapeStr(x.shape)}`);
}

function checkGroups(op: string, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number): void {
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`${op}: bias must have shape [${channels}], got ${shapeStr(bias.shape)}`);
  }
}

/**
 * Validated 2-D convolution on 4-D tensors. `op` and the original shapes name the caller in
 * error messages (conv1d runs through here with a height of 1).
 */
function conv2dCore(
  op: string, x: Tensor, w: Tensor, bias: Tensor | null | undefined,
  stride: [number, number], padding: ConvPadding, dilation: [number, number], groups: number,
  shapes: { x: readonly number[]; w: readonly number[]; spatial: number },
): Tensor {
  const [, C, H, W] = x.shape;
  const [O, cg, kh, kw] = w.shape;
  checkGroups(op, groups);
  if (O % groups !== 0) throw new Error(`${op}: out channels ${O} (weight ${shapeStr(shapes.w)}) are not divisible by groups ${groups}`);
  if (cg * groups !== C) {
    throw new Error(`${op}: expects ${cg * groups} input channels (weight ${shapeStr(shapes.w)}${groups > 1 ? `, groups ${groups}` : ''}), input has ${C} (shape ${shapeStr(shapes.x)})`);
  }
  checkBias(op, bias, O);
  let pads: [number, number, number, number]; // top, bottom, left, right
  if (padding === 'valid') {
    pads = [0, 0, 0, 0];
  } else if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`${op}: padding='same' needs stride 1, got stride ${shapes.spatial === 1 ? stride[1] : shapeStr(stride)}`);
    // Total padding d*(k-1); the odd extra element goes at the bottom/right, as torch.
    const th = dilation[0] * (kh - 1);
    const tw = dilation[1] * (kw - 1);
    pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  } else {
    const p = pair(padding, op, 'padding', 0);
    pads = [p[0], p[0], p[1], p[1]];
  }
  const effH = dilation[0] * (kh - 1) + 1;
  const effW = dilation[1] * (kw - 1) + 1;
  const paddedH = H + pads[0] + pads[1];
  const paddedW = W + pads[2] + pads[3];
  if (effH > paddedH || effW > paddedW) {
    const k = shapes.spatial === 1 ? `${kw}` : `${kh}x${kw}`;
    const eff = shapes.spatial === 1 ? `${effW}` : `${effH}x${effW}`;
    const padded = shapes.spatial === 1 ? `${paddedW}` : `${paddedH}x${paddedW}`;
    throw new Error(`${op}: kernel ${k} (with dilation spanning ${eff}) is larger than the padded input ${padded} (input ${shapeStr(shapes.x)}, weight ${shapeStr(shapes.w)})`);
  }
  const outH = Math.floor((paddedH - effH) / stride[0]) + 1;
  const outW = Math.floor((paddedW - effW) / stride[1]) + 1;
  const geom: ConvGeometry = {
    strideH: stride[0], strideW: stride[1], padTop: pads[0], padLeft: pads[2],
    dilationH: dilation[0], dilationW: dilation[1], groups,
  };
  const inputs = bias ? [x, w, bias] : [x, w];
  return apply('Conv2D', inputs, { ...geom, outH, outW }, (dy) => [
    x.requiresGrad ? apply('Conv2DBackpropInput', [dy, w], { ...geom, inputShape: [...x.shape] }) : null,
    w.requiresGrad ? apply('Conv2DBackpropFilter', [x, dy], { ...geom, filterShape: [...w.shape] }) : null,
    bias?.requiresGrad ? sum(dy, [0, 2, 3]) : null,
  ]);
}

/**
 * F.conv2d: x [N, C, H, W] (or [C, H, W]), weight [O, C/groups, kh, kw], bias [O] ->
 * [N, O, Ho, Wo] with Ho = floor((H + 2*pad - dilation*(kh-1) - 1) / stride) + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  if (weight.shape.length !== 4) throw new Error(`${op}: weight must be 4-D [out, in/groups, kh, kw], got ${shapeStr(weight.shape)}`);
  const [x4, unbatch] = batched(x, 4, op, '[N, C, H, W]');
  const stride = pair(opts.stride ?? 1, op, 'stride', 1);
  const dilation = pair(opts.dilation ?? 1, op, 'dilation', 1);
  const y = conv2dCore(op, x4, weight, bias, stride, opts.padding ?? 0, dilation, opts.groups ?? 1, { x: x.shape, w: weight.shape, spatial: 2 });
  return unbatch(y);
}

/** F.conv1d: x [N, C, L] (or [C, L]), weight [O, C/groups, k], bias [O] -> [N, O, Lout]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  if (weight.shape.length !== 3) throw new Error(`${op}: weight must be 3-D [out, in/groups, k], got ${shapeStr(weight.shape)}`);
  const [x3, unbatch] = batched(x, 3, op, '[N, C, L]');
  const [N, C, L] = x3.shape;
  const [O, cg, k] = weight.shape;
  const stride = pair([1, opts.stride ?? 1], op, 'stride', 1);
  const dilation = pair([1, opts.dilation ?? 1], op, 'dilation', 1);
  const p = opts.padding ?? 0;
  const padding: ConvPadding = typeof p === 'number' ? [0, p] : p;
  if (typeof p === 'number' && (!Number.isInteger(p) || p < 0)) throw new Error(`${op}: padding must be a non-negative integer, got ${p}`);
  const y = conv2dCore(op, reshape(x3, [N, C, 1, L]), reshape(weight, [O, cg, 1, k]), bias, stride, padding, dilation, opts.groups ?? 1, { x: x.shape, w: weight.shape, spatial: 1 });
  return unbatch(reshape(y, [N, O, y.shape[3]]));
}

/**
 * F.conv_transpose2d: x [N, Cin, H, W] (or unbatched), weight [Cin, Cout/groups, kh, kw],
 * bias [Cout] -> [N, Cout, Ho, Wo] with
 * Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'conv_transpose2d';
  if (weight.shape.length !== 4) throw new Error(`${op}: weight must be 4-D [in, out/groups, kh, kw], got ${shapeStr(weight.shape)}`);
  const [x4, unbatch] = batched(x, 4, op, '[N, C, H, W]');
  const stride = pair(opts.stride ?? 1, op, 'stride', 1);
  const padding = pair(opts.padding ?? 0, op, 'padding', 0);
  const outputPadding = pair(opts.outputPadding ?? 0, op, 'output_padding', 0);
  const dilation = pair(opts.dilation ?? 1, op, 'dilation', 1);
  const groups = opts.groups ?? 1;
  checkGroups(op, groups);
  const [N, C, H, W] = x4.shape;
  const [cin, coutG, kh, kw] = weight.shape;
  if (cin !== C) throw new Error(`${op}: expects ${cin} input channels (weight ${shapeStr(weight.shape)}), input has ${C} (shape ${shapeStr(x.shape)})`);
  if (cin % groups !== 0) throw new Error(`${op}: input channels ${cin} (weight ${shapeStr(weight.shape)}) are not divisible by groups ${groups}`);
  for (let d = 0; d < 2; d++) {
    if (outputPadding[d] >= stride[d] && outputPadding[d] >= dilation[d]) {
      throw new Error(`${op}: output_padding ${shapeStr(outputPadding)} must be smaller than either stride ${shapeStr(stride)} or dilation ${shapeStr(dilation)}`);
    }
  }
  const cout = coutG * groups;
  checkBias(op, bias, cout);
  const outH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outputPadding[0] + 1;
  const outW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outputPadding[1] + 1;
  if (outH < 1 || outW < 1) {
    throw new Error(`${op}: output size ${outH}x${outW} is not positive (input ${shapeStr(x.shape)}, weight ${shapeStr(weight.shape)}, stride ${shapeStr(stride)}, padding ${shapeStr(padding)})`);
  }
  const geom: ConvGeometry = {
    strideH: stride[0], strideW: stride[1], padTop: padding[0], padLeft: padding[1],
    dilationH: dilation[0], dilationW: dilation[1], groups,
  };
  // y = A_w^T x, where A_w is the convolution [N, Cout, Ho, Wo] -> [N, Cin, H, W] with weight w.
  // Hence dx = A_w dy (a convolution) and dw = the filter gradient of A_w at input dy, output grad x.
  let y = apply('Conv2DBackpropInput', [x4, weight], { ...geom, inputShape: [N, cout, outH, outW] }, (dy) => [
    x4.requiresGrad ? apply('Conv2D', [dy, weight], { ...geom, outH: H, outW: W }) : null,
    weight.requiresGrad ? apply('Conv2DBackpropFilter', [dy, x4], { ...geom, filterShape: [...weight.shape] }) : null,
  ]);
  if (bias) y = add(y, reshape(bias, [1, cout, 1, 1]));
  return unbatch(y);
}
