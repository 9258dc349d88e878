/**
 * The layer-norm and batch-norm kernels on the WebAssembly SIMD module (norm-simd.ts) give
 * what norm.ts's plain loops give: the layer-norm weight and bias gradients bit for bit,
 * everything else within float64 rounding of the sums (a float32 ulp or two at most), NaN
 * and infinities in the same places; over row widths (layer norm) and spatial sizes (batch
 * norm) that leave a last pair and a last single element, several chunks, one-row and
 * one-channel chunks, with and without affine and dropout, training and eval.
 */
import { describe, expect, it } from 'vitest';
import { applyMulti, fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { addLayerNormGradSimd, addLayerNormSimd, batchNormGradSimd, batchNormSimd, layerNormGradSimd, layerNormSimd, normSimdModuleBytes, setNormSimd } from '../norm-simd.ts';
import '../register.ts';

const gen = new Generator(33);

/** Random values around `offset`; with `specials`, rows 3, 7 and 11 hold a NaN, an infinity and a -infinity. */
function values(n: number, D: number, offset: number, specials: boolean): Float32Array {
  const v = Float32Array.from({ length: n }, () => offset + gen.uniform(-2, 2));
  if (specials && n > 12 * D) {
    v[3 * D + (D >> 1)] = NaN;
    v[7 * D] = Infinity;
    v[11 * D + D - 1] = -Infinity;
  }
  return v;
}

/** A dropout scale mask: 0 or 1 / (1 - p). */
function mask(n: number, p: number): Float32Array {
  return Float32Array.from({ length: n }, () => (gen.random() < p ? 0 : 1 / (1 - p)));
}

/** The kernel's outputs with the SIMD module on and off. */
function bothWays(name: string, inputs: () => Tensor[], attrs: Record<string, unknown>): [Float32Array[], Float32Array[]] {
  const run = (on: boolean) => {
    const was = setNormSimd(on);
    const res: Float32Array[] = [];
    try {
      tidy(() => {
        for (const t of applyMulti(name, inputs(), attrs)) res.push(Float32Array.from(t.dataSync()));
      });
      return res;
    } finally {
      setNormSimd(was);
    }
  };
  return [run(true), run(false)];
}

/** Expects equal NaN positions and values within `ulps` float32 ulps of the plain loop's (bit for bit with 0). */
function expectClose(simd: Float32Array, plain: Float32Array, ulps: number, what: string): void {
  expect(simd.length, what).toBe(plain.length);
  let worst = 0;
  let nanMismatch = -1;
  for (let i = 0; i < plain.length; i++) {
    const a = simd[i];
    const b = plain[i];
    if (Object.is(a, b)) continue;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      if (!(Number.isNaN(a) && Number.isNaN(b)) && nanMismatch < 0) nanMismatch = i;
      continue;
    }
    const ulp = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(b))) - 23));
    worst = Math.max(worst, Math.abs(a - b) / ulp);
  }
  expect(nanMismatch, `${what}: first index where only one side is NaN`).toBe(-1);
  expect(worst, what).toBeLessThanOrEqual(ulps);
}

const widths = [1, 2, 3, 4, 5, 7, 64, 127];
/** Enough rows for several 16384-float chunks, at least 40. */
const rowsFor = (D: number) => Math.max(40, Math.ceil(40000 / D) + 3);

