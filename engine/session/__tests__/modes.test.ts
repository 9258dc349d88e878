import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../graph/compile.ts';
import { APP_MODE_EXAMPLES, exampleBytes } from '../../../scripts/build-examples.ts';
import { dataSettingsOf, readProject } from '../../io/project.ts';
import { useNodeMnistFiles } from '../../data/mnist.node.ts';
import { defaultParams } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph } from '../../graph/types.ts';
import { ganDiscriminatorGraph, ganGeneratorGraph, mlpClassifierGraph, vaeGraph } from '../../train/modes/graphs.ts';
import { dispatch } from '../dispatch.ts';
import { ModeSession } from '../mode-session.ts';
import type { EngineEvent, ModeEvent, ModeSpec, ModeView, TrainingEvent } from '../protocol.ts';

useNodeMnistFiles();

type Event = ModeEvent | TrainingEvent;

function recorder() {
  const events: Event[] = [];
  const waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const emit = (e: Event) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.pred(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };
  /** The first event of `type` (matching `pred`) after the `from`-th event. */
  const next = <T extends Event['type']>(type: T, pred: (e: Extract<Event, { type: T }>) => boolean = () => true, from = 0) =>
    new Promise<Extract<Event, { type: T }>>((resolve) => {
      const match = (e: Event) => e.type === type && pred(e as Extract<Event, { type: T }>);
      const found = events.slice(from).find(match);
      if (found) resolve(found as Extract<Event, { type: T }>);
      else waiters.push({ pred: match, resolve: resolve as (e: Event) => void });
    });
  const of = <T extends Event['type']>(type: T) => events.filter((e) => e.type === type) as Extract<Event, { type: T }>[];
  return { events, emit, next, of };
}

const digits = (samples: number) => ({ source: { kind: 'builtin' as const, id: 'mnist', options: { samples } }, split: { train: 0.8, val: 0.1, test: 0.1 } });

async function view<K extends ModeView['kind']>(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: Extract<Parameters<ModeSession['handle']>[0], { type: 'mode-view' }>['query'] & { kind: K }): Promise<Extract<ModeView, { kind: K }>> {
  const requestId = `q${r.events.length}`;
  s.handle({ type: 'mode-view', runId, requestId, query });
  const reply = r.events.at(-1)!;
  if (reply.type === 'request-failed') throw new Error(reply.reason);
  expect(reply).toMatchObject({ type: 'mode-view', requestId, runId });
  const v = (reply as Extract<Event, { type: 'mode-view' }>).view;
  expect(v.kind).toBe(query.kind);
  return v as Extract<ModeView, { kind: K }>;
}

async function failure(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: Extract<Parameters<ModeSession['handle']>[0], { type: 'mode-view' }>['query']): Promise<string> {
  s.handle({ type: 'mode-view', runId, requestId: 'bad', query });
  const reply = r.events.at(-1)!;
  expect(reply.type).toBe('request-failed');
  return (reply as Extract<Event, { type: 'request-failed' }>).reason;
}

