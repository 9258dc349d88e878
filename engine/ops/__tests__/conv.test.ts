import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { conv1d, conv2d, convTranspose2d } from '../conv.ts';
import { randn } from '../creation.ts';
import { bmm } from '../matmul.ts';
import { gemmKernel, gemmStrided, setGemmKernel } from '../../backends/cpu/matmul.ts';

const gen = new Generator(11);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

interface RefConv {
  stride: [number, number];
  pad: [number, number, number, number]; // top, bottom, left, right
  dilation: [number, number];
  groups: number;
}

/** Direct-loop convolution, the definition: y[n,o,oh,ow] = b[o] + sum x[n,c,ih,iw] w[o,c',i,j]. */
function refConv2d(x: Tensor, w: Tensor, b: Tensor | null, p: RefConv): { values: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [O, cg, kh, kw] = w.shape;
  const xv = x.dataSync();
  const wv = w.dataSync();
  const bv = b ? b.dataSync() : null;
  const outH = Math.floor((H + p.pad[0] + p.pad[1] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
  const outW = Math.floor((W + p.pad[2] + p.pad[3] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
  const og = O / p.groups;
  const y = new Float64Array(N * O * outH * outW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / og);
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) {
          let s = bv ? bv[o] : 0;
          for (let c = 0; c < cg; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const ih = oh * p.stride[0] - p.pad[0] + i * p.dilation[0];
                const iw = ow * p.stride[1] - p.pad[2] + j * p.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += xv[((n * C + g * cg + c) * H + ih) * W + iw] * wv[((o * cg + c) * kh + i) * kw + j];
              }
          y[((n * O + o) * outH + oh) * outW + ow] = s;
        }
    }
  return { values: y, shape: [N, O, outH, outW] };
}

/** Direct scatter: every input pixel adds its value times the kernel into the output. */
function refConvTranspose2d(
  x: Tensor, w: Tensor, b: Tensor | null,
  p: { stride: [number, number]; pad: [number, number]; outputPadding: [number, number]; dilation: [number, number]; groups: number },
): { values: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [, coutG, kh, kw] = w.shape;
  const cinG = C / p.groups;
  const cout = coutG * p.groups;
  const outH = (H - 1) * p.stride[0] - 2 * p.pad[0] + p.dilation[0] * (kh - 1) + p.outputPadding[0] + 1;
  const outW = (W - 1) * p.stride[1] - 2 * p.pad[1] + p.dilation[1] * (kw - 1) + p.outputPadding[1] + 1;
  const xv = x.dataSync();
  const wv = w.dataSync();
  const y = new Float64Array(N * cout * outH * outW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / cinG);
      for (let h = 0; h < H; h++)
        for (let ww = 0; ww < W; ww++)
          for (let oc = 0; oc < coutG; oc++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const oh = h * p.stride[0] - p.pad[0] + i * p.dilation[0];
                const ow = ww * p.stride[1] - p.pad[1] + j * p.dilation[1];
                if (oh < 0 || oh >= outH || ow < 0 || ow >= outW) continue;
                y[((n * cout + g * coutG + oc) * outH + oh) * outW + ow] += xv[((n * C + c) * H + h) * W + ww] * wv[((c * coutG + oc) * kh + i) * kw + j];
              }
    }
  if (b) {
    const bv = b.dataSync();
    for (let i = 0; i < y.length; i++) y[i] += bv[Math.floor(i / (outH * outW)) % cout];
  }
  return { values: y, shape: [N, cout, outH, outW] };
}

function expectClose(t: Tensor, ref: { values: ArrayLike<number>; shape: number[] }, tol = 1e-4): void {
  expect([...t.shape]).toEqual(ref.shape);
  const v = t.dataSync();
  let worst = 0;
  for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - ref.values[i]) / (1 + Math.abs(ref.values[i])));
  expect(worst).toBeLessThan(tol);
}

