import { afterEach, describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { randn } from '../../../ops/creation.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { narrow } from '../../../ops/layout.ts';
import { sum } from '../../../ops/reduce.ts';
import { rnnLayer, type RnnMode } from '../../../ops/rnn.ts';
import '../register.ts';
import { expFast, expm1Into, sigmoidFast, tanhFast } from '../fast-math.ts';
import { gemmKernel, setGemmKernel } from '../matmul.ts';

describe('fast exp, sigmoid and tanh', () => {
  const gen = new Generator(4);
  const args: number[] = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.3465, -0.3466, 1, -1, 20, -20, 88, -87, -103];
  for (let i = 0; i < 20000; i++) args.push((gen.random() - 0.5) * 60 * gen.random() ** 3);

  it('agree with Math.exp, Math.tanh and 1 / (1 + exp(-x)) to float32 precision', () => {
    const batch = Float64Array.from(args);
    expm1Into(batch, batch.length);
    args.forEach((x, i) => {
      const e = Math.exp(x);
      expect(Math.abs(expFast(x) - e), `exp(${x})`).toBeLessThanOrEqual(3e-8 * e + 1e-38);
      expect(Math.abs(batch[i] - Math.expm1(x)), `expm1(${x})`).toBeLessThanOrEqual(3e-8 * Math.max(Math.abs(Math.expm1(x)), e));
      const t = Math.tanh(x);
      expect(Math.abs(tanhFast(x) - t), `tanh(${x})`).toBeLessThanOrEqual(3e-8 * Math.abs(t));
      const s = 1 / (1 + Math.exp(-x));
      // below float32's smallest normal number only the absolute error counts
      expect(Math.abs(sigmoidFast(x) - s), `sigmoid(${x})`).toBeLessThanOrEqual(3e-8 * s + 1e-38);
    });
  });

  it('saturate and propagate NaN as Math does', () => {
    expect(expFast(-Infinity)).toBe(0);
    expect(expFast(-200)).toBe(0);
    expect(expFast(Infinity)).toBe(Infinity);
    expect(expFast(100)).toBe(Infinity);
    expect(expFast(Number.NaN)).toBeNaN();
    expect(tanhFast(50)).toBe(1);
    expect(tanhFast(-50)).toBe(-1);
    expect(tanhFast(Infinity)).toBe(1);
    expect(tanhFast(Number.NaN)).toBeNaN();
    expect(sigmoidFast(-Infinity)).toBe(0);
    expect(sigmoidFast(Infinity)).toBe(1);
  });
});

/** Forward outputs and input/weight gradients of one layer under a fixed random loss. */
function layerResults(mode: RnnMode, x: Tensor, h0: Tensor, c0: Tensor, ws: Tensor[], reverse: boolean, proj: Tensor): Float32Array[] {
  const [wih, whh, bih, bhh] = ws;
  const leaves = [x, h0, c0, ...ws];
  const o = rnnLayer(mode, x, h0, mode === 'lstm' ? c0 : null, { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh }, reverse);
  add(add(sum(mul(o.output, proj)), sum(mul(o.hN, o.hN))), o.cN ? sum(o.cN) : 0).backward();
  const res = [o.output, o.hN, ...(o.cN ? [o.cN] : [])].map((t) => Float32Array.from(t.dataSync()));
  for (const l of leaves) {
    res.push(l.grad ? Float32Array.from(l.grad.dataSync()) : new Float32Array(l.size));
    l.grad = null;
  }
  return res;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('recurrent kernels: every GEMM path gives the same layer', () => {
  const initial = gemmKernel();
  afterEach(() => {
    setGemmKernel(initial);
  });
  const gen = new Generator(21);
  const r = (...shape: number[]) => randn(shape, 0, 0.5, gen);
  const leaf = (t: Tensor) => fromValues(Float32Array.from(t.dataSync()), t.shape).requiresGrad_();

  for (const mode of ['lstm', 'gru', 'rnn_tanh'] as RnnMode[]) {
    for (const reverse of [false, true]) {
      // 100 rows exceed one GEMM row block, so the LSTM gate pass reads a gathered product
      // rather than the finished block; halves of 50 rows take the single-block path.
      it(`${mode}${reverse ? ' reverse' : ''}: 100 rows at once equal two halves of 50, on the WebAssembly and the JS kernel`, () => {
        tidy(() => {
          const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
          const T = 5;
          const N = 100;
          const I = 6;
          const H = 7;
          const x = r(T, N, I).requiresGrad_();
          const h0 = r(N, H).requiresGrad_();
          const c0 = r(N, H).requiresGrad_();
          const ws = [r(G * H, I), r(G * H, H), r(G * H), r(G * H)].map((w) => w.requiresGrad_());
          const proj = r(T, N, H);
          const half = (k: number) => {
            const xs = leaf(narrow(x, 1, 50 * k, 50));
            const hs = leaf(narrow(h0, 0, 50 * k, 50));
            const cs = leaf(narrow(c0, 0, 50 * k, 50));
            return layerResults(mode, xs, hs, cs, ws, reverse, narrow(proj, 1, 50 * k, 50));
          };
          for (const kernel of ['wasm', 'js'] as const) {
            if (!setGemmKernel(kernel)) continue;
            const whole = layerResults(mode, x, h0, c0, ws, reverse, proj);
            const [a, b] = [half(0), half(1)];
            const nOut = mode === 'lstm' ? 3 : 2;
            // outputs [T, N, H] / states [N, H]: rows of the halves side by side
            const joinRows = (u: Float32Array, v: Float32Array, outer: number) => {
              const res = new Float32Array(u.length + v.length);
              const w = u.length / outer;
              for (let o = 0; o < outer; o++) {
                res.set(u.subarray(o * w, (o + 1) * w), 2 * o * w);
                res.set(v.subarray(o * w, (o + 1) * w), (2 * o + 1) * w);
              }
              return res;
            };
            for (let i = 0; i < nOut; i++) expect(maxDiff(whole[i], joinRows(a[i], b[i], i === 0 ? T : 1)), `${kernel} output ${i}`).toBeLessThan(1e-5);
            // dx [T, N, I], dh0, dc0: split by rows too; weight gradients: the halves add up
            expect(maxDiff(whole[nOut], joinRows(a[nOut], b[nOut], T)), `${kernel} dx`).toBeLessThan(1e-5);
            expect(maxDiff(whole[nOut + 1], joinRows(a[nOut + 1], b[nOut + 1], 1)), `${kernel} dh0`).toBeLessThan(1e-5);
            if (mode === 'lstm') expect(maxDiff(whole[nOut + 2], joinRows(a[nOut + 2], b[nOut + 2], 1)), `${kernel} dc0`).toBeLessThan(1e-5);
            for (let i = nOut + 3; i < whole.length; i++) {
              const summed = a[i].map((v, k) => v + b[i][k]);
              expect(maxDiff(whole[i], summed), `${kernel} weight gradient ${i - nOut - 3}`).toBeLessThan(1e-4);
            }
          }
        });
      });
    }
  }
});