describe('ModeSession: course modes over the protocol', { timeout: 20_000 }, () => {
  it('a VAE from training.mode trains an epoch with every loss reported, then shows reconstructions, latent points, prior samples and an interpolation', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'vae', graph: vaeGraph({ hidden: 32, latent: 2, klWeight: 0.01 }), data: digits(200), training: { epochs: 1, batchSize: 32, optimizer: { lr: 2e-3 }, mode: { kind: 'vae' } } });
    const state = await r.next('mode-state', (e) => e.state === 'idle');
    expect(state).toMatchObject({ status: 'completed', step: 5 });
    const started = r.of('mode-started')[0];
    expect(started).toMatchObject({ kind: 'vae', stepsPerEpoch: 5, totalSteps: 5, splits: { train: 160, val: 20, test: 20 } });
    expect(started.info).toMatchObject({ latentDim: 2, klWeight: 0.01, isImage: true, inputShape: [1, 28, 28] });
    expect([...started.info.lossNames].sort()).toEqual(['kl', 'recon_loss', 'total']);
    expect(started.info.lossNames[0]).toBe('total');
    const points = r.of('mode-progress').flatMap((e) => e.points);
    expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    for (const p of points) {
      expect(Object.keys(p.losses).sort()).toEqual(['kl', 'recon_loss', 'total']);
      // The total is the reconstruction plus the KL term weighted by beta.
      expect(p.losses.total).toBeCloseTo(p.losses.recon_loss + 0.01 * p.losses.kl, 4);
    }
    const epoch = r.of('mode-epoch');
    expect(epoch).toHaveLength(1);
    expect(epoch[0].losses.total).toBeCloseTo(points.reduce((a, p) => a + p.losses.total, 0) / 5, 5);

    const rec = await view(s, r, 'vae', { kind: 'reconstructions', count: 3 });
    expect(rec.split).toBe('test');
    expect(rec.items.map((i) => [i.index, i.input.width, i.output.height, i.output.values.length])).toEqual([0, 1, 2].map((i) => [i, 28, 28, 784]));
    const latent = await view(s, r, 'vae', { kind: 'latent', count: 20 });
    expect(latent).toMatchObject({ dim: 2, projected: false });
    expect(latent.points).toHaveLength(20);
    expect(latent.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.label! >= 0 && p.label! < 10)).toBe(true);
    const sample = await view(s, r, 'vae', { kind: 'sample', index: latent.points[3].index! });
    expect(sample.label).toBe(latent.points[3].label);
    expect(sample.image).toMatchObject({ width: 28, height: 28, channels: 1 });
    const prior = await view(s, r, 'vae', { kind: 'prior', count: 9, cols: 3 });
    expect(prior.samples).toHaveLength(9);
    expect([prior.grid.width, prior.grid.height]).toEqual([3 * 28 + 2, 3 * 28 + 2]);
    const strip = await view(s, r, 'vae', { kind: 'interpolate', a: 0, b: 1, steps: 6 });
    expect([strip.strip.width, strip.strip.height, strip.frames.length]).toEqual([6 * 28 + 5, 28, 6]);
    // The ends of the strip decode the two samples' means; the middle lies between them.
    expect(strip.frames[0].values).not.toEqual(strip.frames[5].values);

    // The project graph's trained weights, for the project to keep: they load into the graph as compiled.
    const weights = await view(s, r, 'vae', { kind: 'weights' });
    const fresh = compileGraph(vaeGraph({ hidden: 32, latent: 2, klWeight: 0.01 }), { seed: 0 });
    expect(weights.tensors.map((t) => t.name)).toEqual([...fresh.stateDict().keys()]);
    const first = weights.tensors[0];
    expect(first.values).not.toEqual(Array.from(fresh.stateDict().get(first.name)!.dataSync()));
    fresh.loadStateDict(new Map(weights.tensors.map((t) => [t.name, { shape: t.shape, values: Float32Array.from(t.values) }])));
    expect(Array.from(fresh.stateDict().get(first.name)!.dataSync())).toEqual(first.values);

    expect(await failure(s, r, 'vae', { kind: 'gan' })).toBe('The GAN view is not available in the vae mode');
    expect(await failure(s, r, 'vae', { kind: 'interpolate', a: 0, b: 99 })).toBe('b must be a sample of the test split, from 0 to 19, got 99');
    expect(await failure(s, r, 'other', { kind: 'prior' })).toBe('There is no mode run "other" (the current one is "vae")');
  });

  it('a conditional GAN steps on request, reports both losses, an epoch grid per class and the samples now', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const mode: ModeSpec = { kind: 'gan', discriminator: ganDiscriminatorGraph({ inShape: [1, 28, 28], hidden: 16, classes: 10 }), kDiscriminator: 1, conditional: true };
    // 100 digits -> 80 training samples, batches of 40: an epoch every 2 steps.
    s.handle({ type: 'mode-start', runId: 'gan', graph: ganGeneratorGraph({ noise: 8, hidden: 16, outShape: [1, 28, 28], classes: 10 }), data: digits(100), training: { batchSize: 40, optimizer: { lr: 2e-4, betas: [0.5, 0.999] } }, mode, steps: 1 });
    await r.next('mode-state', (e) => e.state === 'idle');
    expect(r.of('mode-started')[0]).toMatchObject({ kind: 'gan', stepsPerEpoch: 2, totalSteps: 1, info: { lossNames: ['discriminator', 'generator'], conditional: true } });
    let gan = await view(s, r, 'gan', { kind: 'gan' });
    expect(gan.epochs).toEqual([]);
    // Two rows of one sample per class.
    expect([gan.current.grid!.width, gan.current.grid!.height]).toEqual([10 * 28 + 9, 2 * 28 + 1]);

    const from = r.events.length;
    s.handle({ type: 'mode-step', runId: 'gan', steps: 3 });
    const done = await r.next('mode-state', (e) => e.state === 'idle', from);
    expect(done).toMatchObject({ status: 'completed', step: 4 });
    const points = r.of('mode-progress').flatMap((e) => e.points);
    expect(points.map((p) => [p.step, p.epoch])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2]]);
    for (const p of points) {
      expect(Object.keys(p.losses)).toEqual(['discriminator', 'generator']);
      expect(p.metrics!.discriminatorAccuracy).toBeGreaterThanOrEqual(0);
    }
    const epochs = r.of('mode-epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(epochs[0].gan!.grid).toMatchObject({ width: 10 * 28 + 9 });
    expect(epochs[1].gan!.dLoss).toBeCloseTo((points[2].losses.discriminator + points[3].losses.discriminator) / 2, 5);
    gan = await view(s, r, 'gan', { kind: 'gan' });
    expect(gan.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(Array.isArray(gan.warnings)).toBe(true);
    expect(JSON.parse(JSON.stringify(gan))).toEqual(gan);
  });

  it('attacks the classifier it trained: three images, both predictions and a success rate that grows with epsilon', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'adv', graph: mlpClassifierGraph({ hidden: 32 }), data: digits(600), training: { epochs: 3, batchSize: 32, optimizer: { lr: 3e-3 }, mode: { kind: 'adversarial', epsilon: 0.15, steps: 5 } } });
    await r.next('mode-state', (e) => e.state === 'idle');
    expect(r.of('mode-started')[0].info.attack).toEqual({ epsilon: 0.15, steps: 5 });
    const none = await view(s, r, 'adv', { kind: 'attack', index: 0, epsilon: 0, limit: 60 });
    expect(none.report.successRate).toBe(0);
    expect(none.report.cleanAccuracy).toBeGreaterThan(0.6);
    const strong = await view(s, r, 'adv', { kind: 'attack', index: 0, epsilon: 0.25, steps: 5, limit: 60 });
    expect(strong.report.successRate).toBeGreaterThan(0.5);
    expect(strong.report.adversarialAccuracy).toBeLessThan(none.report.cleanAccuracy);
    const v = strong.view;
    for (const im of [v.original, v.perturbation, v.adversarial]) expect([im.width, im.height, im.channels]).toEqual([28, 28, 1]);
    expect(v.perturbationMax).toBeLessThanOrEqual(0.25 + 1e-6);
    expect(v.before.label).toBeGreaterThanOrEqual(0);
    expect(v.success).toBe(v.after.label !== v.trueLabel);
    const targeted = await view(s, r, 'adv', { kind: 'attack', index: 1, epsilon: 0.3, steps: 10, targetClass: 3, limit: 30 });
    expect(targeted.targetClass).toBe(3);
    expect(targeted.view.success).toBe(targeted.view.after.label === 3);
    expect(await failure(s, r, 'adv', { kind: 'reconstructions' })).toBe('The reconstruction view is not available in the adversarial mode');
  });

  it('stops a long run between steps, and refuses projects without a mode, with a clear reason', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'long', graph: mlpClassifierGraph({ hidden: 8 }), data: digits(100), training: { epochs: 1000, batchSize: 8 }, mode: { kind: 'adversarial' } });
    await r.next('mode-progress');
    s.handle({ type: 'mode-stop', runId: 'long' });
    const stopped = await r.next('mode-state', (e) => e.state === 'idle');
    expect(stopped.status).toBe('stopped');
    expect(stopped.step).toBeLessThan(1000 * 10);
    s.handle({ type: 'mode-start', runId: 'plain', graph: mlpClassifierGraph(), data: digits(100), training: {} });
    expect((await r.next('mode-failed', (e) => e.runId === 'plain')).reason).toBe('This project has no training mode; set training.mode to one of autoencoder, vae, gan, adversarial, seq2seq, language-model, word2vec, rotation, contrastive, pretrain-transfer');
    s.handle({ type: 'mode-start', runId: 'trainer', graph: mlpClassifierGraph(), data: digits(100), training: { mode: { kind: 'trainer' } } });
    expect((await r.next('mode-failed', (e) => e.runId === 'trainer')).reason).toContain('use the Training panel');
    s.handle({ type: 'mode-start', runId: 'eps', graph: mlpClassifierGraph(), data: digits(100), training: {}, mode: { kind: 'adversarial', epsilon: -1 } });
    expect((await r.next('mode-failed', (e) => e.runId === 'eps')).reason).toBe('training.mode.epsilon must be a number >= 0, got -1');
    s.handle({ type: 'mode-start', runId: 'vae-on-classifier', graph: mlpClassifierGraph(), data: digits(100), training: {}, mode: { kind: 'vae' } });
    expect((await r.next('mode-failed', (e) => e.runId === 'vae-on-classifier')).reason).toContain('Reparameterize');
    await s.idle();
  });
});

const examplesDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples');

describe('course-mode examples', { timeout: 30_000 }, () => {
  it('are committed as generated, carry their mode in training.mode, and start a mode run from the project alone', async () => {
    const index = JSON.parse(readFileSync(path.join(examplesDir, 'index.json'), 'utf8')) as { id: string }[];
    expect(APP_MODE_EXAMPLES.map((e) => e.mode.kind).sort()).toEqual(['adversarial', 'autoencoder', 'autoencoder', 'contrastive', 'gan', 'language-model', 'pretrain-transfer', 'rotation', 'seq2seq', 'trainer', 'vae', 'word2vec', 'word2vec']);
    for (const e of APP_MODE_EXAMPLES) {
      expect(index.some((x) => x.id === e.id), e.id).toBe(true);
      const bytes = new Uint8Array(readFileSync(path.join(examplesDir, `${e.id}.aps`)));
      expect(bytes).toEqual(exampleBytes(e));
      const project = readProject(bytes);
      expect(project.training.mode).toEqual(e.mode);
      if (e.mode.kind === 'trainer') continue;
      const r = recorder();
      const s = new ModeSession(r.emit);
      const data = dataSettingsOf(project);
      // Digit projects train on 40 images (600 for the few-label comparison, which needs 10 + 20
      // labels of each class in the training split); the text project keeps its windows.
      const samples = e.mode.kind === 'pretrain-transfer' ? 600 : 40;
      const few = data.source.kind === 'builtin' && data.source.id === 'mnist' ? ({ ...data, source: { ...data.source, options: { samples } } } as typeof data) : data;
      s.handle({ type: 'mode-start', runId: e.id, graph: project.graph, data: few, training: { ...project.training, batchSize: 8 }, steps: 2 });
      const end = await r.next('mode-state', (x) => x.state === 'idle');
      expect(r.of('mode-failed'), e.id).toEqual([]);
      expect(r.of('mode-started')[0].kind).toBe(e.mode.kind);
      expect(end).toMatchObject({ status: 'completed', step: 2 });
    }
  });
});