const convCases: { name: string; x: number[]; w: number[]; stride?: [number, number]; padding?: [number, number] | 'same' | 'valid'; dilation?: [number, number]; groups?: number; bias?: boolean }[] = [
  { name: 'plain 3x3 with bias', x: [2, 3, 7, 6], w: [4, 3, 3, 3], bias: true },
  { name: 'stride 2, padding 1', x: [2, 2, 7, 8], w: [3, 2, 3, 3], stride: [2, 2], padding: [1, 1], bias: true },
  { name: 'asymmetric stride/padding/dilation', x: [1, 2, 9, 8], w: [2, 2, 3, 2], stride: [2, 1], padding: [2, 0], dilation: [2, 3] },
  { name: 'groups 2', x: [2, 4, 6, 6], w: [6, 2, 3, 3], groups: 2, bias: true },
  { name: 'depthwise', x: [2, 3, 6, 5], w: [3, 1, 3, 3], groups: 3, padding: [1, 1] },
  { name: '1x1 pointwise', x: [2, 5, 4, 3], w: [3, 5, 1, 1], bias: true },
  { name: '1x1 pointwise, groups 5', x: [2, 5, 4, 3], w: [5, 1, 1, 1], groups: 5 },
  { name: "'same', odd kernel", x: [1, 2, 5, 6], w: [2, 2, 3, 3], padding: 'same', bias: true },
  { name: "'same', even kernel and dilation (asymmetric pad)", x: [1, 2, 5, 6], w: [2, 2, 4, 2], padding: 'same', dilation: [1, 2] },
  { name: "'valid'", x: [1, 1, 5, 5], w: [1, 1, 2, 3], padding: 'valid' },
  { name: 'kernel equal to the padded input', x: [1, 2, 3, 3], w: [2, 2, 5, 5], padding: [1, 1] },
  { name: 'stride larger than kernel', x: [1, 1, 9, 9], w: [2, 1, 2, 2], stride: [3, 4], padding: [1, 0] },
];

