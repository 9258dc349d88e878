import { describe, expect, it } from 'vitest';
import { deepSupervisionGraph } from '../graphs.ts';
import { ClassifierMode } from '../supervised.ts';
import { digits, mean } from './fixtures.ts';

describe('auxiliary losses and deep supervision', { timeout: 30_000 }, () => {
  it('reports the main and auxiliary losses separately, their weighted sum as the total, and an accuracy per head', async () => {
    const train = await digits(400);
    const test = await digits(100, 400);
    const mode = new ClassifierMode({ graph: deepSupervisionGraph({ hidden: 32, auxWeight: 0.3 }), data: train, batchSize: 32, optimizer: { lr: 3e-3 }, seed: 1 });
    const steps = Array.from({ length: 50 }, () => mode.step());
    for (const s of steps) {
      expect(Object.keys(s.losses).sort()).toEqual(['aux_loss', 'loss']);
      expect(s.total).toBeCloseTo(s.losses.loss + 0.3 * s.losses.aux_loss, 4);
    }
    for (const k of ['loss', 'aux_loss']) expect(mean(steps.slice(-5).map((s) => s.losses[k]))).toBeLessThan(0.6 * mean(steps.slice(0, 3).map((s) => s.losses[k])));
    const heads = mode.evaluate(test);
    expect(heads.map((h) => [h.lossId, h.nodeId, h.weight])).toEqual([
      ['loss', 'logits', 1],
      ['aux_loss', 'aux_logits', 0.3],
    ]);
    for (const h of heads) expect(h.accuracy).toBeGreaterThan(0.6);
  });
});
