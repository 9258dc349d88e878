import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import type { Tensor } from '../../core/tensor.ts';
import { Adam, AdamW } from '../adam.ts';
import { clipGradNorm, clipGradValue } from '../clip.ts';
import { RMSprop } from '../rmsprop.ts';
import { SGD } from '../sgd.ts';

const P0 = [0.5, -1.2, 2.0, 0.05];
const GRADS = [
  [0.3, -0.4, 1.5, -0.02],
  [0.1, 0.2, -0.7, 0.04],
  [-0.5, 0.6, 0.2, 0.01],
  [0.2, -0.1, 0.3, -0.03],
];

/** Runs `steps` optimiser steps on a 4-element parameter with the fixed gradient sequence. */
function run(make: (p: Tensor) => { step(): void; zeroGrad(): void }, steps = GRADS.length): number[] {
  const p = tensor(P0, [4]).requiresGrad_();
  const opt = make(p);
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    p.grad = tensor(GRADS[t], [4]);
    opt.step();
  }
  return Array.from(p.dataSync());
}

function expectClose(actual: number[], expected: number[], tol = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]))));
}

// The reference updates below are PyTorch's documented algorithms, element by element.

function sgdRef(o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; wd?: number }): number[] {
  const { lr, momentum = 0, dampening = 0, nesterov = false, wd = 0 } = o;
  const p = [...P0];
  const buf: (number | null)[] = p.map(() => null);
  for (const g of GRADS) {
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + wd * p[i];
      if (momentum !== 0) {
        buf[i] = buf[i] === null ? d : momentum * buf[i]! + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i]! : buf[i]!;
      }
      p[i] -= lr * d;
    }
  }
  return p;
}

function adamRef(o: { lr: number; b1: number; b2: number; eps: number; wd?: number; decoupled?: boolean; amsgrad?: boolean }): number[] {
  const { lr, b1, b2, eps, wd = 0, decoupled = false, amsgrad = false } = o;
  const p = [...P0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vmax = p.map(() => 0);
  GRADS.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let gi = g[i];
      if (decoupled) p[i] *= 1 - lr * wd;
      else gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      vmax[i] = Math.max(vmax[i], v[i]);
      const mhat = m[i] / (1 - b1 ** t);
      const vhat = (amsgrad ? vmax[i] : v[i]) / (1 - b2 ** t);
      p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  });
  return p;
}

function rmspropRef(o: { lr: number; alpha: number; eps: number; wd?: number; momentum?: number; centered?: boolean }): number[] {
  const { lr, alpha, eps, wd = 0, momentum = 0, centered = false } = o;
  const p = [...P0];
  const s = p.map(() => 0);
  const a = p.map(() => 0);
  const buf = p.map(() => 0);
  for (const g of GRADS) {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      s[i] = alpha * s[i] + (1 - alpha) * gi * gi;
      let avg: number;
      if (centered) {
        a[i] = alpha * a[i] + (1 - alpha) * gi;
        avg = Math.sqrt(s[i] - a[i] * a[i]) + eps;
      } else avg = Math.sqrt(s[i]) + eps;
      if (momentum > 0) {
        buf[i] = momentum * buf[i] + gi / avg;
        p[i] -= lr * buf[i];
      } else p[i] -= (lr * gi) / avg;
    }
  }
  return p;
}

for (const fused of [true, false]) {
  describe(`optimisers follow PyTorch's update rules (${fused ? 'fused kernel' : 'composite ops'})`, () => {
    it('SGD: plain, momentum with dampening, Nesterov, weight decay', () => {
      expectClose(run((p) => new SGD([p], { lr: 0.1, fused })), sgdRef({ lr: 0.1 }));
      expectClose(run((p) => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.3, fused })), sgdRef({ lr: 0.1, momentum: 0.9, dampening: 0.3 }));
      expectClose(run((p) => new SGD([p], { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1, fused })), sgdRef({ lr: 0.05, momentum: 0.8, nesterov: true, wd: 0.1 }));
      expectClose(run((p) => new SGD([p], { lr: 0.2, weightDecay: 0.5, fused })), sgdRef({ lr: 0.2, wd: 0.5 }));
    });

    it('Adam and AdamW: bias correction, L2 and decoupled weight decay, AMSGrad', () => {
      const base = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8 };
      expectClose(run((p) => new Adam([p], { lr: 0.01, fused })), adamRef(base));
      expectClose(run((p) => new Adam([p], { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], fused })), adamRef({ ...base, b1: 0.8, b2: 0.99, wd: 0.1 }));
      expectClose(run((p) => new Adam([p], { lr: 0.02, amsgrad: true, betas: [0.5, 0.9], fused })), adamRef({ ...base, lr: 0.02, b1: 0.5, b2: 0.9, amsgrad: true }));
      expectClose(run((p) => new AdamW([p], { lr: 0.01, fused })), adamRef({ ...base, wd: 0.01, decoupled: true }));
      expectClose(run((p) => new AdamW([p], { lr: 0.05, weightDecay: 0.3, amsgrad: true, eps: 1e-3, fused })), adamRef({ ...base, lr: 0.05, wd: 0.3, decoupled: true, amsgrad: true, eps: 1e-3 }));
    });

    it('RMSprop: plain, centred, momentum, weight decay', () => {
      const base = { lr: 0.01, alpha: 0.99, eps: 1e-8 };
      expectClose(run((p) => new RMSprop([p], { fused })), rmspropRef(base));
      expectClose(run((p) => new RMSprop([p], { lr: 0.005, alpha: 0.9, centered: true, fused })), rmspropRef({ ...base, lr: 0.005, alpha: 0.9, centered: true }));
      expectClose(run((p) => new RMSprop([p], { momentum: 0.9, weightDecay: 0.05, fused })), rmspropRef({ ...base, momentum: 0.9, wd: 0.05 }));
      expectClose(run((p) => new RMSprop([p], { momentum: 0.5, centered: true, alpha: 0.8, fused })), rmspropRef({ ...base, momentum: 0.5, centered: true, alpha: 0.8 }));
    });
  });
}

