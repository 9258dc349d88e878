/**
 * The WebAssembly convolution path (conv-shifted.ts): forward, input gradient (stride 1)
 * and weight gradient (and the CPU kernel's strided input gradient, phase by phase) against direct-loop definitions, over padding (symmetric, 'same'
 * with its odd extra element, larger than the kernel), strides (phase planes), dilation,
 * groups, channel counts off the tiles, and sizes that cross the depth, row and pixel
 * blocking, for the whole padded grid and by groups of output rows (which skip padding); the kernels called through the ops agree with the GEMM path; threads give
 * bit-identical results.
 */
import { describe, expect, it } from 'vitest';
import { apply, fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { conv2d, convTranspose2d } from '../../../ops/conv.ts';
import { randn } from '../../../ops/creation.ts';
import {
  setShiftedConv, setShiftedConvBackoff, setShiftedConvThreads, shiftedConv2d, shiftedConv2dFilter, shiftedConvEnabled, shiftedConvHelpers, shiftedConvRowGroups,
} from '../conv-shifted.ts';
import { gemmThreadHost, setGemmThreads } from '../parallel.ts';
import { sum } from '../../../ops/reduce.ts';
import { add, mul } from '../../../ops/elementwise.ts';

const gen = new Generator(5);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform(-1, 1));

interface Case {
  name: string;
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  groups: number;
  /** Stride (1 when left out). */
  sh?: number;
  sw?: number;
  dh: number;
  dw: number;
  /** top, bottom, left, right */
  pad: [number, number, number, number];
}

const cases: Case[] = [
  { name: '3x3 valid', N: 2, C: 3, H: 9, W: 8, O: 5, kh: 3, kw: 3, groups: 1, dh: 1, dw: 1, pad: [0, 0, 0, 0] },
  { name: '5x5 pad 2, one input channel', N: 3, C: 1, H: 12, W: 11, O: 6, kh: 5, kw: 5, groups: 1, dh: 1, dw: 1, pad: [2, 2, 2, 2] },
  { name: "2x4 'same' (odd extra at bottom/right), dilation 2x1", N: 1, C: 4, H: 7, W: 10, O: 9, kh: 2, kw: 4, groups: 1, dh: 2, dw: 1, pad: [1, 1, 1, 2] },
  { name: 'groups 3, dilation 2', N: 2, C: 6, H: 10, W: 9, O: 9, kh: 3, kw: 3, groups: 3, dh: 2, dw: 2, pad: [1, 1, 2, 2] },
  { name: 'padding larger than the kernel span', N: 1, C: 2, H: 5, W: 6, O: 3, kh: 1, kw: 2, groups: 1, dh: 1, dw: 1, pad: [2, 2, 3, 3] },
  { name: 'depthwise, 13 channels', N: 2, C: 13, H: 6, W: 7, O: 13, kh: 3, kw: 3, groups: 13, dh: 1, dw: 1, pad: [1, 1, 1, 1] },
  { name: 'depth over one block (K 360), 100 rows', N: 1, C: 40, H: 6, W: 5, O: 100, kh: 3, kw: 3, groups: 1, dh: 1, dw: 1, pad: [1, 1, 1, 1] },
  { name: 'more than 512 pixels, 17 channels', N: 2, C: 2, H: 30, W: 27, O: 17, kh: 3, kw: 2, groups: 1, dh: 1, dw: 1, pad: [0, 0, 1, 1] },
  { name: 'LeNet-like: rows by pairs forward, one by one for the input gradient (5x5, 14x14 -> 10x10, 6 -> 16 channels)', N: 2, C: 6, H: 14, W: 14, O: 16, kh: 5, kw: 5, groups: 1, dh: 1, dw: 1, pad: [0, 0, 0, 0] },
  { name: 'rows by threes, then a last single row: 3x3 valid, 9x6 -> 7x4', N: 2, C: 3, H: 9, W: 6, O: 5, kh: 3, kw: 3, groups: 1, dh: 1, dw: 1, pad: [0, 0, 0, 0] },
  { name: 'rows by pairs, padding 2, odd output 9x8', N: 1, C: 3, H: 7, W: 8, O: 7, kh: 3, kw: 3, groups: 1, dh: 1, dw: 1, pad: [2, 2, 2, 2] },
  { name: 'row by row: dilation 2, padding 4, groups 2, depth over one block per row', N: 1, C: 84, H: 5, W: 4, O: 6, kh: 3, kw: 3, groups: 2, dh: 2, dw: 2, pad: [4, 3, 4, 4] },
  { name: 'stride 2, 3x3 pad 1 (odd input)', N: 2, C: 3, H: 9, W: 11, O: 8, kh: 3, kw: 3, groups: 1, sh: 2, sw: 2, dh: 1, dw: 1, pad: [1, 1, 1, 1] },
  { name: 'stride 3x2, 5x4 kernel, dilation 2x1, groups 2, no padding', N: 2, C: 4, H: 17, W: 12, O: 6, kh: 5, kw: 4, groups: 2, sh: 3, sw: 2, dh: 2, dw: 1, pad: [0, 0, 0, 0] },
  { name: 'stride 2, 1x1 kernel (downsampling shortcut)', N: 1, C: 5, H: 8, W: 7, O: 9, kh: 1, kw: 1, groups: 1, sh: 2, sw: 2, dh: 1, dw: 1, pad: [0, 0, 0, 0] },
  { name: 'stride 4x1, padding larger than the stride', N: 1, C: 2, H: 13, W: 6, O: 4, kh: 2, kw: 3, groups: 1, sh: 4, sw: 1, dh: 1, dw: 1, pad: [5, 5, 2, 2] },
];

