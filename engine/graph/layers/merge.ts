/** Merges: Add (residual connections), Multiply (gating), Concat (branches side by side). */
import type { Tensor } from '../../core/tensor.ts';
import { add, mul } from '../../ops/elementwise.ts';
import { cat } from '../../ops/layout.ts';
import type { InferContext, LayerDef, PortSpec, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { ANY, fmt, int, num, numel, oneOut, port } from './util.ts';

const ports = (p: Record<string, unknown>): PortSpec[] =>
  Array.from({ length: Math.max(2, Math.min(8, Number(p.inputs) || 2)) }, (_, i) => port(`in${i}`, 'tensor', { accepts: ANY }));

function connected(ctx: InferContext): { t: ValueType; name: string }[] {
  const res: { t: ValueType; name: string }[] = [];
  ctx.inputs.forEach((t, i) => {
    if (t) res.push({ t, name: ctx.sources?.[i] ?? `input ${i + 1}` });
  });
  if (res.length < 2) throw new ShapeError('needs at least two connected inputs');
  return res;
}

function elementwise(type: 'Add' | 'Multiply', description: string, op: (a: Tensor, b: Tensor) => Tensor, pyOp: string): LayerDef {
  return {
    type,
    category: 'Merge',
    displayName: type,
    description,
    inputs: (p) => ports(p),
    outputs: oneOut(),
    params: { inputs: int(2, 2, { max: 8, help: 'Number of inputs' }) },
    infer(ctx) {
      const ins = connected(ctx);
      const first = ins[0];
      for (const other of ins.slice(1)) {
        if (other.t.kind !== first.t.kind || other.t.shape.join() !== first.t.shape.join()) {
          const hint = first.t.shape.length === 3 && other.t.shape.length === 3 && first.t.shape[0] !== other.t.shape[0] ? '; a 1x1 Conv2d on one branch can match the channels' : '';
          throw new ShapeError(`all inputs must have the same shape: ${first.name} gives ${fmt(first.t.shape)}, ${other.name} gives ${fmt(other.t.shape)}${hint}`);
        }
      }
      return [{ ...first.t, shape: [...first.t.shape] }];
    },
    paramCount: () => 0,
    flops: (ctx) => numel(connected(ctx)[0].t.shape) * (connected(ctx).length - 1),
    build: () => ({ module: null, run: (xs) => [xs.reduce((a, b) => op(a, b))] }),
    inspect: ['activations'],
    torch: (ctx) => ({ functional: true, expr: ctx.args.join(` ${pyOp} `) }),
  };
}

export const mergeLayers: LayerDef[] = [
  elementwise('Add', 'Adds its inputs element by element, as in the skip connection of a residual block.', add, '+'),
  elementwise('Multiply', 'Multiplies its inputs element by element, for example to gate one branch by another.', mul, '*'),
  {
    type: 'Concat',
    category: 'Merge',
    displayName: 'Concatenate',
    description: 'Puts its inputs side by side along one axis (channels by default), as in an inception block.',
    inputs: (p) => ports(p),
    outputs: oneOut(),
    params: { inputs: int(2, 2, { max: 8, help: 'Number of inputs' }), dim: int(0, undefined, { help: 'Axis of the sample to join along (0: channels or features; -1: last)' }) },
    infer(ctx) {
      const ins = connected(ctx);
      const first = ins[0].t;
      const rank = first.shape.length;
      const d = num(ctx.params, 'dim');
      if (d >= rank || d < -rank) throw new ShapeError(`dim ${d} is out of range for inputs of shape ${fmt(first.shape)}`);
      const dim = d < 0 ? d + rank : d;
      let total = 0;
      for (const { t, name } of ins) {
        const same = t.kind === first.kind && t.shape.length === rank && t.shape.every((s, i) => i === dim || s === first.shape[i]);
        if (!same) throw new ShapeError(`inputs must match in every axis except axis ${dim}: ${ins[0].name} gives ${fmt(first.shape)}, ${name} gives ${fmt(t.shape)}`);
        total += t.shape[dim];
      }
      const shape = [...first.shape];
      shape[dim] = total;
      return [{ ...first, shape }];
    },
    paramCount: () => 0,
    flops: () => 0,
    build(ctx) {
      const rank = connected(ctx)[0].t.shape.length;
      const d = num(ctx.params, 'dim');
      const dim = (d < 0 ? d + rank : d) + 1;
      return { module: null, run: (xs) => [cat(xs, dim)] };
    },
    inspect: ['activations'],
    torch: (ctx) => {
      const rank = connected(ctx)[0].t.shape.length;
      const d = num(ctx.params, 'dim');
      return { functional: true, expr: `torch.cat([${ctx.args.join(', ')}], dim=${(d < 0 ? d + rank : d) + 1})` };
    },
  },
];
