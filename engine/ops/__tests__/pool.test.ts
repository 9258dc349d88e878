import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { adaptiveAvgPool2d, avgPool1d, avgPool2d, maxPool1d, maxPool2d, maxPool2dWithIndices } from '../pool.ts';

const gen = new Generator(5);

/** Distinct values (a shuffled 0.1-spaced grid), so max pooling has no ties within 2*eps. */
function distinct(...shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = gen.permutation(n);
  return tensor(Array.from(perm, (v) => (v - n / 2) * 0.1), shape);
}

const arange = (n: number, shape: number[]) => tensor(Array.from({ length: n }, (_, i) => i), shape);

/** torch's pooling output size, written out independently of the op. */
function torchOut(L: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = L + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (o - 1) * s >= L + p) o--;
  return o;
}

interface PoolRef {
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  ceil: boolean;
  countIncludePad: boolean;
}

/** Direct-loop pooling following torch's window and divisor rules. */
function refPool(x: Tensor, kind: 'max' | 'avg', c: PoolRef): { values: number[]; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const xv = x.dataSync();
  const oh = torchOut(H, c.k[0], c.s[0], c.p[0], c.d[0], c.ceil);
  const ow = torchOut(W, c.k[1], c.s[1], c.p[1], c.d[1], c.ceil);
  const values: number[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let sum = 0;
        let inside = 0;
        for (let a = 0; a < c.k[0]; a++)
          for (let b = 0; b < c.k[1]; b++) {
            const h = i * c.s[0] - c.p[0] + a * c.d[0];
            const w = j * c.s[1] - c.p[1] + b * c.d[1];
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = xv[nc * H * W + h * W + w];
            best = Math.max(best, v);
            sum += v;
            inside++;
          }
        if (kind === 'max') {
          values.push(best);
        } else {
          // Divisor with padding: the window clipped to [-pad, L + pad), not to the ceil overhang.
          const h0 = i * c.s[0] - c.p[0];
          const w0 = j * c.s[1] - c.p[1];
          const padded = (Math.min(h0 + c.k[0], H + c.p[0]) - h0) * (Math.min(w0 + c.k[1], W + c.p[1]) - w0);
          values.push(sum / (c.countIncludePad ? padded : inside));
        }
      }
  return { values, shape: [N, C, oh, ow] };
}

function expectClose(t: Tensor, ref: { values: number[]; shape: number[] }): void {
  expect([...t.shape]).toEqual(ref.shape);
  const v = t.dataSync();
  ref.values.forEach((rv, i) => expect(v[i]).toBeCloseTo(rv, 5));
}

const cases: (PoolRef & { x: number[] })[] = [
  { x: [2, 3, 6, 6], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false, countIncludePad: true },
  { x: [1, 2, 7, 5], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false, countIncludePad: true },
  { x: [1, 2, 7, 5], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false, countIncludePad: false },
  { x: [1, 2, 7, 6], k: [2, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: true, countIncludePad: true },
  { x: [1, 2, 7, 6], k: [2, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: true, countIncludePad: false },
  { x: [1, 1, 5, 5], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true, countIncludePad: true },
  { x: [2, 1, 8, 9], k: [3, 2], s: [1, 3], p: [1, 0], d: [1, 1], ceil: true, countIncludePad: false },
];
const dilated: (PoolRef & { x: number[] })[] = [
  { x: [1, 2, 9, 8], k: [3, 2], s: [2, 1], p: [1, 1], d: [2, 3], ceil: false, countIncludePad: true },
  { x: [1, 1, 10, 10], k: [3, 3], s: [3, 3], p: [1, 1], d: [2, 2], ceil: true, countIncludePad: true },
];

describe('max_pool2d', () => {
  it('matches hand-computed values with ceil_mode (as PyTorch gives them)', () => {
    // F.max_pool2d(torch.arange(25.).view(1,1,5,5), 2, ceil_mode=True)
    expect(Array.from(maxPool2d(arange(25, [1, 1, 5, 5]), { kernelSize: 2, ceilMode: true }).dataSync())).toEqual([6, 8, 9, 16, 18, 19, 21, 23, 24]);
    const { indices } = maxPool2dWithIndices(arange(25, [1, 1, 5, 5]), { kernelSize: 2 });
    expect(Array.from(indices.dataSync())).toEqual([6, 8, 16, 18]);
  });
  for (const c of [...cases, ...dilated]) {
    it(`matches the direct reference: kernel ${c.k} stride ${c.s} pad ${c.p} dilation ${c.d} ceil ${c.ceil}`, () => {
      const x = distinct(...c.x);
      expectClose(maxPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, dilation: c.d, ceilMode: c.ceil }), refPool(x, 'max', c));
    });
  }
  it('defaults the stride to the kernel size and accepts unbatched input', () => {
    const x = distinct(3, 6, 4);
    const y = maxPool2d(x, { kernelSize: [3, 2] });
    expect([...y.shape]).toEqual([3, 2, 2]);
    expect(Array.from(y.dataSync())).toEqual(refPool(tensor(x.dataSync(), [1, 3, 6, 4]), 'max', { k: [3, 2], s: [3, 2], p: [0, 0], d: [1, 1], ceil: false, countIncludePad: true }).values.map(Math.fround));
  });
});

