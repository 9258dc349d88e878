import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { int32, ones, randn, zeros } from '../creation.ts';
import { dropout } from '../dropout.ts';
import { add, div, mul, sqrt, sub } from '../elementwise.ts';
import { embedding } from '../embedding.ts';
import { permute, reshape } from '../layout.ts';
import { groupNorm, batchNorm, layerNorm } from '../norm.ts';
import { mean, sum, variance } from '../reduce.ts';

const gen = new Generator(11);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);
const values = (t: Tensor) => Array.from(t.dataSync());

function expectClose(a: Tensor | number[], b: Tensor | number[], tol = 1e-5): void {
  const av = Array.isArray(a) ? a : values(a);
  const bv = Array.isArray(b) ? b : values(b);
  expect(av.length).toBe(bv.length);
  av.forEach((v, i) => expect(Math.abs(v - bv[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(bv[i]))));
}

/** The batch norm formula written with reductions, for comparison with the fused kernel. */
function batchNormComposite(x: Tensor, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let y = div(sub(x, mean(x, dims, true)), sqrt(add(variance(x, dims, true), eps)));
  if (w) y = mul(y, reshape(w, bshape));
  if (b) y = add(y, reshape(b, bshape));
  return y;
}

function layerNormComposite(x: Tensor, k: number, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const dims = x.shape.map((_, i) => i).slice(x.shape.length - k);
  let y = div(sub(x, mean(x, dims, true)), sqrt(add(variance(x, dims, true), eps)));
  if (w) y = mul(y, w);
  if (b) y = add(y, b);
  return y;
}

describe('batch_norm', () => {
  it('fused kernel matches the composite formula in value and gradient for [N,C], [N,C,L], [N,C,H,W]', () => {
    for (const shape of [
      [6, 3],
      [4, 2, 5],
      [3, 2, 3, 4],
    ]) {
      const c = shape[1];
      const x = r(...shape).requiresGrad_();
      const w = r(c).requiresGrad_();
      const b = r(c).requiresGrad_();
      const dy = r(...shape);
      batchNorm(x, null, null, w, b, true, 0.1, 1e-5).backward(dy);
      const fused = [x.grad!, w.grad!, b.grad!].map(values);
      x.grad = w.grad = b.grad = null;
      const ref = batchNormComposite(x, w, b, 1e-5);
      expectClose(batchNorm(x, null, null, w, b, true, 0.1, 1e-5), ref, 1e-4);
      ref.backward(dy);
      [x.grad!, w.grad!, b.grad!].map(values).forEach((g, i) => expectClose(fused[i], g, 1e-4));
    }
  });

  it('passes finite-difference checks in training and eval, with and without affine', () => {
    assertGradcheck((x, w, b) => batchNorm(x, null, null, w, b, true), [r(5, 3), r(3), r(3)]);
    assertGradcheck((x, w, b) => batchNorm(x, null, null, w, b, true, 0.1, 1e-3), [r(3, 2, 4), r(2), r(2)]);
    assertGradcheck((x, w, b) => batchNorm(x, null, null, w, b, true), [r(2, 3, 2, 3), r(3), r(3)]);
    assertGradcheck((x) => batchNorm(x, null, null, null, null, true), [r(4, 2, 3)]);
    const rm = r(3);
    const rv = add(mul(r(3), r(3)), 0.5);
    assertGradcheck((x, w, b) => batchNorm(x, rm, rv, w, b, false), [r(4, 3, 2), r(3), r(3)]);
  });

  it('updates running statistics in place with momentum and the unbiased variance', () => {
    const x = tensor([1, 10, 2, 20, 3, 30, 6, 40], [4, 2]);
    const rm = zeros([2]);
    const rv = ones([2]);
    const y = batchNorm(x, rm, rv, null, null, true, 0.1, 1e-5);
    // channel 0: mean 3, biased var 3.5, unbiased 14/3; channel 1: mean 25, biased var 125, unbiased 500/3
    expectClose(rm, [0.3, 2.5]);
    expectClose(rv, [0.9 + 0.1 * (14 / 3), 0.9 + 0.1 * (500 / 3)]);
    expectClose(y, [(1 - 3) / Math.sqrt(3.5 + 1e-5), (10 - 25) / Math.sqrt(125 + 1e-5), (2 - 3) / Math.sqrt(3.5 + 1e-5), (20 - 25) / Math.sqrt(125 + 1e-5), 0, 5 / Math.sqrt(125 + 1e-5), 3 / Math.sqrt(3.5 + 1e-5), 15 / Math.sqrt(125 + 1e-5)]);
  });

  it('uses the running statistics in eval and leaves them unchanged', () => {
    const x = r(3, 2, 2);
    const rm = tensor([0.5, -1], [2]);
    const rv = tensor([4, 0.25], [2]);
    const w = tensor([2, 3], [2]);
    const b = tensor([0.1, -0.2], [2]);
    const y = batchNorm(x, rm, rv, w, b, false, 0.1, 0);
    const xv = values(x);
    const expected = xv.map((v, i) => {
      const c = Math.floor(i / 2) % 2;
      return c === 0 ? ((v - 0.5) / 2) * 2 + 0.1 : ((v + 1) / 0.5) * 3 - 0.2;
    });
    expectClose(y, expected);
    expectClose(rm, [0.5, -1]);
    expectClose(rv, [4, 0.25]);
  });

  it('names the mismatch in bad input', () => {
    expect(() => batchNorm(r(4, 3), null, null, r(2), null, true)).toThrow(/weight has shape \[2\], expected \[3\]/);
    expect(() => batchNorm(r(1, 3), null, null, null, null, true)).toThrow(/more than 1 value per channel/);
    expect(() => batchNorm(r(4), null, null, null, null, true)).toThrow(/\[N, C, \*\]/);
  });
});

describe('layer_norm', () => {
  it('fused kernel matches the composite formula in value and gradient', () => {
    for (const [shape, k] of [
      [[4, 6], 1],
      [[2, 3, 4], 2],
      [[2, 2, 3, 2], 1],
    ] as const) {
      const ns = shape.slice(shape.length - k);
      const x = r(...shape).requiresGrad_();
      const w = r(...ns).requiresGrad_();
      const b = r(...ns).requiresGrad_();
      const dy = r(...shape);
      layerNorm(x, ns, w, b).backward(dy);
      const fused = [x.grad!, w.grad!, b.grad!].map(values);
      x.grad = w.grad = b.grad = null;
      const ref = layerNormComposite(x, k, w, b, 1e-5);
      expectClose(layerNorm(x, ns, w, b), ref, 1e-4);
      ref.backward(dy);
      [x.grad!, w.grad!, b.grad!].map(values).forEach((g, i) => expectClose(fused[i], g, 1e-4));
    }
  });

  it('passes finite-difference checks with and without weight and bias', () => {
    assertGradcheck((x, w, b) => layerNorm(x, [5], w, b), [r(3, 5), r(5), r(5)]);
    assertGradcheck((x, w, b) => layerNorm(x, [2, 3], w, b, 1e-3), [r(2, 2, 3), r(2, 3), r(2, 3)]);
    assertGradcheck((x) => layerNorm(x, [4]), [r(3, 4)]);
    assertGradcheck((x, w) => layerNorm(x, [4], w), [r(2, 4), r(4)]);
  });

  it('rejects a normalized_shape that does not match the input', () => {
    expect(() => layerNorm(r(2, 5), [4])).toThrow(/normalized_shape \[4\] does not match .*\[2, 5\]/);
    expect(() => layerNorm(r(2, 5), [5], r(4))).toThrow(/weight has shape \[4\]/);
  });
});

describe('group_norm', () => {
  it('matches layer norm over (C, *) with one group and instance norm with C groups', () => {
    const x = r(2, 4, 3);
    expectClose(groupNorm(x, 1), layerNorm(x, [4, 3]), 1e-4);
    const inst = div(sub(x, mean(x, 2, true)), sqrt(add(variance(x, 2, true), 1e-5)));
    expectClose(groupNorm(x, 4), inst, 1e-4);
  });

  it('passes finite-difference checks', () => {
    assertGradcheck((x, w, b) => groupNorm(x, 2, w, b), [r(2, 4, 3), r(4), r(4)]);
    assertGradcheck((x) => groupNorm(x, 3, null, null, 1e-3), [r(1, 6, 2, 2)]);
    expect(() => groupNorm(r(2, 5, 3), 2)).toThrow(/5 channels cannot be split into 2 groups/);
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1/(1-p), reproducibly from a seed', () => {
    const x = ones([20000]);
    const y = dropout(x, 0.3, true, new Generator(5));
    const v = values(y);
    const zerosFrac = v.filter((e) => e === 0).length / v.length;
    expect(zerosFrac).toBeGreaterThan(0.28);
    expect(zerosFrac).toBeLessThan(0.32);
    v.filter((e) => e !== 0).forEach((e) => expect(e).toBeCloseTo(1 / 0.7, 6));
    expect(values(dropout(x, 0.3, true, new Generator(5)))).toEqual(v);
    expect(values(dropout(x, 0.3, true, new Generator(6)))).not.toEqual(v);
  });

  it('is the identity in eval and for p = 0, and zero for p = 1', () => {
    const x = r(4, 5);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0, true)).toBe(x);
    expect(values(dropout(x, 1, true)).every((v) => v === 0)).toBe(true);
    expect(() => dropout(x, 1.5)).toThrow(/between 0 and 1, got 1.5/);
  });

  it('sends the gradient through the kept elements only', () => {
    const x = r(6, 7).requiresGrad_();
    const y = dropout(x, 0.4, true, new Generator(3));
    sum(y).backward();
    const yv = values(y);
    values(x.grad!).forEach((g, i) => expect(g).toBeCloseTo(yv[i] === 0 ? 0 : 1 / 0.6, 5));
    assertGradcheck((a) => dropout(a, 0.4, true, new Generator(9)), [r(3, 4)]);
  });
});

