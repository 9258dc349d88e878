import { describe, expect, it } from 'vitest';
import { defaultParams } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph } from '../../graph/types.ts';
import { dispatch } from '../dispatch.ts';
import type { EngineEvent, TrainingEvent } from '../protocol.ts';
import { TrainingSession } from '../training-session.ts';

function node(id: string, type: string, params: Record<string, number> = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}
function edge(source: string, target: string, targetPort = 'x'): GraphEdge {
  return { id: `${source}->${target}.${targetPort}`, source, sourcePort: 'y', target, targetPort };
}

/** VectorInput(2) -> Linear(16) -> ReLU -> Linear(classes) -> cross-entropy. */
function mlp(classes = 3): ModelGraph {
  return {
    nodes: [node('input', 'VectorInput', { features: 2 }), node('fc1', 'Linear', { out_features: 16 }), node('act', 'ReLU'), node('fc2', 'Linear', { out_features: classes }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    edges: [edge('input', 'fc1'), edge('fc1', 'act'), edge('act', 'fc2'), edge('fc2', 'loss', 'prediction'), edge('label', 'loss', 'target')],
  };
}

function recorder() {
  const events: TrainingEvent[] = [];
  const waiters: { pred: (e: TrainingEvent) => boolean; resolve: (e: TrainingEvent) => void }[] = [];
  const emit = (e: TrainingEvent) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.pred(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };
  const next = <T extends TrainingEvent['type']>(type: T, pred: (e: Extract<TrainingEvent, { type: T }>) => boolean = () => true) =>
    new Promise<Extract<TrainingEvent, { type: T }>>((resolve) => {
      const found = events.find((e) => e.type === type && pred(e as Extract<TrainingEvent, { type: T }>));
      if (found) resolve(found as Extract<TrainingEvent, { type: T }>);
      else waiters.push({ pred: (e) => e.type === type && pred(e as Extract<TrainingEvent, { type: T }>), resolve: resolve as (e: TrainingEvent) => void });
    });
  return { events, emit, next };
}

const data = { source: { kind: 'builtin' as const, id: 'blobs', options: { samples: 300 } }, split: { train: 0.7, val: 0.15, test: 0.15 } };

describe('TrainingSession', () => {
  it('start -> started, progress, epochs -> finished with history and test metrics', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'run1', graph: mlp(), data, training: { epochs: 3, batchSize: 32, optimizer: { lr: 0.05 } } });
    const fin = await r.next('train-finished');
    expect(fin.status).toBe('completed');
    const types = r.events.map((e) => e.type);
    expect(types[0]).toBe('train-started');
    expect(r.events[0]).toMatchObject({ runId: 'run1', epochs: 3, stepsPerEpoch: 7, splits: { train: 210, val: 45, test: 45 }, numParameters: 2 * 16 + 16 + 16 * 3 + 3 });
    expect(types.filter((t) => t === 'train-epoch')).toHaveLength(3);
    expect(types.filter((t) => t === 'train-progress').length).toBeGreaterThanOrEqual(3);
    const lastProgress = r.events.filter((e) => e.type === 'train-progress').at(-1)!;
    expect(lastProgress).toMatchObject({ epoch: 3, step: 7, stepsPerEpoch: 7 });
    expect(fin.history).toHaveLength(3);
    expect(fin.testMetrics!.accuracy).toBeGreaterThan(0.9);
    expect(JSON.parse(JSON.stringify(fin))).toEqual(fin);

    s.handle({ type: 'export-weights', runId: 'run1', requestId: 'w' });
    const w = await r.next('weights');
    expect(w.tensors.map((t) => [t.name, t.shape])).toEqual([
      ['fc1.weight', [16, 2]],
      ['fc1.bias', [16]],
      ['fc2.weight', [3, 16]],
      ['fc2.bias', [3]],
    ]);
    s.handle({ type: 'inspect', runId: 'run1', requestId: 'i', query: { kind: 'activations', nodeId: 'act', sample: { split: 'test', index: 0 } } });
    const ins = await r.next('inspect-result');
    expect(ins.result).toMatchObject({ kind: 'activations', shape: [16] });
    s.handle({ type: 'confusion-samples', runId: 'run1', requestId: 'c', split: 'test', actual: 0, predicted: 0, limit: 5 });
    const cs = await r.next('confusion-samples');
    expect(cs.indices.length).toBe(5);
    s.handle({ type: 'inspect', runId: 'nope', requestId: 'bad', query: { kind: 'filters', nodeId: 'fc1' } });
    expect((await r.next('request-failed')).reason).toMatch(/no training run "nope"/);
  });

  it('pause, resume and stop by message; inspection while paused; checkpoint resume to the same end', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    const training = { epochs: 4, batchSize: 16, seed: 3 };
    s.handle({ type: 'train-start', runId: 'a', graph: mlp(), data, training });
    await r.next('train-progress');
    s.handle({ type: 'train-pause', runId: 'a' });
    await r.next('train-state', (e) => e.state === 'paused');
    const count = r.events.filter((e) => e.type === 'train-progress').length;
    await new Promise((res) => setTimeout(res, 40));
    expect(r.events.filter((e) => e.type === 'train-progress').length).toBe(count);
    s.handle({ type: 'inspect', runId: 'a', requestId: 'p', query: { kind: 'embeddings', nodeId: 'act', split: 'val', count: 20 } });
    const emb = await r.next('inspect-result');
    expect(emb.result).toMatchObject({ kind: 'embeddings', dimension: 16 });
    s.handle({ type: 'train-checkpoint', runId: 'a', requestId: 'ck' });
    const ck = (await r.next('checkpoint')).checkpoint;
    s.handle({ type: 'train-resume', runId: 'a' });
    await r.next('train-state', (e) => e.state === 'running');
    s.handle({ type: 'train-stop', runId: 'a' });
    const stopped = await r.next('train-finished', (e) => e.runId === 'a');
    expect(stopped.status).toBe('stopped');

    // The checkpoint taken while paused continues to the same result as an uninterrupted run.
    s.handle({ type: 'train-start', runId: 'b', graph: mlp(), data, training, checkpoint: JSON.parse(JSON.stringify(ck)) });
    const resumed = await r.next('train-finished', (e) => e.runId === 'b');
    s.handle({ type: 'train-start', runId: 'c', graph: mlp(), data, training });
    const full = await r.next('train-finished', (e) => e.runId === 'c');
    const strip = (h: typeof full.history) => h.map(({ durationSec: _d, ...rest }) => rest);
    expect(strip(resumed.history)).toEqual(strip(full.history));
    expect(resumed.testMetrics).toEqual(full.testMetrics);
  });

  it('bad settings and models that do not fit fail with a reason; previews and dataset lists answer', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'train-start', runId: 'x', graph: mlp(), data, training: { epochs: 0, optimizer: { lr: -1 } } });
    const bad = await r.next('train-failed');
    expect(bad.reason).toMatch(/training: epochs must be a whole number of at least 1, got 0/);
    expect(bad.reason).toMatch(/optimizer\.lr must be a number above 0, got -1/);
    s.handle({ type: 'train-start', runId: 'y', graph: mlp(2), data, training: {} });
    expect((await r.next('train-failed', (e) => e.runId === 'y')).reason).toBe(
      'The dataset "Blobs" has 3 classes; the prediction from "fc2" gives 2 scores per sample. Set its output size to 3',
    );

    s.handle({ type: 'list-datasets', requestId: 'l' });
    expect((await r.next('datasets')).datasets.map((d) => d.id)).toContain('mnist');
    s.handle({
      type: 'data-preview',
      requestId: 'p',
      data: { source: { kind: 'csv', file: 'd.csv' }, split: { train: 0.5, val: 0.25, test: 0.25 } },
      payload: { text: 'a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n' },
    });
    const pv = await r.next('data-preview');
    expect(pv.preview.preview.kind).toBe('rows');
    expect(pv.splits).toEqual({ train: 2, val: 1, test: 1 });
    s.handle({ type: 'data-preview', requestId: 'q', data: { source: { kind: 'csv', file: 'e.csv' } }, payload: { text: 'a,b\n1,2\n3\n' } });
    expect((await r.next('request-failed', (e) => e.requestId === 'q')).reason).toBe('e.csv, line 3: expected 2 cells like the header, found 1');
  });

  it('dispatch routes training messages and still answers hello', async () => {
    const events: EngineEvent[] = [];
    dispatch({ type: 'hello' }, (e) => events.push(e));
    expect(events[0].type).toBe('ready');
    dispatch({ type: 'list-datasets', requestId: 'd' }, (e) => events.push(e));
    expect(events[1]).toMatchObject({ type: 'datasets', requestId: 'd' });
    dispatch({ type: 'train-pause' }, (e) => events.push(e));
    expect(events[2]).toEqual({ type: 'engine-error', message: 'train-pause request needs a string "runId"' });
    const done = new Promise<EngineEvent>((resolve) =>
      dispatch({ type: 'train-start', runId: 'd1', graph: mlp(), data, training: { epochs: 1 } }, (e) => {
        events.push(e);
        if (e.type === 'train-finished') resolve(e);
      }),
    );
    expect(await done).toMatchObject({ type: 'train-finished', runId: 'd1', status: 'completed' });
  });
});
