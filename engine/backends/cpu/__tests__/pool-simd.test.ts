/**
 * The WebAssembly SIMD kernels (ReLU and its gradient, 2x2 stride-2 max pooling and its
 * gradient, row sums) and the unrolled 2x2 average pooling give what the plain loops give:
 * bit for bit for ReLU and pooling (-0, NaN and infinities included), and the float64 sums
 * for reductions; on lengths and shapes that leave partial SIMD groups, partial chunks and
 * odd rows and columns.
 */
import { describe, expect, it } from 'vitest';
import { fromValues, tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { relu, reluGrad } from '../../../ops/activation.ts';
import { mul } from '../../../ops/elementwise.ts';
import { avgPool2d, maxPool2d, maxPool2dWithIndices } from '../../../ops/pool.ts';
import { sum } from '../../../ops/reduce.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import { maxPool2GradSimd, maxPool2Simd, poolSimdModuleBytes, reluGradSimd, reluSimd, rowSumsSimd, setPoolSimd } from '../pool-simd.ts';
import { setPoolFastPaths } from '../pool.ts';
import '../register.ts';

const gen = new Generator(21);
const negNaN = new Float32Array(new Int32Array([0xffc00000 | 0]).buffer)[0];
const specials = [NaN, negNaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38];

/** Random values with the special values sprinkled in every `every` elements (none when 0). */
function values(n: number, every: number, quarters = false): Float32Array {
  const v = Float32Array.from({ length: n }, () => (quarters ? Math.round(gen.uniform(-2, 2) * 4) / 4 : gen.uniform(-3, 3)));
  if (every > 0) for (let i = 0, k = 0; i < n; i += every, k++) v[i] = specials[k % specials.length];
  return v;
}

/** f's results with the SIMD kernels on and off. */
function bothWays<T>(f: () => T): [T, T] {
  const was = setPoolSimd(true);
  try {
    const on = f();
    setPoolSimd(false);
    return [on, f()];
  } finally {
    setPoolSimd(was);
  }
}

const bits = (t: Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));

it('the module validates, and every kernel runs (Node has WebAssembly SIMD), so the comparisons below test it', () => {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
  expect(wasm.validate(poolSimdModuleBytes())).toBe(true);
  const x = values(1000, 3);
  expect(reluSimd(x, new Float32Array(1000))).toBe(true);
  expect(reluGradSimd(x, x, new Float32Array(1000))).toBe(true);
  expect(maxPool2GradSimd(x.subarray(0, 250), new Int32Array(250), new Float32Array(1000), 10, 10, 10, 5, 5)).toBe(true);
  expect(maxPool2Simd(x, 10, 10, 10, 5, 5, new Float32Array(250), new Int32Array(250))).toBe(true);
  expect(rowSumsSimd(x, 0, 10, 100, new Float64Array(10))).toBe(true);
  const was = setPoolSimd(false);
  expect(reluSimd(x, new Float32Array(1000))).toBe(false);
  setPoolSimd(was);
});