describe('embedding', () => {
  it('looks up rows for indices of any shape', () => {
    const w = tensor([0, 1, 10, 11, 20, 21, 30, 31], [4, 2]);
    const y = embedding(int32([3, 0, 2, 2, 1, 0], [2, 3]), w);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(values(y)).toEqual([30, 31, 0, 1, 20, 21, 20, 21, 10, 11, 0, 1]);
    expect(embedding(int32([1], []), w).shape).toEqual([2]);
  });

  it('accumulates gradients of repeated indices and gives the padding row none', () => {
    const w = r(5, 3).requiresGrad_();
    const idx = int32([1, 2, 1, 4, 2, 1], [3, 2]);
    sum(mul(embedding(idx, w, 2), 2)).backward();
    const g = values(w.grad!);
    expect(g).toEqual([0, 0, 0, 6, 6, 6, 0, 0, 0, 0, 0, 0, 2, 2, 2]);
    w.grad = null;
    sum(embedding(idx, w, -1)).backward();
    expect(values(w.grad!)).toEqual([0, 0, 0, 3, 3, 3, 2, 2, 2, 0, 0, 0, 0, 0, 0]);
    // The padding row is deliberately excluded from the gradient, so it is not referenced here.
    assertGradcheck((t) => embedding(int32([0, 3, 3, 1], [2, 2]), t, 2), [r(4, 3)]);
    assertGradcheck((t) => permute(embedding(int32([2, 0, 1], [3]), t), [1, 0]), [r(3, 2)]);
  });

  it('names the offending index', () => {
    expect(() => embedding(int32([0, 7]), r(5, 2))).toThrow(/index 7 is out of range for 5 embeddings/);
    expect(() => embedding(tensor([0], [1]), r(5, 2))).toThrow(/int32/);
    expect(() => embedding(int32([0]), r(5, 2), 5)).toThrow(/padding_idx 5/);
  });
});
