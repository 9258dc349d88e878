import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { int32 } from '../../ops/creation.ts';
import { narrow, reshape } from '../../ops/layout.ts';
import { beamSearch, greedySearch, sample, type StepFn } from '../decoding.ts';
import { Embedding } from '../embedding.ts';
import { Linear } from '../linear.ts';
import { GRU } from '../rnn.ts';

const BOS = 0;
const EOS = 1;

/** A bigram model: next-token probabilities depend on the previous token only. */
function bigram(table: number[][]): StepFn {
  return (prefixes) => tensor(prefixes.flatMap((p) => table[p[p.length - 1]].map((q) => Math.log(Math.max(q, 1e-12)))), [prefixes.length, table[0].length]);
}

// tokens: 0 BOS, 1 EOS, 2 a, 3 b
const trap = bigram([
  [0, 0, 0.6, 0.4],
  [0, 1, 0, 0],
  [0, 0.3, 0.35, 0.35],
  [0, 0.9, 0.05, 0.05],
]);

/** The most likely EOS-terminated sequence of at most maxLength tokens, by enumeration. */
function bruteForce(step: StepFn, vocab: number, maxLength: number): { tokens: number[]; logProb: number } {
  let best = { tokens: [] as number[], logProb: -Infinity };
  const visit = (prefix: number[], logProb: number) => {
    if (prefix.length === maxLength) return;
    const logits = step([[BOS, ...prefix]], [0]).dataSync();
    const m = Math.max(...logits);
    const lz = m + Math.log(Array.from(logits).reduce((a, v) => a + Math.exp(v - m), 0));
    for (let tok = 0; tok < vocab; tok++) {
      const lp = logProb + logits[tok] - lz;
      if (tok === EOS) {
        if (lp > best.logProb) best = { tokens: [...prefix, EOS], logProb: lp };
      } else visit([...prefix, tok], lp);
    }
  };
  visit([], 0);
  return best;
}

describe('greedy search', () => {
  it('follows the most likely token and stops at maxLength when EOS never wins', async () => {
    const res = await greedySearch(trap, { bos: BOS, eos: EOS, maxLength: 4 });
    expect(res.tokens).toEqual([[2, 2, 2, 2]]);
    expect(res.logProbs[0]).toBeCloseTo(Math.log(0.6 * 0.35 ** 3), 5);
  });

  it('decodes a batch, each row stopping at its own EOS, with rows naming the batch item', async () => {
    const tables = [
      [[0, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]],
      [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0.9, 0.1], [0, 0, 1, 0]],
    ];
    const step: StepFn = (prefixes, rows) => tensor(prefixes.flatMap((p, i) => tables[rows[i]][p[p.length - 1]].map((q) => Math.log(q + 1e-9))), [prefixes.length, 4]);
    const res = await greedySearch(step, { bos: BOS, eos: EOS, maxLength: 5, batchSize: 2 });
    expect(res.tokens).toEqual([[2, EOS], [3, 2, 2, 2, 2]]);
  });

  it('checks the step function output', async () => {
    await expect(greedySearch(() => tensor([1, 2], [2]), { bos: BOS, eos: EOS, maxLength: 2 })).rejects.toThrow(/logits \[1, vocab\].*got \[2\]/);
  });
});

