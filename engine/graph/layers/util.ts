/** Small helpers shared by the layer definitions: parameter access, ports, shape text. */
import type { InferContext, ParamSpec, ParamValues, PortKind, PortSpec, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';

export function num(params: ParamValues, key: string): number {
  const v = params[key];
  if (typeof v !== 'number') throw new ShapeError(`parameter ${key} must be a number`);
  return v;
}

export function bool(params: ParamValues, key: string): boolean {
  return params[key] === true;
}

export function str(params: ParamValues, key: string): string {
  const v = params[key];
  return typeof v === 'string' ? v : String(v);
}

export function ints(params: ParamValues, key: string): number[] {
  const v = params[key];
  if (Array.isArray(v)) return v;
  if (typeof v === 'number') return [v];
  throw new ShapeError(`parameter ${key} must be a list of integers`);
}

/** A kernel-like parameter given as one number or [h, w]. */
export function pair(params: ParamValues, key: string): [number, number] {
  const v = ints(params, key);
  return v.length === 1 ? [v[0], v[0]] : [v[0], v[1]];
}

/** "16x5x5"; symbolic dims (graph node counts, variable lengths) print as "n". */
export function fmt(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar' : shape.map((d) => (d < 0 ? 'n' : String(d))).join('x');
}

/** Element count with symbolic dims counted once (graph batches: per node). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d < 0 ? 1 : d;
  return n;
}

export const tensor = (shape: number[], dtype: ValueType['dtype'] = 'float32'): ValueType => ({ kind: 'tensor', shape, dtype });
export const sequence = (shape: number[], dtype: ValueType['dtype'] = 'float32'): ValueType => ({ kind: 'sequence', shape, dtype });
export const graphBatch = (features: number): ValueType => ({ kind: 'graph', shape: [-1, features], dtype: 'float32' });

export const ANY: readonly PortKind[] = ['tensor', 'sequence', 'graph'];

export function port(name: string, kind: PortKind = 'tensor', extra: Partial<PortSpec> = {}): PortSpec {
  return { name, kind, ...extra };
}

/** One input "x" and one output "y", for the many single-input layers. */
export const oneIn = (kind: PortKind = 'tensor', accepts?: readonly PortKind[]) => (): PortSpec[] => [port('x', kind, accepts ? { accepts } : {})];
export const oneOut = (kind: PortKind = 'tensor') => (): PortSpec[] => [port('y', kind)];

/** The connected input at `i`; inference never runs with required inputs missing. */
export function input(ctx: InferContext, i = 0): ValueType {
  const t = ctx.inputs[i];
  if (!t) throw new ShapeError('an input is not connected');
  return t;
}

export function sourceName(ctx: InferContext, i = 0): string {
  return ctx.sources?.[i] ?? 'the previous layer';
}

export function kindName(kind: PortKind): string {
  return kind === 'tensor' ? 'a tensor' : kind === 'sequence' ? 'a sequence' : 'a graph batch';
}

/** Requires a float input (token ids need an Embedding first). */
export function requireFloat(t: ValueType, what = 'this layer'): void {
  if (t.dtype === 'int32') throw new ShapeError(`${what} needs float values, its input holds integer ids (shape ${fmt(t.shape)}); add an Embedding first`);
}

/** Requires a rank-1 tensor or a [T, F] sequence; returns the feature count. */
export function features(ctx: InferContext, layer: string, i = 0): number {
  const t = input(ctx, i);
  requireFloat(t);
  if (t.kind === 'tensor' && t.shape.length !== 1) {
    throw new ShapeError(`needs a flat input; add Flatten after ${sourceName(ctx, i)} (shape ${fmt(t.shape)})`);
  }
  if (t.kind === 'sequence' && t.shape.length !== 2) throw new ShapeError(`${layer} needs a sequence of vectors [time, features], got ${fmt(t.shape)}`);
  return t.shape[t.shape.length - 1];
}

/** Image-like input [C, H, W]; returns it with a message naming the layer otherwise. */
export function image(ctx: InferContext, i = 0): [number, number, number] {
  const t = input(ctx, i);
  requireFloat(t);
  if (t.kind !== 'tensor' || t.shape.length !== 3) {
    throw new ShapeError(`needs an image-shaped input [channels, height, width], its input from ${sourceName(ctx, i)} has shape ${fmt(t.shape)}${t.kind === 'tensor' && t.shape.length === 1 ? '; add Unflatten (Reshape) first' : ''}`);
  }
  return [t.shape[0], t.shape[1], t.shape[2]];
}

export function int(dflt: number, min?: number, extra: Partial<ParamSpec> = {}): ParamSpec {
  return { kind: 'int', default: dflt, ...(min === undefined ? {} : { min }), ...extra } as ParamSpec;
}

export function float(dflt: number, min?: number, max?: number, extra: Partial<ParamSpec> = {}): ParamSpec {
  return { kind: 'float', default: dflt, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), ...extra } as ParamSpec;
}

export function flag(dflt: boolean, help?: string): ParamSpec {
  return { kind: 'bool', default: dflt, ...(help ? { help } : {}) };
}

export function choice(dflt: string, options: readonly string[], help?: string): ParamSpec {
  return { kind: 'choice', default: dflt, options, ...(help ? { help } : {}) };
}

/** Python literal for a parameter value. */
export function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return v.length === 1 ? py(v[0]) : `(${v.join(', ')})`;
  return String(v);
}

/** Keyword arguments that differ from the defaults given. */
export function kwargs(params: ParamValues, defaults: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, d] of Object.entries(defaults)) {
    const v = params[k];
    if (v === undefined) continue;
    const same = Array.isArray(v) ? (Array.isArray(d) ? v.join() === d.join() : v.every((x) => x === d)) : v === d;
    if (!same) parts.push(`${k}=${py(v)}`);
  }
  return parts.length ? `, ${parts.join(', ')}` : '';
}
