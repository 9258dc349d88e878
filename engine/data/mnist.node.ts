/**
 * Node source of the MNIST digit files: reads the `mnist` package's JSON with Node's own
 * JSON loader instead of going through a bundler's module transform.
 */
import { createRequire } from 'node:module';
import { setMnistSource } from './mnist.ts';

const requireFromHere = createRequire(import.meta.url);

/** Makes `loadMnist` read the digit files with Node's `require`. */
export function useNodeMnistFiles(): void {
  setMnistSource(async (digit) => (requireFromHere(`mnist/src/digits/${digit}.json`) as { data: number[] }).data);
}