describe('avg_pool2d', () => {
  it('matches hand-computed values with padding (as PyTorch gives them)', () => {
    const x = arange(16, [1, 1, 4, 4]);
    // F.avg_pool2d(torch.arange(16.).view(1,1,4,4), 2, padding=1)  (count_include_pad=True)
    expect(Array.from(avgPool2d(x, { kernelSize: 2, padding: 1 }).dataSync())).toEqual([0, 0.75, 0.75, 3, 7.5, 4.5, 3, 6.75, 3.75]);
    expect(Array.from(avgPool2d(x, { kernelSize: 2, padding: 1, countIncludePad: false }).dataSync())).toEqual([0, 1.5, 3, 6, 7.5, 9, 12, 13.5, 15]);
  });
  for (const c of cases) {
    it(`matches the direct reference: kernel ${c.k} stride ${c.s} pad ${c.p} ceil ${c.ceil} count_include_pad ${c.countIncludePad}`, () => {
      const x = distinct(...c.x);
      expectClose(avgPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, ceilMode: c.ceil, countIncludePad: c.countIncludePad }), refPool(x, 'avg', c));
    });
  }
});

describe('pool output shapes and errors', () => {
  it('follow torch formulas over a grid', () => {
    for (const L of [4, 5, 7, 8])
      for (const k of [1, 2, 3])
        for (const s of [1, 2, 3])
          for (const p of [0, 1])
            for (const ceil of [false, true]) {
              if (p > k / 2) continue;
              const x = distinct(1, 1, L, L + 1);
              const y = maxPool2d(x, { kernelSize: k, stride: s, padding: p, ceilMode: ceil });
              expect([...y.shape]).toEqual([1, 1, torchOut(L, k, s, p, 1, ceil), torchOut(L + 1, k, s, p, 1, ceil)]);
              const a = avgPool1d(tensor(x.dataSync().slice(0, L), [1, 1, L]), { kernelSize: k, stride: s, padding: p, ceilMode: ceil });
              expect([...a.shape]).toEqual([1, 1, torchOut(L, k, s, p, 1, ceil)]);
            }
  });
  it('reject padding over half the kernel and windows that do not fit', () => {
    expect(() => maxPool2d(distinct(1, 1, 5, 5), { kernelSize: 2, padding: 2 })).toThrow('max_pool2d: padding 2x2 must be at most half the kernel size 2x2');
    expect(() => avgPool2d(distinct(1, 1, 2, 2), { kernelSize: 3 })).toThrow('avg_pool2d: kernel 3x3 (spanning 3x3) does not fit the padded input (input [1, 1, 2, 2], padding 0x0)');
    expect(() => maxPool1d(distinct(1, 2, 3), { kernelSize: 2, dilation: 3 })).toThrow('max_pool1d: kernel 2 (spanning 4) does not fit the padded input (input [1, 2, 3], padding 0)');
    expect(() => adaptiveAvgPool2d(distinct(1, 1, 4, 4), 0)).toThrow('adaptive_avg_pool2d: output size must be positive integers');
  });
});

describe('1-D pooling', () => {
  it('matches the 2-D reference with a height of 1', () => {
    const x = distinct(2, 3, 11);
    const x4 = tensor(x.dataSync(), [2, 3, 1, 11]);
    const ref = refPool(x4, 'max', { k: [1, 3], s: [1, 2], p: [0, 1], d: [1, 2], ceil: true, countIncludePad: true });
    expectClose(maxPool1d(x, { kernelSize: 3, stride: 2, padding: 1, dilation: 2, ceilMode: true }), { values: ref.values, shape: [2, 3, ref.shape[3]] });
    const refA = refPool(x4, 'avg', { k: [1, 4], s: [1, 3], p: [0, 2], d: [1, 1], ceil: true, countIncludePad: false });
    expectClose(avgPool1d(x, { kernelSize: 4, stride: 3, padding: 2, ceilMode: true, countIncludePad: false }), { values: refA.values, shape: [2, 3, refA.shape[3]] });
  });
});

describe('adaptive_avg_pool2d', () => {
  it('matches torch cell boundaries', () => {
    // F.adaptive_avg_pool2d(torch.arange(25.).view(1,1,5,5), 3): rows/cols [0,2), [1,4), [3,5)
    expect(Array.from(adaptiveAvgPool2d(arange(25, [1, 1, 5, 5]), 3).dataSync())).toEqual([3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21]);
    const x = distinct(2, 3, 7, 6);
    expect([...adaptiveAvgPool2d(x, [1, null]).shape]).toEqual([2, 3, 1, 6]);
    // Global average pooling equals the plane mean.
    const g = adaptiveAvgPool2d(x, 1).dataSync();
    const xv = x.dataSync();
    for (let p = 0; p < 6; p++) expect(g[p]).toBeCloseTo(Array.from(xv.slice(p * 42, p * 42 + 42)).reduce((a, b) => a + b, 0) / 42, 5);
  });
});

describe('pooling gradients (finite differences)', () => {
  it('max_pool2d, including overlapping windows, padding, dilation and ceil mode', () => {
    for (const c of [...cases.slice(0, 4), ...dilated]) {
      assertGradcheck((x) => maxPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, dilation: c.d, ceilMode: c.ceil }), [distinct(...c.x)]);
    }
    assertGradcheck((x) => maxPool2d(x, { kernelSize: 3, stride: 1 }), [distinct(1, 2, 5, 5)]);
  });
  it('avg_pool2d with ceil mode and both divisor rules', () => {
    for (const c of cases) {
      assertGradcheck((x) => avgPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, ceilMode: c.ceil, countIncludePad: c.countIncludePad }), [distinct(...c.x)]);
    }
  });
  it('1-D pooling', () => {
    assertGradcheck((x) => maxPool1d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [distinct(2, 2, 8)]);
    assertGradcheck((x) => avgPool1d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), [distinct(2, 2, 8)]);
  });
  it('adaptive_avg_pool2d with overlapping cells', () => {
    assertGradcheck((x) => adaptiveAvgPool2d(x, [3, 4]), [distinct(2, 2, 5, 7)]);
    assertGradcheck((x) => adaptiveAvgPool2d(x, 2), [distinct(1, 3, 4, 4)]);
  });
});