describe('optimiser behaviour', () => {
  it("Adam's first step moves each element by lr against the sign of its gradient", () => {
    const after = run((p) => new Adam([p], { lr: 0.1 }), 1);
    P0.forEach((p0, i) => expect(after[i]).toBeCloseTo(p0 - 0.1 * Math.sign(GRADS[0][i]), 5));
  });

  it('SGD with momentum: hand-computed values for two steps', () => {
    // p=1, g=1 each step, lr=0.1, momentum=0.9: buf1=1, p=0.9; buf2=0.9+1=1.9, p=0.71.
    const p = tensor([1], [1]).requiresGrad_();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    for (let t = 0; t < 2; t++) {
      p.grad = tensor([1], [1]);
      opt.step();
    }
    expect(p.item()).toBeCloseTo(0.71, 6);
  });

  it('uses per-group learning rates and skips parameters without gradients (frozen)', () => {
    const a = tensor([1, 1], [2]).requiresGrad_();
    const b = tensor([1, 1], [2]).requiresGrad_();
    const frozen = tensor([5], [1]);
    const opt = new SGD([{ params: [a] }, { params: [b, frozen], lr: 0.01 }], { lr: 0.1 });
    a.grad = tensor([1, 2], [2]);
    b.grad = tensor([1, 2], [2]);
    opt.step();
    expectClose(Array.from(a.dataSync()), [0.9, 0.8]);
    expectClose(Array.from(b.dataSync()), [0.99, 0.98]);
    expect(frozen.item()).toBe(5);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  it('saves and restores optimiser state so a resumed run matches an uninterrupted one', () => {
    const full = run((p) => new Adam([p], { lr: 0.05, amsgrad: true }));
    const p = tensor(P0, [4]).requiresGrad_();
    const first = new Adam([p], { lr: 0.05, amsgrad: true });
    for (let t = 0; t < 2; t++) {
      p.grad = tensor(GRADS[t], [4]);
      first.step();
    }
    const saved = JSON.parse(JSON.stringify(first.stateDict()));
    expect(saved.state[0].step).toBe(2);
    expect(Object.keys(saved.state[0].buffers).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    const resumed = new Adam([p], { lr: 0.5 });
    resumed.loadStateDict(saved);
    expect(resumed.paramGroups[0].lr).toBe(0.05);
    for (let t = 2; t < 4; t++) {
      p.grad = tensor(GRADS[t], [4]);
      resumed.step();
    }
    expectClose(Array.from(p.dataSync()), full);
    expect(() => new Adam([p, tensor([1], [1]).requiresGrad_()]).loadStateDict(saved)).toThrow(/group 0 has 1 parameters in the saved state, 2 here/);
  });

  it('rejects bad hyperparameters with the value', () => {
    const p = tensor([1], [1]).requiresGrad_();
    expect(() => new SGD([p], { lr: -1 })).toThrow(/learning rate must be non-negative, got -1/);
    expect(() => new SGD([p], { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/beta1 must be in \[0, 1\), got 1/);
    expect(() => new SGD([p, p])).toThrow(/more than one group/);
  });
});

describe('gradient clipping', () => {
  it('clips the total 2-norm across parameters and returns the norm before clipping', () => {
    const a = tensor([1], [1]).requiresGrad_();
    const b = tensor([1, 1], [2]).requiresGrad_();
    a.grad = tensor([3], [1]);
    b.grad = tensor([0, 4], [2]);
    const norm = clipGradNorm([a, b], 1);
    expect(norm.item()).toBeCloseTo(5, 5);
    expectClose(Array.from(a.grad.dataSync()), [0.6], 1e-5);
    expectClose(Array.from(b.grad.dataSync()), [0, 0.8], 1e-5);
    // Below the limit nothing changes.
    expect(clipGradNorm([a, b], 10).item()).toBeCloseTo(1, 5);
    expectClose(Array.from(b.grad.dataSync()), [0, 0.8], 1e-5);
  });

  it('clips the inf-norm and clamps values', () => {
    const a = tensor([1, 1], [2]).requiresGrad_();
    a.grad = tensor([-4, 2], [2]);
    expect(clipGradNorm([a], 2, Infinity).item()).toBe(4);
    expectClose(Array.from(a.grad.dataSync()), [-2, 1], 1e-5);
    a.grad = tensor([-4, 0.5], [2]);
    clipGradValue([a], 1);
    expect(Array.from(a.grad.dataSync())).toEqual([-1, 0.5]);
    expect(() => clipGradNorm([a], 1, 3)).toThrow(/norm type 3/);
  });
});
