import { describe, expect, it } from 'vitest';
import { fromValues, runKernel } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import '../register.ts';

const gen = new Generator(11);
const rand = (n: number) => Float32Array.from({ length: n }, () => gen.uniform(-1, 1));

describe('SGDStep kernel with momentum', () => {
  // Sizes below and above the bulk path's threshold, with and without a ragged tail.
  for (const n of [7, 1000, 1024, 5003, 109386]) {
    it(`matches the update formula (float64 arithmetic, float32 storage) bit for bit over ${n} values (several steps, dampening)`, () => {
      const p0 = rand(n);
      const grads = [rand(n), rand(n), rand(n)];
      const [lr, momentum, dampening] = [0.05, 0.9, 0.25];
      // Reference: the formula with each stored value rounded to float32, as the kernel stores.
      const p = Float32Array.from(p0);
      const b = new Float32Array(n);
      grads.forEach((g, step) => {
        for (let i = 0; i < n; i++) {
          const v = step === 0 ? g[i] : momentum * b[i] + (1 - dampening) * g[i];
          b[i] = v;
          p[i] -= lr * v;
        }
      });
      const param = fromValues(Float32Array.from(p0), [n]);
      const buf = fromValues(new Float32Array(n), [n]);
      grads.forEach((g, step) => {
        runKernel('SGDStep', [param, fromValues(g, [n]), buf], { lr, momentum, dampening, nesterov: false, weightDecay: 0, firstStep: step === 0 });
      });
      const got = param.dataSync();
      const gotBuf = buf.dataSync();
      for (let i = 0; i < n; i++) {
        if (!Object.is(got[i], p[i]) || !Object.is(gotBuf[i], b[i])) {
          expect({ i, param: got[i], buffer: gotBuf[i] }).toEqual({ i, param: p[i], buffer: b[i] });
        }
      }
      expect(got[n - 1]).not.toBe(p0[n - 1]);
    });
  }
});
