import { describe, expect, it } from 'vitest';
import { activeBackend } from '../../core/engine.ts';
import { dispatch } from '../dispatch.ts';
import type { EngineEvent, TrainingEvent, TrainingRequest } from '../protocol.ts';
import { TrainingSession } from '../training-session.ts';
import type { InspectQuery } from '../../train/inspect.ts';
import { blobs, mlp, recorder } from './session-fixtures.ts';

/** Trains the small model for two epochs and returns its session, recorder and weights. */
async function trained() {
  const r = recorder();
  const s = new TrainingSession(r.emit);
  s.handle({ type: 'train-start', runId: 'run1', graph: mlp(), data: blobs, training: { epochs: 2, batchSize: 32, optimizer: { lr: 0.05 } } });
  expect((await r.next('train-finished')).status).toBe('completed');
  s.handle({ type: 'export-weights', runId: 'run1', requestId: 'w' });
  const weights = (await r.next('weights')).tensors;
  return { r, s, weights };
}

type Replies = Extract<TrainingEvent, { requestId: string }>;

/** Sends a request and waits for its reply; a failed reply throws its reason. */
async function ask<T extends 'inspect-result' | 'weights' | 'confusion-samples'>(r: ReturnType<typeof recorder>, s: TrainingSession, type: T, make: (requestId: string) => TrainingRequest, requestId: string): Promise<Extract<Replies, { type: T }>> {
  s.handle(make(requestId));
  const events = r.events as TrainingEvent[];
  for (;;) {
    const reply = events.find((e): e is Replies => 'requestId' in e && e.requestId === requestId);
    if (reply?.type === 'request-failed') throw new Error(reply.reason);
    if (reply?.type === type) return reply as Extract<Replies, { type: T }>;
    if (reply) throw new Error(`expected ${type}, got ${reply.type}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('load-model', () => {
  it('a fresh session inspects, exports and finds confusion samples with saved weights as the training session did', async () => {
    const { r, s, weights } = await trained();
    // The weights travel as plain data (a saved project), not as the trained tensors.
    const saved = JSON.parse(JSON.stringify(weights)) as typeof weights;

    const fresh = recorder();
    const f = new TrainingSession(fresh.emit);
    f.handle({ type: 'load-model', runId: 'opened', requestId: 'load', graph: mlp(), data: blobs, weights: saved });
    const loaded = await fresh.next('model-loaded');
    expect(loaded).toMatchObject({ runId: 'opened', requestId: 'load', numParameters: 2 * 16 + 16 + 16 * 3 + 3, splits: { train: 210, val: 45, test: 45 }, backend: 'cpu' });
    expect(loaded.dataset.classNames?.length).toBe(3);

    const queries: InspectQuery[] = [
      { kind: 'activations', nodeId: 'act', sample: { split: 'test', index: 3 } },
      { kind: 'activations', nodeId: 'fc2', sample: { split: 'val', index: 7 } },
      { kind: 'embeddings', nodeId: 'act', split: 'test', count: 30 },
      { kind: 'saliency', sample: { split: 'train', index: 1 } },
    ];
    for (const [i, query] of queries.entries()) {
      const before = await ask(r, s, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'run1', requestId, query }), `a${i}`);
      const after = await ask(fresh, f, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'opened', requestId, query }), `b${i}`);
      expect(after.result).toEqual(before.result);
    }
    // A freshly compiled model (other seed, no weights loaded) would answer differently.
    const differentSeed = recorder();
    const d = new TrainingSession(differentSeed.emit);
    d.handle({ type: 'train-start', runId: 'untrained', graph: mlp(), data: blobs, training: { epochs: 1, batchSize: 32, seed: 99, optimizer: { lr: 1e-9 } } });
    await differentSeed.next('train-finished');
    const untrained = await ask(differentSeed, d, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'untrained', requestId, query: queries[0] }), 'u');
    const reference = await ask(r, s, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'run1', requestId, query: queries[0] }), 'ref');
    expect(untrained.result).not.toEqual(reference.result);

    const exported = await ask(fresh, f, 'weights', (requestId) => ({ type: 'export-weights', runId: 'opened', requestId }), 'e');
    expect(exported.tensors).toEqual(saved);
    const cellBefore = await ask(r, s, 'confusion-samples', (requestId) => ({ type: 'confusion-samples', runId: 'run1', requestId, split: 'test', actual: 1, predicted: 1, limit: 6 }), 'c1');
    const cellAfter = await ask(fresh, f, 'confusion-samples', (requestId) => ({ type: 'confusion-samples', runId: 'opened', requestId, split: 'test', actual: 1, predicted: 1, limit: 6 }), 'c2');
    expect(cellAfter.indices).toEqual(cellBefore.indices);
    expect(cellAfter.indices.length).toBe(6);

    // Loaded weights are not a training run.
    f.handle({ type: 'train-checkpoint', runId: 'opened', requestId: 'cp' });
    expect((await fresh.next('request-failed', (e) => e.requestId === 'cp')).reason).toBe('"opened" holds loaded weights, not a training run');

    // A training run replaces the loaded model.
    f.handle({ type: 'train-start', runId: 'again', graph: mlp(), data: blobs, training: { epochs: 1, batchSize: 64 } });
    expect((await fresh.next('train-finished')).status).toBe('completed');
    f.handle({ type: 'inspect', runId: 'opened', requestId: 'gone', query: queries[0] });
    expect((await fresh.next('request-failed', (e) => e.requestId === 'gone')).reason).toMatch(/no training run "opened" \(the current run is "again"\)/);
  });

  it('weights that do not fit the model fail with the tensor and both shapes, or the missing names', async () => {
    const { weights } = await trained();
    const r = recorder();
    const s = new TrainingSession(r.emit);
    // The model now has 8 hidden units; the saved fc1.weight is [16, 2].
    s.handle({ type: 'load-model', runId: 'm1', requestId: 'shape', graph: mlp(3, 8), data: blobs, weights });
    expect((await r.next('request-failed', (e) => e.requestId === 'shape')).reason).toBe('The saved weights do not fit this model: "fc1.weight" has shape [16, 2] in the file, the model expects [8, 2]');

    s.handle({ type: 'load-model', runId: 'm2', requestId: 'missing', graph: mlp(), data: blobs, weights: weights.filter((w) => w.name !== 'fc2.bias') });
    expect((await r.next('request-failed', (e) => e.requestId === 'missing')).reason).toBe('The saved weights do not fit this model: missing keys: fc2.bias');

    const short = weights.map((w) => (w.name === 'fc2.bias' ? { ...w, values: [1, 2] } : w));
    s.handle({ type: 'load-model', runId: 'm3', requestId: 'count', graph: mlp(), data: blobs, weights: short });
    expect((await r.next('request-failed', (e) => e.requestId === 'count')).reason).toBe('Weight "fc2.bias" has 2 values; its shape [3] needs 3');

    // A failed load leaves nothing to inspect.
    s.handle({ type: 'inspect', runId: 'm1', requestId: 'after', query: { kind: 'filters', nodeId: 'fc1' } });
    expect((await r.next('request-failed', (e) => e.requestId === 'after')).reason).toMatch(/no training run "m1"|still starting/);
  });

  it('is refused while a run is starting or training, which goes on undisturbed', async () => {
    const { weights } = await trained();
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'long', graph: mlp(), data: blobs, training: { epochs: 50, batchSize: 8 } });
    // Still starting: no trainer yet.
    s.handle({ type: 'load-model', runId: 'saved', requestId: 'early', graph: mlp(), data: blobs, weights });
    expect((await r.next('request-failed', (e) => e.requestId === 'early')).reason).toBe('Run "long" is still training; stop it before loading saved weights');
    await r.next('train-epoch');
    s.handle({ type: 'load-model', runId: 'saved', requestId: 'during', graph: mlp(), data: blobs, weights });
    expect((await r.next('request-failed', (e) => e.requestId === 'during')).reason).toBe('Run "long" is still training; stop it before loading saved weights');
    s.handle({ type: 'train-stop', runId: 'long' });
    expect((await r.next('train-finished')).status).toBe('stopped');
    expect(r.events.some((e) => e.type === 'train-failed')).toBe(false);
    // Once it has ended, the saved weights load in its place.
    s.handle({ type: 'load-model', runId: 'saved', requestId: 'after', graph: mlp(), data: blobs, weights });
    expect(await r.next('model-loaded')).toMatchObject({ runId: 'saved', requestId: 'after' });
  });

  it('weights loaded on the gpu backend inspect as on the cpu, and leave the cpu active', async () => {
    const { r, s, weights } = await trained();
    const g = recorder();
    const f = new TrainingSession(g.emit);
    f.handle({ type: 'load-model', runId: 'on-gpu', requestId: 'load', graph: mlp(), data: blobs, weights, backend: 'gpu' });
    expect((await g.next('model-loaded')).backend).toMatch(/^gpu \(gpu\.js /);
    expect(activeBackend().name).toBe('cpu');
    const query: InspectQuery = { kind: 'activations', nodeId: 'fc2', sample: { split: 'test', index: 4 } };
    const onGpu = await ask(g, f, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'on-gpu', requestId, query }), 'g');
    const onCpu = await ask(r, s, 'inspect-result', (requestId) => ({ type: 'inspect', runId: 'run1', requestId, query }), 'c');
    expect(onGpu.result.kind).toBe('activations');
    const [a, b] = [onGpu.result, onCpu.result] as Extract<typeof onGpu.result, { kind: 'activations' }>[];
    expect(a.shape).toEqual(b.shape);
    a.values.forEach((v, i) => expect(v).toBeCloseTo(b.values[i], 4));
    expect(activeBackend().name).toBe('cpu');
  });

  it('dispatch routes load-model and rejects one without weights or graph', async () => {
    const events: EngineEvent[] = [];
    dispatch({ type: 'load-model', runId: 'x', requestId: 'q', graph: mlp(), data: blobs }, (e) => events.push(e));
    dispatch({ type: 'load-model', runId: 'x', requestId: 'q2', data: blobs, weights: [] }, (e) => events.push(e));
    dispatch({ type: 'load-model', runId: 'x', graph: mlp(), data: blobs, weights: [] }, (e) => events.push(e));
    expect(events).toEqual([
      { type: 'engine-error', message: 'load-model request needs the "weights" (a list of {name, shape, values})' },
      { type: 'engine-error', message: 'load-model request needs the model "graph"' },
      { type: 'engine-error', message: 'load-model request needs a string "requestId"' },
    ]);
    const { weights } = await trained();
    const replies = new Promise<EngineEvent>((resolve) => dispatch({ type: 'load-model', runId: 'y', requestId: 'ok', graph: mlp(), data: blobs, weights }, (e) => resolve(e)));
    expect(await replies).toMatchObject({ type: 'model-loaded', runId: 'y', requestId: 'ok' });
  });
});
