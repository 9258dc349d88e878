import { describe, expect, it } from 'vitest';
import { tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import { ContrastiveMode, ntXentLoss } from '../contrastive.ts';
import { contrastiveGraph } from '../graphs.ts';
import { linearProbe } from '../transfer.ts';
import { digits } from './fixtures.ts';

/** NT-Xent written out row by row in float64. */
function reference(z: number[][], t: number): number {
  const m = z.length;
  const n = m / 2;
  const u = z.map((r) => {
    const s = Math.hypot(...r);
    return r.map((v) => v / s);
  });
  let total = 0;
  for (let i = 0; i < m; i++) {
    const sims = u.map((r, j) => (j === i ? -Infinity : r.reduce((s, v, k) => s + v * u[i][k], 0) / t));
    const mx = Math.max(...sims);
    const lse = mx + Math.log(sims.reduce((s, v) => s + Math.exp(v - mx), 0));
    total += lse - sims[i < n ? i + n : i - n];
  }
  return total / m;
}

describe('contrastive learning', { timeout: 40_000 }, () => {
  it('NT-Xent matches its definition and has correct gradients', () => {
    const gen = new Generator(3);
    for (const [m, d, t] of [[2, 3, 0.5], [4, 5, 0.1], [6, 2, 1]] as const) {
      const rows = Array.from({ length: m }, () => Array.from({ length: d }, () => gen.normal(0, 1)));
      const z = tensor(rows.flat(), [m, d]);
      expect(ntXentLoss(z, t).item()).toBeCloseTo(reference(rows, t), 4);
      assertGradcheck((x) => ntXentLoss(x, t), [tensor(rows.flat(), [m, d]).requiresGrad_()]);
    }
    // Two views that agree exactly and differ from the rest give a lower loss.
    const agree = tensor([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]);
    const swap = tensor([1, 0, 0, 1, 0, 1, 1, 0], [4, 2]);
    expect(ntXentLoss(agree, 0.5).item()).toBeLessThan(ntXentLoss(swap, 0.5).item());
    expect(() => ntXentLoss(tensor([1, 2, 3], [3, 1]))).toThrow(/needs embeddings \[2N, D\]/);
    expect(() => ntXentLoss(agree, 0)).toThrow(/temperature must be above 0, got 0/);
  });

  it('learns to match two augmented views of a digit; a linear probe on its frozen features classifies digits', async () => {
    const unlabelled = await digits(600);
    const held = await digits(200, 2800);
    const mode = new ContrastiveMode({ graph: contrastiveGraph({ channels: [8, 16], features: 64 }), data: unlabelled, batchSize: 32, optimizer: { type: 'adam', lr: 2e-3 }, seed: 0 });
    const before = mode.matchAccuracy(held, 48);
    for (let i = 0; i < 50; i++) mode.step();
    const after = mode.matchAccuracy(held, 48);
    // Chance of finding the partner view among 95 others is about 0.01.
    expect(after.loss).toBeLessThan(before.loss - 0.3);
    expect(after.accuracy).toBeGreaterThan(0.15);

    const labelled = await digits(100, 2000);
    const probe = linearProbe(mode.model, 'features', { data: labelled, classes: 10, batchSize: 32, optimizer: { type: 'adam', lr: 1e-2 }, seed: 0 });
    for (let i = 0; i < 100; i++) probe.step();
    // Chance is 0.1.
    expect(probe.accuracy(held)).toBeGreaterThan(0.3);
    expect(() => new ContrastiveMode({ graph: contrastiveGraph(), data: unlabelled, projectionId: 'nope' })).toThrow(/no node "nope"/);
    expect(() => new ContrastiveMode({ graph: contrastiveGraph(), data: unlabelled, augmentations: [{ type: 'noise', std: -1 }] })).toThrow(/noise: std must be/);
  });
});
