import { describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { cpuBackend } from '../cpu-backend.ts';
import { reshape } from '../../../ops/layout.ts';
import { mul } from '../../../ops/elementwise.ts';
import { sum } from '../../../ops/reduce.ts';
import '../register.ts';

describe('CPU reshape shares storage with its input', () => {
  it('keeps its values when the input is disposed, and is freed on its own', () => {
    const before = cpuBackend.memory().tensors;
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = reshape(x, [3, 2]);
    expect(y.shape).toEqual([3, 2]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => x.dataSync()).toThrow(/used after/);
    y.dispose();
    expect(cpuBackend.memory().tensors).toBe(before);
  });

  it('passes gradients back in the input shape', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]).requiresGrad_();
    sum(mul(reshape(x, [6]), tensor([1, 0, 2, 0, 3, 0], [6]))).backward();
    expect(x.grad!.shape).toEqual([2, 3]);
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 0, 2, 0, 3, 0]);
  });
});