it('the module validates and runs (Node has WebAssembly SIMD), so the comparisons below test it', () => {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
  expect(wasm.validate(normSimdModuleBytes())).toBe(true);
  const D = 5;
  const n = 100 * D;
  const x = values(n, D, 0, false);
  const w = values(D, D, 1, false);
  const rows = () => new Float32Array(100);
  const full = () => new Float32Array(n);
  const sums = () => new Float64Array(D);
  expect(layerNormSimd(x, D, 1e-5, w, w, full(), rows(), rows())).toBe(true);
  expect(addLayerNormSimd(x, x, x, D, 1e-5, w, w, full(), full(), rows())).toBe(true);
  expect(layerNormGradSimd(x, x, w, rows(), rows(), D, full(), sums(), sums())).toBe(true);
  expect(addLayerNormGradSimd(x, x, w, rows(), x, D, full(), full(), sums(), sums())).toBe(true);
  const none = () => undefined;
  const perChannel = () => new Float64Array(20);
  expect(batchNormSimd(x, 5, 20, 5, full(), none, perChannel(), perChannel())).toBe(true);
  expect(batchNormGradSimd(x, x, 5, 20, 5, rows(), rows(), true, none, perChannel(), perChannel(), perChannel(), full())).toBe(true);
  // Spatial rows shorter than 4 take the plain loops.
  expect(batchNormSimd(x, 50, 5, 2, full(), none, perChannel(), perChannel())).toBe(false);
  // No rows: the plain loops run (and do nothing).
  expect(layerNormSimd(new Float32Array(0), D, 1e-5, null, null, new Float32Array(0), new Float32Array(0), new Float32Array(0))).toBe(false);
  const was = setNormSimd(false);
  expect(layerNormSimd(x, D, 1e-5, w, w, full(), rows(), rows())).toBe(false);
  setNormSimd(was);
});

describe('LayerNorm and LayerNormGrad', () => {
  for (const D of widths) {
    for (const affine of [true, false]) {
      it(`D = ${D}, ${affine ? 'affine' : 'no affine'}: as the plain loops, NaN and infinities included`, () => {
        const rows = rowsFor(D);
        const n = rows * D;
        const x = values(n, D, 3, true);
        const w = values(D, D, 1, false);
        const b = values(D, D, 0, false);
        const dy = values(n, D, 0, true);
        const attrs = { inner: D, eps: 1e-5, affine };
        const [fs, fp] = bothWays('LayerNorm', () => [fromValues(x, [rows, D]), fromValues(w, [D]), fromValues(b, [D])], attrs);
        ['y', 'mean', 'rstd'].forEach((what, i) => expectClose(fs[i], fp[i], 1, what));
        // The backward from the same statistics (the plain forward's).
        const [mean, rstd] = [fp[1], fp[2]];
        const [bs, bp] = bothWays('LayerNormGrad', () => [
          fromValues(dy, [rows, D]), fromValues(x, [rows, D]), fromValues(w, [D]), fromValues(mean, [rows]), fromValues(rstd, [rows]),
        ], { inner: D, affine });
        expectClose(bs[0], bp[0], 2, 'dx');
        expectClose(bs[1], bp[1], 0, 'dweight');
        expectClose(bs[2], bp[2], 0, 'dbias');
        // The rows with NaN or infinities are NaN, the others finite.
        expect(Number.isNaN(fs[0][3 * D])).toBe(true);
        expect(Number.isNaN(fs[0][7 * D + D - 1])).toBe(true);
        expect(Number.isFinite(fs[0][5 * D])).toBe(true);
      });
    }
  }
});

describe('AddLayerNorm and AddLayerNormGrad', () => {
  for (const D of widths) {
    for (const [affine, p] of [[true, 0], [true, 0.3], [false, 0], [false, 0.5]] as const) {
      it(`D = ${D}, ${affine ? 'affine' : 'no affine'}, dropout ${p}: as the plain loops, NaN and infinities included`, () => {
        const rows = rowsFor(D);
        const n = rows * D;
        const x = values(n, D, 2, true);
        const r = values(n, D, -1, false);
        const m = mask(n, p);
        const w = values(D, D, 1, false);
        const b = values(D, D, 0, false);
        const dy = values(n, D, 0, true);
        const attrs = { inner: D, eps: 1e-5, affine, dropout: p > 0 };
        const t = (v: Float32Array) => fromValues(v, [rows, D]);
        const [fs, fp] = bothWays('AddLayerNorm', () => [t(x), t(r), fromValues(w, [D]), fromValues(b, [D]), ...(p > 0 ? [t(m)] : [])], attrs);
        ['y', 'xhat', 'rstd'].forEach((what, i) => expectClose(fs[i], fp[i], 1, what));
        const [xhat, rstd] = [fp[1], fp[2]];
        const [bs, bp] = bothWays('AddLayerNormGrad', () => [
          t(dy), t(xhat), fromValues(w, [D]), fromValues(rstd, [rows]), ...(p > 0 ? [t(m)] : []),
        ], attrs);
        expect(bs.length).toBe(bp.length);
        bs.forEach((v, i) => expectClose(v, bp[i], i < bs.length - 2 ? 2 : 0, ['dx', 'dr', 'dweight', 'dbias'][i + (p > 0 || i === 0 ? 0 : 1)]));
        expect(Number.isNaN(fs[0][3 * D])).toBe(true);
        expect(Number.isFinite(fs[0][5 * D])).toBe(true);
      });
    }
  }
});