describe('ReLU and its gradient', () => {
  for (const n of [255, 256, 257, 1003, 16383, 16384, 16385, 40001]) {
    it(`forward and gradient bit for bit, ${n} values with NaN (both signs), -0, infinities and denormals`, () => {
      const x = fromValues(values(n, 7), [n]);
      const dy = fromValues(values(n, 5), [n]);
      const [simd, plain] = bothWays(() => [bits(relu(x)), bits(reluGrad(dy, x))]);
      expect(simd[0]).toEqual(plain[0]);
      expect(simd[1]).toEqual(plain[1]);
      // And the rules themselves: NaN x keeps its bits, x > 0 passes dy.
      const xv = x.dataSync();
      const y = relu(x).dataSync();
      const g = reluGrad(dy, x).dataSync();
      const dv = dy.dataSync();
      const wrong: string[] = [];
      for (let i = 0; i < n; i++) {
        if (!Object.is(y[i], xv[i] > 0 || Number.isNaN(xv[i]) ? xv[i] : 0)) wrong.push(`relu ${i}: ${xv[i]} -> ${y[i]}`);
        if (!Object.is(g[i], xv[i] > 0 ? dv[i] : 0)) wrong.push(`grad ${i}: x ${xv[i]}, dy ${dv[i]} -> ${g[i]}`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it('passes a finite-difference gradient check on a tensor that takes the SIMD path', () => {
    const n = 300;
    const x = tensor(Array.from({ length: n }, (_, i) => ((i * 37) % n) / 50 - 3 + 0.01), [3, 100]);
    assertGradcheck((t) => relu(t), [x], { maxElements: 64 });
  });
});

describe('2x2 stride-2 max pooling and its gradient', () => {
  const shapes = [
    [1, 1, 2, 2], [2, 3, 9, 11], [3, 5, 16, 17], [2, 4, 8, 8], [1, 2, 23, 9], [1, 70, 30, 34], [4, 6, 28, 28], [2, 16, 10, 10], [1, 3, 3, 40],
    [3, 4, 5, 5], [4, 3, 7, 6], [1, 9, 6, 13],
  ];
  for (const shape of shapes) {
    for (const special of [false, true]) {
      it(`values, argmax and gradient bit for bit against the plain loops on ${shape}${special ? ', input with NaN and infinities, dy with -0 and NaN' : ', ties'}`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = fromValues(values(n, special ? 9 : 0, !special), shape);
        const outShape = [shape[0], shape[1], Math.floor(shape[2] / 2), Math.floor(shape[3] / 2)];
        const dy = fromValues(values(outShape.reduce((a, b) => a * b, 1), special ? 4 : 0), outShape);
        const run = () => {
          const xg = fromValues(Float32Array.from(x.dataSync()), shape).requiresGrad_();
          const { values: y, indices } = maxPool2dWithIndices(xg, { kernelSize: 2 });
          sum(mul(y, dy)).backward();
          return { y: bits(y), indices: Array.from(indices.dataSync()), dx: bits(xg.grad!) };
        };
        const [simd, plain] = bothWays(run);
        expect(simd.y).toEqual(plain.y);
        expect(simd.indices).toEqual(plain.indices);
        expect(simd.dx).toEqual(plain.dx);
      });
    }
  }

  it('passes a finite-difference gradient check on shapes that take the SIMD path', () => {
    for (const shape of [[2, 3, 9, 11], [1, 4, 10, 12]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const perm = gen.permutation(n);
      const x = tensor(Array.from(perm, (v) => (v - n / 2) * 0.1), shape);
      assertGradcheck((t) => maxPool2d(t, { kernelSize: 2 }), [x], { maxElements: 64 });
    }
  });
});

describe('2x2 stride-2 average pooling, unrolled', () => {
  for (const shape of [[2, 3, 9, 11], [1, 4, 6, 6], [3, 2, 5, 13]]) {
    it(`values and gradient bit for bit against the bounds-checked loop on ${shape}, with -0, NaN and infinities`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = values(n, 0, true);
      for (let i = 0; i < n; i += 13) v[i] = specials[(i / 13) % specials.length];
      for (let i = 0; i + 1 < shape[3]; i += 2) v[i] = v[i + 1] = v[i + shape[3]] = v[i + shape[3] + 1] = -0; // all--0 windows
      const outShape = [shape[0], shape[1], Math.floor(shape[2] / 2), Math.floor(shape[3] / 2)];
      const dyv = values(outShape.reduce((a, b) => a * b, 1), 3, true);
      const run = (fast: boolean) => {
        const was = setPoolFastPaths(fast);
        try {
          const xg = fromValues(Float32Array.from(v), shape).requiresGrad_();
          const y = avgPool2d(xg, { kernelSize: 2 });
          sum(mul(y, fromValues(dyv, outShape))).backward();
          return [bits(y), bits(xg.grad!)];
        } finally {
          setPoolFastPaths(was);
        }
      };
      const [fast, checked] = [run(true), run(false)];
      expect(fast[0]).toEqual(checked[0]);
      expect(fast[1]).toEqual(checked[1]);
      expect(Object.is(avgPool2d(fromValues(v, shape), { kernelSize: 2 }).dataSync()[0], 0)).toBe(true);
    });
  }
});

describe('row sums in reductions', () => {
  /** float64 sums of x [..] over dims, the plain way. */
  function reference(v: Float32Array, shape: number[], dims: number[]): number[] {
    const keep = shape.map((_, i) => !dims.includes(i));
    const outShape = shape.filter((_, i) => keep[i]);
    const res = new Float64Array(outShape.reduce((a, b) => a * b, 1));
    const idx = shape.map(() => 0);
    for (let i = 0; i < v.length; i++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) if (keep[d]) o = o * shape[d] + idx[d];
      res[o] += v[i];
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return Array.from(res, Math.fround);
  }

  const cases: { shape: number[]; dims: number[] }[] = [
    { shape: [3, 5, 7, 9], dims: [0, 2, 3] },
    { shape: [64, 6, 28, 28], dims: [0, 2, 3] },
    { shape: [2, 16, 5, 5], dims: [0, 2, 3] },
    { shape: [2, 3, 17], dims: [2] },
    { shape: [4, 1000], dims: [1] },
    { shape: [2, 70001], dims: [1] },
    { shape: [70001], dims: [0] },
    { shape: [5, 4, 3, 20], dims: [0, 3] },
    { shape: [3, 40, 2], dims: [1] },
  ];
  for (const { shape, dims } of cases) {
    it(`sum over ${dims} of ${shape} matches the float64 reference`, () => {
      const v = values(shape.reduce((a, b) => a * b, 1), 0);
      const x = fromValues(v, shape);
      const [simd, plain] = bothWays(() => Array.from(sum(x, dims).dataSync()));
      const want = reference(v, shape, dims);
      expect(simd.length).toBe(want.length);
      simd.forEach((s, i) => expect(Math.abs(s - want[i]), `slot ${i}: ${s} vs ${want[i]}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i]))));
      plain.forEach((s, i) => expect(Math.abs(s - want[i])).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(want[i]))));
    });
  }

  it('NaN and infinities propagate as in the plain sum', () => {
    const shape = [2, 3, 8, 8];
    const v = values(2 * 3 * 64, 0);
    v[5] = NaN; // n0 c0
    v[64 + 3] = Infinity; // n0 c1
    v[3 * 64 + 64 + 9] = -Infinity; // n1 c1: inf - inf
    v[2 * 64 + 1] = Infinity; // n0 c2
    const x = fromValues(v, shape);
    const [simd, plain] = bothWays(() => Array.from(sum(x, [0, 2, 3]).dataSync()));
    expect(Number.isNaN(simd[0])).toBe(true);
    expect(Number.isNaN(simd[1])).toBe(true);
    expect(simd[2]).toBe(Infinity);
    expect(simd.map(Number.isNaN)).toEqual(plain.map(Number.isNaN));
    const rows = Array.from(sum(fromValues(v, [6, 64]), [1]).dataSync());
    expect(rows.map((r) => (Number.isNaN(r) ? 'nan' : r === Infinity ? 'inf' : r === -Infinity ? '-inf' : 'finite'))).toEqual(['nan', 'inf', 'inf', 'finite', '-inf', 'finite']);
  });
});
