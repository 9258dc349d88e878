/**
 * Sums over leading or middle dims (rows of `inner` values added one after another in float32)
 * give the same bits with the SIMD row adds as with the plain loop: over mixed magnitudes,
 * signed zeros and infinities, with column counts that leave a partial group of 4, and
 * through sumTo (the bias gradient of a linear layer).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { sumTo } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { setAttentionWasm } from '../attention-wasm.ts';
import '../register.ts';

const gen = new Generator(9);
const specials = [-0, 0, Infinity, -Infinity, 1e-45, 3.4e38, -3.4e38];

function values(n: number): Float32Array {
  const v = Float32Array.from({ length: n }, () => gen.uniform(-1, 1) * 2 ** Math.round(gen.uniform(-20, 20)));
  for (let i = 0; i < n; i += 97) v[i] = specials[(i / 97) % specials.length];
  return v;
}

const bits = (v: Float32Array) => Array.from(new Int32Array(Float32Array.from(v).buffer));

describe('sums over leading rows', () => {
  afterAll(() => setAttentionWasm(true));
  const cases: [number[], number[]][] = [
    [[1792, 64], [0]],
    [[64, 28, 64], [1]],
    [[3, 50, 7, 9], [1, 2]],
    [[40, 65], [0]],
    [[2, 300, 6], [0, 1]],
  ];
  for (const [shape, dims] of cases) {
    it(`sum over ${JSON.stringify(dims)} of ${shape.join('x')}: the SIMD row adds give the plain loop's bits`, () => {
      const x = fromValues(values(shape.reduce((a, b) => a * b, 1)), shape);
      expect(setAttentionWasm(true)).toBe(true);
      const on = sum(x, dims).dataSync() as Float32Array;
      setAttentionWasm(false);
      const off = sum(x, dims).dataSync() as Float32Array;
      setAttentionWasm(true);
      expect(bits(on)).toEqual(bits(off));
    });
  }

  it('gives a linear layer bias gradient (sumTo) the same bits', () => {
    const dy = fromValues(values(256 * 130), [256, 130]);
    const on = sumTo(dy, [130]).dataSync() as Float32Array;
    setAttentionWasm(false);
    const off = sumTo(dy, [130]).dataSync() as Float32Array;
    setAttentionWasm(true);
    expect(bits(on)).toEqual(bits(off));
  });
});
