import { afterEach, describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { rnnLayer } from '../../../ops/rnn.ts';
import { LSTM } from '../../../nn/rnn.ts';
import '../register.ts';
import { gemmKernel, setGemmKernel } from '../matmul.ts';
import { lstmGateKernel, setLstmGateKernel } from '../rnn.ts';
import { createRnnWasm } from '../rnn-wasm.ts';

const initialGates = lstmGateKernel();
const initialGemm = gemmKernel();
afterEach(() => {
  setLstmGateKernel(initialGates);
  setGemmKernel(initialGemm);
});

function values(n: number, gen: Generator, scale: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (gen.random() * 2 - 1) * scale;
  return v;
}

/** Largest |a - b| relative to the largest |a| (absolute below 1). */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let s = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(a[i]));
  }
  return m / s;
}

interface Case {
  T: number;
  N: number;
  I: number;
  H: number;
  reverse: boolean;
  bias: boolean;
  /** Whether x and the initial states take gradients (the kernel skips dx / dh0 otherwise). */
  grads: boolean;
}

/** Outputs and every gradient of one LSTM layer under a fixed random loss, with the gate passes `kernel`. */
function layerRun(c: Case, kernel: 'wasm' | 'js', seed: number): Float32Array[] {
  expect(setLstmGateKernel(kernel)).toBe(true);
  const res: Float32Array[] = [];
  tidy(() => {
    const { T, N, I, H } = c;
    const gen = new Generator(seed);
    const leaf = (n: number, shape: number[], scale: number, grad: boolean) => {
      const t = fromValues(values(n, gen, scale), shape);
      return grad ? t.requiresGrad_() : t;
    };
    const x = leaf(T * N * I, [T, N, I], 1, c.grads);
    const h0 = leaf(N * H, [N, H], 0.5, c.grads);
    const c0 = leaf(N * H, [N, H], 0.5, c.grads);
    const wih = leaf(4 * H * I, [4 * H, I], 0.4, true);
    const whh = leaf(4 * H * H, [4 * H, H], 0.4, true);
    const bih = c.bias ? leaf(4 * H, [4 * H], 0.4, true) : null;
    const bhh = c.bias ? leaf(4 * H, [4 * H], 0.4, true) : null;
    const proj = fromValues(values(T * N * H, gen, 1), [T, N, H]);
    const o = rnnLayer('lstm', x, h0, c0, { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh }, c.reverse);
    add(add(sum(mul(o.output, proj)), sum(mul(o.hN, o.hN))), sum(mul(o.cN!, o.cN!))).backward();
    const leaves = [x, h0, c0, wih, whh, ...(bih && bhh ? [bih, bhh] : [])];
    res.push(...[o.output, o.hN, o.cN!].map((t: Tensor) => Float32Array.from(t.dataSync())));
    for (const l of leaves) {
      if (l.requiresGrad) res.push(Float32Array.from(l.grad!.dataSync()));
      else expect(l.grad).toBeNull();
    }
  });
  return res;
}

