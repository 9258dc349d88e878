/** Graphs and data shared by the mode tests. */
import { type Dataset, subset } from '../../../data/dataset.ts';
import { loadMnist } from '../../../data/mnist.ts';
import { useNodeMnistFiles } from '../../../data/mnist.node.ts';

useNodeMnistFiles();

let cache: Dataset | null = null;

/** MNIST digits, loaded once per test file (balanced, seeded). */
export async function digits(count: number, offset = 0): Promise<Dataset> {
  cache ??= await loadMnist({ samples: 3000, seed: 7 });
  if (offset + count > cache.length) throw new Error(`digits: only ${cache.length} samples are cached`);
  return subset(cache, Array.from({ length: count }, (_, i) => offset + i));
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
