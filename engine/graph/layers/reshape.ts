/** Reshaping: Flatten, Reshape, Unflatten, and sequence-to-vector reductions. */
import type { Tensor } from '../../core/tensor.ts';
import { flatten, narrow, reshape, squeeze } from '../../ops/layout.ts';
import { mean } from '../../ops/reduce.ts';
import type { InferContext, LayerDef } from '../types.ts';
import { ShapeError } from '../types.ts';
import { fmt, input, ints, numel, oneOut, port, requireFloat, sourceName } from './util.ts';

/** Resolves a target shape with at most one -1 against an element count. */
export function resolveShape(total: number, target: readonly number[], from: readonly number[]): number[] {
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`shape ${fmt(target)} may contain at most one -1`);
  if (target.some((d) => d === 0 || d < -1)) throw new ShapeError(`every dimension of shape must be at least 1 (or -1 once), got [${target.join(', ')}]`);
  const known = target.reduce((n, d) => (d === -1 ? n : n * d), 1);
  if (unknown) {
    if (total % known !== 0) throw new ShapeError(`cannot reshape ${fmt(from)} (${total} values) into [${target.join(', ')}]: ${total} is not divisible by ${known}`);
    return target.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) throw new ShapeError(`cannot reshape ${fmt(from)} (${total} values) into ${fmt(target)} (${known} values)`);
  return [...target];
}

function concrete(ctx: InferContext): { shape: number[]; total: number } {
  const x = input(ctx);
  if (x.kind === 'graph') throw new ShapeError(`cannot reshape a graph batch from ${sourceName(ctx)}; add a GraphReadout first`);
  return { shape: x.shape, total: numel(x.shape) };
}

const reshapeTo = (shape: number[]) => (xs: Tensor[]) => [reshape(xs[0], [xs[0].shape[0], ...shape])];

export const reshapeLayers: LayerDef[] = [
  {
    type: 'Flatten',
    category: 'Reshape',
    displayName: 'Flatten',
    description: 'Lays out all the numbers of each sample in one long row, for example before a Linear layer.',
    inputs: () => [port('x', 'tensor', { accepts: ['sequence'] })],
    outputs: oneOut(),
    params: {},
    infer(ctx) {
      const { total } = concrete(ctx);
      return [{ kind: 'tensor', shape: [total], dtype: input(ctx).dtype }];
    },
    paramCount: () => 0,
    flops: () => 0,
    build: () => ({ module: null, run: (xs) => [flatten(xs[0], 1)] }),
    inspect: [],
    torch: () => ({ functional: false, module: 'nn.Flatten()' }),
  },
  {
    type: 'Reshape',
    category: 'Reshape',
    displayName: 'Reshape',
    description: 'Rearranges the numbers of each sample into a new shape with the same number of values (-1 fills in one size).',
    inputs: () => [port('x', 'tensor', { accepts: ['sequence'] })],
    outputs: oneOut(),
    params: {
      shape: { kind: 'ints', default: [-1], help: 'Per-sample shape; one entry may be -1' },
      as_sequence: { kind: 'bool', default: false, help: 'Treat the result as a sequence [time, features]' },
    },
    infer(ctx) {
      const { shape, total } = concrete(ctx);
      const out = resolveShape(total, ints(ctx.params, 'shape'), shape);
      if (ctx.params.as_sequence === true && out.length !== 2) throw new ShapeError(`a sequence needs a shape [time, features], got ${fmt(out)}`);
      return [{ kind: ctx.params.as_sequence === true ? 'sequence' : 'tensor', shape: out, dtype: input(ctx).dtype }];
    },
    paramCount: () => 0,
    flops: () => 0,
    build(ctx) {
      const { shape, total } = concrete(ctx);
      return { module: null, run: reshapeTo(resolveShape(total, ints(ctx.params, 'shape'), shape)) };
    },
    inspect: [],
    torch: (ctx) => ({ functional: true, expr: `${ctx.args[0]}.reshape(${ctx.args[0]}.shape[0], ${ints(ctx.params, 'shape').join(', ')})` }),
  },
  {
    type: 'Unflatten',
    category: 'Reshape',
    displayName: 'Unflatten',
    description: 'Turns a flat row of numbers back into a shape such as channels x height x width, for example in a decoder.',
    inputs: () => [port('x')],
    outputs: oneOut(),
    params: { sizes: { kind: 'ints', default: [1, 28, 28], min: 1, help: 'Per-sample shape to unflatten into' } },
    infer(ctx) {
      const x = input(ctx);
      if (x.kind !== 'tensor' || x.shape.length !== 1) throw new ShapeError(`needs a flat input, its input from ${sourceName(ctx)} has shape ${fmt(x.shape)}`);
      const sizes = ints(ctx.params, 'sizes');
      if (numel(sizes) !== x.shape[0]) throw new ShapeError(`cannot unflatten ${x.shape[0]} values into ${fmt(sizes)} (${numel(sizes)} values)`);
      return [{ kind: 'tensor', shape: [...sizes], dtype: x.dtype }];
    },
    paramCount: () => 0,
    flops: () => 0,
    build: (ctx) => ({ module: null, run: reshapeTo(ints(ctx.params, 'sizes')) }),
    inspect: [],
    torch: (ctx) => {
      const sizes = ints(ctx.params, 'sizes');
      return { functional: false, module: `nn.Unflatten(1, (${sizes.join(', ')}${sizes.length === 1 ? ',' : ''}))` };
    },
  },
  {
    type: 'SelectLast',
    category: 'Reshape',
    displayName: 'Last time step',
    description: 'Keeps only the last time step of a sequence, for example to classify a whole sequence from an RNN output.',
    inputs: () => [port('x', 'sequence')],
    outputs: oneOut(),
    params: {},
    infer(ctx) {
      const x = seqIn(ctx);
      return [{ kind: 'tensor', shape: x.shape.slice(1), dtype: x.dtype }];
    },
    paramCount: () => 0,
    flops: () => 0,
    build: () => ({ module: null, run: (xs) => [squeeze(narrow(xs[0], 1, xs[0].shape[1] - 1, 1), 1)] }),
    inspect: [],
    torch: (ctx) => ({ functional: true, expr: `${ctx.args[0]}[:, -1]` }),
  },
  {
    type: 'MeanPool',
    category: 'Reshape',
    displayName: 'Mean over time',
    description: 'Averages a sequence over its time steps into one vector.',
    inputs: () => [port('x', 'sequence')],
    outputs: oneOut(),
    params: {},
    infer(ctx) {
      const x = seqIn(ctx);
      requireFloat(x);
      return [{ kind: 'tensor', shape: x.shape.slice(1), dtype: x.dtype }];
    },
    paramCount: () => 0,
    flops: (ctx) => numel(input(ctx).shape),
    build: () => ({ module: null, run: (xs) => [mean(xs[0], 1)] }),
    inspect: [],
    torch: (ctx) => ({ functional: true, expr: `${ctx.args[0]}.mean(dim=1)` }),
  },
];

function seqIn(ctx: InferContext) {
  const x = input(ctx);
  if (x.kind !== 'sequence') throw new ShapeError(`needs a sequence, its input from ${sourceName(ctx)} is a ${x.kind} of shape ${fmt(x.shape)}`);
  return x;
}
