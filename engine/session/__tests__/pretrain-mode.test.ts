/**
 * The pretrain-transfer mode over the protocol: a denoising autoencoder trains on the
 * project's images (labels unused) with a falling loss, then its comparison view trains the
 * classifier from scratch, as a linear probe on the pretrained encoder and fine-tuned, on one
 * seeded few-label split, and scores the three on held-out samples. Small networks and step
 * counts: the example's own claim is checked by engine/train/modes/__tests__/pretrain-beats-scratch.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataSettingsOf, readProject } from '../../io/project.ts';
import { useNodeMnistFiles } from '../../data/mnist.node.ts';
import { validateDataSettings, validateTrainingSettings } from '../../train/settings.ts';
import { DENSE_ENCODER_LAYERS, denseClassifierGraph, denseFeatureAutoencoderGraph } from '../../train/modes/transfer-pretrain.ts';
import { commandLineModeOf, ModeSession, modeSpecOf, trainModeProject } from '../mode-session.ts';
import type { ModeEvent, ModeSpec, ModeView, ModeViewQuery, TrainingEvent } from '../protocol.ts';

useNodeMnistFiles();

type Event = ModeEvent | TrainingEvent;
type Compare = Extract<ModeView, { kind: 'pretrain-compare' }>;

function recorder() {
  const events: Event[] = [];
  const of = <T extends Event['type']>(type: T) => events.filter((e) => e.type === type) as Extract<Event, { type: T }>[];
  return { events, emit: (e: Event) => void events.push(e), of };
}

/** Asks a view and waits for its answer (the comparison answers asynchronously). */
function ask(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: ModeViewQuery, requestId = `q${r.events.length}`): Promise<ModeView> {
  s.handle({ type: 'mode-view', runId, requestId, query });
  return (async () => {
    for (let i = 0; i < 4000; i++) {
      const reply = r.events.find((e) => 'requestId' in e && e.requestId === requestId);
      if (reply?.type === 'request-failed') throw new Error(reply.reason);
      if (reply?.type === 'mode-view') return reply.view;
      await new Promise((res) => setTimeout(res, 5));
    }
    throw new Error(`no answer to ${query.kind}`);
  })();
}

