/**
 * The float32 SIMD kernels of the elementwise add, sub, mul and div give what the plain loop
 * gives (float64 operation of the two float32 operands, stored as float32): bit for bit on
 * finite values, infinities and signed zeros, NaN where the loop gives NaN; on lengths that
 * leave partial SIMD groups and span several chunks, and through the ops.
 */
import { describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { add, div, mul, sub } from '../../../ops/elementwise.ts';
import { binarySimd, type BinarySimdOp, setPoolSimd } from '../pool-simd.ts';
import '../register.ts';

const gen = new Generator(5);
const specials = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, 3.4e38, -3.4e38, 1, -1];
const plain: Record<BinarySimdOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
};

/** Values of mixed magnitudes (so that sums and products round), specials every `every` elements. */
function values(n: number, every: number): Float32Array {
  const v = Float32Array.from({ length: n }, () => gen.uniform(-1, 1) * 2 ** Math.round(gen.uniform(-30, 30)));
  for (let i = 0, k = Math.floor(gen.uniform(0, specials.length)); i < n; i += every, k++) v[i] = specials[k % specials.length];
  return v;
}

/** Indices where r differs from the plain loop's result (NaN matching NaN). */
function mismatches(op: BinarySimdOp, a: Float32Array, b: Float32Array, r: Float32Array): number[] {
  const want = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) want[i] = plain[op](a[i], b[i]);
  const wantBits = new Int32Array(want.buffer);
  const gotBits = new Int32Array(r.buffer, r.byteOffset, r.length);
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(want[i]) ? !Number.isNaN(r[i]) : wantBits[i] !== gotBits[i]) bad.push(i);
  }
  return bad;
}

describe('float32 SIMD binary kernels', () => {
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    for (const n of [256, 257, 1003, (1 << 14) * 2 + 7]) {
      it(`${op} on ${n} values matches the plain loop`, () => {
        const a = values(n, 7);
        const b = values(n, 5);
        const r = new Float32Array(n);
        expect(binarySimd(op, a, b, r)).toBe(true);
        expect(mismatches(op, a, b, r)).toEqual([]);
        // Every special meets every special.
        const sa = Float32Array.from(specials.flatMap((x) => specials.map(() => x)));
        const sb = Float32Array.from(specials.flatMap(() => specials));
        const pad = (v: Float32Array) => Float32Array.from({ length: 256 + v.length }, (_, i) => (i < v.length ? v[i] : 1));
        const rs = new Float32Array(256 + sa.length);
        expect(binarySimd(op, pad(sa), pad(sb), rs)).toBe(true);
        expect(mismatches(op, pad(sa), pad(sb), rs)).toEqual([]);
      });
    }
  }

  it('leaves short arrays to the plain loop', () => {
    expect(binarySimd('add', new Float32Array(100), new Float32Array(100), new Float32Array(100))).toBe(false);
  });

  it('gives the ops the same values with the kernels on and off', () => {
    const n = 64 * 28 * 64;
    const a = fromValues(values(n, 11), [64, 28, 64]);
    const b = fromValues(values(n, 13), [64, 28, 64]);
    for (const f of [add, sub, mul, div]) {
      const on = f(a, b).dataSync();
      const was = setPoolSimd(false);
      const off = f(a, b).dataSync();
      setPoolSimd(was);
      expect(Array.from(on)).toEqual(Array.from(off));
    }
  });
});