describe('beam search', () => {
  it('finds the sequence greedy search misses', async () => {
    const [[best]] = await beamSearch(trap, { bos: BOS, eos: EOS, maxLength: 4, beamWidth: 2 });
    expect(best.tokens).toEqual([3, EOS]);
    expect(best.logProb).toBeCloseTo(Math.log(0.36), 5);
    expect(best.finished).toBe(true);
  });

  it('a wide beam finds the exact optimum of a random model', async () => {
    const g = new Generator(8);
    const V = 4;
    const table = Array.from({ length: V }, () => Array.from({ length: V }, () => g.normal(0, 1.5)));
    const step: StepFn = (prefixes) => tensor(prefixes.flatMap((p) => table[p[p.length - 1]].map((x, j) => x + 0.1 * p.length * j)), [prefixes.length, V]);
    const exact = bruteForce(step, V, 4);
    const [[best]] = await beamSearch(step, { bos: BOS, eos: EOS, maxLength: 4, beamWidth: 64 });
    expect(best.tokens).toEqual(exact.tokens);
    expect(best.logProb).toBeCloseTo(exact.logProb, 5);
  });

  it('length normalisation prefers a longer sequence with a better per-token score', async () => {
    const step = bigram([
      [0, 0.5, 0.3, 0.2],
      [0, 1, 0, 0],
      [0, 0.9, 0.05, 0.05],
      [0, 0.1, 0.45, 0.45],
    ]);
    const [[plain]] = await beamSearch(step, { bos: BOS, eos: EOS, maxLength: 3, beamWidth: 3 });
    expect(plain.tokens).toEqual([EOS]);
    const [hyps] = await beamSearch(step, { bos: BOS, eos: EOS, maxLength: 3, beamWidth: 3, lengthNormalize: true, numReturn: 3 });
    expect(hyps[0].tokens).toEqual([2, EOS]);
    expect(hyps[0].score).toBeCloseTo(Math.log(0.27) / 2, 5);
    expect(hyps.map((h) => h.score)).toEqual([...hyps.map((h) => h.score)].sort((a, b) => b - a));
  });

  it('beam width 1 equals greedy search on a real recurrent model, per batch item', async () => {
    const g = new Generator(3);
    const V = 6;
    const emb = new Embedding(V, 8, { generator: g });
    const gru = new GRU(8, 12, { generator: g });
    const head = new Linear(12, V, { generator: g });
    // EOS made less likely up front so that the decoded sequences have some length.
    head.bias!.assign(tensor([0, -1.5, 0, 0, 0, 0], [V]));
    const cond = [0.8, -0.8];
    const step: StepFn = (prefixes, rows) => {
      const T = prefixes[0].length;
      const ids = int32(prefixes.flat(), [prefixes.length, T]);
      const h0 = tensor(rows.flatMap((r) => new Array<number>(12).fill(cond[r])), [1, rows.length, 12]);
      const out: Tensor = gru.run(emb.forward(ids), h0).output;
      return head.forward(reshape(narrow(out, 1, T - 1, 1), [prefixes.length, 12]));
    };
    const greedy = await greedySearch(step, { bos: BOS, eos: EOS, maxLength: 6, batchSize: 2 });
    const beams = await beamSearch(step, { bos: BOS, eos: EOS, maxLength: 6, beamWidth: 1, batchSize: 2 });
    expect(beams.map((b) => b[0].tokens)).toEqual(greedy.tokens);
    beams.forEach((b, i) => expect(b[0].logProb).toBeCloseTo(greedy.logProbs[i], 4));
    expect(greedy.tokens[0]).not.toEqual(greedy.tokens[1]);
    expect(greedy.tokens[0].length + greedy.tokens[1].length).toBeGreaterThan(3);
  });
});

describe('temperature sampling', () => {
  const logits = [0, -Infinity, 1, 0.2, -0.5];
  const step: StepFn = (prefixes) => tensor(prefixes.flatMap(() => logits.map((x) => (x === -Infinity ? -1e9 : x))), [prefixes.length, 5]);
  const freq = (tokens: number[][]) => {
    const f = new Array<number>(5).fill(0);
    for (const t of tokens) f[t[0]] += 1 / tokens.length;
    return f;
  };
  const softmaxT = (T: number) => {
    const e = logits.map((x) => Math.exp(x / T));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };

  for (const T of [0.5, 1, 2]) {
    it(`draws tokens with probabilities softmax(logits / ${T})`, async () => {
      const res = await sample(step, { bos: BOS, eos: EOS, maxLength: 1, batchSize: 4000, temperature: T, generator: new Generator(T * 10) });
      const f = freq(res.tokens);
      softmaxT(T).forEach((p, j) => expect(Math.abs(f[j] - p), `token ${j}`).toBeLessThan(0.03));
    });
  }

  it('is reproducible with a seed; temperature 0 and top-1 are greedy', async () => {
    const opts = { bos: BOS, eos: EOS, maxLength: 5, batchSize: 8 };
    const a = await sample(trap, { ...opts, generator: new Generator(1) });
    const b = await sample(trap, { ...opts, generator: new Generator(1) });
    const c = await sample(trap, { ...opts, generator: new Generator(2) });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    expect(a.tokens.every((t) => t.length <= 5 && (t.length === 5 || t[t.length - 1] === EOS))).toBe(true);
    const greedy = await greedySearch(trap, opts);
    expect((await sample(trap, { ...opts, temperature: 0 })).tokens).toEqual(greedy.tokens);
    expect((await sample(trap, { ...opts, topK: 1, generator: new Generator(5) })).tokens).toEqual(greedy.tokens);
    const top2 = await sample(step, { bos: BOS, eos: EOS, maxLength: 1, batchSize: 500, topK: 2, generator: new Generator(6) });
    expect(new Set(top2.tokens.map((t) => t[0]))).toEqual(new Set([2, 3]));
  });
});