const small = { hidden: 32, features: 16 } as const;
const digits = { source: { kind: 'builtin' as const, id: 'mnist', options: { samples: 400 } }, split: { train: 0.8, val: 0, test: 0.2 } };
const mode = (compare: Extract<ModeSpec, { kind: 'pretrain-transfer' }>['compare'] = {}): ModeSpec => ({
  kind: 'pretrain-transfer',
  classifier: denseClassifierGraph(small),
  noiseStd: 0.3,
  compare: { perClass: 3, valPerClass: 3, probeSteps: 20, finetuneSteps: 30, batchSize: 10, optimizer: { type: 'adam', lr: 3e-3 }, seed: 0, ...compare },
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const whole = (x: number, n: number) => Math.abs(x * n - Math.round(x * n)) < 1e-6;

describe('ModeSession: autoencoder pretraining, then a few-label comparison', { timeout: 30_000 }, () => {
  it('pretrains with a falling reconstruction loss, then compares scratch, probe and fine-tuned classifiers on a seeded label set', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'pt', graph: denseFeatureAutoencoderGraph(small), data: digits, training: { batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 }, mode: mode() }, steps: 40 });
    await s.idle();
    expect(r.of('mode-failed')).toEqual([]);
    const started = r.of('mode-started')[0]!;
    expect(started.kind).toBe('pretrain-transfer');
    expect(started.info.lossNames).toEqual(['total', 'loss']);
    const train = started.splits.train;
    expect(train).toBe(320);
    expect(started.info.pretrain).toMatchObject({ perClass: 3, valPerClass: 3, probeSteps: 20, finetuneSteps: 30, seed: 0, classes: 10 });
    // The rarest class of 320 digits has at most 320 / 10 samples; 3 of them are kept for validation.
    expect(started.info.pretrain!.maxPerClass).toBeLessThanOrEqual(train / 10 - 3);
    expect(started.info.pretrain!.maxPerClass).toBeGreaterThan(10);
    const losses = r.of('mode-progress').flatMap((e) => e.points.map((p) => p.losses.total!));
    expect(losses).toHaveLength(40);
    expect(mean(losses.slice(-8))).toBeLessThan(0.8 * mean(losses.slice(0, 8)));
    // The autoencoder's own view works as in the autoencoder mode.
    const rec = await ask(s, r, 'pt', { kind: 'reconstructions', count: 2 });
    expect(rec.kind === 'reconstructions' && rec.items.length).toBe(2);

    const v = (await ask(s, r, 'pt', { kind: 'pretrain-compare', limit: 60 })) as Compare;
    expect(v).toMatchObject({ kind: 'pretrain-compare', split: 'test', samples: 60, seed: 0, perClass: 3, valPerClass: 3, probeSteps: 20, finetuneSteps: 30 });
    for (const [e, last] of [[v.scratch, 50], [v.probe, 20], [v.pretrained, 50]] as const) {
      expect(e.val).toBeGreaterThanOrEqual(0);
      expect(e.val).toBeLessThanOrEqual(1);
      // Validation accuracy is a fraction of the 30 validation digits, test accuracy of the 60 test digits.
      expect(whole(e.val, 30)).toBe(true);
      expect(whole(e.test, 60)).toBe(true);
      expect(e.step).toBeGreaterThanOrEqual(1);
      expect(e.step).toBeLessThanOrEqual(last);
    }
    // Fine-tuning starts from the probe and keeps it when it does not improve on its validation accuracy.
    expect(v.pretrained.val).toBeGreaterThanOrEqual(v.probe.val);
    expect(v.gain).toBeCloseTo(v.pretrained.test - v.scratch.test, 10);

    // The same label set gives the same answer; another one is a different draw.
    const again = (await ask(s, r, 'pt', { kind: 'pretrain-compare', limit: 60 })) as Compare;
    expect(again).toEqual(v);
    const other = (await ask(s, r, 'pt', { kind: 'pretrain-compare', limit: 60, seed: 5, perClass: 2, probeSteps: 10, finetuneSteps: 0 })) as Compare;
    expect(other).toMatchObject({ seed: 5, perClass: 2, probeSteps: 10, finetuneSteps: 0 });
    expect(other.pretrained).toEqual(other.probe);
    expect(other.scratch.step).toBeLessThanOrEqual(10);

    await expect(ask(s, r, 'pt', { kind: 'pretrain-compare', perClass: 1000 })).rejects.toThrow(/^perClass must be a whole number from 1 to \d+, got 1000$/);
    await expect(ask(s, r, 'pt', { kind: 'pretrain-compare', finetuneSteps: -1 })).rejects.toThrow('finetuneSteps must be a whole number from 0 to 20000, got -1');
    await expect(ask(s, r, 'pt', { kind: 'probe' })).rejects.toThrow('The linear probe view is not available in the pretrain-transfer mode');
  });

  it('a newer comparison replaces one still running, and the session stays responsive meanwhile', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'pt', graph: denseFeatureAutoencoderGraph(small), data: digits, training: { batchSize: 32, mode: mode() }, steps: 5 });
    await s.idle();
    const slow = ask(s, r, 'pt', { kind: 'pretrain-compare', probeSteps: 20000, finetuneSteps: 20000 }, 'slow');
    // Other requests are answered while it trains.
    const rec = await ask(s, r, 'pt', { kind: 'reconstructions', count: 1 });
    expect(rec.kind).toBe('reconstructions');
    const quick = ask(s, r, 'pt', { kind: 'pretrain-compare', probeSteps: 5, finetuneSteps: 5, limit: 20 }, 'quick');
    await expect(slow).rejects.toThrow('A newer comparison was asked for before this one ended');
    expect(((await quick) as Compare).samples).toBe(20);
  });

  it('the command line trains the autoencoder and reports the loss, the three accuracies and the gain', async () => {
    const project = { graph: denseFeatureAutoencoderGraph(small), data: digits, training: { epochs: 1, batchSize: 32, mode: mode() } as Record<string, unknown> };
    const result = await trainModeProject(project, { steps: 10 });
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(10);
    expect(Object.keys(result.quality.metrics).sort()).toEqual(['gain', 'pretrainLoss', 'pretrainedAccuracy', 'probeAccuracy', 'scratchAccuracy']);
    const m = result.quality.metrics;
    expect(m.gain).toBeCloseTo(m.pretrainedAccuracy! - m.scratchAccuracy!, 10);
    expect(m.pretrainLoss).toBeGreaterThan(0);
    expect(result.quality.lines[0]).toBe(`pretraining: reconstruction loss ${m.pretrainLoss!.toFixed(4)} (mean of the last 10 steps)`);
    expect(result.quality.lines.join('\n')).toContain('label set 0: 3 labels per class, 3 more for early stopping; scored on 80 test samples');
    expect(result.quality.lines.at(-1)).toMatch(/^gain from pretraining: [+-]\d+\.\d points$/);
    // The saved model is the autoencoder, the encoder included.
    expect([...result.model.stateDict().keys()]).toEqual(expect.arrayContaining(DENSE_ENCODER_LAYERS.map((id) => `${id}.weight`)));
  });

  it('refuses projects whose comparison cannot work, with the field and the numbers', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const start = async (runId: string, spec: unknown) => {
      s.handle({ type: 'mode-start', runId, graph: denseFeatureAutoencoderGraph(small), data: digits, training: { mode: spec as ModeSpec }, steps: 0 });
      await s.idle();
      return r.of('mode-failed').find((e) => e.runId === runId)?.reason;
    };
    expect(await start('no-classifier', { kind: 'pretrain-transfer' })).toBe("training.mode.classifier must hold the classifier graph (nodes and edges) whose encoder layers share the autoencoder's node ids");
    expect(await start('no-val', mode({ valPerClass: 0 }))).toBe('training.mode.compare.valPerClass must be a whole number of at least 1 (early stopping needs validation samples), got 0');
    expect(await start('too-many', mode({ perClass: 30, valPerClass: 20 }))).toMatch(/^The comparison needs 30 \+ 20 labelled samples of each class \(compare.perClass \+ compare.valPerClass\); the training split has only \d+ of class \d$/);
    expect(await start('no-layer', mode({ encoderIds: ['enc9'] }))).toBe('training.mode.compare.encoderIds: the classifier has no weighted node "enc9"');
    const wider = { ...mode(), classifier: denseClassifierGraph({ hidden: 48, features: 16 }) };
    expect(await start('shapes', wider)).toBe('"enc1.weight" is [32, 784] in the autoencoder and [48, 784] in the classifier');
  });

  it('the example project is valid and trains through its mode on the command line', async () => {
    const examples = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples');
    const project = readProject(new Uint8Array(readFileSync(path.join(examples, 'pretrain-autoencoder-few-labels.aps'))));
    expect(commandLineModeOf(project.training)).toBe('pretrain-transfer');
    const data = dataSettingsOf(project);
    expect(validateDataSettings(data)).toEqual([]);
    const { mode: spec, ...training } = project.training as Record<string, unknown>;
    expect(validateTrainingSettings(training as never)).toEqual([]);
    expect(modeSpecOf({ type: 'mode-start', runId: 'x', graph: project.graph, data, training: project.training as never })).toEqual(spec);
    // 600 of its digits instead of 10,000, 3 steps, and 10 + 10 comparison steps instead of 100 + 500; its 10 + 20 labels per class stay.
    const few = { ...data, source: { ...data.source, options: { samples: 600 } } } as typeof data;
    const s = spec as Extract<ModeSpec, { kind: 'pretrain-transfer' }>;
    const quick = { ...project.training, mode: { ...s, compare: { ...s.compare, probeSteps: 10, finetuneSteps: 10 } } };
    const r = await trainModeProject({ ...project, data: few, training: quick }, { steps: 3 });
    expect(r.status).toBe('completed');
    expect(r.quality.lines.slice(1, 5).join('\n')).toMatch(/^label set 0: 10 labels per class, 20 more for early stopping; scored on 120 test samples\n {2}from scratch, 20 steps: .*\n {2}linear probe on the pretrained encoder, 10 steps: .*\n {2}probe, then fine-tuned 10 steps: /);
  });
});
