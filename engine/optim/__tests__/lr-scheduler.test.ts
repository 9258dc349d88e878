import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { CosineAnnealingLR, ExponentialLR, type LRScheduler, ReduceLROnPlateau, StepLR } from '../lr-scheduler.ts';
import { SGD } from '../sgd.ts';

const sgd = (lr: number, groups = 1) => new SGD(Array.from({ length: groups }, (_, i) => ({ params: [tensor([1], [1]).requiresGrad_()], lr: lr * (i + 1) })), { lr });

/** The lr used in each of `epochs` epochs (read before the epoch's scheduler step). */
function lrs(s: LRScheduler, epochs: number, group = 0): number[] {
  const res: number[] = [];
  for (let e = 0; e < epochs; e++) {
    res.push(s.optimizer.paramGroups[group].lr);
    s.step();
  }
  return res;
}

function expectSeq(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 10));
}

describe('learning-rate schedules (sequences as PyTorch prints them)', () => {
  it('StepLR(step_size=2, gamma=0.1) from 0.05', () => {
    expectSeq(lrs(new StepLR(sgd(0.05), 2, 0.1), 7), [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005, 0.00005]);
  });

  it('ExponentialLR(gamma=0.5) scales every group', () => {
    const s = new ExponentialLR(sgd(1, 2), 0.5);
    expectSeq(lrs(s, 4), [1, 0.5, 0.25, 0.125]);
    expectSeq([s.optimizer.paramGroups[1].lr], [0.125 * 2 * 0.5]);
    expectSeq(s.getLastLr(), [0.0625, 0.125]);
  });

  it('CosineAnnealingLR(T_max=10) from 0.1, including the rise after T_max', () => {
    // torch: 0.1, 0.09755, 0.09045, 0.07939, 0.06545, 0.05, 0.03455, 0.02061, 0.00955, 0.00245, 0.0, 0.00245, 0.00955
    const expected = [0.1, 0.0975528258, 0.0904508497, 0.0793892626, 0.0654508497, 0.05, 0.0345491503, 0.0206107374, 0.0095491503, 0.0024471742, 0, 0.0024471742, 0.0095491503];
    expectSeq(lrs(new CosineAnnealingLR(sgd(0.1), 10), 13), expected);
  });

  it('CosineAnnealingLR with eta_min follows eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2', () => {
    const seq = lrs(new CosineAnnealingLR(sgd(1), 4, 0.2), 5);
    expectSeq(
      seq,
      [0, 1, 2, 3, 4].map((t) => 0.2 + 0.8 * 0.5 * (1 + Math.cos((Math.PI * t) / 4))),
    );
  });

  it('ReduceLROnPlateau: patience, relative threshold, cooldown and min_lr', () => {
    const opt = sgd(1);
    const s = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 2, cooldown: 1, minLr: 0.3 });
    const seen: number[] = [];
    // epoch: 1 best=1 | 2 best=0.9 | 3,4 bad (0.89995 is within the 1e-4 relative threshold) |
    // 5 third bad epoch > patience -> lr 0.5, cooldown 1 | 6 cooldown (bad count reset) |
    // 7,8 bad | 9 bad -> lr max(0.25, 0.3) = 0.3 | 10.. bad, but 0.3 is the floor.
    for (const m of [1, 0.9, 0.89995, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]) {
      s.step(m);
      seen.push(opt.paramGroups[0].lr);
    }
    expectSeq(seen, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3]);
  });

  it('ReduceLROnPlateau in max mode with an absolute threshold', () => {
    const opt = sgd(1);
    const s = new ReduceLROnPlateau(opt, { mode: 'max', thresholdMode: 'abs', threshold: 0.1, patience: 0 });
    s.step(0.5);
    s.step(0.55); // not better by 0.1 -> reduce
    expectSeq([opt.paramGroups[0].lr], [0.1]);
    s.step(0.7); // better
    expectSeq([opt.paramGroups[0].lr], [0.1]);
  });

  it('resumes from a saved state with the same sequence', () => {
    const full = lrs(new CosineAnnealingLR(sgd(0.1), 6), 9);
    const opt = sgd(0.1);
    const first = new CosineAnnealingLR(opt, 6);
    const head = lrs(first, 4);
    const saved = first.stateDict();
    const resumed = new CosineAnnealingLR(opt, 6);
    resumed.loadStateDict(saved);
    expectSeq([...head, ...lrs(resumed, 5)], full);

    const p1 = new ReduceLROnPlateau(sgd(1), { patience: 1 });
    p1.step(1);
    p1.step(2);
    const p2 = new ReduceLROnPlateau(p1.optimizer, { patience: 1 });
    p2.loadStateDict(p1.stateDict());
    p2.step(2);
    expectSeq(p2.getLastLr(), [0.1]);
  });

  it('keeps per-group base learning rates for fine-tuning', () => {
    const opt = sgd(0.1, 2);
    const s = new StepLR(opt, 1, 0.5);
    s.step();
    expectSeq(s.getLastLr(), [0.05, 0.1]);
    expect(s.baseLrs).toEqual([0.1, 0.2]);
  });
});
