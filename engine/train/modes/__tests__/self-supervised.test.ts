import { describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import { rotationPretextGraph } from '../graphs.ts';
import { rotate90, RotationPretextMode, rotationTransform } from '../self-supervised.ts';
import { linearProbe } from '../transfer.ts';
import { digits } from './fixtures.ts';

describe('rotation prediction (self-supervised)', { timeout: 40_000 }, () => {
  it('turns images by quarter turns and labels each turn', () => {
    // 2x3 would not turn by 90; a 3x3 grid of 0..8 does.
    const x = Float32Array.from({ length: 9 }, (_, i) => i);
    expect(Array.from(rotate90(x, [1, 3, 3], 1))).toEqual([2, 5, 8, 1, 4, 7, 0, 3, 6]);
    expect(Array.from(rotate90(x, [1, 3, 3], 2))).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(Array.from(rotate90(x, [1, 3, 3], 3))).toEqual(Array.from(rotate90(rotate90(x, [1, 3, 3], 2), [1, 3, 3], 1)));
    expect(Array.from(rotate90(rotate90(x, [1, 3, 3], 1), [1, 3, 3], 3))).toEqual(Array.from(x));
    expect(() => rotate90(new Float32Array(6), [1, 2, 3], 1)).toThrow(/needs a square image, got 2x3/);
    const t = rotationTransform([1, 3, 3])(Float32Array.from([...x, ...x]), Int32Array.from([7, 7]), new Generator(0));
    expect(Array.from(t.labels)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(t.x.subarray(9, 18))).toEqual(Array.from(rotate90(x, [1, 3, 3], 1)));
    const one = rotationTransform([1, 3, 3], false)(x, Int32Array.from([7]), new Generator(0));
    expect(one.labels).toHaveLength(1);
    expect(Array.from(one.x)).toEqual(Array.from(rotate90(x, [1, 3, 3], one.labels[0])));
  });

  it('learns to tell rotations of unlabelled digits apart; a linear probe on its frozen features classifies digits', async () => {
    const unlabelled = await digits(1000);
    const held = await digits(200, 2800);
    const mode = new RotationPretextMode({ graph: rotationPretextGraph({ channels: [8, 16], features: 64 }), data: unlabelled, batchSize: 16, optimizer: { type: 'adam', lr: 2e-3 }, seed: 0 });
    for (let i = 0; i < 60; i++) mode.step();
    // Chance is 0.25.
    expect(mode.accuracy(held)).toBeGreaterThan(0.7);

    const labelled = await digits(100, 2000);
    const probe = linearProbe(mode.model, 'features', { data: labelled, classes: 10, batchSize: 32, optimizer: { type: 'adam', lr: 1e-2 }, seed: 0 });
    expect(probe.model.paramGroups().flatMap((g) => g.nodeIds)).toEqual(['head']);
    const conv1 = Array.from(probe.model.stateDict().get('conv1.weight')!.dataSync());
    expect(conv1).toEqual(Array.from(mode.model.stateDict().get('conv1.weight')!.dataSync()));
    for (let i = 0; i < 100; i++) probe.step();
    expect(Array.from(probe.model.stateDict().get('conv1.weight')!.dataSync())).toEqual(conv1);
    // Chance is 0.1.
    expect(probe.accuracy(held)).toBeGreaterThan(0.3);
    expect(() => new RotationPretextMode({ graph: rotationPretextGraph(), data: { ...unlabelled, meta: { ...unlabelled.meta, inputShape: [784] } } })).toThrow(/needs images \[C, H, W\]/);
  });
});
