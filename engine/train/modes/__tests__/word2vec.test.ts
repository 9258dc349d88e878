import { describe, expect, it } from 'vitest';
import { makeWordCorpus, tokenizeSentences, WORD_GROUPS } from '../../../data/modes-text.ts';
import { word2vecData, Word2VecMode } from '../word2vec.ts';

const groups = Object.entries(WORD_GROUPS);

function train(method: 'skipgram' | 'cbow'): Word2VecMode {
  const mode = new Word2VecMode({ sentences: makeWordCorpus({ sentences: 1000, seed: 0 }), method, window: 2, dim: 16, batchSize: 128, optimizer: { type: 'adam', lr: 1e-2 }, seed: 0 });
  for (let i = 0; i < 250; i++) mode.step();
  return mode;
}

function checkStructure(mode: Word2VecMode) {
  // Several related pairs are nearer than unrelated ones, by both measures.
  const pairs: [string, string, string][] = [
    ['cat', 'dog', 'red'],
    ['horse', 'cow', 'kitchen'],
    ['red', 'blue', 'one'],
    ['three', 'five', 'cheese'],
    ['bread', 'soup', 'garden'],
    ['market', 'school', 'rabbit'],
  ];
  for (const [a, near, far] of pairs) {
    expect(mode.similarity(a, near), `${a}~${near} vs ${far}`).toBeGreaterThan(mode.similarity(a, far) + 0.2);
    expect(mode.similarity(a, near, 'euclidean')).toBeLessThan(mode.similarity(a, far, 'euclidean'));
  }
  // The nearest neighbour of most words is a word of the same group (chance: 5 of 75).
  let hits = 0;
  let total = 0;
  for (const [, words] of groups) {
    for (const w of words) {
      total++;
      if (words.includes(mode.nearest(w, 1)[0].word)) hits++;
    }
  }
  expect(hits / total).toBeGreaterThan(0.7);
}

describe('word2vec mode', { timeout: 30_000 }, () => {
  it('builds skip-gram and CBOW pairs with a PAD-first vocabulary', () => {
    const sg = word2vecData([['a', 'b', 'c']], 'skipgram', 1);
    expect(sg.vocab[0]).toBe('<pad>');
    const id = (w: string) => sg.vocab.indexOf(w);
    expect(Array.from(sg.data.inputs)).toEqual([id('a'), id('b'), id('b'), id('c')]);
    expect(Array.from(sg.data.targets)).toEqual([id('b'), id('a'), id('c'), id('b')]);
    const cb = word2vecData([['a', 'b', 'c']], 'cbow', 1);
    expect(cb.data.meta.inputShape).toEqual([2]);
    expect(Array.from(cb.data.inputs)).toEqual([0, id('b'), id('a'), id('c'), id('b'), 0]);
    expect(() => word2vecData([['a']], 'skipgram', 1)).toThrow(/at least 2 are needed/);
    expect(() => word2vecData([['a', 'b']], 'skipgram', 0)).toThrow(/window must be a whole number of at least 1, got 0/);
    expect(tokenizeSentences('The cat sat. A dog ran!\nDone')).toEqual([['the', 'cat', 'sat'], ['a', 'dog', 'ran'], ['done']]);
  });

  it('skip-gram vectors place words of a group together; neighbours and a 2-D projection for the UI', () => {
    const mode = train('skipgram');
    checkStructure(mode);
    const nn = mode.nearest('cat', 3, 'euclidean');
    expect(nn).toHaveLength(3);
    expect(nn[0].score).toBeLessThanOrEqual(nn[1].score);
    const labels = Object.fromEntries(groups.flatMap(([, ws], g) => ws.map((w) => [w, g])));
    const { points, explained } = mode.projection(Object.keys(labels), labels);
    expect(points).toHaveLength(30);
    expect(points[0]).toMatchObject({ text: 'cat', label: 0 });
    expect(explained[0]).toBeGreaterThanOrEqual(explained[1]);
    expect(explained[0] + explained[1]).toBeLessThanOrEqual(1 + 1e-9);
    expect(() => mode.nearest('unicorn')).toThrow(/"unicorn" is not in the vocabulary/);
  });

  it('CBOW vectors place words of a group together', () => {
    checkStructure(train('cbow'));
  });
});
