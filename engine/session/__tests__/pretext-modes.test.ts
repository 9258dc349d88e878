/**
 * Self-supervised pretext modes over the protocol: rotation prediction and contrastive
 * learning train on the project's images (labels unused) with a falling loss, and their
 * linear probe view trains a classifier on the frozen features beside the same probe on
 * the untrained network.
 */
import { describe, expect, it } from 'vitest';
import { useNodeMnistFiles } from '../../data/mnist.node.ts';
import { contrastiveGraph, rotationPretextGraph } from '../../train/modes/graphs.ts';
import { ModeSession } from '../mode-session.ts';
import type { ModeEvent, ModeView, ModeViewQuery, TrainingEvent } from '../protocol.ts';

useNodeMnistFiles();

type Event = ModeEvent | TrainingEvent;

function recorder() {
  const events: Event[] = [];
  const of = <T extends Event['type']>(type: T) => events.filter((e) => e.type === type) as Extract<Event, { type: T }>[];
  return { events, emit: (e: Event) => void events.push(e), of };
}

/** Asks a view and waits for its answer (the probe answers asynchronously). */
async function ask(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: ModeViewQuery): Promise<ModeView> {
  const requestId = `q${r.events.length}`;
  s.handle({ type: 'mode-view', runId, requestId, query });
  for (let i = 0; i < 2000; i++) {
    const reply = r.events.find((e) => 'requestId' in e && e.requestId === requestId);
    if (reply?.type === 'request-failed') throw new Error(reply.reason);
    if (reply?.type === 'mode-view') return reply.view;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`no answer to ${query.kind}`);
}

const digits = { source: { kind: 'builtin' as const, id: 'mnist', options: { samples: 300 } }, split: { train: 0.8, val: 0, test: 0.2 } };
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('ModeSession: self-supervised pretext modes and their linear probes', { timeout: 30_000 }, () => {
  it('rotation prediction: the loss falls, rotations are told apart, and the probe reports both accuracies', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const graph = rotationPretextGraph({ channels: [4, 8], features: 32 });
    s.handle({ type: 'mode-start', runId: 'rot', graph, data: digits, training: { batchSize: 16, optimizer: { type: 'adam', lr: 3e-3 }, mode: { kind: 'rotation', probe: { labels: 60 } } }, steps: 40 });
    await s.idle();
    expect(r.of('mode-failed')).toEqual([]);
    const started = r.of('mode-started')[0]!;
    expect(started.kind).toBe('rotation');
    expect(started.info.probe).toEqual({ featureId: 'features', labels: 60, maxLabels: 240, pretext: 'rotations told right' });
    const losses = r.of('mode-progress').flatMap((e) => e.points.map((p) => Object.values(p.losses)[0]!));
    expect(losses).toHaveLength(40);
    // ln 4 = 1.39 at chance; the last steps are well below the first.
    expect(mean(losses.slice(-8))).toBeLessThan(0.8 * mean(losses.slice(0, 8)));

    const v = (await ask(s, r, 'rot', { kind: 'probe', steps: 60 })) as Extract<ModeView, { kind: 'probe' }>;
    expect(v).toMatchObject({ kind: 'probe', split: 'test', samples: 60, labels: 60, steps: 60, featureId: 'features', pretext: { name: 'rotations told right', chance: 0.25, samples: 60 } });
    for (const x of [v.accuracy, v.baseline, v.pretext.value]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(v.pretext.value).toBeGreaterThan(0.5);
    // Accuracies are fractions of the 60 test samples.
    expect(Math.abs(v.accuracy * 60 - Math.round(v.accuracy * 60))).toBeLessThan(1e-6);
    // The probe leaves the pretrained network as it was: asking again gives the same answer.
    const again = (await ask(s, r, 'rot', { kind: 'probe', steps: 60 })) as Extract<ModeView, { kind: 'probe' }>;
    expect(again.accuracy).toBe(v.accuracy);
    expect(again.baseline).toBe(v.baseline);
    await expect(ask(s, r, 'rot', { kind: 'probe', labels: 1000 })).rejects.toThrow('labels must be a whole number from 1 to 240, got 1000');
    await expect(ask(s, r, 'rot', { kind: 'neighbours', word: 'cat' })).rejects.toThrow('The neighbours view is not available in the rotation mode');
  });

  it('contrastive learning: the NT-Xent loss falls and the probe reports the partner-view score', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const graph = contrastiveGraph({ channels: [4, 8], features: 32 });
    s.handle({ type: 'mode-start', runId: 'con', graph, data: digits, training: { batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 }, mode: { kind: 'contrastive', temperature: 0.5 } }, steps: 30 });
    await s.idle();
    expect(r.of('mode-failed')).toEqual([]);
    expect(r.of('mode-started')[0]!.info.lossNames).toEqual(['nt_xent']);
    const losses = r.of('mode-progress').flatMap((e) => e.points.map((p) => p.losses.nt_xent!));
    expect(losses).toHaveLength(30);
    expect(mean(losses.slice(-6))).toBeLessThan(mean(losses.slice(0, 6)));
    const v = (await ask(s, r, 'con', { kind: 'probe', labels: 40, steps: 40, limit: 40 })) as Extract<ModeView, { kind: 'probe' }>;
    expect(v).toMatchObject({ kind: 'probe', samples: 40, labels: 40, steps: 40, pretext: { name: 'partner views found', chance: 1 / 79, samples: 40 } });
    expect(v.pretext.value).toBeGreaterThan(1 / 79);
    expect(v.accuracy).toBeGreaterThan(0.1);
  });

  it('refuses bad probe settings in the project with the field and the value', () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    s.handle({ type: 'mode-start', runId: 'bad', graph: contrastiveGraph(), data: digits, training: { mode: { kind: 'contrastive', temperature: 0 } }, steps: 0 });
    return s.idle().then(() => {
      expect(r.of('mode-failed')[0]!.reason).toBe('training.mode.temperature must be a number above 0, got 0');
      s.handle({ type: 'mode-start', runId: 'bad2', graph: rotationPretextGraph(), data: digits, training: { mode: { kind: 'rotation', probe: { labels: 2.5 } } }, steps: 0 });
      return s.idle().then(() => expect(r.of('mode-failed')[1]!.reason).toBe('training.mode.probe.labels must be a whole number of at least 1, got 2.5'));
    });
  });
});
