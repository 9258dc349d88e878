import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { causalMask, paddingMaskFromLengths, paddingMaskFromTokens, scaledDotProductAttention } from '../../ops/attention.ts';
import { int32, randn } from '../../ops/creation.ts';
import { transpose } from '../../ops/layout.ts';
import { assertGradcheck, assertParamGradcheck } from '../../testing/gradcheck.ts';
import { MultiheadAttention } from '../attention.ts';

const gen = new Generator(5);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);
const arr = (t: Tensor) => Array.from(t.dataSync());

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
}

/** Finite differences on module parameters (see assertParamGradcheck). */
function assertParamGrads(params: Tensor[], out: () => Tensor, maxElements = 8, tol = 2e-2): void {
  assertParamGradcheck(params, out, { generator: gen, maxElements, tol });
}

/** Attention of one (L x E) query block against (S x E) keys with plain loops; blocked(i, j) drops a pair. */
function refAttention(q: number[][], k: number[][], v: number[][], blocked: (i: number, j: number) => boolean): { out: number[][]; w: number[][] } {
  const E = q[0].length;
  const w = q.map((qi, i) => {
    const s = k.map((kj, j) => (blocked(i, j) ? -Infinity : qi.reduce((a, x, e) => a + x * kj[e], 0) / Math.sqrt(E)));
    const m = Math.max(...s);
    const ex = s.map((x) => Math.exp(x - m));
    const z = ex.reduce((a, b) => a + b, 0);
    return ex.map((x) => x / z);
  });
  return { out: w.map((wi) => v[0].map((_, c) => wi.reduce((a, x, j) => a + x * v[j][c], 0))), w };
}

const rows = (t: Tensor, offset: number, n: number, width: number): number[][] => {
  const v = t.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(v.slice(offset + i * width, offset + (i + 1) * width)));
};

describe('scaled dot-product attention', () => {
  it('matches a loop reference with causal, boolean and additive masks', () => {
    const q = r(2, 3, 4);
    const k = r(2, 5, 4);
    const v = r(2, 5, 2);
    const allowed = int32([1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0], [3, 5]);
    const additive = tensor([0, -Infinity, 0, 0, 0, 0, 0, -Infinity, 0, 0, 0, 0, 0, 0, -Infinity], [3, 5]);
    const cases: [string, Parameters<typeof scaledDotProductAttention>[3], (i: number, j: number) => boolean][] = [
      ['none', {}, () => false],
      ['causal', { isCausal: true }, (i, j) => j > i],
      ['int32 allowed', { attnMask: allowed }, (i, j) => allowed.dataSync()[i * 5 + j] === 0],
      ['additive', { attnMask: additive }, (i, j) => additive.dataSync()[i * 5 + j] === -Infinity],
    ];
    for (const [label, opts, blocked] of cases) {
      const res = scaledDotProductAttention(q, k, v, opts);
      expect(res.output.shape, label).toEqual([2, 3, 2]);
      expect(res.weights.shape, label).toEqual([2, 3, 5]);
      for (let b = 0; b < 2; b++) {
        const ref = refAttention(rows(q, b * 12, 3, 4), rows(k, b * 20, 5, 4), rows(v, b * 10, 5, 2), blocked);
        expectClose(arr(res.output).slice(b * 6, b * 6 + 6), ref.out.flat());
        expectClose(arr(res.weights).slice(b * 15, b * 15 + 15), ref.w.flat());
      }
    }
  });

  it('gradients by finite differences, with and without masks', () => {
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v).output, [r(2, 3, 4), r(2, 5, 4), r(2, 5, 3)]);
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }).output, [r(2, 2, 4, 3), r(2, 2, 4, 3), r(2, 2, 4, 2)]);
    const mask = tensor([0, -Infinity, 0.5, 0, 0, -1, -Infinity, 0, 0], [3, 3]);
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { attnMask: mask }).weights, [r(3, 2), r(3, 2), r(3, 2)]);
  });

  it('dropout on the weights is seeded and off outside training', () => {
    const q = r(1, 4, 3);
    const a = scaledDotProductAttention(q, q, q, { dropoutP: 0.5, generator: new Generator(1) }).weights;
    const b = scaledDotProductAttention(q, q, q, { dropoutP: 0.5, generator: new Generator(1) }).weights;
    expect(arr(a)).toEqual(arr(b));
    expect(arr(a).some((x) => x === 0)).toBe(true);
    const c = scaledDotProductAttention(q, q, q, { dropoutP: 0.5, training: false }).weights;
    expect(arr(c).every((x) => x > 0)).toBe(true);
  });

  it('masks: causal, from lengths, from tokens', () => {
    expect(arr(causalMask(2, 3))).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity]);
    expect(arr(paddingMaskFromLengths([2, 3], 3))).toEqual([0, 0, 1, 0, 0, 0]);
    expect(arr(paddingMaskFromTokens(int32([5, 0, 0, 3, 4, 0], [2, 3]), 0))).toEqual([0, 1, 1, 0, 0, 1]);
    expect(() => paddingMaskFromLengths([4], 3)).toThrow(/length 4 of sequence 0 is outside \[0, 3\]/);
  });

  it('names the mismatch', () => {
    expect(() => scaledDotProductAttention(r(2, 3), r(4, 5), r(4, 2))).toThrow(/3 features but keys have 5/);
    expect(() => scaledDotProductAttention(r(2, 3), r(4, 3), r(4, 2), { attnMask: r(2, 2) })).toThrow(/attn_mask must end in \[2, 4\]/);
  });
});

