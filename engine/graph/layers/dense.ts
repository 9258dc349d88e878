/** Fully-connected layer. */
import { Linear } from '../../nn/linear.ts';
import type { LayerDef } from '../types.ts';
import { ShapeError } from '../types.ts';
import { bool, features, flag, input, int, num, numel, oneOut, port } from './util.ts';

export const linearLayer: LayerDef = {
  type: 'Linear',
  category: 'Dense',
  displayName: 'Linear (dense)',
  description: 'Connects every input number to every output neuron with a learned weight, plus a bias.',
  inputs: () => [port('x', 'tensor', { accepts: ['sequence'] })],
  outputs: oneOut(),
  params: {
    out_features: int(10, 1, { label: 'Output features' }),
    in_features: int(0, 0, { label: 'Input features', help: '0: taken from the input' }),
    bias: flag(true),
  },
  infer(ctx) {
    const f = features(ctx, 'Linear');
    const expected = num(ctx.params, 'in_features');
    if (expected > 0 && expected !== f) throw new ShapeError(`expects ${expected} input features, its input has ${f}`);
    const x = input(ctx);
    const out = num(ctx.params, 'out_features');
    return [x.kind === 'sequence' ? { kind: 'sequence', shape: [x.shape[0], out], dtype: 'float32' } : { kind: 'tensor', shape: [out], dtype: 'float32' }];
  },
  paramCount(ctx) {
    const f = features(ctx, 'Linear');
    const out = num(ctx.params, 'out_features');
    return f * out + (bool(ctx.params, 'bias') ? out : 0);
  },
  flops(ctx) {
    const x = input(ctx);
    const rows = numel(x.shape) / x.shape[x.shape.length - 1];
    return 2 * rows * x.shape[x.shape.length - 1] * num(ctx.params, 'out_features');
  },
  build(ctx) {
    const m = new Linear(features(ctx, 'Linear'), num(ctx.params, 'out_features'), { bias: bool(ctx.params, 'bias'), generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch: (ctx) => ({
    functional: false,
    module: `nn.Linear(${features(ctx, 'Linear')}, ${num(ctx.params, 'out_features')}${bool(ctx.params, 'bias') ? '' : ', bias=False'})`,
  }),
};