it('rows longer than a chunk (one row per chunk) and a large offset from zero', () => {
  const D = 20001;
  const rows = 3;
  const n = rows * D;
  const x = values(n, D, 1000, false);
  const dy = values(n, D, 0, false);
  const w = values(D, D, 1, false);
  const b = values(D, D, 0, false);
  const attrs = { inner: D, eps: 1e-5, affine: true };
  const [fs, fp] = bothWays('LayerNorm', () => [fromValues(x, [rows, D]), fromValues(w, [D]), fromValues(b, [D])], attrs);
  ['y', 'mean', 'rstd'].forEach((what, i) => expectClose(fs[i], fp[i], 1, what));
  const [bs, bp] = bothWays('AddLayerNormGrad', () => [fromValues(dy, [rows, D]), fromValues(fp[0], [rows, D]), fromValues(w, [D]), fromValues(fp[2], [rows])], { ...attrs, dropout: false });
  ['dx', 'dweight', 'dbias'].forEach((what, i) => expectClose(bs[i], bp[i], i === 0 ? 2 : 0, what));
});

describe('BatchNorm and BatchNormGrad', () => {
  const shapes = [
    [6, 3, 4], [8, 5, 5, 1], [4, 3, 7], [3, 4, 3, 3], [2, 2, 127], [16, 8, 28, 28],
    [2, 9000, 4], // several chunks of channels
    [3, 2, 30001], // one channel a chunk
    [50, 5, 2], // spatial size 2: the plain loops on both sides
  ];
  for (const shape of shapes) {
    for (const training of [true, false]) {
      it(`[${shape.join(', ')}], ${training ? 'training' : 'eval'}: as the plain loops, NaN and infinities included`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const c = shape[1];
        const L = n / (shape[0] * c);
        const x = values(n, L, 2, false);
        // A NaN in channel 0 of sample 1, an infinity in channel 1 of sample 0.
        x[c * L + 1] = NaN;
        x[L + L - 1] = Infinity;
        const dy = values(n, L, 0, false);
        const w = values(c, c, 1, false);
        const b = values(c, c, 0, false);
        const rm = values(c, c, 0, false);
        const rv = values(c, c, 3, false);
        const attrs = { training, momentum: 0.1, eps: 1e-5 };
        const vec = (v: Float32Array) => fromValues(v, [c]);
        const [fs, fp] = bothWays('BatchNorm', () => [fromValues(x, shape), vec(w), vec(b), vec(rm), vec(rv)], attrs);
        ['y', 'mean', 'invstd', 'running mean', 'running var'].forEach((what, i) => expectClose(fs[i], fp[i], 1, what));
        const [bs, bp] = bothWays('BatchNormGrad', () => [fromValues(dy, shape), fromValues(x, shape), vec(w), vec(fp[1]), vec(fp[2])], attrs);
        ['dx', 'dweight', 'dbias'].forEach((what, i) => expectClose(bs[i], bp[i], i === 0 ? 2 : 1, what));
        // Training: the channels with a NaN or an infinity are NaN, the others finite.
        if (training) {
          expect(Number.isNaN(fs[0][0]) && Number.isNaN(fs[0][L])).toBe(true);
          if (c > 2) expect(Number.isFinite(fs[0][2 * L])).toBe(true);
        }
      });
    }
  }
});
