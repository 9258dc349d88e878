/** The VAE's reparameterisation: z = mu + exp(logvar / 2) * eps, with the KL term as a second output. */
import { randn } from '../../ops/creation.ts';
import { add, exp, mul, square, sub } from '../../ops/elementwise.ts';
import { sum } from '../../ops/reduce.ts';
import type { LayerDef } from '../types.ts';
import { ShapeError } from '../types.ts';
import { flag, fmt, input, numel, port, requireFloat, sourceName } from './util.ts';

export const reparameterizeLayer: LayerDef = {
  type: 'Reparameterize',
  category: 'Generative',
  displayName: 'Reparameterize (VAE)',
  description: 'Samples a latent code z from N(mu, exp(logvar)) in a way gradients can flow through; also gives the KL divergence to N(0, 1).',
  inputs: () => [port('mu'), port('logvar')],
  outputs: () => [port('z'), port('kl', 'tensor', { label: 'KL per sample' })],
  params: { sample_in_eval: flag(false, 'Sample also when evaluating (otherwise z = mu)') },
  infer(ctx) {
    const mu = input(ctx, 0);
    const lv = input(ctx, 1);
    requireFloat(mu);
    if (mu.kind !== 'tensor' || mu.shape.length !== 1) throw new ShapeError(`mu must be a flat vector, ${sourceName(ctx, 0)} gives ${fmt(mu.shape)}`);
    if (mu.shape.join() !== lv.shape.join()) throw new ShapeError(`mu and logvar must have the same shape: ${sourceName(ctx, 0)} gives ${fmt(mu.shape)}, ${sourceName(ctx, 1)} gives ${fmt(lv.shape)}`);
    return [
      { kind: 'tensor', shape: [...mu.shape], dtype: 'float32' },
      { kind: 'tensor', shape: [], dtype: 'float32' },
    ];
  },
  paramCount: () => 0,
  flops: (ctx) => 8 * numel(input(ctx).shape),
  build: (ctx) => ({
    module: null,
    run([mu, logvar], state) {
      const sample = state.training || ctx.params.sample_in_eval === true;
      const z = sample ? add(mu, mul(exp(mul(logvar, 0.5)), randn(mu.shape, 0, 1, state.generator))) : mu;
      // KL(N(mu, sigma^2) || N(0, 1)) per sample = -1/2 sum(1 + logvar - mu^2 - e^logvar)
      const kl = mul(sum(sub(add(logvar, 1), add(square(mu), exp(logvar))), 1), -0.5);
      return [z, kl];
    },
  }),
  inspect: ['activations'],
  torch: (ctx) => ({ functional: true, expr: `reparameterize(${ctx.args.join(', ')})` }),
};
