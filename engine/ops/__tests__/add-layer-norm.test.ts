import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { randn } from '../creation.ts';
import { dropout } from '../dropout.ts';
import { add, mul } from '../elementwise.ts';
import { addLayerNorm, layerNorm } from '../norm.ts';
import { sum } from '../reduce.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';

const gen = new Generator(17);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  let m = 0;
  for (let i = 0; i < av.length; i++) m = Math.max(m, Math.abs(av[i] - bv[i]));
  return m;
}

describe('addLayerNorm: layer_norm(x + dropout(r)) as one kernel', () => {
  const cases: [string, number[], number[], boolean, number][] = [
    ['affine, no dropout', [3, 4, 6], [6], true, 0],
    ['affine, dropout 0.3', [3, 4, 6], [6], true, 0.3],
    ['without weight and bias, dropout 0.5', [5, 8], [8], false, 0.5],
    ['two normalised dims, dropout 0.1', [2, 3, 4], [3, 4], true, 0.1],
  ];
  for (const [label, shape, normShape, affine, p] of cases) {
    it(`${label}: equals the op chain, gradients included`, () => {
      tidy(() => {
        const x = r(...shape).requiresGrad_();
        const br = r(...shape).requiresGrad_();
        const w = affine ? add(mul(r(...normShape), 0.3), 1).requiresGrad_() : null;
        const b = affine ? r(...normShape).requiresGrad_() : null;
        const proj = r(...shape);
        const leaves = [x, br, ...(w && b ? [w, b] : [])];
        const run = (fused: boolean) => {
          const y = fused
            ? addLayerNorm(x, br, normShape, w, b, 1e-5, { p, training: true, generator: new Generator(6) })
            : layerNorm(add(x, dropout(br, p, true, new Generator(6))), normShape, w, b, 1e-5);
          sum(mul(y, proj)).backward();
          const grads = leaves.map((t) => t.grad!);
          leaves.forEach((t) => {
            t.grad = null;
          });
          return [y, ...grads];
        };
        const a = run(true);
        const c = run(false);
        a.forEach((t, i) => expect(maxDiff(t, c[i]), i === 0 ? 'output' : `gradient ${i - 1}`).toBeLessThan(2e-5));
      });
    });
  }

  it('outside training the branch is added unscaled', () => {
    const x = r(2, 5);
    const br = r(2, 5);
    const y = addLayerNorm(x, br, [5], null, null, 1e-5, { p: 0.5, training: false });
    expect(maxDiff(y, layerNorm(add(x, br), [5]))).toBeLessThan(1e-6);
  });

  it('gradients by finite differences (x, branch, weight, bias), with and without dropout', () => {
    for (const p of [0, 0.4]) {
      assertGradcheck(
        (x, br, w, b) => addLayerNorm(x, br, [4], w, b, 1e-5, { p, training: true, generator: new Generator(2) }),
        [r(3, 4), r(3, 4), r(4), r(4)],
        { maxElements: 0 },
      );
    }
    assertGradcheck((x, br) => addLayerNorm(x, br, [2, 3]), [r(2, 2, 3), r(2, 2, 3)], { maxElements: 0 });
  });

  it('names mismatched shapes', () => {
    expect(() => addLayerNorm(r(2, 3), r(2, 4), [3])).toThrow(/residual \[2, 3\] and the branch \[2, 4\]/);
    expect(() => addLayerNorm(r(2, 3), r(2, 3), [4])).toThrow(/normalized_shape \[4\] does not match/);
  });
});
