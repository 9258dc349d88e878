/** Pooling over images [C, H, W]. */
import { mean } from '../../ops/reduce.ts';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../ops/pool.ts';
import type { InferContext, LayerDef, ParamValues } from '../types.ts';
import { ShapeError } from '../types.ts';
import { bool, flag, fmt, input, ints, kwargs, oneIn, oneOut, pair, requireFloat, sourceName } from './util.ts';

const intsSpec = (dflt: number[], min: number, help?: string) => ({ kind: 'ints' as const, default: dflt, min, ...(help ? { help } : {}) });

function imageIn(ctx: InferContext): [number, number, number] {
  const x = input(ctx);
  requireFloat(x);
  if (x.kind !== 'tensor' || x.shape.length !== 3) {
    throw new ShapeError(`needs an image-shaped input [channels, height, width], its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}`);
  }
  return [x.shape[0], x.shape[1], x.shape[2]];
}

/** PyTorch's pooling output size, including ceil_mode's rule that the last window starts inside. */
export function poolOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

function pool2dShape(ctx: InferContext, dilated: boolean) {
  const [c, h, w] = imageIn(ctx);
  const p = ctx.params;
  const [kh, kw] = pair(p, 'kernel_size');
  const stride = ints(p, 'stride');
  const [sh, sw] = stride.length === 0 ? [kh, kw] : pair(p, 'stride');
  const [ph, pw] = pair(p, 'padding');
  const [dh, dw] = dilated ? pair(p, 'dilation') : [1, 1];
  if (ph * 2 > kh || pw * 2 > kw) throw new ShapeError(`padding ${fmt([ph, pw])} must be at most half of kernel_size ${fmt([kh, kw])}`);
  const ceil = bool(p, 'ceil_mode');
  const ho = poolOut(h, kh, sh, ph, dh, ceil);
  const wo = poolOut(w, kw, sw, pw, dw, ceil);
  if (ho < 1 || wo < 1) throw new ShapeError(`its ${h}x${w} input is smaller than the ${kh}x${kw} window`);
  return { c, ho, wo, kh, kw };
}

const poolParams = {
  kernel_size: intsSpec([2], 1),
  stride: intsSpec([], 1, 'Empty: same as kernel_size'),
  padding: intsSpec([0], 0),
  ceil_mode: flag(false),
};

export const maxPool2dLayer: LayerDef = {
  type: 'MaxPool2d',
  category: 'Pooling',
  displayName: 'MaxPool2d',
  description: 'Shrinks each feature map by keeping only the largest value in every small window.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: { ...poolParams, dilation: intsSpec([1], 1) },
  infer(ctx) {
    const s = pool2dShape(ctx, true);
    return [{ kind: 'tensor', shape: [s.c, s.ho, s.wo], dtype: 'float32' }];
  },
  paramCount: () => 0,
  flops(ctx) {
    const s = pool2dShape(ctx, true);
    return s.c * s.ho * s.wo * s.kh * s.kw;
  },
  build: (ctx) => ({ module: null, run: (xs) => [maxPool2d(xs[0], { ...windowOpts(ctx.params), dilation: pair(ctx.params, 'dilation') })] }),
  inspect: ['activations'],
  torch: (ctx) => ({ functional: false, module: `nn.MaxPool2d(${fmtK(ctx)}${kwargs(ctx.params, { stride: [], padding: 0, dilation: 1, ceil_mode: false })})` }),
};

function fmtK(ctx: InferContext): string {
  const [kh, kw] = pair(ctx.params, 'kernel_size');
  return kh === kw ? `${kh}` : `(${kh}, ${kw})`;
}

export const avgPool2dLayer: LayerDef = {
  type: 'AvgPool2d',
  category: 'Pooling',
  displayName: 'AvgPool2d',
  description: 'Shrinks each feature map by averaging every small window.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: { ...poolParams, count_include_pad: flag(true) },
  infer(ctx) {
    const s = pool2dShape(ctx, false);
    return [{ kind: 'tensor', shape: [s.c, s.ho, s.wo], dtype: 'float32' }];
  },
  paramCount: () => 0,
  flops(ctx) {
    const s = pool2dShape(ctx, false);
    return s.c * s.ho * s.wo * s.kh * s.kw;
  },
  build: (ctx) => ({ module: null, run: (xs) => [avgPool2d(xs[0], { ...windowOpts(ctx.params), countIncludePad: bool(ctx.params, 'count_include_pad') })] }),
  inspect: ['activations'],
  torch: (ctx) => ({ functional: false, module: `nn.AvgPool2d(${fmtK(ctx)}${kwargs(ctx.params, { stride: [], padding: 0, ceil_mode: false, count_include_pad: true })})` }),
};

export const adaptiveAvgPool2dLayer: LayerDef = {
  type: 'AdaptiveAvgPool2d',
  category: 'Pooling',
  displayName: 'AdaptiveAvgPool2d',
  description: 'Averages each feature map down to a fixed output size, whatever the input size.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: { output_size: intsSpec([1], 1) },
  infer(ctx) {
    const [c] = imageIn(ctx);
    const [oh, ow] = pair(ctx.params, 'output_size');
    return [{ kind: 'tensor', shape: [c, oh, ow], dtype: 'float32' }];
  },
  paramCount: () => 0,
  flops(ctx) {
    const [c, h, w] = imageIn(ctx);
    return c * h * w;
  },
  build: (ctx) => ({ module: null, run: (xs) => [adaptiveAvgPool2d(xs[0], pair(ctx.params, 'output_size'))] }),
  inspect: ['activations'],
  torch: (ctx) => {
    const [oh, ow] = pair(ctx.params, 'output_size');
    return { functional: false, module: `nn.AdaptiveAvgPool2d(${oh === ow ? oh : `(${oh}, ${ow})`})` };
  },
};

export const globalAvgPoolLayer: LayerDef = {
  type: 'GlobalAvgPool',
  category: 'Pooling',
  displayName: 'Global average pool',
  description: 'Averages each whole feature map to one number, turning channels x height x width into a vector of channels.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: {},
  infer(ctx) {
    const [c] = imageIn(ctx);
    return [{ kind: 'tensor', shape: [c], dtype: 'float32' }];
  },
  paramCount: () => 0,
  flops(ctx) {
    const [c, h, w] = imageIn(ctx);
    return c * h * w;
  },
  build: () => ({ module: null, run: (xs) => [mean(xs[0], [2, 3])] }),
  inspect: ['activations'],
  torch: () => ({ functional: false, module: 'nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())' }),
};

function windowOpts(p: ParamValues) {
  const stride = ints(p, 'stride');
  return { kernelSize: pair(p, 'kernel_size'), stride: stride.length ? pair(p, 'stride') : null, padding: pair(p, 'padding'), ceilMode: bool(p, 'ceil_mode') };
}

