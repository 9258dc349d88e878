import { describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { dropoutMask } from '../../../core/dropout-mask.ts';
import { attentionReference, fusedAttention, type HeadView, reluDropout, scaledDotProductAttention } from '../../../ops/attention.ts';
import { relu } from '../../../ops/activation.ts';
import { dropout } from '../../../ops/dropout.ts';
import { int32, randn } from '../../../ops/creation.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { permute, reshape, split } from '../../../ops/layout.ts';
import { sum } from '../../../ops/reduce.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import '../register.ts';

const gen = new Generator(8);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  let m = 0;
  for (let i = 0; i < av.length; i++) {
    if (Number.isNaN(av[i]) || Number.isNaN(bv[i])) {
      expect(Number.isNaN(av[i]), `element ${i}: ${av[i]} vs ${bv[i]}`).toBe(Number.isNaN(bv[i]));
      continue;
    }
    m = Math.max(m, Math.abs(av[i] - bv[i]));
  }
  return m;
}

/** Output, weights and the gradients of q, k, v for a loss on both the output and the weights. */
function run(fn: (q: Tensor, k: Tensor, v: Tensor) => { output: Tensor; weights: Tensor }, q: Tensor, k: Tensor, v: Tensor, po: Tensor, pw: Tensor): Tensor[] {
  const leaves = [q, k, v];
  leaves.forEach((t) => t.requiresGrad_());
  const res = fn(q, k, v);
  add(sum(mul(res.output, po)), sum(mul(res.weights, pw))).backward();
  const grads = leaves.map((t) => t.grad!);
  leaves.forEach((t) => {
    t.grad = null;
  });
  return [res.output, res.weights, ...grads];
}

describe('fused attention kernel against the unfused op chain', () => {
  const allowed = int32([1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1], [4, 5]);
  const cases: [string, number[], number, number, Parameters<typeof scaledDotProductAttention>[3]][] = [
    ['plain, one batch dim', [2], 4, 5, {}],
    ['causal, two batch dims', [2, 3], 4, 5, { isCausal: true }],
    ['int32 mask [L, S]', [3], 4, 5, { attnMask: allowed }],
    ['float mask with a batch dim and a broadcast query dim', [2, 3], 4, 5, { attnMask: tensor([0, -1, 0.5, -Infinity, 0, 0, 0, 2, -Infinity, 0], [2, 1, 1, 5]) }],
    ['float mask broadcast over the batch', [2, 3], 4, 5, { attnMask: tensor([0, -1, 0.5, -Infinity, 0], [1, 5]) }],
    ['custom scale and causal with more keys than queries', [1], 3, 6, { isCausal: true, scale: 0.3 }],
    ['unbatched', [], 4, 4, { isCausal: true }],
  ];
  for (const [label, batch, L, S, opts] of cases) {
    for (const dropoutP of [0, 0.3]) {
      it(`${label}${dropoutP ? ', dropout 0.3' : ''}: output, weights and gradients`, () => {
        tidy(() => {
          const [q, k, v] = [r(...batch, L, 3), r(...batch, S, 3), r(...batch, S, 2)];
          const po = r(...batch, L, 2);
          const pw = r(...batch, L, S);
          const o = { ...opts, dropoutP };
          const fused = run((a, b, c) => scaledDotProductAttention(a, b, c, { ...o, generator: new Generator(3) }), q, k, v, po, pw);
          const ref = run((a, b, c) => attentionReference(a, b, c, { ...o, generator: new Generator(3) }), q, k, v, po, pw);
          ['output', 'weights', 'dq', 'dk', 'dv'].forEach((name, i) => expect(maxDiff(fused[i], ref[i]), name).toBeLessThan(2e-5));
          if (!dropoutP) {
            // each row of weights sums to 1
            const w = Array.from(fused[1].dataSync());
            for (let row = 0; row < w.length / S; row++) {
              const s = w.slice(row * S, (row + 1) * S).reduce((x, y) => x + y, 0);
              expect(Math.abs(s - 1)).toBeLessThan(1e-5);
            }
          }
        });
      });
    }
  }

  it('a query with every key blocked gives NaN, as the chain does', () => {
    const mask = tensor([0, 0, -Infinity, -Infinity], [2, 2]);
    const [q, k, v] = [r(1, 2, 2), r(1, 2, 2), r(1, 2, 2)];
    const fused = scaledDotProductAttention(q, k, v, { attnMask: mask });
    const ref = attentionReference(q, k, v, { attnMask: mask });
    expect(Array.from(fused.output.dataSync()).slice(2).every(Number.isNaN)).toBe(true);
    expect(maxDiff(fused.output, ref.output)).toBeLessThan(1e-6);
    expect(maxDiff(fused.weights, ref.weights)).toBeLessThan(1e-6);
  });

  it('reads heads in place from a packed q|k|v projection and writes them merged', () => {
    tidy(() => {
      const [N, L, h, d] = [2, 5, 3, 2];
      const E = h * d;
      const qkv = r(N, L, 3 * E);
      const po = r(N, L, E);
      const pw = r(N, h, L, L);
      const mask = tensor([0, -1, -Infinity, 0, 0.5, 0, 0, 0, -Infinity, 0], [N, 1, 1, L]);
      const fusedOf = (t: Tensor) => {
        const view = (offset: number): HeadView => ({ tensor: t, offset, batchStride: L * 3 * E, headStride: d, rowStride: 3 * E });
        return fusedAttention(view(0), view(E), view(2 * E), { B: N, heads: h, L, S: L, E: d, Ev: d }, {
          mask, maskStrides: [L, 0, 0, 1], isCausal: true, dropoutP: 0.25, generator: new Generator(9),
          outShape: [N, L, E], outStrides: [L * E, d, E], weightsShape: [N, h, L, L], weightsGrad: true,
        });
      };
      const refOf = (t: Tensor) => {
        const heads = (x: Tensor) => permute(reshape(x, [N, L, h, d]), [0, 2, 1, 3]);
        const [q, k, v] = split(t, E, 2).map(heads);
        const res = attentionReference(q, k, v, { attnMask: mask, isCausal: true, dropoutP: 0.25, generator: new Generator(9) });
        return { output: reshape(permute(res.output, [0, 2, 1, 3]), [N, L, E]), weights: res.weights };
      };
      const grads = (fn: typeof fusedOf) => {
        qkv.requiresGrad_();
        const res = fn(qkv);
        add(sum(mul(res.output, po)), sum(mul(res.weights, pw))).backward();
        const g = qkv.grad!;
        qkv.grad = null;
        return [res.output, res.weights, g];
      };
      const a = grads(fusedOf);
      const b = grads(refOf);
      ['output', 'weights', 'd(qkv)'].forEach((name, i) => expect(maxDiff(a[i], b[i]), name).toBeLessThan(2e-5));
    });
  });
});