describe('MultiheadAttention', () => {
  /** Loop reference: per batch item and head, from the module's own weights. */
  function reference(m: MultiheadAttention, q: Tensor, k: Tensor, v: Tensor, blocked: (n: number, i: number, j: number) => boolean) {
    const E = m.embedDim;
    const h = m.numHeads;
    const d = E / h;
    const w = m.getParameter('in_proj_weight')!.dataSync();
    const b = m.getParameter('in_proj_bias')!.dataSync();
    const ow = m.outProj.weight.dataSync();
    const ob = m.outProj.bias!.dataSync();
    const proj = (x: number[], part: number) => Array.from({ length: E }, (_, o) => x.reduce((a, xv, c) => a + xv * w[(part * E + o) * E + c], b[part * E + o]));
    const [N, L] = q.shape;
    const S = k.shape[1];
    const outs: number[] = [];
    const weights: number[] = [];
    for (let n = 0; n < N; n++) {
      const qp = rows(q, n * L * E, L, E).map((x) => proj(x, 0));
      const kp = rows(k, n * S * E, S, E).map((x) => proj(x, 1));
      const vp = rows(v, n * S * E, S, E).map((x) => proj(x, 2));
      const concat = Array.from({ length: L }, () => new Array<number>(E).fill(0));
      const avg = Array.from({ length: L }, () => new Array<number>(S).fill(0));
      for (let hd = 0; hd < h; hd++) {
        const sl = (x: number[]) => x.slice(hd * d, (hd + 1) * d);
        const ref = refAttention(qp.map(sl), kp.map(sl), vp.map(sl), (i, j) => blocked(n, i, j));
        ref.out.forEach((row, i) => row.forEach((x, c) => (concat[i][hd * d + c] = x)));
        ref.w.forEach((row, i) => row.forEach((x, j) => (avg[i][j] += x / h)));
      }
      for (const row of concat) for (let o = 0; o < E; o++) outs.push(row.reduce((a, x, c) => a + x * ow[o * E + c], ob[o]));
      weights.push(...avg.flat());
    }
    return { outs, weights };
  }

  it('parameter names, shapes and init as torch', () => {
    const m = new MultiheadAttention(8, 2);
    expect(m.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['in_proj_weight 24x8', 'in_proj_bias 24', 'out_proj.weight 8x8', 'out_proj.bias 8']);
    expect(arr(m.getParameter('in_proj_bias')!).every((x) => x === 0)).toBe(true);
    expect(arr(m.outProj.bias!).every((x) => x === 0)).toBe(true);
    const kv = new MultiheadAttention(8, 2, { kdim: 3, vdim: 5 });
    expect(kv.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['q_proj_weight 8x8', 'k_proj_weight 8x3', 'v_proj_weight 8x5', 'in_proj_bias 24', 'out_proj.weight 8x8', 'out_proj.bias 8']);
    expect(() => new MultiheadAttention(10, 3)).toThrow(/embed_dim 10 must be divisible by num_heads 3/);
  });

  it('self- and cross-attention match a per-head loop reference, with masks', () => {
    const m = new MultiheadAttention(6, 3, { generator: gen });
    m.getParameter('in_proj_bias')!.assign(r(18));
    m.outProj.bias!.assign(r(6));
    const x = r(2, 4, 6);
    const self = m.attend(x, x, x);
    const ref = reference(m, x, x, x, () => false);
    expect(self.output.shape).toEqual([2, 4, 6]);
    expect(self.weights!.shape).toEqual([2, 4, 4]);
    expectClose(arr(self.output), ref.outs);
    expectClose(arr(self.weights!), ref.weights);

    const mem = r(2, 5, 6);
    const pad = paddingMaskFromLengths([5, 3], 5);
    const blockedPair = int32([0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 5]);
    const cross = m.attend(x, mem, mem, { keyPaddingMask: pad, attnMask: blockedPair });
    const cref = reference(m, x, mem, mem, (n, i, j) => (n === 1 && j >= 3) || blockedPair.dataSync()[i * 5 + j] === 1);
    expectClose(arr(cross.output), cref.outs);
    expectClose(arr(cross.weights!), cref.weights);

    const causal = m.attend(x, x, x, { isCausal: true });
    expectClose(arr(causal.output), reference(m, x, x, x, (_, i, j) => j > i).outs);
  });

  it('per-head weights, sequence-first and unbatched layouts agree', () => {
    const m = new MultiheadAttention(4, 2, { generator: gen });
    const x = r(3, 5, 4);
    const a = m.attend(x, x, x, { averageAttnWeights: false });
    expect(a.weights!.shape).toEqual([3, 2, 5, 5]);
    const seqFirst = new MultiheadAttention(4, 2, { batchFirst: false });
    seqFirst.loadStateDict(new Map([...m.stateDict()].map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() }])));
    const b = seqFirst.attend(transpose(x, 0, 1), transpose(x, 0, 1), transpose(x, 0, 1));
    expect(b.output.shape).toEqual([5, 3, 4]);
    expectClose(arr(transpose(b.output, 0, 1)), arr(a.output));
    const single = m.attend(r(5, 4), r(6, 4), r(6, 4));
    expect(single.output.shape).toEqual([5, 4]);
    expect(single.weights!.shape).toEqual([5, 6]);
  });

  it('padded keys have no influence on the output', () => {
    const m = new MultiheadAttention(4, 2, { generator: gen });
    const q = r(1, 2, 4);
    const kv = tensor([...r(3, 4).dataSync(), 9, 9, 9, 9], [1, 4, 4]);
    const kv2 = tensor([...kv.dataSync().slice(0, 12), -5, 1, 2, 0], [1, 4, 4]);
    const mask = int32([0, 0, 0, 1], [1, 4]);
    expectClose(arr(m.attend(q, kv, kv, { keyPaddingMask: mask }).output), arr(m.attend(q, kv2, kv2, { keyPaddingMask: mask }).output));
  });

  it('gradients of query, key, value and parameters', () => {
    const m = new MultiheadAttention(4, 2, { generator: gen });
    const pad = int32([0, 0, 1, 0, 0, 0], [2, 3]);
    assertGradcheck((q, k, v) => m.attend(q, k, v, { keyPaddingMask: pad }).output, [r(2, 2, 4), r(2, 3, 4), r(2, 3, 4)]);
    assertGradcheck((x) => m.attend(x, x, x, { isCausal: true }).output, [r(2, 3, 4)]);
    assertGradcheck((x) => m.attend(x, x, x, { averageAttnWeights: false }).weights!, [r(1, 3, 4)]);
    const x = r(2, 3, 4);
    assertParamGrads(m.parameters(), () => m.attend(x, x, x, { keyPaddingMask: pad }).output);
    const kv = new MultiheadAttention(4, 1, { kdim: 2, vdim: 3, generator: gen });
    const q = r(2, 3, 4);
    const k = r(2, 5, 2);
    const v = r(2, 5, 3);
    assertParamGrads(kv.parameters(), () => kv.attend(q, k, v).output);
  });

  it('rejects bad shapes with the numbers', () => {
    const m = new MultiheadAttention(4, 2);
    expect(() => m.attend(r(2, 3, 5), r(2, 3, 5), r(2, 3, 5))).toThrow(/query must be \[batch, seq, features\] with 4 features.*\[2, 3, 5\]/);
    expect(() => m.attend(r(2, 3, 4), r(2, 3, 4), r(2, 3, 4), { keyPaddingMask: int32([0, 0], [1, 2]) })).toThrow(/key_padding_mask must be \[2, 3\]/);
  });
});