function refPads(c: (typeof convCases)[number]): [number, number, number, number] {
  const [, , kh, kw] = c.w;
  const d = c.dilation ?? [1, 1];
  if (c.padding === 'same') {
    const th = d[0] * (kh - 1);
    const tw = d[1] * (kw - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (c.padding === undefined || c.padding === 'valid') return [0, 0, 0, 0];
  return [c.padding[0], c.padding[0], c.padding[1], c.padding[1]];
}

describe('conv2d forward', () => {
  it('matches values computed by hand (as PyTorch gives them)', () => {
    const x = tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const w = tensor(new Array(9).fill(1), [1, 1, 3, 3]);
    // torch.nn.functional.conv2d(torch.arange(16.).view(1,1,4,4), torch.ones(1,1,3,3), padding=1)
    expect(Array.from(conv2d(x, w, null, { padding: 1 }).dataSync())).toEqual([10, 18, 24, 18, 27, 45, 54, 39, 51, 81, 90, 63, 42, 66, 72, 50]);
    // stride 2 and a bias: windows centred on (0,0), (0,2), (2,0), (2,2), plus 0.5.
    expect(Array.from(conv2d(x, w, tensor([0.5], [1]), { padding: 1, stride: 2 }).dataSync())).toEqual([10.5, 24.5, 51.5, 90.5]);
  });

  for (const c of convCases) {
    it(`matches the direct-loop reference: ${c.name}`, () => {
      const x = r(...c.x);
      const w = r(...c.w);
      const b = c.bias ? r(c.w[0]) : null;
      const y = conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
      expectClose(y, refConv2d(x, w, b, { stride: c.stride ?? [1, 1], pad: refPads(c), dilation: c.dilation ?? [1, 1], groups: c.groups ?? 1 }));
    });
  }

  it('gives torch output shapes over a grid of attributes', () => {
    for (const H of [5, 8])
      for (const k of [1, 2, 3])
        for (const s of [1, 2, 3])
          for (const p of [0, 1])
            for (const d of [1, 2]) {
              if (d * (k - 1) + 1 > H + 2 * p) continue;
              const y = conv2d(r(1, 1, H, H + 1), r(2, 1, k, k), null, { stride: s, padding: p, dilation: d });
              const expected = (L: number) => Math.floor((L + 2 * p - d * (k - 1) - 1) / s) + 1;
              expect([...y.shape]).toEqual([1, 2, expected(H), expected(H + 1)]);
            }
  });

  it('accepts unbatched input', () => {
    const x = r(3, 6, 6);
    const w = r(2, 3, 3, 3);
    const y = conv2d(x, w, null, { padding: 1 });
    expect([...y.shape]).toEqual([2, 6, 6]);
    expectClose(y, { values: refConv2d(tensor(x.dataSync(), [1, 3, 6, 6]), w, null, { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }).values, shape: [2, 6, 6] });
  });

  it('agrees with an explicit im2col matrix product on a larger layer', () => {
    // Exercises the blocked GEMM edges (49 output channels, k = 8*3*3 = 72 > one micro-panel).
    const x = r(2, 8, 12, 11);
    const w = r(49, 8, 3, 3);
    const y = conv2d(x, w, null, { padding: 1 });
    expectClose(y, refConv2d(x, w, null, { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }));
  });
});

describe('conv2d errors', () => {
  it('names both shapes on an input channel mismatch', () => {
    expect(() => conv2d(r(8, 1, 28, 28), r(16, 3, 5, 5))).toThrow('conv2d: expects 3 input channels (weight [16, 3, 5, 5]), input has 1 (shape [8, 1, 28, 28])');
    expect(() => conv2d(r(1, 4, 5, 5), r(4, 1, 3, 3), null, { groups: 2 })).toThrow('conv2d: expects 2 input channels (weight [4, 1, 3, 3], groups 2), input has 4 (shape [1, 4, 5, 5])');
  });
  it('rejects out channels that groups do not divide', () => {
    expect(() => conv2d(r(1, 4, 5, 5), r(3, 2, 3, 3), null, { groups: 2 })).toThrow('conv2d: out channels 3 (weight [3, 2, 3, 3]) are not divisible by groups 2');
  });
  it('rejects a kernel larger than the padded input', () => {
    expect(() => conv2d(r(1, 1, 3, 3), r(1, 1, 5, 5))).toThrow('conv2d: kernel 5x5 (with dilation spanning 5x5) is larger than the padded input 3x3 (input [1, 1, 3, 3], weight [1, 1, 5, 5])');
    expect(() => conv2d(r(1, 1, 5, 5), r(1, 1, 3, 3), null, { dilation: 3 })).toThrow(/spanning 7x7\) is larger than the padded input 5x5/);
  });
  it('rejects bad bias, strided same padding and bad attributes', () => {
    expect(() => conv2d(r(1, 1, 5, 5), r(2, 1, 3, 3), r(3))).toThrow('conv2d: bias must have shape [2], got [3]');
    expect(() => conv2d(r(1, 1, 5, 5), r(2, 1, 3, 3), null, { padding: 'same', stride: 2 })).toThrow("padding='same' needs stride 1");
    expect(() => conv2d(r(1, 1, 5, 5), r(2, 1, 3, 3), null, { stride: 0 })).toThrow('conv2d: stride must be a positive integer');
    expect(() => conv2d(r(1, 5, 5), r(2, 1, 3))).toThrow('conv2d: weight must be 4-D');
    expect(() => conv2d(r(5, 5), r(2, 1, 3, 3))).toThrow('conv2d: expects a 4-D input [N, C, H, W] (or 3-D unbatched), got shape [5, 5]');
  });
});

describe('conv1d', () => {
  it('matches conv2d with a height of 1 and torch shapes', () => {
    const x = r(2, 4, 11);
    const w = r(6, 2, 3);
    const b = r(6);
    const y = conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2, groups: 2 });
    expect([...y.shape]).toEqual([2, 6, Math.floor((11 + 4 - 2 * 2 - 1) / 2) + 1]);
    const ref = refConv2d(tensor(x.dataSync(), [2, 4, 1, 11]), tensor(w.dataSync(), [6, 2, 1, 3]), b, { stride: [1, 2], pad: [0, 0, 2, 2], dilation: [1, 2], groups: 2 });
    expectClose(y, { values: ref.values, shape: [2, 6, ref.shape[3]] });
  });
  it("supports 'same' and names 1-D sizes in errors", () => {
    expect([...conv1d(r(1, 2, 7), r(3, 2, 4), null, { padding: 'same' }).shape]).toEqual([1, 3, 7]);
    expect(() => conv1d(r(1, 2, 3), r(3, 2, 5))).toThrow('conv1d: kernel 5 (with dilation spanning 5) is larger than the padded input 3 (input [1, 2, 3], weight [3, 2, 5])');
    expect(() => conv1d(r(1, 3, 7), r(3, 2, 3))).toThrow('conv1d: expects 2 input channels (weight [3, 2, 3]), input has 3 (shape [1, 3, 7])');
  });
});

