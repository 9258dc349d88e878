/** Element-wise activation functions (and softmax over the last axis). Shapes pass through. */
import type { Tensor } from '../../core/tensor.ts';
import { gelu, leakyRelu, logSoftmax, prelu, relu, sigmoid, silu, softmax, softplus, tanh } from '../../ops/activation.ts';
import { sign, step } from '../../ops/elementwise.ts';
import { Module, parameter } from '../../nn/module.ts';
import type { BuiltLayer, InferContext, LayerDef, ParamSpec, ParamValues } from '../types.ts';
import { ShapeError } from '../types.ts';
import { ANY, choice, float, fmt, input, int, kwargs, num, numel, port, requireFloat, str } from './util.ts';

function passShape(ctx: InferContext) {
  const x = input(ctx);
  requireFloat(x);
  return [{ ...x, shape: [...x.shape] }];
}

function simple(
  type: string,
  displayName: string,
  description: string,
  fn: (x: Tensor, p: ParamValues) => Tensor,
  torch: (p: ParamValues) => string,
  opts: { params?: Record<string, ParamSpec>; flopsPerElement?: number; validate?: (ctx: InferContext) => void } = {},
): LayerDef {
  return {
    type,
    category: 'Activation',
    displayName,
    description,
    inputs: () => [port('x', 'tensor', { accepts: ANY })],
    outputs: () => [port('y')],
    params: opts.params ?? {},
    infer(ctx) {
      opts.validate?.(ctx);
      return passShape(ctx);
    },
    paramCount: () => 0,
    flops: (ctx) => numel(input(ctx).shape) * (opts.flopsPerElement ?? 1),
    build: (ctx) => ({ module: null, run: (xs) => [fn(xs[0], ctx.params)] }),
    inspect: ['activations'],
    torch: (ctx) => ({ functional: false, module: torch(ctx.params) }),
  };
}

/** Softmax-like layers act on one axis; dim counts per-sample axes (-1 = last). */
function checkDim(ctx: InferContext): void {
  const rank = input(ctx).shape.length;
  const dim = num(ctx.params, 'dim');
  if (dim >= rank || dim < -rank) throw new ShapeError(`dim ${dim} is out of range for its input of shape ${fmt(input(ctx).shape)}`);
}
/** Per-sample dim -> batched dim. */
const batchedDim = (dim: number) => (dim < 0 ? dim : dim + 1);

class PReLU extends Module {
  readonly weight: Tensor;
  constructor(numParameters: number, init: number) {
    super();
    this.weight = parameter(new Float32Array(numParameters).fill(init), [numParameters]);
    this.registerParameter('weight', this.weight);
  }
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }
}

/** PReLU: one learned slope per channel (axis 1 of the batch), or one shared. */
const preluLayer: LayerDef = {
  type: 'PReLU',
  category: 'Activation',
  displayName: 'PReLU',
  description: 'Like LeakyReLU, but the slope for negative inputs is learned.',
  inputs: () => [port('x', 'tensor', { accepts: ANY })],
  outputs: () => [port('y')],
  params: { num_parameters: int(1, 1, { help: '1: one shared slope; or the number of channels' }), init: float(0.25) },
  infer(ctx) {
    const x = input(ctx);
    const n = num(ctx.params, 'num_parameters');
    if (n !== 1 && x.shape[0] !== n) throw new ShapeError(`num_parameters is ${n}, but its input has ${x.shape[0]} channels (shape ${fmt(x.shape)}); use 1 or ${x.shape[0]}`);
    return passShape(ctx);
  },
  paramCount: (ctx) => num(ctx.params, 'num_parameters'),
  flops: (ctx) => 2 * numel(input(ctx).shape),
  build(ctx): BuiltLayer {
    const m = new PReLU(num(ctx.params, 'num_parameters'), num(ctx.params, 'init'));
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations'],
  torch: (ctx) => ({ functional: false, module: `nn.PReLU(${kwargs(ctx.params, { num_parameters: 1, init: 0.25 }).slice(2)})` }),
};

export const activationLayers: LayerDef[] = [
  simple('Step', 'Step', 'Outputs 1 where the input is positive and 0 elsewhere, like the first artificial neurons.', (x) => step(x), () => 'Step()  # torch: (x > 0).float()'),
  simple('Sign', 'Sign', 'Outputs +1 for positive inputs, -1 for negative ones and 0 for zero.', (x) => sign(x), () => 'Sign()  # torch: torch.sign(x)'),
  simple('Sigmoid', 'Sigmoid', 'Squashes any number into the range 0 to 1.', (x) => sigmoid(x), () => 'nn.Sigmoid()', { flopsPerElement: 4 }),
  simple('Tanh', 'Tanh', 'Squashes any number into the range -1 to 1, centred on zero.', (x) => tanh(x), () => 'nn.Tanh()', { flopsPerElement: 4 }),
  simple('ReLU', 'ReLU', 'Keeps positive numbers and replaces negative ones with zero.', (x) => relu(x), () => 'nn.ReLU()'),
  simple(
    'LeakyReLU',
    'LeakyReLU',
    'Like ReLU, but negative numbers are multiplied by a small slope instead of becoming zero.',
    (x, p) => leakyRelu(x, num(p, 'negative_slope')),
    (p) => `nn.LeakyReLU(${num(p, 'negative_slope')})`,
    { params: { negative_slope: float(0.01, 0) } },
  ),
  preluLayer,
  simple('SiLU', 'SiLU (swish)', 'Multiplies each input by its sigmoid: a smooth ReLU.', (x) => silu(x), () => 'nn.SiLU()', { flopsPerElement: 5 }),
  simple(
    'Softplus',
    'Softplus',
    'A smooth version of ReLU: log(1 + e^x).',
    (x, p) => softplus(x, num(p, 'beta'), num(p, 'threshold')),
    (p) => `nn.Softplus(${kwargs(p, { beta: 1, threshold: 20 }).slice(2)})`,
    { params: { beta: float(1, 0), threshold: float(20, 0) }, flopsPerElement: 4 },
  ),
  simple(
    'GELU',
    'GELU',
    'A smooth ReLU used in transformers: the input times the chance a standard normal is below it.',
    (x, p) => gelu(x, str(p, 'approximate') as 'none' | 'tanh'),
    (p) => `nn.GELU(${str(p, 'approximate') === 'none' ? '' : "approximate='tanh'"})`,
    { params: { approximate: choice('none', ['none', 'tanh']) }, flopsPerElement: 8 },
  ),
  simple(
    'Softmax',
    'Softmax',
    'Turns scores into probabilities that are positive and add up to 1.',
    (x, p) => softmax(x, batchedDim(num(p, 'dim'))),
    (p) => `nn.Softmax(dim=${batchedDim(num(p, 'dim'))})`,
    { params: { dim: int(-1, undefined, { help: 'Axis of the sample (-1: last)' }) }, flopsPerElement: 5, validate: checkDim },
  ),
  simple(
    'LogSoftmax',
    'LogSoftmax',
    'The logarithm of softmax probabilities, computed in a numerically stable way.',
    (x, p) => logSoftmax(x, batchedDim(num(p, 'dim'))),
    (p) => `nn.LogSoftmax(dim=${batchedDim(num(p, 'dim'))})`,
    { params: { dim: int(-1, undefined, { help: 'Axis of the sample (-1: last)' }) }, flopsPerElement: 5, validate: checkDim },
  ),
];

