import { describe, expect, it } from 'vitest';
import { attack, attackView, classScores, successRate } from '../adversarial.ts';
import { gatherInputs, gatherTargets } from '../common.ts';
import { mlpClassifierGraph } from '../graphs.ts';
import { ClassifierMode } from '../supervised.ts';
import { digits } from './fixtures.ts';

describe('adversarial attacks', { timeout: 30_000 }, () => {
  it('FGSM and PGD fool a trained digit classifier; targeted attacks reach the target; perturbations stay within epsilon and the valid range', async () => {
    const train = await digits(600);
    const test = await digits(100, 600);
    const clf = new ClassifierMode({ graph: mlpClassifierGraph({ hidden: 32 }), data: train, batchSize: 32, optimizer: { lr: 3e-3 }, seed: 1 });
    for (let i = 0; i < 80; i++) clf.step();
    const model = clf.model;
    const clean = successRate(model, test, { epsilon: 0 });
    expect(clean.cleanAccuracy).toBeGreaterThan(0.7);
    expect(clean.successRate).toBe(0);

    const fgsm = successRate(model, test, { epsilon: 0.15 });
    const pgd = successRate(model, test, { epsilon: 0.15, steps: 8 });
    expect(fgsm.attacked).toBe(Math.round(clean.cleanAccuracy * 100));
    expect(fgsm.successRate).toBeGreaterThan(0.5);
    expect(pgd.successRate).toBeGreaterThanOrEqual(fgsm.successRate);
    expect(pgd.adversarialAccuracy).toBeLessThan(0.2);

    const x = gatherInputs(test, [0, 1, 2, 3]);
    const y = gatherTargets(test, [0, 1, 2, 3]);
    const adv = attack(model, x, y, { epsilon: 0.1, steps: 5 });
    let maxDelta = 0;
    for (let i = 0; i < x.length; i++) {
      maxDelta = Math.max(maxDelta, Math.abs(adv[i] - x[i]));
      expect(adv[i]).toBeGreaterThanOrEqual(0);
      expect(adv[i]).toBeLessThanOrEqual(1);
    }
    expect(maxDelta).toBeLessThanOrEqual(0.1 + 1e-6);
    expect(maxDelta).toBeGreaterThan(0.09);

    const targeted = successRate(model, test, { epsilon: 0.25, steps: 10, targetClass: 3 });
    expect(targeted.successRate).toBeGreaterThan(0.5);

    const v = attackView(model, test, 0, { epsilon: 0.2, steps: 5, targetClass: 3 });
    for (const im of [v.original, v.perturbation, v.adversarial]) expect([im.width, im.height, im.channels]).toEqual([28, 28, 1]);
    expect(v.trueLabel).toBe(test.targets[0]);
    expect(v.perturbationMax).toBeLessThanOrEqual(0.2 + 1e-6);
    const scores = classScores(model, gatherInputs(test, [0]), 1);
    expect(v.before.label).toBe(Array.from(scores).indexOf(Math.max(...scores)));
    expect(v.success).toBe(v.after.label === 3);
    expect(() => attack(model, x, y, { epsilon: 0.1, targetClass: 10 })).toThrow(/targetClass must be a class from 0 to 9, got 10/);
  });
});
