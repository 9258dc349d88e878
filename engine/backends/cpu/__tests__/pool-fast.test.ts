/**
 * The CPU pooling kernels' unchecked paths (every window inside the input: no padding, no
 * ceil-mode overhang; the 2x2 stride-2 max unrolled in JS and in WebAssembly) give exactly
 * what the bounds-checked paths give: values, argmax indices (ties, -Infinity and NaN included) and gradients.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { mul } from '../../../ops/elementwise.ts';
import { avgPool2d, maxPool2dWithIndices } from '../../../ops/pool.ts';
import { sum } from '../../../ops/reduce.ts';
import { setPoolFastPaths, setPoolWasm } from '../pool.ts';

const gen = new Generator(9);

/** Values with ties (rounded to quarters), and optionally -Infinity and NaN sprinkled in. */
function input(shape: number[], specials: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => Math.round(gen.uniform(-2, 2) * 4) / 4);
  if (specials) {
    for (let i = 0; i < n; i += 7) v[i] = -Infinity;
    for (let i = 3; i < n; i += 11) v[i] = NaN;
  }
  return tensor(v, shape);
}

interface Win {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  out: [number, number];
}

/** The gradient of sum(f(x) * dy) w.r.t. x. */
function gradOf(x: Tensor, dy: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const xg = tensor(x.dataSync(), x.shape).requiresGrad_();
  sum(mul(f(xg), dy)).backward();
  return xg.grad!;
}

const cases: { x: number[]; w: Win }[] = [
  { x: [2, 3, 8, 6], w: { k: [2, 2], s: [2, 2], d: [1, 1], out: [4, 3] } },
  { x: [1, 2, 9, 7], w: { k: [2, 2], s: [2, 2], d: [1, 1], out: [4, 3] } }, // floor mode drops the last row/column
  { x: [2, 40, 60, 58], w: { k: [2, 2], s: [2, 2], d: [1, 1], out: [30, 29] } }, // more planes than one WebAssembly call takes
  { x: [2, 2, 9, 8], w: { k: [3, 2], s: [2, 3], d: [1, 1], out: [4, 3] } },
  { x: [1, 3, 10, 9], w: { k: [3, 3], s: [1, 2], d: [2, 1], out: [6, 4] } },
  { x: [1, 1, 5, 5], w: { k: [5, 5], s: [1, 1], d: [1, 1], out: [1, 1] } },
];

/** Runs f on the unchecked paths with and without WebAssembly, then on the checked path, and returns the three results' values. */
function allPaths(f: () => Tensor[]): [number[][], number[][], number[][]] {
  const run = (fast: boolean, wasm: boolean) => {
    const wasFast = setPoolFastPaths(fast);
    const wasWasm = setPoolWasm(wasm);
    try {
      return f().map((t) => Array.from(t.dataSync()));
    } finally {
      setPoolFastPaths(wasFast);
      setPoolWasm(wasWasm);
    }
  };
  return [run(true, true), run(true, false), run(false, false)];
}

describe('pooling kernels: unchecked paths for windows inside the input', () => {
  for (const { x: shape, w } of cases) {
    for (const specials of [false, true]) {
      it(`max: values, indices and gradient, kernel ${w.k} stride ${w.s} dilation ${w.d} on ${shape}${specials ? ' with -Infinity and NaN' : ''}`, () => {
        const x = input(shape, specials);
        const dy = input([shape[0], shape[1], ...w.out], false);
        const opts = { kernelSize: w.k, stride: w.s, dilation: w.d };
        const [wasm, fast, checked] = allPaths(() => {
          const { values, indices } = maxPool2dWithIndices(x, opts);
          return [values, indices, gradOf(x, dy, (xx) => maxPool2dWithIndices(xx, opts).values)];
        });
        expect(fast).toEqual(checked);
        expect(wasm).toEqual(checked);
        if (!specials && fast[1].length > 1) expect(fast[1].some((i) => i !== fast[1][0])).toBe(true);
      });
    }
    if (w.d[0] === 1 && w.d[1] === 1) {
      it(`avg: values and gradient, kernel ${w.k} stride ${w.s} on ${shape}, both divisor rules`, () => {
        const x = input(shape, false);
        const dy = input([shape[0], shape[1], ...w.out], false);
        for (const countIncludePad of [true, false]) {
          const opts = { kernelSize: w.k, stride: w.s, countIncludePad };
          const [, fast, checked] = allPaths(() => [avgPool2d(x, opts), gradOf(x, dy, (xx) => avgPool2d(xx, opts))]);
          expect(fast).toEqual(checked);
        }
      });
    }
  }
});
