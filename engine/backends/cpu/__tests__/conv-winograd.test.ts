/**
 * The Winograd F(2x2, 3x3) convolutions (conv-winograd.ts): forward, input gradient and
 * weight gradient against direct-loop definitions in float64, over padding (none, 1, 2,
 * asymmetric, larger than the kernel: a cropped source for the input gradient), odd and
 * even output sizes (partial tiles, rows of tiles that are not a multiple of four), channel
 * counts off the GEMM's row tiles and output-channel panels, and a batch; batches split
 * between helper threads (1, 3 and 65 samples) give bit-identical results; the ops give the same results as the direct (shifted-read) path.
 */
import { describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { conv2d } from '../../../ops/conv.ts';
import { randn } from '../../../ops/creation.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { setConvBatchThreads, setShiftedConvBackoff, shiftedConvHelpers } from '../conv-shifted.ts';
import { setWinogradConv, setWinogradSplitMin, winogradApplies, winogradConv2d, winogradConv2dFilter } from '../conv-winograd.ts';
import { gemmThreadHost, setGemmThreads } from '../parallel.ts';

const gen = new Generator(11);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform(-1, 1));

interface Case {
  name: string;
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  /** top, bottom, left, right */
  pad: [number, number, number, number];
}

const cases: Case[] = [
  { name: 'valid, even output 6x8', N: 2, C: 4, H: 8, W: 10, O: 8, pad: [0, 0, 0, 0] },
  { name: 'pad 1, odd output 7x5, 5 output channels', N: 1, C: 6, H: 7, W: 5, O: 5, pad: [1, 1, 1, 1] },
  { name: 'pad 2 (input larger than the kernel span), 13 output channels', N: 2, C: 5, H: 6, W: 9, O: 13, pad: [2, 2, 2, 2] },
  { name: 'asymmetric padding, wide rows (more than four tiles per step row)', N: 1, C: 7, H: 5, W: 23, O: 6, pad: [0, 1, 2, 1] },
  { name: 'padding 3 (a cropped source for the input gradient)', N: 1, C: 4, H: 4, W: 4, O: 4, pad: [3, 3, 3, 3] },
  { name: 'CNN-like 12x12 -> 10x10, 32 -> 20 channels (three samples per product)', N: 3, C: 32, H: 12, W: 12, O: 20, pad: [0, 0, 0, 0] },
  { name: '24x24 -> 22x22, two samples per product, then one', N: 3, C: 4, H: 24, W: 24, O: 4, pad: [0, 0, 0, 0] },
];

function outSize(c: Case): [number, number] {
  return [c.H + c.pad[0] + c.pad[1] - 2, c.W + c.pad[2] + c.pad[3] - 2];
}

function expectClose(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst, what).toBeLessThan(1e-5);
}

