/**
 * Sequence datasets (batch-first, per sample [time, features] or [time] token ids): sine
 * continuation, frequency classification, parity, sequence reversal, and a character-level
 * text corpus for language models.
 */
import { Generator } from '../core/random.ts';
import { LIGHTHOUSE_TEXT } from './corpus.ts';
import { checkDataset, type Dataset, DataError } from './dataset.ts';

export interface SequenceOptions {
  samples?: number;
  /** Time steps per sample. */
  seqLen?: number;
  noise?: number;
  seed?: number;
}

function positiveInt(name: string, what: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: ${what} must be an integer of at least ${min}, got ${v}`);
  return v;
}

/** Sine: the next value of a sine wave of random phase and frequency. Input [T, 1], target [1]. */
export function makeSine(opts: SequenceOptions = {}): Dataset {
  const n = positiveInt('Sine', 'samples', opts.samples ?? 512);
  const t = positiveInt('Sine', 'seqLen', opts.seqLen ?? 20, 2);
  const noise = opts.noise ?? 0;
  const gen = new Generator(opts.seed ?? 0);
  const inputs = new Float32Array(n * t);
  const targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const phase = gen.uniform(0, 2 * Math.PI);
    const freq = gen.uniform(0.1, 0.5);
    for (let k = 0; k < t; k++) inputs[i * t + k] = Math.sin(phase + freq * k) + (noise > 0 ? gen.normal(0, noise) : 0);
    targets[i] = Math.sin(phase + freq * t);
  }
  return checkDataset({
    meta: {
      id: 'sine',
      name: 'Sine continuation',
      description: 'Predict the next value of a sine wave from the previous values.',
      task: 'regression',
      inputShape: [t, 1],
      inputDtype: 'float32',
      targetShape: [1],
      targetDtype: 'float32',
      preview: 'sequence',
    },
    length: n,
    inputs,
    targets,
  });
}

/** Sine frequency: classify a noisy wave as slow, medium or fast. Input [T, 1], class target. */
export function makeSineFrequency(opts: SequenceOptions = {}): Dataset {
  const n = positiveInt('Sine frequency', 'samples', opts.samples ?? 600);
  const t = positiveInt('Sine frequency', 'seqLen', opts.seqLen ?? 32, 2);
  const noise = opts.noise ?? 0.1;
  const gen = new Generator(opts.seed ?? 0);
  const bands = [
    [0.1, 0.25],
    [0.4, 0.6],
    [0.8, 1.1],
  ];
  const inputs = new Float32Array(n * t);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const freq = gen.uniform(bands[c][0], bands[c][1]);
    const phase = gen.uniform(0, 2 * Math.PI);
    for (let k = 0; k < t; k++) inputs[i * t + k] = Math.sin(phase + freq * k) + gen.normal(0, noise);
    targets[i] = c;
  }
  return checkDataset({
    meta: {
      id: 'sine-frequency',
      name: 'Sine frequency',
      description: 'Classify a noisy sine wave as slow, medium or fast.',
      task: 'classification',
      inputShape: [t, 1],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: 3,
      classNames: ['slow', 'medium', 'fast'],
      preview: 'sequence',
    },
    length: n,
    inputs,
    targets,
  });
}

/** Parity: whether a bit sequence has an odd number of ones. Input [T, 1], class target. */
export function makeParity(opts: SequenceOptions = {}): Dataset {
  const n = positiveInt('Parity', 'samples', opts.samples ?? 512);
  const t = positiveInt('Parity', 'seqLen', opts.seqLen ?? 8);
  const gen = new Generator(opts.seed ?? 0);
  const inputs = new Float32Array(n * t);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let ones = 0;
    for (let k = 0; k < t; k++) {
      const b = gen.random() < 0.5 ? 1 : 0;
      inputs[i * t + k] = b;
      ones += b;
    }
    targets[i] = ones % 2;
  }
  return checkDataset({
    meta: {
      id: 'parity',
      name: 'Parity',
      description: 'Decide whether a sequence of bits holds an odd number of ones.',
      task: 'classification',
      inputShape: [t, 1],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: 2,
      classNames: ['even', 'odd'],
      preview: 'sequence',
    },
    length: n,
    inputs,
    targets,
  });
}

/** Digit tokens 0-9 plus BOS (10) and EOS (11) for sequence-to-sequence tasks. */
export const REVERSE_VOCAB = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '<bos>', '<eos>'];

/** Reverse: map a sequence of digit tokens to the same digits reversed. Input [T], target [T]. */
export function makeReverse(opts: SequenceOptions = {}): Dataset {
  const n = positiveInt('Reverse', 'samples', opts.samples ?? 512);
  const t = positiveInt('Reverse', 'seqLen', opts.seqLen ?? 6);
  const gen = new Generator(opts.seed ?? 0);
  const inputs = new Int32Array(n * t);
  const targets = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < t; k++) inputs[i * t + k] = gen.int(10);
    for (let k = 0; k < t; k++) targets[i * t + k] = inputs[i * t + (t - 1 - k)];
  }
  return checkDataset({
    meta: {
      id: 'reverse',
      name: 'Reverse digits',
      description: 'Sequence to sequence: output the input digits in reverse order.',
      task: 'sequence',
      inputShape: [t],
      inputDtype: 'int32',
      targetShape: [t],
      targetDtype: 'int32',
      numClasses: REVERSE_VOCAB.length,
      vocab: REVERSE_VOCAB,
      preview: 'sequence',
    },
    length: n,
    inputs,
    targets,
  });
}

export interface TextOptions {
  /** Characters per sample. */
  seqLen?: number;
  /** Characters between the starts of consecutive samples (default: seqLen). */
  stride?: number;
  /** Text to use instead of the built-in corpus. */
  text?: string;
  /** Name of the file the text came from, for messages. */
  file?: string;
}

/**
 * Character-level language modelling: each sample is `seqLen` characters (token ids) and
 * its target the same window shifted by one character. The vocabulary is the sorted set of
 * characters in the text.
 */
export function makeCharText(opts: TextOptions = {}, id = 'text-chars'): Dataset {
  const text = opts.text ?? LIGHTHOUSE_TEXT;
  const where = opts.file !== undefined ? { file: opts.file } : {};
  if (text.length === 0) throw new DataError('the text is empty', where);
  const t = positiveInt('Text', 'seqLen', opts.seqLen ?? 32);
  const stride = positiveInt('Text', 'stride', opts.stride ?? t);
  if (text.length < t + 1) throw new DataError(`the text has ${text.length} characters; at least seqLen + 1 = ${t + 1} are needed`, where);
  const vocab = [...new Set(text)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  const n = Math.floor((ids.length - 1 - t) / stride) + 1;
  const inputs = new Int32Array(n * t);
  const targets = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    inputs.set(ids.subarray(i * stride, i * stride + t), i * t);
    targets.set(ids.subarray(i * stride + 1, i * stride + t + 1), i * t);
  }
  return checkDataset({
    meta: {
      id,
      name: opts.text === undefined ? 'Lighthouse (characters)' : (opts.file ?? 'Text'),
      description: 'Character-level language modelling: predict each next character.',
      task: 'sequence',
      inputShape: [t],
      inputDtype: 'int32',
      targetShape: [t],
      targetDtype: 'int32',
      numClasses: vocab.length,
      vocab,
      preview: 'text',
    },
    length: n,
    inputs,
    targets,
  });
}

/** Decodes token ids to text with a dataset's vocabulary. */
export function decodeTokens(ids: ArrayLike<number>, vocab: readonly string[]): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) s += vocab[ids[i]] ?? '?';
  return s;
}

/** Imports a plain-text file as a character-level dataset; an empty file is refused by name. */
export function importText(text: string, opts: Omit<TextOptions, 'text'> & { file: string }): Dataset {
  return makeCharText({ ...opts, text }, 'text-file');
}