describe('LSTM gate passes in WebAssembly', () => {
  it('the module assembles and instantiates here (WebAssembly SIMD)', () => {
    const k = createRnnWasm();
    expect(k).not.toBeNull();
    k!.ensure(1 << 20);
    expect(k!.f32.length).toBeGreaterThanOrEqual(1 << 20);
  });

  it('lstmForward: activations, cell and hidden state agree with Math-based formulas, extremes and NaN included', () => {
    const k = createRnnWasm()!;
    const N = 3;
    const H = 7; // the last group of 4 overlaps the one before it
    const GH = 4 * H;
    const gen = new Generator(5);
    const hw = values(N * GH, gen, 12);
    // extremes: saturation on both sides, tiny values, zero, NaN
    hw.set([100, -100, 1e-8, -1e-8, 0, 87.9, -87.9, 200, -200, Number.NaN], 3);
    const bias = values(GH, gen, 0.5);
    const cPrev = values(N * H, gen, 3);
    cPrev[5] = 1e-9;
    const [oHw, oB, oC, oG, oCells, oTanh, oY, oHn] = [0, 128, 256, 384, 512, 640, 768, 896];
    const hnLd = H + 3;
    k.ensure(1024 + 64);
    const m = k.f32;
    m.set(hw, oHw);
    m.set(bias, oB);
    m.set(cPrev, oC);
    k.lstmForward(N, H, oHw * 4, GH * 4, oB * 4, oC * 4, oG * 4, oCells * 4, oTanh * 4, oY * 4, oHn * 4, hnLd * 4);
    const sig = (a: number) => 1 / (1 + Math.exp(-a));
    const close = (got: number, want: number, what: string) => {
      if (Number.isNaN(want)) expect(got, what).toBeNaN();
      // a few float32 ulps of the result, from the float32 pre-activation
      else expect(Math.abs(got - want), what).toBeLessThanOrEqual(4e-7 * Math.abs(want) + 1e-30);
    };
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        const a = (q: number) => Math.fround(hw[n * GH + q * H + j] + bias[q * H + j]);
        const i = sig(a(0));
        const f = sig(a(1));
        const g = Math.tanh(a(2));
        const o = sig(a(3));
        const at = (q: number) => m[oG + n * GH + q * H + j];
        close(at(0), i, `i ${n},${j}`);
        close(at(1), f, `f ${n},${j}`);
        close(at(2), g, `g ${n},${j}`);
        close(at(3), o, `o ${n},${j}`);
        // the cell from the kernel's own (float32) activations
        const c = Math.fround(at(1) * cPrev[n * H + j] + at(0) * at(2));
        if (Number.isNaN(c)) {
          expect(m[oCells + n * H + j]).toBeNaN();
          continue;
        }
        expect(Math.abs(m[oCells + n * H + j] - c)).toBeLessThanOrEqual(2.5e-7 * Math.abs(c));
        const tc = m[oTanh + n * H + j];
        close(tc, Math.tanh(m[oCells + n * H + j]), `tanh(c) ${n},${j}`);
        expect(m[oY + n * H + j]).toBe(Math.fround(at(3) * tc));
        expect(m[oHn + n * hnLd + j]).toBe(m[oY + n * H + j]);
      }
    }
    // hNext's padding between rows is left alone
    expect(m[oHn + H]).toBe(0);
  });

  it('lstmBackward and colSums agree with the formulas', () => {
    const k = createRnnWasm()!;
    const N = 2;
    const H = 5;
    const GH = 4 * H;
    const gen = new Generator(6);
    const dhLd = 8;
    const gates = Float32Array.from(values(N * GH, gen, 1), (v, idx) => (Math.floor(idx / H) % 4 === 2 ? v : 0.5 + v / 2));
    const arrays = { dh: values(N * dhLd, gen, 1), dy: values(N * H, gen, 1), gates, cp: values(N * H, gen, 2), tc: values(N * H, gen, 1), dc: values(N * H, gen, 1) };
    const [oDh, oDy, oG, oCp, oTc, oDc, oDcOut, oDg, oSum] = [0, 32, 64, 128, 160, 192, 224, 256, 320];
    k.ensure(512);
    const m = k.f32;
    m.set(arrays.dh, oDh);
    m.set(arrays.dy, oDy);
    m.set(arrays.gates, oG);
    m.set(arrays.cp, oCp);
    m.set(arrays.tc, oTc);
    m.set(arrays.dc, oDc);
    k.lstmBackward(N, H, oDh * 4, dhLd * 4, oDy * 4, oG * 4, oCp * 4, oTc * 4, oDc * 4, oDcOut * 4, oDg * 4);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        const q = n * H + j;
        const [i, f, g, o] = [0, 1, 2, 3].map((p) => gates[n * GH + p * H + j]);
        const tc = arrays.tc[q];
        const dh = arrays.dh[n * dhLd + j] + arrays.dy[q];
        const dc = arrays.dc[q] + dh * o * (1 - tc * tc);
        const want = [dc * g * i * (1 - i), dc * arrays.cp[q] * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)];
        want.forEach((w, p) => expect(Math.abs(m[oDg + n * GH + p * H + j] - w), `gate ${p} at ${n},${j}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(w))));
        expect(Math.abs(m[oDcOut + q] - dc * f)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(dc * f)));
      }
    }
    k.f64.fill(0, oSum / 2, oSum / 2 + GH);
    k.colSums(oDg * 4, N, GH / 4, oSum * 4);
    for (let j = 0; j < GH; j++) expect(k.f64[oSum / 2 + j]).toBe(m[oDg + j] + m[oDg + GH + j]);
  });

  const cases: Case[] = [
    { T: 5, N: 3, I: 6, H: 7, reverse: false, bias: true, grads: true },
    { T: 4, N: 1, I: 2, H: 5, reverse: true, bias: true, grads: true },
    { T: 6, N: 2, I: 1, H: 9, reverse: false, bias: false, grads: true },
    { T: 3, N: 100, I: 9, H: 4, reverse: true, bias: true, grads: false },
    { T: 7, N: 4, I: 28, H: 130, reverse: false, bias: true, grads: false },
    { T: 1, N: 5, I: 3, H: 6, reverse: true, bias: true, grads: true },
    // step products of 2^23 multiply-adds and more go through matmul.ts (blocks gathered from several column blocks)
    { T: 2, N: 70, I: 150, H: 129, reverse: true, bias: true, grads: true },
    // below 4 hidden units the JS pass runs either way
    { T: 3, N: 2, I: 2, H: 3, reverse: false, bias: true, grads: true },
  ];
  for (const c of cases) {
    it(`T ${c.T}, batch ${c.N}, input ${c.I}, hidden ${c.H}${c.reverse ? ', reverse' : ''}${c.bias ? '' : ', no bias'}${c.grads ? '' : ', no input gradients'}: same outputs and gradients as the JS pass`, () => {
      const js = layerRun(c, 'js', 31);
      const wasm = layerRun(c, 'wasm', 31);
      expect(wasm.length).toBe(js.length);
      js.forEach((a, i) => expect(relDiff(a, wasm[i]), `result ${i}`).toBeLessThan(2e-6));
    });
  }

  it('with the JS GEMM the JS pass runs, with the same results', () => {
    const c: Case = { T: 4, N: 3, I: 5, H: 6, reverse: false, bias: true, grads: true };
    const a = layerRun(c, 'wasm', 7);
    setGemmKernel('js');
    const b = layerRun(c, 'wasm', 7);
    a.forEach((v, i) => expect(relDiff(v, b[i]), `result ${i}`).toBeLessThan(2e-6));
  });

  for (const [layers, bidirectional] of [[2, false], [1, true], [2, true]] as const) {
    it(`nn.LSTM with ${layers} layers${bidirectional ? ', bidirectional' : ''}: same outputs and parameter gradients as the JS pass`, () => {
      const run = (kernel: 'wasm' | 'js') => {
        expect(setLstmGateKernel(kernel)).toBe(true);
        const res: Float32Array[] = [];
        tidy(() => {
          const m = new LSTM(5, 6, { numLayers: layers, bidirectional, generator: new Generator(3) });
          const gen = new Generator(4);
          const x = fromValues(values(3 * 7 * 5, gen, 1), [3, 7, 5]);
          const D = bidirectional ? 2 : 1;
          const proj = fromValues(values(3 * 7 * 6 * D, gen, 1), [3, 7, 6 * D]);
          const r = m.run(x);
          add(add(sum(mul(r.output, proj)), sum(mul(r.hN, r.hN))), sum(r.cN!)).backward();
          res.push(...[r.output, r.hN, r.cN!, ...m.parameters().map((p) => p.grad!)].map((t) => Float32Array.from(t.dataSync())));
        });
        return res;
      };
      const js = run('js');
      const wasm = run('wasm');
      js.forEach((a, i) => expect(relDiff(a, wasm[i]), `result ${i}`).toBeLessThan(2e-6));
    });
  }
});
