/** Normalisation and regularisation: BatchNorm1d/2d, LayerNorm, Dropout. */
import { dropout } from '../../ops/dropout.ts';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../../nn/norm.ts';
import type { InferContext, LayerDef } from '../types.ts';
import { ShapeError } from '../types.ts';
import { ANY, bool, flag, float, fmt, input, int, kwargs, num, numel, oneIn, oneOut, port, requireFloat, sourceName } from './util.ts';

function bnFeatures(ctx: InferContext, rank2d: boolean): number {
  const x = input(ctx);
  requireFloat(x);
  const expectedRank = rank2d ? 3 : null;
  if (rank2d ? x.kind !== 'tensor' || x.shape.length !== expectedRank : x.kind !== 'tensor' || x.shape.length > 2) {
    throw new ShapeError(
      rank2d
        ? `needs an image-shaped input [channels, height, width], its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}; use BatchNorm1d for vectors`
        : `needs a vector [features] or [channels, length], its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}${x.shape.length === 3 ? '; use BatchNorm2d for images' : ''}`,
    );
  }
  const c = x.shape[0];
  const expected = num(ctx.params, 'num_features');
  if (expected > 0 && expected !== c) throw new ShapeError(`expects ${expected} features (channels), its input has ${c}`);
  return c;
}

function batchNorm(type: 'BatchNorm1d' | 'BatchNorm2d'): LayerDef {
  const is2d = type === 'BatchNorm2d';
  return {
    type,
    category: 'Normalization',
    displayName: type,
    description: is2d
      ? 'Rescales every channel to zero mean and unit variance over the batch, then applies a learned scale and shift.'
      : 'Rescales every feature to zero mean and unit variance over the batch, then applies a learned scale and shift.',
    inputs: oneIn(),
    outputs: oneOut(),
    params: {
      num_features: int(0, 0, { help: '0: taken from the input' }),
      eps: float(1e-5, 0),
      momentum: float(0.1, 0, 1),
      affine: flag(true),
      track_running_stats: flag(true),
    },
    infer(ctx) {
      bnFeatures(ctx, is2d);
      const x = input(ctx);
      return [{ ...x, shape: [...x.shape] }];
    },
    paramCount: (ctx) => (bool(ctx.params, 'affine') ? 2 * bnFeatures(ctx, is2d) : 0),
    flops: (ctx) => 4 * numel(input(ctx).shape),
    build(ctx) {
      const p = ctx.params;
      const opts = { eps: num(p, 'eps'), momentum: num(p, 'momentum'), affine: bool(p, 'affine'), trackRunningStats: bool(p, 'track_running_stats') };
      const m = is2d ? new BatchNorm2d(bnFeatures(ctx, true), opts) : new BatchNorm1d(bnFeatures(ctx, false), opts);
      return { module: m, run: (xs) => [m.forward(xs[0])] };
    },
    inspect: ['activations'],
    torch: (ctx) => ({
      functional: false,
      module: `nn.${type}(${bnFeatures(ctx, is2d)}${kwargs(ctx.params, { eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true })})`,
    }),
  };
}

function lnShape(ctx: InferContext): number[] {
  const x = input(ctx);
  requireFloat(x);
  const dims = Math.max(1, num(ctx.params, 'normalized_dims'));
  if (dims > x.shape.length) throw new ShapeError(`normalized_dims is ${dims}, but its input has only ${x.shape.length} dimension(s) (shape ${fmt(x.shape)})`);
  const shape = x.shape.slice(x.shape.length - dims);
  if (shape.some((d) => d < 0)) throw new ShapeError('cannot normalise over the node axis of a graph batch; use normalized_dims 1');
  return shape;
}

export const normLayers: LayerDef[] = [
  batchNorm('BatchNorm1d'),
  batchNorm('BatchNorm2d'),
  {
    type: 'LayerNorm',
    category: 'Normalization',
    displayName: 'LayerNorm',
    description: 'Rescales the features of each sample (each time step) to zero mean and unit variance, then applies a learned scale and shift.',
    inputs: () => [port('x', 'tensor', { accepts: ANY })],
    outputs: oneOut(),
    params: {
      normalized_dims: int(1, 1, { help: 'How many trailing axes to normalise over' }),
      eps: float(1e-5, 0),
      elementwise_affine: flag(true),
    },
    infer(ctx) {
      lnShape(ctx);
      const x = input(ctx);
      return [{ ...x, shape: [...x.shape] }];
    },
    paramCount: (ctx) => (bool(ctx.params, 'elementwise_affine') ? 2 * numel(lnShape(ctx)) : 0),
    flops: (ctx) => 5 * numel(input(ctx).shape),
    build(ctx) {
      const m = new LayerNorm(lnShape(ctx), { eps: num(ctx.params, 'eps'), elementwiseAffine: bool(ctx.params, 'elementwise_affine') });
      return { module: m, run: (xs) => [m.forward(xs[0])] };
    },
    inspect: ['activations'],
    torch: (ctx) => {
      const s = lnShape(ctx);
      return { functional: false, module: `nn.LayerNorm(${s.length === 1 ? s[0] : `[${s.join(', ')}]`}${kwargs(ctx.params, { eps: 1e-5, elementwise_affine: true })})` };
    },
  },
  {
    type: 'Dropout',
    category: 'Regularization',
    displayName: 'Dropout',
    description: 'During training, zeroes each number with probability p (and scales the rest up) so the network cannot rely on any single neuron.',
    inputs: () => [port('x', 'tensor', { accepts: ANY })],
    outputs: oneOut(),
    params: { p: float(0.5, 0, 1, { step: 0.05 }) },
    validate: (p) => (num(p, 'p') < 0 || num(p, 'p') >= 1 ? [`p must be in [0, 1), got ${num(p, 'p')}`] : []),
    infer(ctx) {
      const x = input(ctx);
      requireFloat(x);
      return [{ ...x, shape: [...x.shape] }];
    },
    paramCount: () => 0,
    flops: (ctx) => numel(input(ctx).shape),
    build: (ctx) => ({ module: null, run: (xs, state) => [dropout(xs[0], num(ctx.params, 'p'), state.training, state.generator)] }),
    inspect: ['activations'],
    torch: (ctx) => ({ functional: false, module: `nn.Dropout(${num(ctx.params, 'p')})` }),
  },
];
