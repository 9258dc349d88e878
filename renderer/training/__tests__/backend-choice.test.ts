import { describe, expect, it } from 'vitest';
import { backendChoices, offeredBackend } from '../backend-choice.ts';

describe('backendChoices', () => {
  it('offers the cpu, and the gpu with its mode when the worker reports it', () => {
    expect(backendChoices(['cpu'])).toEqual([{ value: 'cpu', label: 'CPU' }]);
    expect(backendChoices([])).toEqual([{ value: 'cpu', label: 'CPU' }]);
    expect(backendChoices(['gpu:webasm', 'cpu'])).toEqual([
      { value: 'cpu', label: 'CPU' },
      { value: 'gpu', label: 'GPU (gpu.js webasm)' },
    ]);
    expect(backendChoices(['gpu', 'cpu', 'wasm'])).toEqual([
      { value: 'cpu', label: 'CPU' },
      { value: 'gpu', label: 'GPU (gpu.js)' },
    ]);
  });

  it('offers the gpu the worker says can be chosen before gpu.js is enabled, labelled with its mode once enabled', () => {
    expect(backendChoices(['cpu'], ['cpu', 'gpu'])).toEqual([
      { value: 'cpu', label: 'CPU' },
      { value: 'gpu', label: 'GPU (gpu.js, mode chosen at the first run)' },
      { value: 'gpu:webgpu', label: 'GPU, gpu.js webgpu mode' },
      { value: 'gpu:webgl2', label: 'GPU, gpu.js webgl2 mode' },
      { value: 'gpu:webasm', label: 'GPU, gpu.js webasm mode' },
      { value: 'gpu:cpu', label: 'GPU, gpu.js cpu mode' },
    ]);
    expect(offeredBackend('gpu:webgl2', ['cpu'], ['cpu', 'gpu'])).toBe('gpu:webgl2');
    // Once gpu.js runs, its mode is fixed: no pinned choices, and a pinned choice shows as the cpu.
    expect(offeredBackend('gpu:webasm', ['gpu:webgl2', 'cpu'], ['cpu', 'gpu'])).toBe('cpu');
    expect(backendChoices(['gpu:webgl2', 'cpu'], ['cpu', 'gpu'])).toEqual([
      { value: 'cpu', label: 'CPU' },
      { value: 'gpu', label: 'GPU (gpu.js webgl2)' },
    ]);
    expect(backendChoices(['cpu'], ['cpu'])).toEqual([{ value: 'cpu', label: 'CPU' }]);
    expect(offeredBackend('gpu', ['cpu'], ['cpu', 'gpu'])).toBe('gpu');
  });

  it('falls back to the cpu when the chosen backend is not offered', () => {
    expect(offeredBackend('gpu', ['cpu'])).toBe('cpu');
    expect(offeredBackend('gpu', ['gpu:webgl2', 'cpu'])).toBe('gpu');
    expect(offeredBackend('cpu', ['gpu:webgl2', 'cpu'])).toBe('cpu');
  });
});
