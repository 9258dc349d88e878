import { describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import { reluDropout } from '../../../ops/attention.ts';
import { relu } from '../../../ops/activation.ts';
import { dropout } from '../../../ops/dropout.ts';
import { randn } from '../../../ops/creation.ts';
import { mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import '../register.ts';

const gen = new Generator(31);

/** Values from N(0, 1) with NaN, +-Infinity and +-0 mixed in. */
function values(n: number): Float32Array {
  const v = randn([n], 0, 1, gen).dataSync() as Float32Array;
  const special = [Number.NaN, Infinity, -Infinity, 0, -0];
  for (let i = 0; i < n; i += 7) v[i] = special[(i / 7) % special.length];
  return Float32Array.from(v);
}

function sameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect(`${i}: ${a[i]}`).toBe(`${i}: ${b[i]}`);
}

describe('ReluDropout kernels (SIMD relu where the size allows) against relu then dropout', () => {
  // Small sizes take the plain loops, larger ones the SIMD relu, over one and several chunks.
  for (const shape of [[3, 7, 5], [9, 37], [5, 4001]]) {
    for (const p of [0.1, 0.5]) {
      it(`shape [${shape}], p ${p}: same outputs and gradients bit for bit, NaN and infinities included`, () => {
        tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = fromValues(values(n), shape);
          const proj = fromValues(values(n).map((v) => (Number.isFinite(v) ? v : 0.5)), shape);
          const run = (fused: boolean) => {
            x.requiresGrad_();
            const y = fused ? reluDropout(x, p, true, new Generator(4)) : dropout(relu(x), p, true, new Generator(4));
            sum(mul(y, proj)).backward();
            const g = x.grad!;
            x.grad = null;
            return [y.dataSync() as Float32Array, g.dataSync() as Float32Array];
          };
          const [a, ga] = run(true);
          const [b, gb] = run(false);
          sameBits(a, b);
          sameBits(ga, gb);
          expect(a.some((v) => Number.isNaN(v))).toBe(true);
          expect(a.some((v) => v === 0) && a.some((v) => v > 0)).toBe(true);
        });
      });
    }
  }
});
