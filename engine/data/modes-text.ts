/**
 * Small token datasets for the sequence and embedding modes: digit strings to reverse or
 * sort (sequence to sequence, with BOS, EOS and padding), and a word corpus built from
 * sentence templates whose word groups (animals, colours, numbers, foods, places) share
 * their contexts, so word vectors trained on it cluster by group.
 */
import { Generator } from '../core/random.ts';
import type { Dataset } from './dataset.ts';

/** Digits 0-9, then BOS (10), EOS (11) and PAD (12). */
export const DIGIT_SEQ_VOCAB = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '<bos>', '<eos>', '<pad>'];
export const DIGIT_BOS = 10;
export const DIGIT_EOS = 11;
export const DIGIT_PAD = 12;

export interface DigitSeq2SeqOptions {
  task?: 'reverse' | 'sort';
  samples?: number;
  /** Shortest and longest source strings (digits). */
  minLength?: number;
  maxLength?: number;
  seed?: number;
}

/**
 * Digit strings and their reversal (or sorted order). Input [maxLength]: the digits, then
 * PAD. Target [maxLength + 1]: the answer, EOS, then PAD. A decoder reads BOS followed by
 * the target shifted right (teacher forcing).
 */
export function makeDigitSeq2Seq(opts: DigitSeq2SeqOptions = {}): Dataset {
  const task = opts.task ?? 'reverse';
  if (task !== 'reverse' && task !== 'sort') throw new Error(`makeDigitSeq2Seq: task must be "reverse" or "sort", got "${String(task)}"`);
  const n = opts.samples ?? 1000;
  const lo = opts.minLength ?? 3;
  const hi = opts.maxLength ?? 6;
  if (!Number.isInteger(n) || n < 1) throw new Error(`makeDigitSeq2Seq: samples must be a positive integer, got ${n}`);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) throw new Error(`makeDigitSeq2Seq: need 1 <= minLength <= maxLength (whole numbers), got ${lo} and ${hi}`);
  const gen = new Generator(opts.seed ?? 0);
  const inputs = new Int32Array(n * hi).fill(DIGIT_PAD);
  const targets = new Int32Array(n * (hi + 1)).fill(DIGIT_PAD);
  for (let i = 0; i < n; i++) {
    const len = lo + gen.int(hi - lo + 1);
    const digits = Array.from({ length: len }, () => gen.int(10));
    const answer = task === 'reverse' ? [...digits].reverse() : [...digits].sort((a, b) => a - b);
    inputs.set(digits, i * hi);
    targets.set([...answer, DIGIT_EOS], i * (hi + 1));
  }
  return {
    meta: {
      id: `digits-${task}`,
      name: task === 'reverse' ? 'Reverse digit strings' : 'Sort digit strings',
      description: `Sequence to sequence: ${lo} to ${hi} digits in, the same digits ${task === 'reverse' ? 'reversed' : 'sorted'} out, then an end token.`,
      task: 'sequence',
      inputShape: [hi],
      inputDtype: 'int32',
      targetShape: [hi + 1],
      targetDtype: 'int32',
      numClasses: DIGIT_SEQ_VOCAB.length,
      vocab: DIGIT_SEQ_VOCAB,
      preview: 'sequence',
    },
    length: n,
    inputs,
    targets,
  };
}

/** Word groups of the template corpus; words of a group appear in the same contexts. */
export const WORD_GROUPS: Record<string, string[]> = {
  animal: ['cat', 'dog', 'horse', 'cow', 'sheep', 'rabbit'],
  colour: ['red', 'blue', 'green', 'yellow', 'purple', 'orange'],
  number: ['one', 'two', 'three', 'four', 'five', 'six'],
  food: ['bread', 'apple', 'cheese', 'soup', 'rice', 'cake'],
  place: ['kitchen', 'garden', 'school', 'market', 'harbour', 'station'],
};

const TEMPLATES = [
  'the {animal} sleeps in the {place}',
  'the {animal} runs and the {animal} follows',
  'a small {animal} eats {food}',
  'my {animal} is hungry',
  'she paints the door {colour}',
  'the {colour} car is fast',
  'a {colour} and {colour} flag',
  'he wears a {colour} coat',
  'i count {number} boats',
  'we bought {number} or {number} tickets',
  'there are {number} chairs',
  'they cook {food} for dinner',
  'we eat {food} with {food}',
  'the {food} tastes good',
  'we walk to the {place}',
  'they meet at the {place} today',
  'the {place} is near the {place}',
];

/**
 * A corpus of `sentences` sentences drawn from templates such as "the {animal} sleeps in
 * the {place}", each slot filled with a random word of its group (seeded).
 */
export function makeWordCorpus(opts: { sentences?: number; seed?: number } = {}): string[][] {
  const n = opts.sentences ?? 2000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`makeWordCorpus: sentences must be a positive integer, got ${n}`);
  const gen = new Generator(opts.seed ?? 0);
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const t = TEMPLATES[gen.int(TEMPLATES.length)];
    const words = t.split(' ').map((w) => {
      const m = /^\{(\w+)\}$/.exec(w);
      if (!m) return w;
      const group = WORD_GROUPS[m[1]];
      return group[gen.int(group.length)];
    });
    out.push(words);
  }
  return out;
}

/** Splits text into lower-case sentences of words (sentences end at . ! ? or a newline). */
export function tokenizeSentences(text: string): string[][] {
  return text
    .toLowerCase()
    .split(/[.!?\n]+/)
    .map((s) => s.match(/[a-z0-9']+/g) ?? [])
    .filter((s) => s.length > 0);
}
