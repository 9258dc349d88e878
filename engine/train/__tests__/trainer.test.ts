import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../backends/cpu/cpu-backend.ts';
import { Generator } from '../../core/random.ts';
import { applyStandardizer, fitStandardizer, splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { compileGraph } from '../../graph/compile.ts';
import { withTrainingDefaults, type PartialTrainingSettings } from '../settings.ts';
import { Trainer, type StepProgress } from '../trainer.ts';
import { mlp } from './helpers.ts';

async function spirals(samples = 300) {
  const ds = await loadDataset('spirals', { samples });
  const split = splitDataset(ds, { train: 0.7, val: 0.15, test: 0.15 }, new Generator(0));
  const s = fitStandardizer(split.train);
  return { train: applyStandardizer(split.train, s), val: applyStandardizer(split.val, s), test: applyStandardizer(split.test, s) };
}

function trainer(data: Awaited<ReturnType<typeof spirals>>, s: PartialTrainingSettings, extra: Partial<ConstructorParameters<typeof Trainer>[0]> = {}) {
  const settings = withTrainingDefaults(s);
  return new Trainer({ model: compileGraph(mlp(32, 2, 'ReLU'), { seed: settings.seed }), data, settings, ...extra });
}

describe('Trainer', () => {
  it('an MLP learns spirals to >= 90% test accuracy, with metrics every epoch', async () => {
    const data = await spirals(300);
    const epochs: number[] = [];
    const t = trainer(data, { epochs: 30, batchSize: 16, optimizer: { type: 'adam', lr: 0.02 }, seed: 1 }, { onEpoch: (r) => epochs.push(r.epoch) });
    const r = await t.run();
    expect(r.status).toBe('completed');
    expect(epochs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const last = r.history[r.history.length - 1];
    expect(last.train.loss).toBeLessThan(r.history[0].train.loss);
    expect(last.val!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.testMetrics!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.testMetrics!.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(data.test.length);
    expect(r.testMetrics!.perClass).toHaveLength(2);
  }, 15000);

  it('reports step progress and keeps memory flat across steps', async () => {
    const data = await spirals(200);
    const progress: StepProgress[] = [];
    const counts: number[] = [];
    const t = trainer(data, { epochs: 2, batchSize: 20, optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 } }, {
      onStep: (p) => {
        progress.push(p);
        counts.push(cpuBackend.memory().tensors);
      },
    });
    await t.run();
    expect(progress).toHaveLength(2 * t.stepsPerEpoch);
    expect(progress[0]).toMatchObject({ epoch: 1, step: 1, stepsPerEpoch: 7, globalStep: 1 });
    expect(progress.every((p) => Number.isFinite(p.loss) && p.samplesPerSec > 0 && p.etaSec >= 0)).toBe(true);
    expect(progress[progress.length - 1].etaSec).toBe(0);
    expect(new Set(counts.slice(1)).size).toBe(1);
    // The two weight snapshots kept for a divergence (one per parameter each) are freed when the run ends.
    expect(counts.at(-1)! - cpuBackend.memory().tensors).toBe(2 * t.model.stateDict().size);
  });

  it('early stopping triggers after `patience` epochs without improvement and restores the best weights', async () => {
    const data = await spirals(200);
    // A tiny learning rate with min_delta 1 can never improve "enough".
    const t = trainer(data, { epochs: 30, batchSize: 50, optimizer: { type: 'sgd', lr: 1e-6 }, earlyStopping: { metric: 'loss', patience: 3, minDelta: 1 } });
    const r = await t.run();
    expect(r.status).toBe('early-stopped');
    expect(r.history).toHaveLength(4);
    expect(r.bestEpoch).toBe(1);
    const accT = trainer(data, { epochs: 40, batchSize: 32, optimizer: { type: 'adam', lr: 0.05 }, earlyStopping: { metric: 'accuracy', patience: 2 } });
    const r2 = await accT.run();
    expect(t.settings.earlyStopping!.mode).toBe('min');
    expect(accT.settings.earlyStopping!.mode).toBe('max');
    if (r2.status === 'early-stopped') {
      // The restored weights are those of the best epoch: evaluating again gives its accuracy.
      const best = r2.history[r2.bestEpoch! - 1].val!.accuracy!;
      expect(accT.evaluate(data.val).accuracy).toBeCloseTo(best, 10);
      expect(Math.max(...r2.history.map((h) => h.val!.accuracy!))).toBe(best);
    } else {
      expect(r2.status).toBe('completed');
    }
  });

  it('a huge learning rate diverges: status diverged, last good (finite) weights kept', async () => {
    const data = await spirals(200);
    const t = trainer(data, { epochs: 20, batchSize: 20, optimizer: { type: 'sgd', lr: 1e30 } });
    const r = await t.run();
    expect(r.status).toBe('diverged');
    expect(r.reason).toMatch(/The loss became (NaN|Infinity)/);
    expect(r.testMetrics).toBeNull();
    for (const p of t.model.parameters()) for (const v of p.dataSync()) expect(Number.isFinite(v)).toBe(true);
    expect(Number.isFinite(t.evaluate(data.train).loss)).toBe(true);
  });

  it('pause holds the loop within one step; resume continues; stop ends with status stopped', async () => {
    const data = await spirals(200);
    const steps: number[] = [];
    const t: Trainer = trainer(data, { epochs: 5, batchSize: 20 }, {
      onStep: (p) => {
        steps.push(p.globalStep);
        if (p.globalStep === 3) t.pause();
      },
    });
    const done = t.run();
    for (let i = 0; i < 20 && t.state !== 'paused'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.state).toBe('paused');
    expect(steps).toEqual([1, 2, 3]);
    await new Promise((r) => setTimeout(r, 30));
    expect(steps).toEqual([1, 2, 3]);
    t.resume();
    for (let i = 0; i < 50 && steps.length < 6; i++) await new Promise((r) => setTimeout(r, 2));
    expect(steps.length).toBeGreaterThanOrEqual(6);
    t.stop();
    const r = await done;
    expect(r.status).toBe('stopped');
    expect(steps.length).toBeLessThan(5 * t.stepsPerEpoch);
    expect(r.testMetrics).not.toBeNull();
  });

  it('a run stopped mid-epoch and resumed from its checkpoint matches an uninterrupted run exactly', async () => {
    const data = await spirals(200);
    const s: PartialTrainingSettings = {
      epochs: 3,
      batchSize: 16,
      seed: 7,
      optimizer: { type: 'adam', lr: 0.01 },
      schedule: { type: 'step', stepSize: 1, gamma: 0.5 },
      clipNorm: 1,
      earlyStopping: { metric: 'loss', patience: 10 },
    };
    const full = trainer(data, s);
    const fullResult = await full.run();

    const first: Trainer = trainer(data, s, { onStep: (p) => p.globalStep === 13 && first.stop() });
    const stopped = await first.run();
    expect(stopped.status).toBe('stopped');
    const ckpt = JSON.parse(JSON.stringify(first.checkpoint()));
    expect(ckpt.epoch).toBe(1);
    expect(ckpt.step).toBe(13 - first.stepsPerEpoch);

    // A fresh model with a different initialisation: the checkpoint overrides it all.
    const settings = withTrainingDefaults(s);
    const resumed = new Trainer({ model: compileGraph(mlp(32, 2, 'ReLU'), { seed: 99 }), data, settings, checkpoint: ckpt });
    const resumedResult = await resumed.run();
    expect(resumedResult.status).toBe('completed');
    const strip = (h: typeof fullResult.history) => h.map(({ durationSec: _d, ...rest }) => rest);
    expect(strip(resumedResult.history)).toEqual(strip(fullResult.history));
    const a = full.model.parameters().map((p) => Array.from(p.dataSync()));
    const b = resumed.model.parameters().map((p) => Array.from(p.dataSync()));
    expect(b).toEqual(a);
    expect(resumedResult.testMetrics).toEqual(fullResult.testMetrics);
  });

  it('refuses a model whose input does not fit the data, naming both shapes', async () => {
    const data = await spirals(100);
    const g = mlp(32, 2, 'ReLU');
    g.nodes[0].params.features = 3;
    expect(() => new Trainer({ model: compileGraph(g), data, settings: withTrainingDefaults({}) })).toThrow(/samples of shape \[2\].*expects \[3\]/);
  });
});
