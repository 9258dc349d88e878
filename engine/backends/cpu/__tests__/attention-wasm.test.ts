import { afterAll, describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { fusedAttention, type HeadView, scaledDotProductAttention } from '../../../ops/attention.ts';
import { randn } from '../../../ops/creation.ts';
import { add, mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import { setAttentionRowsWasm, setAttentionWasm } from '../attention-wasm.ts';
import { gemmKernel } from '../matmul.ts';
import '../register.ts';

const gen = new Generator(21);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

/** Output, weights and every leaf's gradient for a loss on the output and the weights. */
function outcome(leaves: Tensor[], fn: () => { output: Tensor; weights: Tensor }, po: Tensor, pw: Tensor): Float32Array[] {
  leaves.forEach((t) => t.requiresGrad_());
  const res = fn();
  add(sum(mul(res.output, po)), sum(mul(res.weights, pw))).backward();
  const grads = leaves.map((t) => t.grad!.dataSync() as Float32Array);
  leaves.forEach((t) => {
    t.grad = null;
  });
  return [res.output.dataSync() as Float32Array, res.weights.dataSync() as Float32Array, ...grads];
}

/**
 * Runs `fn` with the module's products and with matmul.ts's, both with the JS softmax rows
 * (attention-rows.test.ts compares those with the module's), and compares everything.
 */
function compare(leaves: Tensor[], fn: () => { output: Tensor; weights: Tensor }, po: Tensor, pw: Tensor): void {
  const ok = setAttentionWasm(true);
  setAttentionRowsWasm(false);
  const a = outcome(leaves, fn, po, pw);
  setAttentionWasm(false);
  const b = outcome(leaves, fn, po, pw);
  setAttentionWasm(true);
  setAttentionRowsWasm(true);
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(x.length).toBe(b[i].length);
    if (ok && gemmKernel() === 'wasm') {
      // Same products, same summation order: the same bits (NaN where the other has NaN).
      for (let j = 0; j < x.length; j++) {
        if (Number.isNaN(x[j]) || Number.isNaN(b[i][j])) expect(Number.isNaN(x[j]), `array ${i} element ${j}`).toBe(Number.isNaN(b[i][j]));
        else if (x[j] !== b[i][j]) expect(x[j], `array ${i} element ${j}`).toBe(b[i][j]);
      }
    } else {
      for (let j = 0; j < x.length; j++) if (!Number.isNaN(x[j])) expect(Math.abs(x[j] - b[i][j])).toBeLessThan(1e-5);
    }
  });
}

afterAll(() => {
  setAttentionWasm(true);
  setAttentionRowsWasm(true);
});

describe('attention products on the attention module equal matmul.ts path', () => {
  const shapes: [number[], number, number, number, number][] = [
    [[2], 4, 5, 3, 2],
    [[3], 7, 13, 5, 9],
    [[2, 2], 28, 28, 16, 16],
    [[1], 1, 1, 1, 1],
    [[2], 12, 8, 8, 6],
  ];
  for (const [batch, L, S, E, Ev] of shapes) {
    for (const opts of [{}, { isCausal: true }, { dropoutP: 0.2 }, { isCausal: true, dropoutP: 0.4 }, { attnMask: 'float' }, { attnMask: 'int' }] as const) {
      it(`batch [${batch}], L ${L}, S ${S}, E ${E}, Ev ${Ev}, ${JSON.stringify(opts)}`, () => {
        tidy(() => {
          const [q, k, v] = [r(...batch, L, E), r(...batch, S, E), r(...batch, S, Ev)];
          let attnMask: Tensor | undefined;
          if ('attnMask' in opts) {
            const m = Array.from({ length: L * S }, (_, i) => (i % 3 === 1 ? 1 : 0));
            attnMask = opts.attnMask === 'int' ? tensor(m.map((x) => 1 - x), [L, S], 'int32') : tensor(m.map((x) => (x ? -Infinity : 0.3)), [L, S]);
          }
          const dropoutP = 'dropoutP' in opts ? opts.dropoutP : 0;
          const isCausal = 'isCausal' in opts ? opts.isCausal : false;
          const fn = () => scaledDotProductAttention(q, k, v, { attnMask, isCausal, dropoutP, generator: new Generator(5) });
          compare([q, k, v], fn, r(...batch, L, Ev), r(...batch, L, S));
        });
      });
    }
  }

  it('one tensor as query, key and value (gradients summed into one array)', () => {
    tidy(() => {
      const x = r(3, 6, 4);
      compare([x], () => scaledDotProductAttention(x, x, x, { isCausal: true }), r(3, 6, 4), r(3, 6, 6));
    });
  });

  for (const [N, L, h, d, merged] of [[2, 5, 3, 2, true], [3, 28, 4, 16, true], [2, 9, 2, 7, false]] as const) {
    it(`heads read from a packed q|k|v projection (N ${N}, L ${L}, ${h} heads of ${d}), output heads ${merged ? 'merged' : 'apart'}, dropout and a key mask`, () => {
      tidy(() => {
        const E = h * d;
        const qkv = r(N, L, 3 * E);
        const keyMask = tensor(Array.from({ length: N * L }, (_, i) => (i % 4 === 3 ? -Infinity : 0)), [N, 1, 1, L]);
        const view = (offset: number): HeadView => ({ tensor: qkv, offset, batchStride: L * 3 * E, headStride: d, rowStride: 3 * E });
        const fn = () =>
          fusedAttention(view(0), view(E), view(2 * E), { B: N, heads: h, L, S: L, E: d, Ev: d }, {
            mask: keyMask, maskStrides: [L, 0, 0, 1], dropoutP: 0.1, generator: new Generator(9),
            outShape: merged ? [N, L, E] : [N, h, L, d], outStrides: merged ? [L * E, d, E] : [h * L * d, L * d, d],
            weightsShape: [N, h, L, L], weightsGrad: true,
          });
        compare([qkv], fn, r(...(merged ? [N, L, E] : [N, h, L, d])), r(N, h, L, L));
      });
    });
  }
});
