import { describe, expect, it } from 'vitest';
import type { ModeEvent } from '../../../engine/session/protocol.ts';
import { accuracySeries, initialModeState, lossSeries, modeReducer, projectMode, type ModeRunState } from '../mode-state.ts';

const info = { lossNames: ['total', 'recon_loss', 'kl'], inputShape: [1, 28, 28], isImage: true, classNames: [], latentDim: 2, klWeight: 0.01 };
const started: ModeEvent = { type: 'mode-started', runId: 'r1', kind: 'vae', stepsPerEpoch: 4, totalSteps: 8, numParameters: 10, dataset: { id: 'mnist', name: 'MNIST', description: '', task: 'classification', inputShape: [1, 28, 28], inputDtype: 'float32', targetShape: [], targetDtype: 'int32', preview: 'image' }, splits: { train: 8, val: 1, test: 1 }, info };

function play(events: ModeEvent[], from: ModeRunState = modeReducer(initialModeState, { kind: 'start-requested', runId: 'r1' })): ModeRunState {
  return events.reduce((s, event) => modeReducer(s, { kind: 'event', event }), from);
}

const point = (step: number, total: number) => ({ step, epoch: Math.ceil(step / 4), losses: { total, recon_loss: total - 0.1, kl: 10 } });

describe('mode run state', () => {
  it('follows a run from start through progress, epochs and a stop', () => {
    let s = play([started]);
    expect(s).toMatchObject({ phase: 'running', kind: 'vae', totalSteps: 8, stepsPerEpoch: 4 });
    const v0 = s.version;
    s = play([{ type: 'mode-progress', runId: 'r1', points: [point(1, 0.9), point(2, 0.8)] }, { type: 'mode-progress', runId: 'r1', points: [point(3, 0.7), point(4, 0.6)] }], s);
    expect(s.step).toBe(4);
    expect(s.points.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    s = play([{ type: 'mode-epoch', runId: 'r1', epoch: 1, losses: { total: 0.75 } }], s);
    expect(s.epochs).toEqual([{ epoch: 1, losses: { total: 0.75 } }]);
    expect(s.version).toBe(v0 + 1);
    s = play([{ type: 'mode-state', runId: 'r1', state: 'idle', step: 4, status: 'stopped' }], s);
    expect(s).toMatchObject({ phase: 'idle', status: 'stopped', step: 4, version: v0 + 2 });
    // Events of another run change nothing.
    expect(play([{ type: 'mode-progress', runId: 'other', points: [point(9, 1)] }], s)).toBe(s);
  });

  it('keeps a failure or divergence reason for the banner', () => {
    expect(play([started, { type: 'mode-failed', runId: 'r1', reason: 'A VAE needs a Reparameterize node' }])).toMatchObject({ phase: 'failed', message: 'A VAE needs a Reparameterize node' });
    expect(play([started, { type: 'mode-state', runId: 'r1', state: 'idle', step: 3, status: 'diverged', reason: 'The loss became NaN at step 4.' }])).toMatchObject({ phase: 'idle', status: 'diverged', message: 'The loss became NaN at step 4.' });
  });

  it('draws one curve per loss over epochs, the parts of a total dashed', () => {
    const s = play([started, { type: 'mode-progress', runId: 'r1', points: [point(1, 0.9), point(2, 0.8)] }]);
    const series = lossSeries(s);
    expect(series.map((x) => [x.id, x.label, x.dashed])).toEqual([
      ['total', 'total', false],
      ['recon_loss', 'recon loss', true],
      ['kl', 'kl', true],
    ]);
    expect(series[0].points).toEqual([
      { x: 0.25, y: 0.9 },
      { x: 0.5, y: 0.8 },
    ]);
    const gan = play([
      { ...started, kind: 'gan', info: { ...info, lossNames: ['discriminator', 'generator'] } } as ModeEvent,
      { type: 'mode-progress', runId: 'r1', points: [{ step: 2, epoch: 1, losses: { discriminator: 1.3, generator: 0.7 }, metrics: { discriminatorAccuracy: 0.6 } }] },
    ]);
    expect(lossSeries(gan).map((x) => [x.id, x.dashed, x.points])).toEqual([
      ['discriminator', false, [{ x: 0.5, y: 1.3 }]],
      ['generator', false, [{ x: 0.5, y: 0.7 }]],
    ]);
    expect(accuracySeries(gan)[0].points).toEqual([{ x: 0.5, y: 0.6 }]);
  });

  it('reads the course mode from a project\'s training settings', () => {
    expect(projectMode({ epochs: 3, mode: { kind: 'vae' } })).toEqual({ kind: 'vae' });
    expect(projectMode({ mode: { kind: 'trainer' } })).toBeNull();
    expect(projectMode({ mode: { kind: 'seq2seq', sample: '3141' } })).toEqual({ kind: 'seq2seq', sample: '3141' });
    expect(projectMode({ mode: { kind: 'word2vec' } })).toEqual({ kind: 'word2vec' });
    expect(projectMode({ mode: { kind: 'rotation' } })).toEqual({ kind: 'rotation' });
    expect(projectMode({ mode: { kind: 'contrastive', temperature: 0.5 } })).toEqual({ kind: 'contrastive', temperature: 0.5 });
    const classifier = { nodes: [], edges: [] };
    expect(projectMode({ mode: { kind: 'pretrain-transfer', classifier, noiseStd: 0.3 } })).toEqual({ kind: 'pretrain-transfer', classifier, noiseStd: 0.3 });
    expect(projectMode({ mode: { kind: 'transfer' } })).toBeNull();
    expect(projectMode({ epochs: 3 })).toBeNull();
    expect(projectMode(null)).toBeNull();
  });
});
