/**
 * The CPU BroadcastTo kernel (block copies of the trailing dimensions taken whole, fills of
 * trailing broadcast ones) against the definition, element by element: out[i] is x at i's
 * index with each broadcast dimension's index set to 0. Float32 and int32, every pattern of
 * broadcast dimensions up to rank 4, and leading dimensions added.
 */
import { describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { expand } from '../../../ops/layout.ts';
import '../register.ts';

/** The definition, one element at a time. */
function reference(x: ArrayLike<number>, xShape: number[], shape: number[]): number[] {
  const offset = shape.length - xShape.length;
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let rem = i;
    const index = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    let src = 0;
    for (let d = 0; d < xShape.length; d++) src = src * xShape[d] + (xShape[d] === 1 ? 0 : index[d + offset]);
    out.push(x[src]);
  }
  return out;
}

describe('BroadcastTo on the CPU', () => {
  const target = [3, 2, 4, 5];
  it('matches the definition for every pattern of broadcast dimensions, with leading dimensions added', () => {
    let cases = 0;
    for (let lead = 0; lead <= 2; lead++) {
      const rankX = target.length - lead;
      for (let mask = 0; mask < 1 << rankX; mask++) {
        const xShape = target.slice(lead).map((d, i) => ((mask >> i) & 1 ? 1 : d));
        const size = xShape.reduce((a, b) => a * b, 1);
        for (const dtype of ['float32', 'int32'] as const) {
          const values = dtype === 'float32' ? Float32Array.from({ length: size }, (_, i) => i * 0.5 - 3) : Int32Array.from({ length: size }, (_, i) => i * 7 - 20);
          const y = expand(fromValues(values, xShape), target);
          expect(y.dtype).toBe(dtype);
          expect(Array.from(y.dataSync())).toEqual(reference(values, xShape, target));
          cases++;
        }
      }
    }
    expect(cases).toBe(2 * (16 + 8 + 4));
  });

  it('broadcasts a scalar and a one-element tensor to a whole shape', () => {
    expect(Array.from(expand(fromValues(new Float32Array([2.5]), [1, 1]), [2, 3]).dataSync())).toEqual([2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
    expect(Array.from(expand(fromValues(new Float32Array([-1]), []), [4]).dataSync())).toEqual([-1, -1, -1, -1]);
  });
});
