/**
 * One test suite, every backend (as tfjs's `setTestEnvs` and candle's `test_device!`):
 * `describeBackends(title, fn)` declares `fn`'s tests once per backend, each block running
 * with that backend active; `forEachBackend(fn)` runs `fn` on each in turn, inside a test.
 *
 * The backends are `cpu` and `gpu` (gpu.js in the best mode that works here; the
 * environment variable APS_GPU_MODE picks one, e.g. `cpu` or `webasm`). Tensors must be
 * created inside the tests, after the block has switched backends.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import '../backends/cpu/register.ts';
import { activeBackend, setBackend } from '../core/engine.ts';
import type { GpuMode } from '../backends/gpu/gpu-backend.ts';
import { describeBackend, enableGpuBackend } from '../backends/gpu/register.ts';

export type TestBackend = 'cpu' | 'gpu';
export const TEST_BACKENDS: readonly TestBackend[] = ['cpu', 'gpu'];

function requestedGpuMode(): GpuMode | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return (env?.APS_GPU_MODE || undefined) as GpuMode | undefined;
}

/** Makes `name` available (enabling the gpu backend on first use). */
export function prepareBackend(name: TestBackend): void {
  if (name === 'gpu') enableGpuBackend(requestedGpuMode());
}

/** A label for test titles: "cpu" or e.g. "gpu (gpu.js webasm)". */
export function backendLabel(name: TestBackend): string {
  return name === 'gpu' ? describeBackend() : name;
}

/** Runs `fn` with each backend active in turn, then restores the previous one. */
export function forEachBackend(fn: (name: TestBackend) => void, backends: readonly TestBackend[] = TEST_BACKENDS): void {
  const previous = activeBackend().name;
  try {
    for (const name of backends) {
      prepareBackend(name);
      setBackend(name);
      fn(name);
    }
  } finally {
    setBackend(previous);
  }
}

/** Declares `fn`'s tests once per backend, in blocks titled "<title> [<backend>]". */
export function describeBackends(title: string, fn: (name: TestBackend) => void, backends: readonly TestBackend[] = TEST_BACKENDS): void {
  for (const name of backends) {
    prepareBackend(name);
    describe(`${title} [${backendLabel(name)}]`, () => {
      let previous = 'cpu';
      beforeAll(() => {
        previous = activeBackend().name;
        setBackend(name);
      });
      afterAll(() => setBackend(previous));
      fn(name);
    });
  }
}
