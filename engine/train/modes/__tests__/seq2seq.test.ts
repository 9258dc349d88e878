import { describe, expect, it } from 'vitest';
import { DIGIT_BOS, DIGIT_EOS, DIGIT_PAD, makeDigitSeq2Seq } from '../../../data/modes-text.ts';
import { seq2seqGraph } from '../graphs.ts';
import { Seq2SeqMode } from '../seq2seq.ts';

const make = (steps: number) => {
  const data = makeDigitSeq2Seq({ task: 'reverse', samples: 2000, minLength: 3, maxLength: 5, seed: 1 });
  const mode = new Seq2SeqMode({
    graph: seq2seqGraph({ vocab: 13, srcLength: 5, tgtLength: 6, embed: 16, hidden: 32 }),
    data,
    bos: DIGIT_BOS,
    eos: DIGIT_EOS,
    pad: DIGIT_PAD,
    batchSize: 32,
    optimizer: { type: 'adam', lr: 1e-2 },
    seed: 0,
  });
  const losses = Array.from({ length: steps }, () => mode.step().total);
  return { mode, losses };
};

describe('sequence to sequence mode', { timeout: 40_000 }, () => {
  it('builds teacher-forced decoder inputs and refuses mismatched data or tokens', () => {
    const data = makeDigitSeq2Seq({ samples: 4, minLength: 2, maxLength: 3, seed: 0 });
    expect(Array.from(data.targets.subarray(0, 4)).filter((t) => t === DIGIT_EOS)).toHaveLength(1);
    const graph = seq2seqGraph({ vocab: 13, srcLength: 3, tgtLength: 4, embed: 4, hidden: 8 });
    const mode = new Seq2SeqMode({ graph, data, bos: DIGIT_BOS, eos: DIGIT_EOS, pad: DIGIT_PAD });
    expect(Array.from(mode.decoderInputs(Int32Array.from([1, 2, 11, 12, 5, 6, 7, 11])))).toEqual([10, 1, 2, 11, 10, 5, 6, 7]);
    expect(Array.from(mode.encodeSource('12'))).toEqual([1, 2, DIGIT_PAD]);
    expect(() => mode.encodeSource('1234')).toThrow(/4 tokens; the model reads at most 3/);
    expect(() => mode.encodeSource('1a')).toThrow(/"a" at position 1 is not in the vocabulary/);
    expect(() => new Seq2SeqMode({ graph, data, bos: 13, eos: DIGIT_EOS, pad: DIGIT_PAD })).toThrow(/bos token 13 is outside the model's vocabulary 0..12/);
    const other = makeDigitSeq2Seq({ samples: 4, minLength: 2, maxLength: 5 });
    expect(() => new Seq2SeqMode({ graph, data: other, bos: DIGIT_BOS, eos: DIGIT_EOS, pad: DIGIT_PAD })).toThrow(/takes 3 tokens, the dataset's inputs have shape \[5\]/);
    expect(() => makeDigitSeq2Seq({ minLength: 4, maxLength: 2 })).toThrow(/1 <= minLength <= maxLength/);
  });

  it('learns to reverse digit strings; greedy, beam and seeded sampling generate answers', async () => {
    const { mode, losses } = make(180);
    expect(losses.slice(-20).reduce((a, b) => a + b, 0) / 20).toBeLessThan(0.3 * losses[0]);
    const test = makeDigitSeq2Seq({ task: 'reverse', samples: 100, minLength: 3, maxLength: 5, seed: 99 });
    const ev = await mode.evaluate(test);
    // Chance is about 1 in 11 per token and 1 in 1000s per string.
    expect(ev.tokenAccuracy).toBeGreaterThan(0.75);
    expect(ev.exactMatch).toBeGreaterThan(0.3);

    const greedy = await mode.generate('7052');
    expect(greedy.tokens[greedy.tokens.length - 1]).toBe(DIGIT_EOS);
    expect(greedy.text).toMatch(/^[0-9]{1,5}$/);
    // Beam search keeps several prefixes; its best answer scores at least as well as the greedy one.
    const beam = await mode.generate('7052', { method: 'beam', beamWidth: 4, numReturn: 3 });
    expect(beam.hypotheses).toHaveLength(3);
    expect(beam.logProb).toBeGreaterThanOrEqual(greedy.logProb - 1e-6);
    expect(beam.hypotheses!.map((h) => h.logProb)).toEqual([...beam.hypotheses!.map((h) => h.logProb)].sort((a, b) => b - a));
    // Sampling is repeatable with a seed; a high temperature spreads the answers out.
    const a = await mode.generate('7052', { method: 'sample', temperature: 1, seed: 5 });
    const b = await mode.generate('7052', { method: 'sample', temperature: 1, seed: 5 });
    expect(b.tokens).toEqual(a.tokens);
    const hot = await mode.generateBatch(Array(12).fill('7052'), { method: 'sample', temperature: 3, seed: 1 });
    const cold = await mode.generateBatch(Array(12).fill('7052'), { method: 'sample', temperature: 0.1, seed: 1 });
    expect(new Set(hot.map((g) => g.text)).size).toBeGreaterThan(new Set(cold.map((g) => g.text)).size);

    const ex = await mode.examples(test, [0, 1, 2]);
    expect(ex.map((e) => e.target)).toEqual(ex.map((e) => [...e.source].reverse().join('')));
    const att = mode.attention('123', [3, 2, 1, DIGIT_EOS]);
    expect(att.weights).toHaveLength(4);
    for (const row of att.weights) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    expect(att.source).toEqual(['1', '2', '3', '<pad>', '<pad>']);
  });
});
