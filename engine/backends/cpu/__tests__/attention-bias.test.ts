import { afterAll, describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { transformerLinear } from '../../../ops/attention.ts';
import { randn } from '../../../ops/creation.ts';
import { mul } from '../../../ops/elementwise.ts';
import { linear } from '../../../ops/matmul.ts';
import { sum } from '../../../ops/reduce.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import { setAttentionWasm } from '../attention-wasm.ts';
import '../register.ts';

const gen = new Generator(17);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

afterAll(() => {
  setAttentionWasm(true);
});

/** Output and the gradients of x, weight and bias for a weighted sum of the output. */
function grads(fn: (x: Tensor, w: Tensor, b: Tensor) => Tensor, x: Tensor, w: Tensor, b: Tensor, proj: Tensor): Float32Array[] {
  const leaves = [x, w, b];
  leaves.forEach((t) => t.requiresGrad_());
  const y = fn(x, w, b);
  sum(mul(y, proj)).backward();
  const res = [y, ...leaves.map((t) => t.grad!)].map((t) => t.dataSync() as Float32Array);
  leaves.forEach((t) => {
    t.grad = null;
  });
  return res;
}

describe('transformerLinear: linear with its bias gradient from the ColumnSums kernel', () => {
  // Column counts below, at and past multiples of 4 (SIMD part plus plain remainder); row
  // counts over one and several of the module's chunks.
  for (const [lead, inF, outF] of [[[3], 5, 3], [[2, 7], 6, 8], [[4, 9], 4, 13], [[1500], 3, 192], [[2, 2], 2, 1]] as const) {
    for (const simd of [true, false]) {
      it(`x [${lead}, ${inF}] -> ${outF} features${simd ? '' : ', module off'}: same values as linear, bit for bit`, () => {
        setAttentionWasm(simd);
        tidy(() => {
          const x = r(...lead, inF);
          const w = r(outF, inF);
          const b = r(outF);
          const proj = r(...lead, outF);
          const a = grads(transformerLinear, x, w, b, proj);
          const c = grads(linear, x, w, b, proj);
          ['output', 'dx', 'dweight', 'dbias'].forEach((name, i) => {
            expect(a[i].length, name).toBe(c[i].length);
            for (let j = 0; j < a[i].length; j++) if (a[i][j] !== c[i][j]) expect(`${name}[${j}] = ${a[i][j]}`).toBe(`${name}[${j}] = ${c[i][j]}`);
          });
        });
        setAttentionWasm(true);
      });
    }
  }

  it('gradients by finite differences', () => {
    assertGradcheck((x, w, b) => transformerLinear(x, w, b), [r(2, 3, 4), r(6, 4), r(6)]);
    assertGradcheck((x, w, b) => transformerLinear(x, w, b), [r(5, 3), r(9, 3), r(9)]);
  });

  it('without a bias it is linear', () => {
    tidy(() => {
      const x = r(3, 4);
      const w = r(2, 4);
      expect(Array.from(transformerLinear(x, w, null).dataSync())).toEqual(Array.from(linear(x, w, null).dataSync()));
    });
  });
});