const transposeCases: { name: string; x: number[]; w: number[]; stride?: [number, number]; padding?: [number, number]; outputPadding?: [number, number]; dilation?: [number, number]; groups?: number; bias?: boolean }[] = [
  { name: 'stride 1', x: [2, 3, 4, 5], w: [3, 2, 3, 3], bias: true },
  { name: 'stride 2, padding 1, output_padding 1', x: [1, 2, 4, 3], w: [2, 3, 3, 3], stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], bias: true },
  { name: 'asymmetric stride and output_padding', x: [1, 2, 3, 4], w: [2, 2, 2, 3], stride: [3, 2], padding: [0, 1], outputPadding: [2, 0] },
  { name: 'dilation with output_padding below dilation', x: [1, 1, 3, 3], w: [1, 2, 3, 2], dilation: [2, 3], outputPadding: [1, 2] },
  { name: 'groups 2', x: [2, 4, 3, 3], w: [4, 3, 3, 3], groups: 2, stride: [2, 2], bias: true },
  { name: '1x1', x: [1, 3, 4, 4], w: [3, 4, 1, 1] },
];

describe('conv_transpose2d', () => {
  it('matches a hand-computed upsampling (as PyTorch gives it)', () => {
    // F.conv_transpose2d(torch.tensor([[[[1.,2],[3,4]]]]), torch.ones(1,1,2,2), stride=2)
    const y = convTranspose2d(tensor([1, 2, 3, 4], [1, 1, 2, 2]), tensor([1, 1, 1, 1], [1, 1, 2, 2]), null, { stride: 2 });
    expect(Array.from(y.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  for (const c of transposeCases) {
    it(`matches the direct scatter reference: ${c.name}`, () => {
      const x = r(...c.x);
      const w = r(...c.w);
      const b = c.bias ? r(c.w[1] * (c.groups ?? 1)) : null;
      const y = convTranspose2d(x, w, b, { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups });
      expectClose(y, refConvTranspose2d(x, w, b, { stride: c.stride ?? [1, 1], pad: c.padding ?? [0, 0], outputPadding: c.outputPadding ?? [0, 0], dilation: c.dilation ?? [1, 1], groups: c.groups ?? 1 }));
    });
  }

  it('rejects mismatched channels and too-large output_padding', () => {
    expect(() => convTranspose2d(r(1, 2, 4, 4), r(3, 2, 3, 3))).toThrow('conv_transpose2d: expects 3 input channels (weight [3, 2, 3, 3]), input has 2 (shape [1, 2, 4, 4])');
    expect(() => convTranspose2d(r(1, 2, 4, 4), r(2, 2, 3, 3), null, { stride: 2, outputPadding: 2 })).toThrow('conv_transpose2d: output_padding [2, 2] must be smaller than either stride [2, 2] or dilation [1, 1]');
    expect(() => convTranspose2d(r(1, 3, 4, 4), r(3, 2, 3, 3), null, { groups: 2 })).toThrow('conv_transpose2d: input channels 3 (weight [3, 2, 3, 3]) are not divisible by groups 2');
  });
});

describe('convolution gradients (finite differences)', () => {
  // Convolutions are linear in each input, so a larger step is exact and beats float32 noise.
  const opts = { eps: 1e-2 };
  it('conv2d over the attribute cases', () => {
    for (const c of convCases.filter((cc) => cc.x[0] * cc.x[1] * cc.x[2] * cc.x[3] <= 200)) {
      const inputs = [r(...c.x), r(...c.w), ...(c.bias ? [r(c.w[0])] : [])];
      assertGradcheck((x, w, b) => conv2d(x, w, b ?? null, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups }), inputs, opts);
    }
  });
  it('conv2d on the larger blocked case, through a following matmul', () => {
    assertGradcheck((x, w, m) => bmm(conv2d(x, w, null, { padding: 1, stride: 2 }), m, false, false), [r(1, 6, 9, 9), r(10, 6, 3, 3), r(5, 3)], opts);
  });
  it('conv1d', () => {
    assertGradcheck((x, w, b) => conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }), [r(2, 3, 9), r(4, 3, 3), r(4)], opts);
    assertGradcheck((x, w) => conv1d(x, w, null, { groups: 2, padding: 'same' }), [r(1, 4, 6), r(4, 2, 2)], opts);
  });
  it('conv_transpose2d over the attribute cases', () => {
    for (const c of transposeCases) {
      const inputs = [r(...c.x), r(...c.w), ...(c.bias ? [r(c.w[1] * (c.groups ?? 1))] : [])];
      assertGradcheck((x, w, b) => convTranspose2d(x, w, b ?? null, { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups }), inputs, opts);
    }
  });
});

describe('packed GEMM under the convolutions: WebAssembly SIMD and JS micro-kernels agree with a direct product', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [37, 70, 300], [100, 1030, 9], [6, 8, 257], [13, 17, 801]];
  const initial = gemmKernel();
  const kernels = (['wasm', 'js'] as const).filter((k) => setGemmKernel(k));
  setGemmKernel(initial);
  it('has at least the JS kernel', () => {
    expect(kernels).toContain('js');
  });
  for (const kernel of kernels) {
    it(`${kernel}: C += A B with plain and transposed strides, edge tiles and K blocking`, () => {
      setGemmKernel(kernel);
      expect(gemmKernel()).toBe(kernel);
      for (const [m, n, k] of shapes)
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
          const a = Float32Array.from({ length: m * k }, () => gen.uniform(-1, 1));
          const b = Float32Array.from({ length: k * n }, () => gen.uniform(-1, 1));
          const c = Float32Array.from({ length: m * n }, () => gen.uniform(-1, 1));
          const at = (i: number, p: number) => (ta ? a[p * m + i] : a[i * k + p]);
          const bt = (p: number, j: number) => (tb ? b[j * k + p] : b[p * n + j]);
          const expected = Float64Array.from(c);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) expected[i * n + j] += at(i, p) * bt(p, j);
          gemmStrided(m, n, k, a, 0, ta ? 1 : k, ta ? m : 1, b, 0, tb ? 1 : n, tb ? k : 1, c, 0, n);
          let worst = 0;
          for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i] - expected[i]) / (1 + Math.abs(expected[i])));
          expect(worst, `${m}x${n}x${k} ta=${ta} tb=${tb}`).toBeLessThan(2e-5);
        }
    });
    it(`${kernel}: convolution forward and gradients match the references`, () => {
      setGemmKernel(kernel);
      const x = r(2, 4, 7, 7);
      const w = r(6, 2, 3, 3);
      expectClose(conv2d(x, w, null, { padding: 1, groups: 2 }), refConv2d(x, w, null, { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 2 }));
      assertGradcheck((xx, ww) => conv2d(xx, ww, null, { stride: 2, groups: 2 }), [r(1, 4, 6, 6), r(6, 2, 3, 3)], { eps: 1e-2 });
    });
  }
  it('restores the default kernel', () => {
    setGemmKernel(initial);
    expect(gemmKernel()).toBe(initial);
  });
});
