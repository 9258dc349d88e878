import { describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { bmm, linear } from '../../../ops/matmul.ts';
import { sum } from '../../../ops/reduce.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import '../register.ts';
import { gemmKernel, gemmStrided, setGemmKernel } from '../matmul.ts';

const gen = new Generator(5);
const t = (...shape: number[]) => fromValues(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => gen.uniform(-1, 1)), shape).requiresGrad_();

function sameBits(a: Tensor, b: Tensor, what: string): void {
  expect(a.shape, what).toEqual(b.shape);
  const x = new Uint32Array(Float32Array.from(a.dataSync()).buffer);
  const y = new Uint32Array(Float32Array.from(b.dataSync()).buffer);
  let bad = -1;
  for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
  expect(bad, `${what}: first differing element`).toBe(-1);
}

describe('linear with a bias as one kernel (bias added while the product is written)', () => {
  const initial = gemmKernel();
  const kernels = (['wasm', 'js'] as const).filter((k) => setGemmKernel(k));
  setGemmKernel(initial);
  const shapes: [number, number, number][] = [[1, 1, 1], [64, 128, 784], [5, 10, 3], [7, 13, 9], [33, 1030, 20], [100, 8, 400]];
  for (const kernel of kernels) {
    it(`${kernel}: output and all three gradients are bit-identical to matmul followed by add`, () => {
      setGemmKernel(kernel);
      try {
        for (const [m, n, k] of shapes) {
          const [x, w, b] = [t(m, k), t(n, k), t(n)];
          const dy = t(m, n);
          const grads = (y: Tensor) => {
            x.grad = null;
            w.grad = null;
            b.grad = null;
            sum(mul(y, dy)).backward();
            return [x.grad!, w.grad!, b.grad!];
          };
          const fused = linear(x, w, b);
          const gf = grads(fused);
          const composite = add(bmm(x, w, false, true), b);
          const gc = grads(composite);
          const name = `${m}x${n}x${k}`;
          sameBits(fused, composite, `${name} output`);
          ['x', 'weight', 'bias'].forEach((what, i) => sameBits(gf[i], gc[i], `${name} grad ${what}`));
          // And the sum is right: one element against a direct dot product.
          let ref = b.dataSync()[n - 1];
          for (let p = 0; p < k; p++) ref += x.dataSync()[(m - 1) * k + p] * w.dataSync()[(n - 1) * k + p];
          expect(fused.dataSync()[m * n - 1]).toBeCloseTo(ref, 4);
        }
      } finally {
        setGemmKernel(initial);
      }
    });
  }

  it('passes the gradient check', () => {
    assertGradcheck((x, w, b) => linear(x, w, b), [t(4, 6), t(5, 6), t(5)]);
    assertGradcheck((x, w, b) => linear(x, w, b), [t(2, 3, 6), t(9, 6), t(9)]);
  });

  it('names the shapes when the kernel gets inconsistent operands', async () => {
    const { apply } = await import('../../../core/engine.ts');
    expect(() => apply('Linear', [t(2, 3), t(4, 5), t(4)], {})).toThrow('linear: expected x [m, k], weight [n, k] and bias [n], got [2, 3], [4, 5] and [4]');
  });
});

describe('C += A B adds the product into C as a separate float32 addition', () => {
  it('matches the product (matmul) added to C element by element, bit for bit, for narrow and wide rows', () => {
    for (const [m, n, k] of [[5, 10, 7], [40, 47, 30], [70, 200, 50], [130, 1030, 9]] as [number, number, number][]) {
      const a = t(m, k);
      const b = t(k, n);
      const c0 = t(m, n).dataSync();
      const product = bmm(a, b, false, false).dataSync();
      const expected = Float32Array.from(c0, (v, i) => v + product[i]);
      const c = Float32Array.from(c0);
      gemmStrided(m, n, k, a.dataSync() as Float32Array, 0, k, 1, b.dataSync() as Float32Array, 0, n, 1, c, 0, n);
      const x = new Uint32Array(c.buffer);
      const y = new Uint32Array(expected.buffer);
      let bad = -1;
      for (let i = 0; i < x.length && bad < 0; i++) if (x[i] !== y[i]) bad = i;
      expect(bad, `${m}x${n}x${k}: first differing element`).toBe(-1);
    }
  });
});
