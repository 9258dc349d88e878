import { afterAll, describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { conv2d } from '../../../ops/conv.ts';
import { matmul } from '../../../ops/matmul.ts';
import '../register.ts';
import { gemmKernel, gemmStrided, setGemmParallelThresholds, setGemmThreadBackoff } from '../matmul.ts';
import { gemmThreadHost, gemmThreads, setGemmThreads } from '../parallel.ts';
import { installNodeGemmThreads, nodeDefaultThreads } from '../parallel.node.ts';

const gen = new Generator(7);
const rand = (n: number) => Float32Array.from({ length: n }, () => gen.uniform(-1, 1));

/** Index of the first element whose bits differ, or -1. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

if (!gemmThreadHost()) installNodeGemmThreads();

describe('GEMM on helper threads', () => {
  const wasm = gemmKernel() === 'wasm';
  // Split even the smallest kernel call, so that every shape below runs on several threads.
  const saved = setGemmParallelThresholds(0, 0);
  setGemmThreadBackoff(false);
  afterAll(() => {
    setGemmParallelThresholds(...saved);
    setGemmThreadBackoff(true);
    setGemmThreads(null);
  });

  it('takes its thread count from APS_THREADS or the cores, and refuses a bad count', () => {
    expect(nodeDefaultThreads('3')).toBe(3);
    expect(nodeDefaultThreads(undefined)).toBeGreaterThanOrEqual(1);
    expect(() => nodeDefaultThreads('0')).toThrow('APS_THREADS must be a positive integer, got "0"');
    expect(() => nodeDefaultThreads('two')).toThrow('APS_THREADS must be a positive integer, got "two"');
    expect(() => setGemmThreads(0)).toThrow('thread count must be a positive integer, got 0');
    setGemmThreads(1);
    expect(gemmThreads()).toBe(1);
    setGemmThreads(3);
    expect(gemmThreads()).toBe(3);
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1], [5, 9, 3], [6, 8, 16], [7, 13, 5], [13, 17, 801], [37, 70, 300], [64, 128, 784],
    [64, 784, 128], [784, 128, 64], [100, 1030, 9], [200, 5, 40], [97, 200, 1000], [300, 260, 33],
  ];
  it.runIf(wasm)('C += A B is bit-identical on 1, 2 and 3 threads over many shapes and strides', () => {
    for (const [m, n, k] of shapes) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = rand(m * k);
        const b = rand(k * n);
        const c0 = rand(m * n);
        const run = (threads: number) => {
          setGemmThreads(threads);
          const c = Float32Array.from(c0);
          gemmStrided(m, n, k, a, 0, ta ? 1 : k, ta ? m : 1, b, 0, tb ? 1 : n, tb ? k : 1, c, 0, n);
          return c;
        };
        const one = run(1);
        for (const threads of [2, 3]) {
          const many = run(threads);
          const at = firstDifference(one, many);
          expect(at, `${m}x${n}x${k} ta=${ta} tb=${tb} on ${threads} threads: element ${at} is ${many[at]}, one thread gave ${one[at]}`).toBe(-1);
        }
        // The threaded result is a product, not a copy of one: check one element directly.
        const i = m - 1;
        const j = n - 1;
        let expected = c0[i * n + j];
        for (let p = 0; p < k; p++) expected += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
        expect(Math.abs(one[i * n + j] - expected)).toBeLessThan(1e-4 * (1 + Math.abs(expected)) * Math.sqrt(k));
      }
    }
  });

  it.runIf(wasm)('batched matmul and convolution (gathered panels) are bit-identical on 1 and 2 threads', () => {
    const x = fromValues(rand(2 * 8 * 13 * 13), [2, 8, 13, 13]);
    const w = fromValues(rand(16 * 8 * 3 * 3), [16, 8, 3, 3]);
    const p = fromValues(rand(3 * 70 * 90), [3, 70, 90]);
    const q = fromValues(rand(90 * 50), [90, 50]);
    const run = (threads: number) => {
      setGemmThreads(threads);
      return [conv2d(x, w, null, { padding: 1 }).dataSync(), matmul(p, q).dataSync()] as Float32Array[];
    };
    const one = run(1);
    const two = run(2);
    expect(firstDifference(one[0], two[0])).toBe(-1);
    expect(firstDifference(one[1], two[1])).toBe(-1);
  });
});
