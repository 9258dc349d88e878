/**
 * The CPU backend's fast paths against simple references: fused activation gradients
 * against their unfused composites (and gradient checks), the run-based broadcasting
 * binary ops against an index-by-index loop, and Sum over non-adjacent dims against a
 * direct sum, Slice and Pad against element-by-element indexing, and the convolutions'
 * gathered GEMM panels against the im2col path.
 */
import { describe, expect, it } from 'vitest';
import { fromValues, runKernel, tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { broadcastShapes, sizeOf, stridesOf } from '../../../core/shape.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import { relu, reluGrad, sigmoid, sigmoidGrad, tanh, tanhGrad } from '../../../ops/activation.ts';
import { randn } from '../../../ops/creation.ts';
import { add, div, gt, maximum, minimum, mul, sub } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { pad, slice } from '../../../ops/layout.ts';
import { conv2d } from '../../../ops/conv.ts';
import { setGemmKernel } from '../matmul.ts';

const gen = new Generator(11);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

function expectClose(a: Tensor, b: Tensor, tol = 1e-6): void {
  expect(a.shape).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  for (let i = 0; i < av.length; i++) expect(Math.abs(av[i] - bv[i]), `element ${i}: ${av[i]} vs ${bv[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(bv[i])));
}

describe('fused activation gradients', () => {
  const shapes = [[7], [3, 5], [2, 3, 4, 5]];
  it('ReluGrad equals dy * (x > 0)', () => {
    for (const s of shapes) {
      const x = r(...s);
      const dy = r(...s);
      const fused = reluGrad(dy, x);
      expectClose(fused, mul(dy, gt(x, 0)), 0);
      // zero where x <= 0, dy elsewhere
      const xv = x.dataSync();
      const fv = fused.dataSync();
      for (let i = 0; i < xv.length; i++) expect(fv[i]).toBe(xv[i] > 0 ? dy.dataSync()[i] : 0);
    }
  });

  it('SigmoidGrad and TanhGrad equal their composites', () => {
    for (const s of shapes) {
      const y1 = sigmoid(r(...s));
      const y2 = tanh(r(...s));
      const dy = r(...s);
      expectClose(sigmoidGrad(dy, y1), mul(dy, mul(y1, sub(1, y1))));
      expectClose(tanhGrad(dy, y2), mul(dy, sub(1, mul(y2, y2))));
    }
  });

  it('relu, sigmoid and tanh pass gradient checks through the fused backward', () => {
    for (const s of [[6], [2, 3, 4]]) {
      // keep relu inputs away from the kink at 0
      const x = r(...s).dataSync().map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));
      assertGradcheck((t) => relu(t), [tensor(x, s)]);
      assertGradcheck((t) => sigmoid(t), [r(...s)]);
      assertGradcheck((t) => tanh(t), [r(...s)]);
    }
  });

  it('the fused gradients are differentiable in both inputs', () => {
    for (const s of [[5], [2, 3]]) {
      assertGradcheck((dy, x) => sigmoidGrad(dy, sigmoid(x)), [r(...s), r(...s)]);
      assertGradcheck((dy, x) => tanhGrad(dy, tanh(x)), [r(...s), r(...s)]);
      const x = r(...s);
      assertGradcheck((dy) => reluGrad(dy, x), [r(...s)]);
    }
  });

  it('names both shapes when the sizes differ', () => {
    expect(() => runKernel('ReluGrad', [r(2, 3), r(4)])).toThrow(/\[2, 3\].*\[4\]/);
  });
});

/** out[i] = f(a[ia], b[ib]) by full index arithmetic, the definition of broadcasting. */
function reference(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Float32Array {
  const shape = broadcastShapes(a.shape, b.shape, 'ref');
  const n = sizeOf(shape);
  const st = stridesOf(shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  const offset = (t: Tensor, i: number) => {
    const ts = stridesOf(t.shape);
    let o = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / st[d]) % shape[d];
      const td = d - (shape.length - t.shape.length);
      if (td >= 0 && t.shape[td] !== 1) o += c * ts[td];
    }
    return o;
  };
  const res = new Float32Array(n);
  for (let i = 0; i < n; i++) res[i] = f(av[offset(a, i)], bv[offset(b, i)]);
  return res;
}

describe('broadcasting binary ops on the CPU', () => {
  const pairs: [number[], number[]][] = [
    [[3, 4], [3, 4]], [[3, 4], [1]], [[1], [3, 4]], [[2, 3, 4], [4]], [[4], [2, 3, 4]],
    [[2, 3, 4], [3, 1]], [[2, 1, 4], [1, 3, 1]], [[5, 1], [1, 6]], [[2, 3, 4, 5], [1, 3, 1, 1]], [[0, 3], [3]],
  ];
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['add', add, (x, y) => x + y], ['sub', sub, (x, y) => x - y], ['mul', mul, (x, y) => x * y], ['div', div, (x, y) => x / y],
    ['maximum', maximum, (x, y) => Math.max(x, y)], ['minimum', minimum, (x, y) => Math.min(x, y)], ['gt', gt, (x, y) => (x > y ? 1 : 0)],
  ];
  for (const [name, op, f] of ops) {
    it(`${name} matches index-by-index broadcasting`, () => {
      for (const [sa, sb] of pairs) {
        const a = r(...sa);
        const b = r(...sb);
        const y = op(a, b);
        expect(y.shape).toEqual(broadcastShapes(sa, sb, name));
        const ref = reference(a, b, f);
        const yv = y.dataSync();
        for (let i = 0; i < ref.length; i++) expect(yv[i], `${name} ${sa} ${sb} at ${i}`).toBeCloseTo(ref[i], 5);
      }
    });
  }
});

describe('Sum over any set of dims', () => {
  it('matches a direct sum for kept and reduced dims in any pattern', () => {
    const x = r(2, 3, 4, 5);
    const xv = x.dataSync();
    const cases: number[][] = [[0], [1], [3], [0, 2], [1, 3], [0, 2, 3], [0, 1, 3], [0, 3], [0, 1, 2, 3]];
    for (const dims of cases) {
      for (const keepdim of [false, true]) {
        const y = sum(x, dims, keepdim);
        const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
        const ost = stridesOf(outShape);
        const ref = new Float64Array(sizeOf(outShape));
        for (let i = 0; i < xv.length; i++) {
          const c = [Math.floor(i / 60), Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5];
          let o = 0;
          for (let d = 0; d < 4; d++) if (!dims.includes(d)) o += c[d] * ost[d];
          ref[o] += xv[i];
        }
        expect(y.shape).toEqual(keepdim ? outShape : x.shape.filter((_, i) => !dims.includes(i)));
        const yv = y.dataSync();
        for (let i = 0; i < ref.length; i++) expect(yv[i], `dims ${dims} at ${i}`).toBeCloseTo(ref[i], 4);
      }
    }
    // size-1 dims are skipped when merging
    const z = r(3, 1, 4);
    expect(Array.from(sum(z, [0, 1]).dataSync()).map((v) => +v.toFixed(4))).toEqual(Array.from(sum(sum(z, [1]), [0]).dataSync()).map((v) => +v.toFixed(4)));
  });
});

describe('convolution with receptive fields gathered into GEMM panels (WebAssembly path)', () => {
  const hasWasm = setGemmKernel('wasm');
  setGemmKernel(hasWasm ? 'wasm' : 'js');
  const cases = [
    // depth K = 48*3*3 = 432 and pixels P = 21*21 = 441 both span two depth blocks
    { x: [2, 48, 21, 21], w: [8, 48, 3, 3], opts: { padding: 1 } },
    { x: [1, 4, 23, 19], w: [6, 2, 3, 5], opts: { stride: [2, 1] as [number, number], padding: [2, 1] as [number, number], dilation: [1, 2] as [number, number], groups: 2 } },
    { x: [3, 3, 9, 9], w: [13, 3, 4, 4], opts: { stride: 3, padding: 0 } },
  ];
  it.runIf(hasWasm)('matches the im2col + JS GEMM path forward and in both gradients', () => {
    for (const c of cases) {
      const x = r(...c.x);
      const w = r(...c.w);
      const bias = r(c.w[0]);
      const run = (kernel: 'wasm' | 'js') => {
        setGemmKernel(kernel);
        const xx = fromValues(Float32Array.from(x.dataSync()), x.shape).requiresGrad_();
        const ww = fromValues(Float32Array.from(w.dataSync()), w.shape).requiresGrad_();
        const y = conv2d(xx, ww, bias, c.opts);
        y.backward(mul(y, 0.5));
        return [y, xx.grad!, ww.grad!];
      };
      const [y1, dx1, dw1] = run('wasm');
      const [y2, dx2, dw2] = run('js');
      setGemmKernel('wasm');
      expectClose(y1, y2, 2e-4);
      expectClose(dx1, dx2, 2e-4);
      expectClose(dw1, dw2, 1e-3);
    }
  });
});

describe('Slice and Pad copy whole rows', () => {
  it('Slice with begin, size and steps matches element-by-element indexing', () => {
    const x = r(4, 5, 6);
    const xv = x.dataSync();
    const cases: [number[], number[], number[]][] = [[[0, 0, 0], [4, 5, 6], [1, 1, 1]], [[1, 2, 1], [2, 3, 4], [1, 1, 1]], [[0, 1, 0], [2, 2, 3], [2, 2, 2]], [[3, 0, 5], [1, 5, 1], [1, 1, 1]]];
    for (const [begin, size, step] of cases) {
      const y = slice(x, begin, size, step).dataSync();
      let o = 0;
      for (let a = 0; a < size[0]; a++) for (let b = 0; b < size[1]; b++) for (let c = 0; c < size[2]; c++) {
        expect(y[o++]).toBe(xv[(begin[0] + a * step[0]) * 30 + (begin[1] + b * step[1]) * 6 + begin[2] + c * step[2]]);
      }
    }
  });

  it('Pad with growing, zero and cropping pads matches element-by-element placement', () => {
    const x = r(2, 3, 4);
    const xv = x.dataSync();
    const cases: [number, number][][] = [[[0, 0], [1, 2], [3, 0]], [[1, 1], [0, 0], [0, 0]], [[0, 0], [-1, 1], [2, -1]]];
    for (const pads of cases) {
      const y = pad(x, pads, 0.5);
      const shape = [2, 3, 4].map((d, i) => d + pads[i][0] + pads[i][1]);
      expect(y.shape).toEqual(shape);
      const yv = y.dataSync();
      const st = stridesOf(shape);
      const expected = new Float32Array(sizeOf(shape)).fill(0.5);
      for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) {
        const p = [a + pads[0][0], b + pads[1][0], c + pads[2][0]];
        if (p.every((v, i) => v >= 0 && v < shape[i])) expected[p[0] * st[0] + p[1] * st[1] + p[2]] = xv[a * 12 + b * 4 + c];
      }
      expect(Array.from(yv)).toEqual(Array.from(expected));
    }
  });
});
