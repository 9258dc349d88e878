import { describe, expect, it } from 'vitest';
import { AutoencoderMode } from '../autoencoder.ts';
import { convClassifierGraph, convFeatureAutoencoderGraph } from '../graphs.ts';
import { ClassifierMode } from '../supervised.ts';
import { copyWeights, encoderGraph, linearProbe } from '../transfer.ts';
import { digits, mean } from './fixtures.ts';

describe('pretraining on unlabelled digits, then few labels', { timeout: 40_000 }, () => {
  it('a convolutional autoencoder learns; its encoder loads by name into the same classifier trained from scratch; a probe on 20 labels beats chance', async () => {
    const unlabelled = await digits(500);
    const labelled = await digits(20, 2000);
    const held = await digits(200, 2500);
    const ae = new AutoencoderMode({ graph: convFeatureAutoencoderGraph({ channels: [8, 16], features: 64 }), data: unlabelled, latentId: 'features', batchSize: 32, optimizer: { type: 'adam', lr: 2e-3 }, seed: 0 });
    const losses = Array.from({ length: 50 }, () => ae.step().total);
    expect(mean(losses.slice(-10))).toBeLessThan(0.6 * losses[0]);

    // The encoder is node for node the classifier's, so fine-tuning starts from every encoder weight.
    expect(encoderGraph(ae.opts.graph, 'features').nodes.map((n) => n.id)).toEqual(['input', 'conv1', 'conv1_act', 'conv2', 'conv2_act', 'flat', 'fc', 'features']);
    const tuned = new ClassifierMode({ graph: convClassifierGraph({ channels: [8, 16], features: 64 }), data: labelled, batchSize: 20, seed: 0 });
    expect(copyWeights(ae.model, tuned.model, ['conv1', 'conv2', 'fc']).sort()).toEqual(['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc.bias', 'fc.weight']);
    expect(tuned.step().total).toBeGreaterThan(0);

    // A linear probe on the frozen convolutional features, 20 labels (2 per class); chance is 0.1.
    const probe = linearProbe(ae.model, 'flat', { data: labelled, classes: 10, batchSize: 20, optimizer: { type: 'adam', lr: 1e-2 }, seed: 0 });
    expect(probe.model.paramGroups().flatMap((g) => g.nodeIds)).toEqual(['head']);
    for (let i = 0; i < 100; i++) probe.step();
    expect(probe.accuracy(held)).toBeGreaterThan(0.3);
  });
});