describe('fused attention gradients by finite differences', () => {
  it('q, k, v with masks, causal, a custom scale and dropout (a fresh seeded generator per call)', () => {
    const mask = tensor([0, -Infinity, 0.5, 0, 0, -1, -Infinity, 0, 0, 1, 0, 0], [3, 4]);
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { attnMask: mask }).output, [r(2, 3, 2), r(2, 4, 2), r(2, 4, 3)]);
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true, scale: 0.7 }).output, [r(2, 2, 4, 3), r(2, 2, 4, 3), r(2, 2, 4, 2)]);
    assertGradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { dropoutP: 0.4, generator: new Generator(2) }).output, [r(2, 3, 2), r(2, 3, 2), r(2, 3, 2)]);
  });

  it('through the weights as well as the output', () => {
    assertGradcheck((q, k, v) => {
      const res = scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP: 0.2, generator: new Generator(5) });
      return add(sum(res.output), mul(res.weights, 3));
    }, [r(1, 3, 2), r(1, 3, 2), r(1, 3, 2)]);
  });

  it('a packed q|k|v source read as heads', () => {
    const [N, L, h, d] = [2, 3, 2, 2];
    const E = h * d;
    assertGradcheck((t) => {
      const view = (offset: number): HeadView => ({ tensor: t, offset, batchStride: L * 3 * E, headStride: d, rowStride: 3 * E });
      return fusedAttention(view(0), view(E), view(2 * E), { B: N, heads: h, L, S: L, E: d, Ev: d }, {
        outShape: [N, L, E], outStrides: [L * E, d, E], weightsShape: [N, h, L, L], weightsGrad: false,
      }).output;
    }, [r(N, L, 3 * E)], { maxElements: 0 });
  });
});

describe('dropoutMask', () => {
  it('draws what generator.random() < p draws, and leaves the generator where it would', () => {
    for (const p of [0.1, 0.5, 0.9, 1]) {
      const a = new Generator(42);
      const b = new Generator(42);
      const mask = dropoutMask(1000, p, a);
      const keep = p === 1 ? 0 : 1 / (1 - p);
      const want = Float32Array.from({ length: 1000 }, () => (b.random() < p ? 0 : keep));
      expect(Array.from(mask)).toEqual(Array.from(want));
      expect(a.random()).toBe(b.random());
    }
  });
});

describe('reluDropout: the feed-forward activation as one kernel', () => {
  for (const [p, training] of [[0.3, true], [0, true], [0.5, false]] as const) {
    it(`p ${p}${training ? '' : ', eval'}: equals dropout(relu(x)) with the same generator, gradient included`, () => {
      tidy(() => {
        const x = r(4, 7, 5);
        const proj = r(4, 7, 5);
        const run = (fused: boolean) => {
          x.requiresGrad_();
          const y = fused ? reluDropout(x, p, training, new Generator(12)) : dropout(relu(x), p, training, new Generator(12));
          sum(mul(y, proj)).backward();
          const g = x.grad!;
          x.grad = null;
          return [y, g];
        };
        const [a, ga] = run(true);
        const [b, gb] = run(false);
        expect(maxDiff(a, b)).toBe(0);
        expect(maxDiff(ga, gb)).toBe(0);
      });
    });
  }

  it('gradient by finite differences', () => {
    assertGradcheck((x) => reluDropout(x, 0.4, true, new Generator(3)), [r(3, 6)], { maxElements: 0 });
  });
});
