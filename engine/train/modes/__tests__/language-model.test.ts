import { describe, expect, it } from 'vitest';
import { makeCharText } from '../../../data/sequences.ts';
import { charLanguageModelGraph } from '../graphs.ts';
import { LanguageModelMode, unigramEntropy } from '../language-model.ts';

describe('character language model mode', { timeout: 40_000 }, () => {
  it('learns the text far below the unigram entropy and generates repeatable text from a prompt', async () => {
    const data = makeCharText({ seqLen: 16, stride: 4 });
    const V = data.meta.vocab!.length;
    const mode = new LanguageModelMode({ graph: charLanguageModelGraph({ vocab: V, length: 16, embed: 16, hidden: 64 }), data, batchSize: 32, optimizer: { type: 'adam', lr: 1e-2 }, seed: 0 });
    const before = mode.evaluate(data);
    for (let i = 0; i < 100; i++) mode.step();
    const after = mode.evaluate(data);
    const h1 = unigramEntropy(data, V);
    // About 2.89 nats per character for letter frequencies alone; an untrained model is worse.
    expect(h1).toBeGreaterThan(2.5);
    expect(before.loss).toBeGreaterThan(h1);
    expect(after.loss).toBeLessThan(0.75 * h1);
    expect(after.perplexity).toBeCloseTo(Math.exp(after.loss), 6);
    expect(after.accuracy).toBeGreaterThan(0.4);

    const greedy = await mode.generate('The keeper ', { length: 30 });
    expect(greedy.tokens).toHaveLength(30);
    expect(greedy.text).toHaveLength(30);
    const again = await mode.generate('The keeper ', { method: 'sample', temperature: 0.8, seed: 3, length: 30 });
    const same = await mode.generate('The keeper ', { method: 'sample', temperature: 0.8, seed: 3, length: 30 });
    expect(same.text).toBe(again.text);
    // Cold sampling stays with likely text; hot sampling wanders into unlikely text.
    const cold = await mode.generate('The keeper ', { method: 'sample', temperature: 0.3, seed: 3, length: 30 });
    const hot = await mode.generate('The keeper ', { method: 'sample', temperature: 2, seed: 3, length: 30 });
    expect(cold.logProb).toBeGreaterThan(hot.logProb + 10);
    const beam = await mode.generate('The keeper ', { method: 'beam', beamWidth: 3, length: 30 });
    expect(beam.text).toHaveLength(30);
    expect(beam.logProb).toBeGreaterThanOrEqual(cold.logProb - 1e-6);

    const next = mode.nextCharacters('The lighthous', 3);
    expect(next).toHaveLength(3);
    expect(next[0].p).toBeGreaterThanOrEqual(next[1].p);
    await expect(mode.generate('The ~')).rejects.toThrow(/"~" at position 4 is not in the vocabulary/);
    await expect(mode.generate('')).rejects.toThrow(/at least one character/);
  });
});
