/** Convolutions: Conv1d over [C, L], Conv2d and ConvTranspose2d over [C, H, W]. */
import { Conv1d, Conv2d, ConvTranspose2d } from '../../nn/conv.ts';
import type { InferContext, LayerDef, ParamValues } from '../types.ts';
import { ShapeError } from '../types.ts';
import { bool, flag, fmt, input, int, kwargs, num, oneIn, oneOut, pair, requireFloat, sourceName } from './util.ts';

const ints = (dflt: number[], min: number, help?: string) => ({ kind: 'ints' as const, default: dflt, min, ...(help ? { help } : {}) });

/** Output length of a convolution or pooling window along one axis (PyTorch's formula). */
export function convOut(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * Padding before and after each spatial axis. `padding` is a number per axis (both sides),
 * 'valid' (none) or 'same' (the output keeps the input's size: d*(k-1) in total, the odd
 * one after, as PyTorch; stride 1 only). `arg` is what the module takes.
 */
export function convPadding(
  params: ParamValues,
  kernel: readonly number[],
  dilation: readonly number[],
  stride: readonly number[],
): { begin: number[]; end: number[]; arg: number[] | 'same' | 'valid' } {
  const v = params.padding;
  const axes = kernel.length;
  if (v === 'valid') return { begin: new Array<number>(axes).fill(0), end: new Array<number>(axes).fill(0), arg: 'valid' };
  if (v === 'same') {
    if (stride.some((s) => s !== 1)) throw new ShapeError(`padding 'same' needs stride 1, got stride ${fmt([...stride])}`);
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    const begin = total.map((t) => t >> 1);
    return { begin, end: total.map((t, i) => t - begin[i]), arg: 'same' };
  }
  const p = axes === 1 ? [pair(params, 'padding')[0]] : pair(params, 'padding');
  return { begin: p, end: p, arg: p };
}

const paddingSpec = {
  ...ints([0], 0, "Zeros added on each side; 'same' keeps the size (stride 1), 'valid' adds none"),
  keywords: ['same', 'valid'] as const,
};

function checkGroups(inC: number, outC: number, groups: number): void {
  if (inC % groups !== 0) throw new ShapeError(`groups=${groups} must divide the ${inC} input channels`);
  if (outC % groups !== 0) throw new ShapeError(`groups=${groups} must divide the ${outC} output channels`);
}

function inChannels(ctx: InferContext, actual: number): number {
  const expected = num(ctx.params, 'in_channels');
  if (expected > 0 && expected !== actual) throw new ShapeError(`expects ${expected} input channels, its input has ${actual}`);
  return actual;
}

function spatial2d(ctx: InferContext): { c: number; h: number; w: number } {
  const x = input(ctx);
  requireFloat(x);
  if (x.kind !== 'tensor' || x.shape.length !== 3) {
    throw new ShapeError(
      `needs an image-shaped input [channels, height, width], its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}${x.kind === 'tensor' && x.shape.length === 1 ? '; add Unflatten before it' : ''}`,
    );
  }
  return { c: inChannels(ctx, x.shape[0]), h: x.shape[1], w: x.shape[2] };
}

function tooSmall(h: number, w: number, ho: number, wo: number, what: string): never {
  throw new ShapeError(`its ${h}x${w} input is too small for ${what}: the output would be ${ho}x${wo}`);
}

const convParams = {
  out_channels: int(6, 1, { label: 'Output channels (filters)' }),
  kernel_size: ints([3], 1),
  stride: ints([1], 1),
  padding: paddingSpec,
  dilation: ints([1], 1),
  groups: int(1, 1),
  bias: flag(true),
  in_channels: int(0, 0, { label: 'Input channels', help: '0: taken from the input' }),
};

function conv2dShape(ctx: InferContext) {
  const { c, h, w } = spatial2d(ctx);
  const p = ctx.params;
  const [kh, kw] = pair(p, 'kernel_size');
  const [sh, sw] = pair(p, 'stride');
  const [dh, dw] = pair(p, 'dilation');
  const pad = convPadding(p, [kh, kw], [dh, dw], [sh, sw]);
  const out = num(p, 'out_channels');
  const groups = num(p, 'groups');
  checkGroups(c, out, groups);
  const ho = convOut(h + pad.begin[0] + pad.end[0], kh, sh, 0, dh);
  const wo = convOut(w + pad.begin[1] + pad.end[1], kw, sw, 0, dw);
  if (ho < 1 || wo < 1) tooSmall(h, w, ho, wo, `a ${kh}x${kw} kernel with padding ${typeof pad.arg === 'string' ? pad.arg : pad.arg[0] === pad.arg[1] ? pad.arg[0] : fmt(pad.arg)}`);
  return { c, out, groups, kh, kw, ho, wo, padding: pad.arg };
}

function convTorchArgs(p: ParamValues): string {
  return kwargs(p, { stride: 1, padding: 0, dilation: 1, groups: 1, bias: true });
}

export const conv2dLayer: LayerDef = {
  type: 'Conv2d',
  category: 'Convolution',
  displayName: 'Conv2d',
  description: 'Slides small learned filters over the image; each filter produces one feature map that lights up where its pattern appears.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: convParams,
  validate: (p) => (pair(p, 'kernel_size').some((k) => k < 1) ? [`kernel_size must be at least 1, got ${fmt(pair(p, 'kernel_size'))}`] : []),
  infer(ctx) {
    const s = conv2dShape(ctx);
    return [{ kind: 'tensor', shape: [s.out, s.ho, s.wo], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const s = conv2dShape(ctx);
    return s.out * (s.c / s.groups) * s.kh * s.kw + (bool(ctx.params, 'bias') ? s.out : 0);
  },
  flops(ctx) {
    const s = conv2dShape(ctx);
    return 2 * s.out * s.ho * s.wo * (s.c / s.groups) * s.kh * s.kw;
  },
  build(ctx) {
    const s = conv2dShape(ctx);
    const p = ctx.params;
    const m = new Conv2d(s.c, s.out, [s.kh, s.kw], { stride: pair(p, 'stride'), padding: typeof s.padding === 'string' ? s.padding : [s.padding[0], s.padding[1]], dilation: pair(p, 'dilation'), groups: s.groups, bias: bool(p, 'bias'), generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch(ctx) {
    const s = conv2dShape(ctx);
    return { functional: false, module: `nn.Conv2d(${s.c}, ${s.out}, kernel_size=${s.kh === s.kw ? s.kh : `(${s.kh}, ${s.kw})`}${convTorchArgs(ctx.params)})` };
  },
};

function conv1dShape(ctx: InferContext) {
  const x = input(ctx);
  requireFloat(x);
  if (x.kind !== 'tensor' || x.shape.length !== 2) {
    throw new ShapeError(`needs an input [channels, length], its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}`);
  }
  const c = inChannels(ctx, x.shape[0]);
  const p = ctx.params;
  const k = pair(p, 'kernel_size')[0];
  const out = num(p, 'out_channels');
  const groups = num(p, 'groups');
  checkGroups(c, out, groups);
  const d = pair(p, 'dilation')[0];
  const pad = convPadding(p, [k], [d], [pair(p, 'stride')[0]]);
  const lo = convOut(x.shape[1] + pad.begin[0] + pad.end[0], k, pair(p, 'stride')[0], 0, d);
  if (lo < 1) throw new ShapeError(`its input of length ${x.shape[1]} is too small for kernel_size ${k}: the output length would be ${lo}`);
  return { c, out, groups, k, lo, padding: typeof pad.arg === 'string' ? pad.arg : pad.arg[0] };
}

export const conv1dLayer: LayerDef = {
  type: 'Conv1d',
  category: 'Convolution',
  displayName: 'Conv1d',
  description: 'Slides learned filters along one axis (a signal or a sequence stored as channels x length).',
  inputs: oneIn(),
  outputs: oneOut(),
  params: { ...convParams, kernel_size: ints([3], 1) },
  infer(ctx) {
    const s = conv1dShape(ctx);
    return [{ kind: 'tensor', shape: [s.out, s.lo], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const s = conv1dShape(ctx);
    return s.out * (s.c / s.groups) * s.k + (bool(ctx.params, 'bias') ? s.out : 0);
  },
  flops(ctx) {
    const s = conv1dShape(ctx);
    return 2 * s.out * s.lo * (s.c / s.groups) * s.k;
  },
  build(ctx) {
    const s = conv1dShape(ctx);
    const p = ctx.params;
    const m = new Conv1d(s.c, s.out, s.k, { stride: pair(p, 'stride')[0], padding: s.padding, dilation: pair(p, 'dilation')[0], groups: s.groups, bias: bool(p, 'bias'), generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch(ctx) {
    const s = conv1dShape(ctx);
    return { functional: false, module: `nn.Conv1d(${s.c}, ${s.out}, kernel_size=${s.k}${convTorchArgs(ctx.params)})` };
  },
};

function convT2dShape(ctx: InferContext) {
  const { c, h, w } = spatial2d(ctx);
  const p = ctx.params;
  const [kh, kw] = pair(p, 'kernel_size');
  const [sh, sw] = pair(p, 'stride');
  const [ph, pw] = pair(p, 'padding');
  const [dh, dw] = pair(p, 'dilation');
  const [oph, opw] = pair(p, 'output_padding');
  if (oph >= Math.max(sh, dh) || opw >= Math.max(sw, dw)) {
    throw new ShapeError(`output_padding ${fmt([oph, opw])} must be smaller than stride ${fmt([sh, sw])} or dilation`);
  }
  const out = num(p, 'out_channels');
  const groups = num(p, 'groups');
  checkGroups(c, out, groups);
  const ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const wo = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (ho < 1 || wo < 1) tooSmall(h, w, ho, wo, `padding ${fmt([ph, pw])}`);
  return { c, out, groups, kh, kw, h, w, ho, wo };
}

export const convTranspose2dLayer: LayerDef = {
  type: 'ConvTranspose2d',
  category: 'Convolution',
  displayName: 'ConvTranspose2d',
  description: 'Upsamples feature maps with learned filters (the reverse of a strided convolution), as in decoders.',
  inputs: oneIn(),
  outputs: oneOut(),
  params: {
    ...convParams,
    stride: ints([2], 1),
    padding: ints([0], 0),
    kernel_size: ints([2], 1),
    output_padding: ints([0], 0, 'Extra rows/columns on one side, to hit an exact output size'),
  },
  infer(ctx) {
    const s = convT2dShape(ctx);
    return [{ kind: 'tensor', shape: [s.out, s.ho, s.wo], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const s = convT2dShape(ctx);
    return s.c * (s.out / s.groups) * s.kh * s.kw + (bool(ctx.params, 'bias') ? s.out : 0);
  },
  flops(ctx) {
    const s = convT2dShape(ctx);
    return 2 * s.c * s.h * s.w * (s.out / s.groups) * s.kh * s.kw;
  },
  build(ctx) {
    const s = convT2dShape(ctx);
    const p = ctx.params;
    const m = new ConvTranspose2d(s.c, s.out, [s.kh, s.kw], {
      stride: pair(p, 'stride'),
      padding: pair(p, 'padding'),
      outputPadding: pair(p, 'output_padding'),
      dilation: pair(p, 'dilation'),
      groups: s.groups,
      bias: bool(p, 'bias'),
      generator: ctx.generator,
    });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch(ctx) {
    const s = convT2dShape(ctx);
    return {
      functional: false,
      module: `nn.ConvTranspose2d(${s.c}, ${s.out}, kernel_size=${s.kh === s.kw ? s.kh : `(${s.kh}, ${s.kw})`}${kwargs(ctx.params, { stride: 1, padding: 0, output_padding: 0, groups: 1, bias: true, dilation: 1 })})`,
    };
  },
};
