import { afterAll, describe, expect, it } from 'vitest';
import { activeBackend, setBackend } from '../../core/engine.ts';
import { TrainingSession } from '../training-session.ts';
import { blobs, mlp, recorder } from './session-fixtures.ts';

afterAll(() => setBackend('cpu'));

describe('train-start backend', () => {
  it('gpu trains on the gpu.js backend, says which mode, and inspects there; cpu switches back', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'g', graph: mlp(), data: blobs, training: { epochs: 2, batchSize: 32, optimizer: { lr: 0.05 } }, backend: 'gpu' });
    const started = await r.next('train-started');
    expect(started.backend).toMatch(/^gpu \(gpu\.js (webgpu|webgl2|webgl|headlessgl|webasm|cpu)\)$/);
    expect(activeBackend().name).toBe('gpu');
    const fin = await r.next('train-finished');
    expect(fin.status).toBe('completed');
    // The run's model stays on the gpu; the default backend is active again for other work.
    expect(activeBackend().name).toBe('cpu');
    expect(fin.testMetrics!.accuracy).toBeGreaterThan(0.8);
    s.handle({ type: 'inspect', runId: 'g', requestId: 'i', query: { kind: 'activations', nodeId: 'fc2', sample: { split: 'test', index: 0 } } });
    expect((await r.next('inspect-result')).result).toMatchObject({ kind: 'activations', shape: [3] });

    s.handle({ type: 'train-start', runId: 'c', graph: mlp(), data: blobs, training: { epochs: 1, batchSize: 32 }, backend: 'cpu' });
    expect((await r.next('train-started', (e) => e.runId === 'c')).backend).toBe('cpu');
    expect(activeBackend().name).toBe('cpu');
    await r.next('train-finished', (e) => e.runId === 'c');

    // Leaving the backend out means the cpu, whatever ran before.
    s.handle({ type: 'train-start', runId: 'g2', graph: mlp(), data: blobs, training: { epochs: 1, batchSize: 32 }, backend: 'gpu' });
    await r.next('train-finished', (e) => e.runId === 'g2');
    s.handle({ type: 'train-start', runId: 'd', graph: mlp(), data: blobs, training: { epochs: 1, batchSize: 32 } });
    expect((await r.next('train-started', (e) => e.runId === 'd')).backend).toBe('cpu');
    await r.next('train-finished', (e) => e.runId === 'd');
  });

  it('inspection of a gpu run computes on the gpu even after another session switched to the cpu, and leaves the cpu active', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'g', graph: mlp(), data: blobs, training: { epochs: 2, batchSize: 32, optimizer: { lr: 0.05 } }, backend: 'gpu' });
    await r.next('train-finished');
    setBackend('cpu');
    s.handle({ type: 'inspect', runId: 'g', requestId: 'i', query: { kind: 'saliency', sample: { split: 'test', index: 2 } } });
    s.handle({ type: 'export-weights', runId: 'g', requestId: 'w' });
    s.handle({ type: 'confusion-samples', runId: 'g', requestId: 'c', split: 'test', actual: 0, predicted: 0, limit: 3 });
    expect(r.events.filter((e) => e.type === 'request-failed')).toEqual([]);
    expect((await r.next('inspect-result')).result).toMatchObject({ kind: 'saliency', shape: [2] });
    expect((await r.next('weights')).tensors).toHaveLength(4);
    expect((await r.next('confusion-samples')).indices).toHaveLength(3);
    expect(activeBackend().name).toBe('cpu');
  });

  it('an unknown backend fails the run with a clear reason', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'x', graph: mlp(), data: blobs, training: { epochs: 1 }, backend: 'tpu' as unknown as 'cpu' });
    expect(await r.next('train-failed')).toEqual({ type: 'train-failed', runId: 'x', reason: 'backend must be cpu, gpu or gpu:<mode> with mode one of webgpu, webgl2, webgl, headlessgl, webasm, cpu; got "tpu"' });
  });
});