function outSize(c: Case): [number, number] {
  const sh = c.sh ?? 1;
  const sw = c.sw ?? 1;
  return [Math.floor((c.H + c.pad[0] + c.pad[1] - c.dh * (c.kh - 1) - 1) / sh) + 1, Math.floor((c.W + c.pad[2] + c.pad[3] - c.dw * (c.kw - 1) - 1) / sw) + 1];
}

/** Calls f(n, o, oh, ow, xIndex, wIndex) for every in-bounds product of the convolution. */
function forEachProduct(c: Case, f: (yi: number, xi: number, wi: number) => void): void {
  const [outH, outW] = outSize(c);
  const og = c.O / c.groups;
  const cg = c.C / c.groups;
  for (let n = 0; n < c.N; n++)
    for (let o = 0; o < c.O; o++)
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++)
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < c.kh; i++)
              for (let j = 0; j < c.kw; j++) {
                const ih = oh * (c.sh ?? 1) - c.pad[0] + i * c.dh;
                const iw = ow * (c.sw ?? 1) - c.pad[2] + j * c.dw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const ch = Math.floor(o / og) * cg + ci;
                f(((n * c.O + o) * outH + oh) * outW + ow, ((n * c.C + ch) * c.H + ih) * c.W + iw, ((o * cg + ci) * c.kh + i) * c.kw + j);
              }
}

function expectClose(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst, what).toBeLessThan(1e-5);
}