function node(id: string, type: string, params: Record<string, number> = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}
function edge(source: string, target: string, targetPort = 'x'): GraphEdge {
  return { id: `${source}->${target}.${targetPort}`, source, sourcePort: 'y', target, targetPort };
}
/** VectorInput(2) -> Linear(hidden) "fc1" -> ReLU "act" -> Linear(3) -> cross-entropy. */
function mlp(): ModelGraph {
  return {
    nodes: [node('input', 'VectorInput', { features: 2 }), node('fc1', 'Linear', { out_features: 8 }), node('act', 'ReLU'), node('fc2', 'Linear', { out_features: 3 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    edges: [edge('input', 'fc1'), edge('fc1', 'act'), edge('act', 'fc2'), edge('fc2', 'loss', 'prediction'), edge('label', 'loss', 'target')],
  };
}
const blobs = { source: { kind: 'builtin' as const, id: 'blobs', options: { samples: 150 } }, split: { train: 0.7, val: 0.3, test: 0 } };

describe('ModeSession: hyperparameter search over the protocol', { timeout: 20_000 }, () => {
  it('runs a grid trial by trial and ranks the results by the validation metric', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'search-start', searchId: 's1', graph: mlp(), data: blobs, training: { epochs: 2, batchSize: 16 }, space: { lr: [1e-5, 0.05], graphParams: [{ nodeId: 'fc1', param: 'out_features', values: [4, 16] }] }, options: { strategy: 'grid', metric: 'accuracy' } });
    const fin = await r.next('search-finished');
    expect(r.of('search-started')[0].total).toBe(4);
    const trials = r.of('search-trial');
    expect(trials.map((t) => [t.done, t.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(fin.status).toBe('completed');
    expect(fin.results.map((t) => t.rank)).toEqual([1, 2, 3, 4]);
    const scores = fin.results.map((t) => t.score!);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // A learning rate of 1e-5 barely moves in two epochs: the best trials use 0.05.
    expect(fin.results[0].config.lr).toBe(0.05);
    expect(fin.results[0].config.graphParams).toHaveProperty('fc1.out_features');
  });

  it('stops during a trial: the search ends early, marked stopped', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'search-start', searchId: 's2', graph: mlp(), data: blobs, training: { epochs: 200, batchSize: 4 }, space: { lr: [0.01, 0.02, 0.03] }, options: { strategy: 'random', trials: 3 } });
    await r.next('search-started');
    s.handle({ type: 'search-stop', searchId: 's2' });
    const fin = await r.next('search-finished');
    expect(fin.status).toBe('stopped');
    expect(fin.results.length).toBeLessThanOrEqual(1);
    expect(fin.results.every((t) => t.status === 'stopped')).toBe(true);
    s.handle({ type: 'search-stop', searchId: 's2' });
    expect(r.events.at(-1)).toEqual({ type: 'search-failed', searchId: 's2', reason: 'There is no running search "s2"' });
  });

  it('dispatch routes mode and search requests, and names a malformed one', async () => {
    const events: EngineEvent[] = [];
    dispatch({ type: 'mode-step', runId: 'x', steps: 0 }, (e) => events.push(e));
    expect(events.at(-1)).toEqual({ type: 'engine-error', message: 'mode-step request needs "steps", a whole number of at least 1, got 0' });
    dispatch({ type: 'search-start', graph: mlp() }, (e) => events.push(e));
    expect(events.at(-1)).toEqual({ type: 'engine-error', message: 'search-start request needs a string "searchId"' });
    dispatch({ type: 'mode-view', runId: 'none', requestId: 'r', query: { kind: 'prior' } }, (e) => events.push(e));
    expect(events.at(-1)).toEqual({ type: 'request-failed', requestId: 'r', reason: 'There is no mode run "none"' });
  });
});