describe('Winograd F(2x2, 3x3) convolution kernels', () => {
  it('apply to 3x3, stride-1, undilated, one-group convolutions with 4 or more channels only', () => {
    const base = { kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, groups: 1, cs: 4 };
    expect(winogradApplies(base)).toBe(true);
    expect(winogradApplies({ ...base, cs: 3 })).toBe(false);
    expect(winogradApplies({ ...base, kh: 5, kw: 5 })).toBe(false);
    expect(winogradApplies({ ...base, sh: 2 })).toBe(false);
    expect(winogradApplies({ ...base, dw: 2 })).toBe(false);
    expect(winogradApplies({ ...base, groups: 2 })).toBe(false);
  });

  for (const c of cases) {
    it(`forward, input and weight gradients match the definitions: ${c.name}`, () => {
      const [outH, outW] = outSize(c);
      const P = outH * outW;
      const x = rnd(c.N * c.C * c.H * c.W);
      const w = rnd(c.O * c.C * 9);
      const bias = rnd(c.O);
      const dy = rnd(c.N * c.O * P);
      const y = new Float64Array(c.N * c.O * P);
      for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / P) % c.O];
      const dx = new Float64Array(x.length);
      const dw = new Float64Array(w.length);
      for (let n = 0; n < c.N; n++)
        for (let o = 0; o < c.O; o++)
          for (let oh = 0; oh < outH; oh++)
            for (let ow = 0; ow < outW; ow++)
              for (let ci = 0; ci < c.C; ci++)
                for (let i = 0; i < 3; i++)
                  for (let j = 0; j < 3; j++) {
                    const ih = oh - c.pad[0] + i;
                    const iw = ow - c.pad[2] + j;
                    if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                    const yi = ((n * c.O + o) * outH + oh) * outW + ow;
                    const xi = ((n * c.C + ci) * c.H + ih) * c.W + iw;
                    const wi = ((o * c.C + ci) * 3 + i) * 3 + j;
                    y[yi] += x[xi] * w[wi];
                    dx[xi] += dy[yi] * w[wi];
                    dw[wi] += dy[yi] * x[xi];
                  }
      const geom = { groups: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, weight: w };
      const gotY = new Float32Array(y.length);
      expect(winogradConv2d({ ...geom, src: x, N: c.N, H: c.H, W: c.W, cs: c.C, rows: c.O, pt: c.pad[0], pl: c.pad[2], outH, outW, flipped: false, bias }, gotY)).toBe(true);
      expectClose(gotY, y, 'forward');
      const gotDx = new Float32Array(dx.length);
      const args = { ...geom, src: dy, N: c.N, H: outH, W: outW, cs: c.O, rows: c.C, pt: 2 - c.pad[0], pl: 2 - c.pad[2], outH: c.H, outW: c.W, flipped: true, bias: null };
      expect(winogradConv2d(args, gotDx)).toBe(true);
      expectClose(gotDx, dx, 'input gradient');
      const gotDw = new Float32Array(dw.length);
      const filter = { x, dy, N: c.N, H: c.H, W: c.W, groups: 1, cg: c.C, og: c.O, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: c.pad[0], pl: c.pad[2], outH, outW };
      expect(winogradConv2dFilter(filter, gotDw)).toBe(true);
      expectClose(gotDw, dw, 'weight gradient');
    });
  }

  // Batches that split unevenly: one sample (one thread has nothing), three, 65; with
  // products of several samples (12x12 -> 10x10: five per product) and of one (18x17, padded).
  for (const [N, C, H, W, O, pad] of [
    [1, 16, 18, 17, 24, 1],
    [3, 16, 18, 17, 24, 1],
    [65, 8, 12, 12, 12, 0],
    [3, 32, 12, 12, 20, 0],
  ] as const) {
    it(`split a batch of ${N} (${C} -> ${O} channels, ${H}x${W}, padding ${pad}) between threads with bit-identical results`, () => {
      expect(gemmThreadHost()).not.toBeNull();
      const outH = H + 2 * pad - 2;
      const outW = W + 2 * pad - 2;
      const x = rnd(N * C * H * W);
      const w = rnd(O * C * 9);
      const b = rnd(O);
      const dy = rnd(N * O * outH * outW);
      const geom = { groups: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, weight: w };
      const run = (threads: number) => {
        setGemmThreads(threads);
        const y = new Float32Array(N * O * outH * outW);
        const dx = new Float32Array(x.length);
        const dw = new Float32Array(w.length);
        expect(winogradConv2d({ ...geom, src: x, N, H, W, cs: C, rows: O, pt: pad, pl: pad, outH, outW, flipped: false, bias: b }, y)).toBe(true);
        expect(winogradConv2d({ ...geom, src: dy, N, H: outH, W: outW, cs: O, rows: C, pt: 2 - pad, pl: 2 - pad, outH: H, outW: W, flipped: true, bias: null }, dx)).toBe(true);
        const filter = { x, dy, N, H, W, groups: 1, cg: C, og: O, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: pad, pl: pad, outH, outW };
        expect(winogradConv2dFilter(filter, dw)).toBe(true);
        return { y, dx, dw };
      };
      setShiftedConvBackoff(false);
      const splitWas = setConvBatchThreads(true);
      const minWas = setWinogradSplitMin(1);
      try {
        const one = run(1);
        const two = run(2);
        const twoAgain = run(2);
        const three = run(3);
        expect(shiftedConvHelpers()).toBeGreaterThanOrEqual(2);
        // Forward and input gradient: each sample's output is computed whole by one thread.
        expect(two.y).toEqual(one.y);
        expect(two.dx).toEqual(one.dx);
        expect(three.y).toEqual(one.y);
        expect(three.dx).toEqual(one.dx);
        // Weight gradient: fixed partial sums over fixed ranges of samples, added in order.
        expect(two.dw).toEqual(one.dw);
        expect(twoAgain.dw).toEqual(two.dw);
        expect(three.dw).toEqual(one.dw);
        // And the values are the definition's (float64 direct loops).
        const ref = new Float64Array(w.length);
        for (let n = 0; n < N; n++) {
          for (let o = 0; o < O; o++) {
            for (let oh = 0; oh < outH; oh++) {
              for (let ow = 0; ow < outW; ow++) {
                const g = dy[((n * O + o) * outH + oh) * outW + ow];
                for (let c = 0; c < C; c++) {
                  for (let i = 0; i < 3; i++) {
                    const ih = oh - pad + i;
                    if (ih < 0 || ih >= H) continue;
                    for (let j = 0; j < 3; j++) {
                      const iw = ow - pad + j;
                      if (iw >= 0 && iw < W) ref[((o * C + c) * 3 + i) * 3 + j] += g * x[((n * C + c) * H + ih) * W + iw];
                    }
                  }
                }
              }
            }
          }
        }
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(one.dw[i] - ref[i]) / (1 + Math.abs(ref[i])));
        expect(worst).toBeLessThan(1e-4);
      } finally {
        setGemmThreads(null);
        setShiftedConvBackoff(true);
        setConvBatchThreads(splitWas);
        setWinogradSplitMin(minWas);
      }
    });
  }

  it('give the same forward and gradients through the ops as the direct path', () => {
    const run = (on: boolean) => {
      expect(setWinogradConv(on)).toBe(true);
      const x = randn([2, 8, 11, 9], 0, 1, new Generator(3)).requiresGrad_();
      const w1 = randn([12, 8, 3, 3], 0, 1, new Generator(4)).requiresGrad_();
      const b1 = randn([12], 0, 1, new Generator(5)).requiresGrad_();
      const w2 = randn([6, 12, 3, 3], 0, 1, new Generator(6)).requiresGrad_();
      const h = conv2d(x, w1, b1, { padding: 1 });
      const z = conv2d(h, w2, null, { padding: 'same' });
      const loss = add(sum(mul(z, randn(z.shape, 0, 1, new Generator(7)))), sum(mul(h, randn(h.shape, 0, 1, new Generator(8)))));
      loss.backward();
      const values = (t: Tensor) => Array.from(t.dataSync());
      return { h: values(h), z: values(z), dx: values(x.grad!), dw1: values(w1.grad!), db1: values(b1.grad!), dw2: values(w2.grad!) };
    };
    const winograd = run(true);
    const direct = run(false);
    setWinogradConv(true);
    for (const key of Object.keys(direct) as (keyof typeof direct)[]) {
      const a = winograd[key];
      const e = direct[key];
      expect(a.length, key).toBe(e.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - e[i]), `${key}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(e[i])));
    }
  });
});
