import { describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import type { Dataset } from '../../../data/dataset.ts';
import { GanMode } from '../gan.ts';
import { ganDiscriminatorGraph, ganGeneratorGraph } from '../graphs.ts';
import { digits } from './fixtures.ts';

/** Points around class centres (one gaussian blob per class). */
function blobs(centres: [number, number][], perClass: number, std: number, seed = 0): Dataset {
  const g = new Generator(seed);
  const n = centres.length * perClass;
  const inputs = new Float32Array(n * 2);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centres.length;
    inputs[2 * i] = centres[c][0] + g.normal(0, std);
    inputs[2 * i + 1] = centres[c][1] + g.normal(0, std);
    targets[i] = c;
  }
  const meta = { id: 'blobs', name: 'blobs', description: '', task: 'classification' as const, inputShape: [2], inputDtype: 'float32' as const, targetShape: [], targetDtype: 'int32' as const, numClasses: centres.length, preview: 'points' as const };
  return { meta, length: n, inputs, targets };
}

const nearest = (x: number, y: number, centres: [number, number][]) => centres.map(([cx, cy]) => Math.hypot(x - cx, y - cy)).reduce((b, d, i, a) => (d < a[b] ? i : b), 0);

describe('GAN mode', { timeout: 30_000 }, () => {
  it('an unconditional GAN moves its samples onto a 2-D data distribution; per-epoch summary has both losses, points and no warnings', () => {
    const data = blobs([[2, -1]], 256, 0.3);
    const mode = new GanMode({
      generator: ganGeneratorGraph({ noise: 4, hidden: 16, outShape: [2] }),
      discriminator: ganDiscriminatorGraph({ inShape: [2], hidden: 16 }),
      data,
      batchSize: 64,
      optimizerG: { lr: 2e-3 },
      optimizerD: { lr: 2e-3 },
      seed: 1,
    });
    const before = mode.generate(200, { seed: 5 }).values;
    const meanOf = (v: Float32Array, k: number) => v.filter((_, i) => i % 2 === k).reduce((a, b) => a + b, 0) / (v.length / 2);
    const distBefore = Math.hypot(meanOf(before, 0) - 2, meanOf(before, 1) + 1);
    let summaries = 0;
    for (let i = 0; i < 300; i++) {
      const s = mode.step();
      expect(Number.isFinite(s.dLoss) && Number.isFinite(s.gLoss)).toBe(true);
      expect(s.dAccuracy).toBeGreaterThanOrEqual(0);
      if (s.epochDone) summaries++;
    }
    expect(summaries).toBeGreaterThan(50);
    const after = mode.generate(200, { seed: 5 }).values;
    const distAfter = Math.hypot(meanOf(after, 0) - 2, meanOf(after, 1) + 1);
    expect(distAfter).toBeLessThan(0.5);
    expect(distAfter).toBeLessThan(distBefore / 2);
    const e = mode.epochSummary();
    expect(e.points).toHaveLength(16);
    expect(e.grid).toBeNull();
    expect(Number.isFinite(e.dLoss) && Number.isFinite(e.gLoss)).toBe(true);
    expect(e.diversity).toBeGreaterThan(0.3);
    expect(e.warnings).toEqual([]);
  });

  it('a conditional GAN feeds the label to both networks and generates points of the asked class', () => {
    const centres: [number, number][] = [[-2, 0], [2, 0], [0, 2.5]];
    const data = blobs(centres, 128, 0.25, 2);
    const mode = new GanMode({
      generator: ganGeneratorGraph({ noise: 4, hidden: 24, outShape: [2], classes: 3 }),
      discriminator: ganDiscriminatorGraph({ inShape: [2], hidden: 24, classes: 3 }),
      data,
      batchSize: 64,
      optimizerG: { lr: 3e-3 },
      optimizerD: { lr: 3e-3 },
      seed: 3,
    });
    expect(mode.conditional).toBe(true);
    for (let i = 0; i < 400; i++) mode.step();
    const { values, labels } = mode.generate(150, { seed: 1 });
    let right = 0;
    for (let i = 0; i < 150; i++) if (nearest(values[2 * i], values[2 * i + 1], centres) === labels![i]) right++;
    expect(right / 150).toBeGreaterThan(0.8);
  });

  it('warns when the discriminator stays pinned and when samples collapse to one mode', () => {
    const data = blobs([[5, 5]], 128, 0.3, 4);
    const mode = new GanMode({
      generator: ganGeneratorGraph({ noise: 2, hidden: 8, outShape: [2] }),
      discriminator: ganDiscriminatorGraph({ inShape: [2], hidden: 32 }),
      data,
      batchSize: 64,
      // A frozen-in-place generator (tiny learning rate) against a fast discriminator: it wins.
      optimizerG: { lr: 1e-9 },
      optimizerD: { lr: 1e-2 },
      kDiscriminator: 3,
      seed: 5,
    });
    for (let i = 0; i < 60; i++) mode.step();
    const w = mode.warnings(1);
    expect(w.some((m) => /discriminator has told real from generated/.test(m))).toBe(true);
    expect(mode.warnings(0.02).some((m) => /collapsed to one mode/.test(m))).toBe(true);
    expect(mode.warnings(1).some((m) => /collapsed/.test(m))).toBe(false);
  });

  it('image GANs give a per-epoch grid of generated digits; mismatched graphs are refused with both shapes', async () => {
    const data = await digits(64);
    const mode = new GanMode({ generator: ganGeneratorGraph({ noise: 8, hidden: 32, outShape: [1, 28, 28] }), discriminator: ganDiscriminatorGraph({ inShape: [1, 28, 28], hidden: 32 }), data, batchSize: 32, seed: 6 });
    mode.step();
    mode.step();
    const e = mode.epochSummary();
    expect([e.grid!.width, e.grid!.height, e.grid!.channels]).toEqual([4 * 28 + 3, 4 * 28 + 3, 1]);
    expect(() => new GanMode({ generator: ganGeneratorGraph({ noise: 8, hidden: 8, outShape: [1, 14, 14] }), discriminator: ganDiscriminatorGraph({ inShape: [1, 28, 28], hidden: 8 }), data })).toThrow(/\[1, 14, 14\].*\[1, 28, 28\]/);
  });
});
