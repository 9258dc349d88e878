import { afterAll, describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { fusedAttention, type HeadView, type MaskStrides } from '../../../ops/attention.ts';
import { randn } from '../../../ops/creation.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { setAttentionRowsWasm, setAttentionWasm } from '../attention-wasm.ts';
import '../register.ts';

const gen = new Generator(33);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

interface Case {
  B: number;
  heads: number;
  L: number;
  S: number;
  E: number;
  causal?: boolean;
  dropoutP?: number;
  weightsGrad?: boolean;
  /** 'rows': an [L, S] mask (key stride 1); 'strided': the same mask stored [S, L] (key stride L); 'keys': one value per query (key stride 0). */
  mask?: 'rows' | 'strided' | 'keys';
  /** Every key blocked for query 1 (through the mask), or a NaN in query 0 of every block, or a NaN in key 0. */
  nan?: 'blocked' | 'query' | 'key';
}

function maskOf(c: Case): { mask: Tensor; maskStrides: MaskStrides } | null {
  const { L, S } = c;
  if (!c.mask) return null;
  const value = (l: number, j: number) => {
    if (c.nan === 'blocked' && l === 1) return -Infinity;
    return (l * 7 + j * 3) % 5 === 0 ? -Infinity : ((l + 2 * j) % 7) * 0.25 - 0.5;
  };
  if (c.mask === 'keys') return { mask: tensor(Array.from({ length: L }, (_, l) => (c.nan === 'blocked' && l === 1 ? -Infinity : l * 0.3 - 1)), [L]), maskStrides: [0, 0, 1, 0] };
  if (c.mask === 'rows') return { mask: tensor(Array.from({ length: L * S }, (_, i) => value(Math.floor(i / S), i % S)), [L, S]), maskStrides: [0, 0, S, 1] };
  return { mask: tensor(Array.from({ length: S * L }, (_, i) => value(i % L, Math.floor(i / L))), [S, L]), maskStrides: [0, 0, 1, L] };
}

/** Output, weights (when they carry a gradient) and the q, k, v gradients, with the module's row passes or the JS rows. */
function outcome(c: Case, rowsWasm: boolean, q: Tensor, k: Tensor, v: Tensor, po: Tensor, pw: Tensor): Float32Array[] {
  setAttentionRowsWasm(rowsWasm);
  const { B, heads, L, S, E } = c;
  const leaves = [q, k, v];
  leaves.forEach((t) => t.requiresGrad_());
  const m = maskOf(c);
  const view = (t: Tensor, rows: number): HeadView => ({ tensor: t, offset: 0, batchStride: heads * rows * E, headStride: rows * E, rowStride: E });
  const res = fusedAttention(view(q, L), view(k, S), view(v, S), { B, heads, L, S, E, Ev: E }, {
    mask: m?.mask, maskStrides: m?.maskStrides, isCausal: c.causal, dropoutP: c.dropoutP ?? 0, generator: new Generator(5),
    outShape: [B, heads, L, E], outStrides: [heads * L * E, L * E, E], weightsShape: [B, heads, L, S], weightsGrad: c.weightsGrad ?? false,
  });
  const loss = sum(mul(res.output, po));
  (c.weightsGrad ? add(loss, sum(mul(res.weights, pw))) : loss).backward();
  const grads = leaves.map((t) => t.grad!.dataSync() as Float32Array);
  leaves.forEach((t) => {
    t.grad = null;
  });
  return [res.output.dataSync() as Float32Array, res.weights.dataSync() as Float32Array, ...grads];
}

const names = ['output', 'weights', 'dq', 'dk', 'dv'];

function compare(c: Case): void {
  tidy(() => {
    const { B, heads, L, S, E } = c;
    const q = r(B, heads, L, E);
    const k = r(B, heads, S, E);
    const v = r(B, heads, S, E);
    if (c.nan === 'query' || c.nan === 'key') {
      const t = c.nan === 'query' ? q : k;
      const rows = c.nan === 'query' ? L : S;
      const x = t.dataSync() as Float32Array;
      for (let blk = 0; blk < B * heads; blk++) x[blk * rows * E] = Number.NaN;
    }
    const po = r(B, heads, L, E);
    const pw = r(B, heads, L, S);
    expect(setAttentionWasm(true)).toBe(true);
    const ok = setAttentionRowsWasm(true);
    expect(ok).toBe(true);
    const a = outcome(c, true, q, k, v, po, pw);
    const b = outcome(c, false, q, k, v, po, pw);
    setAttentionRowsWasm(true);
    let nans = 0;
    a.forEach((x, i) => {
      const y = b[i];
      expect(x.length).toBe(y.length);
      let big = 0;
      for (const t of y) if (Number.isFinite(t)) big = Math.max(big, Math.abs(t));
      for (let j = 0; j < x.length; j++) {
        const at = `${names[i]}[${j}]`;
        if (Number.isNaN(y[j])) nans++;
        if (Number.isNaN(x[j]) || Number.isNaN(y[j]) || y[j] === 0 || !Number.isFinite(y[j])) {
          // NaN rows, blocked and causal zeros, infinities: exactly as the JS rows
          expect(Object.is(x[j], y[j]) || (x[j] === 0 && y[j] === 0), `${at}: ${x[j]} vs ${y[j]}`).toBe(true);
        } else {
          // float32 rounding: a few ulps of the value, or of the array's largest (inputs are of order 1) where terms cancel
          expect(Math.abs(x[j] - y[j]), `${at}: ${x[j]} vs ${y[j]}`).toBeLessThanOrEqual(4e-7 * Math.abs(y[j]) + 1e-6 * Math.max(big, 1));
        }
      }
    });
    if (c.nan) expect(nans).toBeGreaterThan(0);
  });
}

afterAll(() => {
  setAttentionRowsWasm(true);
});

describe("attention softmax rows on the attention module equal attention.ts's JS rows", () => {
  const sizes: [number, number, number, number, number][] = [
    [1, 1, 1, 1, 1],
    [2, 1, 3, 2, 2],
    [1, 2, 4, 5, 3],
    [2, 2, 7, 13, 5],
    [1, 3, 12, 8, 8],
    [2, 1, 5, 6, 4],
    [1, 2, 9, 7, 3],
    [2, 4, 28, 28, 16],
    [1, 1, 33, 31, 4],
  ];
  for (const [B, heads, L, S, E] of sizes) {
    for (const causal of [false, true]) {
      for (const dropoutP of [0, 0.3]) {
        for (const weightsGrad of [false, true]) {
          const c: Case = { B, heads, L, S, E, causal, dropoutP, weightsGrad };
          it(`B ${B}, ${heads} heads, L ${L}, S ${S}, E ${E}${causal ? ', causal' : ''}${dropoutP ? ', dropout' : ''}${weightsGrad ? ', weights gradient' : ''}`, () => compare(c));
        }
      }
    }
    for (const mask of ['rows', 'strided', 'keys'] as const) {
      const c: Case = { B, heads, L, S, E, mask, causal: S % 2 === 1, dropoutP: 0.2, weightsGrad: true };
      it(`B ${B}, ${heads} heads, L ${L}, S ${S}, E ${E}, ${mask} mask${c.causal ? ', causal' : ''}`, () => compare(c));
    }
  }
  for (const nan of ['blocked', 'query', 'key'] as const) {
    for (const mask of ['rows', 'strided', 'keys'] as const) {
      for (const causal of [false, true]) {
        for (const dropoutP of [0, 0.25]) {
          const c: Case = { B: 2, heads: 2, L: 6, S: 7, E: 3, mask, nan, causal, dropoutP, weightsGrad: dropoutP > 0 };
          it(`NaN: ${nan}, ${mask} mask${causal ? ', causal' : ''}${dropoutP ? ', dropout, weights gradient' : ''}`, () => compare(c));
        }
      }
    }
  }
});
