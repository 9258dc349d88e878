import { describe, expect, it } from 'vitest';
import { MODE_EXAMPLES } from '../../../../scripts/examples-modes.ts';
import { inferGraph } from '../../../graph/infer.ts';
import { successRate } from '../adversarial.ts';
import { AutoencoderMode } from '../autoencoder.ts';
import { GanMode } from '../gan.ts';
import { ClassifierMode } from '../supervised.ts';
import { VaeMode } from '../vae.ts';
import { digits } from './fixtures.ts';

describe('mode examples', { timeout: 30_000 }, () => {
  it('every example graph is valid and trains two steps with its mode', async () => {
    const data = await digits(64);
    // The sequence, embedding and self-supervised examples are checked in examples-more.test.ts.
    const imageModes = MODE_EXAMPLES.filter((e) => ['adversarial', 'autoencoder', 'gan', 'trainer', 'vae'].includes(e.mode.kind));
    expect(imageModes.map((e) => e.mode.kind).sort()).toEqual(['adversarial', 'autoencoder', 'autoencoder', 'gan', 'trainer', 'vae']);
    for (const e of imageModes) {
      const a = inferGraph(e.graph);
      expect(a.problems, e.id).toEqual([]);
      const m = e.mode;
      let losses: number[] = [];
      if (m.kind === 'autoencoder') {
        const mode = new AutoencoderMode({ graph: e.graph, data, latentId: m.latentId, noiseStd: m.noiseStd, batchSize: 16 });
        losses = [mode.step().total, mode.step().total];
      } else if (m.kind === 'vae') {
        const mode = new VaeMode({ graph: e.graph, data, batchSize: 16 });
        losses = [mode.step().total, mode.step().total];
      } else if (m.kind === 'gan') {
        expect(inferGraph(m.discriminator).problems).toEqual([]);
        const mode = new GanMode({ generator: e.graph, discriminator: m.discriminator, data, conditional: m.conditional, kDiscriminator: m.kDiscriminator, batchSize: 16 });
        losses = [mode.step().gLoss, mode.step().dLoss];
      } else {
        const mode = new ClassifierMode({ graph: e.graph, data, batchSize: 16 });
        losses = [mode.step().total, mode.step().total];
        if (m.kind === 'adversarial') {
          const first8 = { ...data, length: 8, inputs: data.inputs.subarray(0, 8 * 784), targets: data.targets.subarray(0, 8) };
          expect(successRate(mode.model, first8, { epsilon: m.epsilon, steps: 2 }).cleanAccuracy).toBeCloseTo(mode.accuracy(first8), 6);
        }
      }
      expect(losses.every(Number.isFinite), e.id).toBe(true);
    }
  });
});
