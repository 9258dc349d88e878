import { describe, expect, it, vi } from 'vitest';
import { activeBackend } from '../../core/engine.ts';
import { TrainingSession } from '../training-session.ts';
import { blobs, mlp, recorder } from './session-fixtures.ts';

// A machine where gpu.js has no mode that works: enabling the backend throws.
vi.mock('../../backends/gpu/register.ts', () => ({
  enableGpuBackend: () => {
    throw new Error('gpu backend: no gpu.js mode works here (webasm: probe failed)');
  },
  describeBackend: () => 'gpu (not enabled)',
}));

describe('train-start backend gpu where the gpu cannot be enabled', () => {
  it('fails the run with the reason and stays on the cpu', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'g', graph: mlp(), data: blobs, training: { epochs: 1 }, backend: 'gpu' });
    expect(await r.next('train-failed')).toEqual({
      type: 'train-failed',
      runId: 'g',
      reason: 'The gpu backend could not be enabled here (gpu backend: no gpu.js mode works here (webasm: probe failed)); choose the cpu backend',
    });
    expect(r.events.some((e) => e.type === 'train-started')).toBe(false);
    expect(activeBackend().name).toBe('cpu');
    // The cpu still trains.
    s.handle({ type: 'train-start', runId: 'c', graph: mlp(), data: blobs, training: { epochs: 1 } });
    expect((await r.next('train-finished')).status).toBe('completed');
  });
});