describe('stride-1 WebAssembly convolution kernels', () => {
  const available = shiftedConvEnabled();
  it('are available where WebAssembly SIMD is (Node has it)', () => {
    expect(available).toBe(true);
  });
  it('run convolutions by groups of output rows where that skips enough padding or padded pixels', () => {
    const groupsOf = (c: Case, input: boolean) => {
      const [outH, outW] = outSize(c);
      const k = { kh: c.kh, kw: c.kw, dh: c.dh, dw: c.dw };
      if (!input) return shiftedConvRowGroups({ ...k, cs: c.C / c.groups, pt: c.pad[0], pl: c.pad[2], H: c.H, W: c.W, outH, outW });
      return shiftedConvRowGroups({ ...k, cs: c.O / c.groups, pt: c.dh * (c.kh - 1) - c.pad[0], pl: c.dw * (c.kw - 1) - c.pad[2], H: outH, W: outW, outH: c.H, outW: c.W });
    };
    const lenet = cases.find((c) => c.name.startsWith('LeNet-like'))!;
    // The input gradient (padded by 4): one row per call skips the most padding.
    expect(groupsOf(lenet, true)).toBe(1);
    // The forward (rows of 14 padded pixels, 10 valid): two rows per call waste fewest pixels.
    expect(groupsOf(lenet, false)).toBe(2);
    const dilated = cases.find((c) => c.name.startsWith('row by row'))!;
    expect(groupsOf(dilated, false)).toBeGreaterThan(0);
    expect(groupsOf(cases[0], false)).toBe(0);
    expect(groupsOf(cases.find((c) => c.name.startsWith('rows by threes'))!, false)).toBe(3);
    expect(groupsOf(cases.find((c) => c.name.startsWith('rows by pairs'))!, false)).toBe(2);
  });

  for (const c of cases) {
    it(`forward, input and weight gradients match the definitions: ${c.name}`, () => {
      const [outH, outW] = outSize(c);
      const og = c.O / c.groups;
      const cg = c.C / c.groups;
      const x = rnd(c.N * c.C * c.H * c.W);
      const w = rnd(c.O * cg * c.kh * c.kw);
      const bias = rnd(c.O);
      const dy = rnd(c.N * c.O * outH * outW);
      const P = outH * outW;
      const y = new Float64Array(c.N * c.O * P);
      for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / P) % c.O];
      const dx = new Float64Array(x.length);
      const dw = new Float64Array(w.length);
      forEachProduct(c, (yi, xi, wi) => {
        y[yi] += x[xi] * w[wi];
        dx[xi] += dy[yi] * w[wi];
        dw[wi] += dy[yi] * x[xi];
      });
      const geom = { groups: c.groups, kh: c.kh, kw: c.kw, dh: c.dh, dw: c.dw, weight: w };
      const stride = { sh: c.sh ?? 1, sw: c.sw ?? 1 };
      const strided = stride.sh > 1 || stride.sw > 1;
      const gotY = new Float32Array(y.length);
      expect(shiftedConv2d({ ...geom, ...stride, src: x, N: c.N, H: c.H, W: c.W, cs: cg, rows: og, pt: c.pad[0], pl: c.pad[2], outH, outW, flipped: false, bias }, gotY)).toBe(true);
      expectClose(gotY, y, 'forward');
      // shiftedConv2d takes the input gradient at stride 1 only (conv.ts splits strided ones into phases).
      if (!strided) {
        const gotDx = new Float32Array(dx.length);
        const pt = c.dh * (c.kh - 1) - c.pad[0];
        const pl = c.dw * (c.kw - 1) - c.pad[2];
        expect(shiftedConv2d({ ...geom, sh: 1, sw: 1, src: dy, N: c.N, H: outH, W: outW, cs: og, rows: cg, pt, pl, outH: c.H, outW: c.W, flipped: true, bias: null }, gotDx)).toBe(true);
        expectClose(gotDx, dx, 'input gradient');
      }
      expect(shiftedConv2d({ ...geom, ...stride, src: dy, N: c.N, H: outH, W: outW, cs: og, rows: cg, pt: 0, pl: 0, outH: c.H, outW: c.W, flipped: true, bias: null }, new Float32Array(dx.length))).toBe(!strided);
      // The CPU kernel: a strided input gradient runs phase by phase on the same kernels.
      const attrs = { strideH: stride.sh, strideW: stride.sw, padTop: c.pad[0], padLeft: c.pad[2], dilationH: c.dh, dilationW: c.dw, groups: c.groups, inputShape: [c.N, c.C, c.H, c.W] };
      const kernelDx = apply('Conv2DBackpropInput', [fromValues(dy, [c.N, c.O, outH, outW]), fromValues(w, [c.O, cg, c.kh, c.kw])], attrs);
      expectClose(kernelDx.dataSync() as Float32Array, dx, 'input gradient (kernel)');
      const gotDw = new Float32Array(dw.length);
      expect(shiftedConv2dFilter({ x, dy, N: c.N, H: c.H, W: c.W, groups: c.groups, cg, og, kh: c.kh, kw: c.kw, ...stride, dh: c.dh, dw: c.dw, pt: c.pad[0], pl: c.pad[2], outH, outW }, gotDw)).toBe(true);
      expectClose(gotDw, dw, 'weight gradient');
    });
  }

  it('give the same forward and gradients through the ops as the GEMM path: conv, strided conv and transposed conv', () => {
    const run = (on: boolean) => {
      expect(setShiftedConv(on)).toBe(true);
      const x = randn([2, 6, 9, 8], 0, 1, new Generator(3)).requiresGrad_();
      const w = randn([8, 3, 3, 3], 0, 1, new Generator(4)).requiresGrad_();
      const b = randn([8], 0, 1, new Generator(5)).requiresGrad_();
      const wt = randn([8, 2, 2, 3], 0, 1, new Generator(6)).requiresGrad_();
      const y = conv2d(x, w, b, { padding: [1, 2], dilation: [2, 1], groups: 2 });
      const z = convTranspose2d(y, wt, null, { padding: [1, 0], groups: 2 });
      const s2 = conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 });
      const loss = add(sum(mul(z, randn(z.shape, 0, 1, new Generator(7)))), sum(mul(s2, randn(s2.shape, 0, 1, new Generator(8)))));
      loss.backward();
      const values = (t: Tensor) => Array.from(t.dataSync());
      return { y: values(y), z: values(z), s2: values(s2), dx: values(x.grad!), dw: values(w.grad!), db: values(b.grad!), dwt: values(wt.grad!) };
    };
    const shifted = run(true);
    const gemm = run(false);
    setShiftedConv(available);
    for (const key of Object.keys(gemm) as (keyof typeof gemm)[]) {
      const a = shifted[key];
      const e = gemm[key];
      expect(a.length, key).toBe(e.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - e[i]), `${key}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(e[i])));
    }
  });

  it('give bit-identical forward and gradients on one, two and three threads', () => {
    expect(gemmThreadHost()).not.toBeNull();
    const c: Case = { name: 'threads', N: 5, C: 8, H: 16, W: 15, O: 12, kh: 3, kw: 3, groups: 2, dh: 1, dw: 1, pad: [1, 1, 1, 1] };
    const [outH, outW] = outSize(c);
    const x = rnd(c.N * c.C * c.H * c.W);
    const w = rnd(c.O * (c.C / c.groups) * 9);
    const dy = rnd(c.N * c.O * outH * outW);
    const geom = { groups: c.groups, kh: 3, kw: 3, dh: 1, dw: 1, weight: w };
    const run = (threads: number) => {
      setGemmThreads(threads);
      const y = new Float32Array(c.N * c.O * outH * outW);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      shiftedConv2d({ ...geom, sh: 1, sw: 1, src: x, N: c.N, H: c.H, W: c.W, cs: 4, rows: 6, pt: 1, pl: 1, outH, outW, flipped: false, bias: null }, y);
      shiftedConv2d({ ...geom, sh: 1, sw: 1, src: dy, N: c.N, H: outH, W: outW, cs: 6, rows: 4, pt: 1, pl: 1, outH: c.H, outW: c.W, flipped: true, bias: null }, dx);
      shiftedConv2dFilter({ x, dy, N: c.N, H: c.H, W: c.W, groups: 2, cg: 4, og: 6, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, outH, outW }, dw);
      return [y, dx, dw].map((a) => Array.from(a));
    };
    setShiftedConvBackoff(false);
    const threadsWere = setShiftedConvThreads(true);
    try {
      const one = run(1);
      const two = run(2);
      const three = run(3);
      expect(shiftedConvHelpers()).toBeGreaterThanOrEqual(2);
      expect(two).toEqual(one);
      expect(three).toEqual(one);
    } finally {
      setGemmThreads(null);
      setShiftedConvBackoff(true);
      setShiftedConvThreads(threadsWere);
    }
  });
});
