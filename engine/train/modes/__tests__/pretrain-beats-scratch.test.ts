/**
 * The pretraining example's claim, checked as the example states it: a denoising autoencoder
 * pretrained on 8000 unlabelled digits (4000 steps) gives a classifier trained on 100 labels
 * a better test accuracy than the same classifier trained from scratch with the same steps,
 * optimiser and early stopping. The first three of the example's seeded label sets, on the
 * 2000 digits the autoencoder never saw. Slow (a minute or more): the pretraining is the
 * example's own, not a shortened one.
 */
import { describe, expect, it } from 'vitest';
import { MODE_EXAMPLES } from '../../../../scripts/examples-modes.ts';
import { subset } from '../../../data/dataset.ts';
import { loadMnist } from '../../../data/mnist.ts';
import { runPretrainExperiment } from '../transfer-pretrain.ts';
import './fixtures.ts';

describe('the pretraining example', () => {
  it('beats training from scratch on each of three seeded 100-label sets, by at least a point on average', { timeout: 900_000 }, async () => {
    const e = MODE_EXAMPLES.find((x) => x.id === 'pretrain-autoencoder-few-labels')!;
    const m = e.mode;
    if (m.kind !== 'pretrain-transfer' || !m.compare || m.noiseStd === undefined) throw new Error('the pretraining example lost its comparison settings');
    const all = await loadMnist();
    const pool = Array.from({ length: 8000 }, (_, i) => i);
    const test = subset(all, Array.from({ length: 2000 }, (_, i) => 8000 + i));
    const r = runPretrainExperiment({
      data: all,
      pool,
      test,
      autoencoder: e.graph,
      classifier: m.classifier,
      encoderIds: m.compare.encoderIds,
      noiseStd: m.noiseStd,
      pretrainSteps: 4000,
      pretrainBatchSize: e.training.batchSize!,
      pretrainOptimizer: e.training.optimizer!,
      perClass: m.compare.perClass,
      valPerClass: m.compare.valPerClass,
      labelSeeds: [0, 1, 2],
      probeSteps: m.compare.probeSteps,
      finetuneSteps: m.compare.finetuneSteps,
      lrScale: m.compare.lrScale,
      batchSize: m.compare.batchSize,
      optimizer: m.compare.optimizer!,
    });
    const summary = r.runs.map((x) => `labels ${x.labelSeed}: scratch ${(100 * x.scratch.test).toFixed(1)}%, pretrained ${(100 * x.pretrained.test).toFixed(1)}%`).join('; ');
    for (const x of r.runs) expect(x.pretrained.test, summary).toBeGreaterThan(x.scratch.test);
    expect(r.meanGain, summary).toBeGreaterThan(0.01);
  });
});
