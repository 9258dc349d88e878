/**
 * Learning-rate schedules (torch.optim.lr_scheduler) with PyTorch's recursive formulas, so
 * that they chain with other changes to a group's lr exactly as in torch. Constructing a
 * schedule counts as its step 0; call `step()` once per epoch after `optimizer.step()`.
 */
import type { BaseOptions, Optimizer } from './optimizer.ts';

export abstract class LRScheduler {
  /** The number of `step()` calls so far (torch's last_epoch). */
  lastEpoch = 0;
  readonly baseLrs: number[];
  protected lastLrs: number[];

  constructor(readonly optimizer: Optimizer<BaseOptions>) {
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates for epoch `lastEpoch`, given the groups' current ones. */
  protected abstract nextLrs(current: number[]): number[];

  step(): void {
    this.lastEpoch++;
    const lrs = this.nextLrs(this.optimizer.paramGroups.map((g) => g.lr));
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLrs = lrs;
  }

  /** The learning rates set by the last step (torch's get_last_lr()). */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  stateDict(): { lastEpoch: number; lastLrs: number[] } {
    return { lastEpoch: this.lastEpoch, lastLrs: [...this.lastLrs] };
  }

  loadStateDict(s: { lastEpoch: number; lastLrs: number[] }): void {
    this.lastEpoch = s.lastEpoch;
    this.lastLrs = [...s.lastLrs];
  }
}

/** StepLR: multiplies the lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: step size must be a positive integer, got ${stepSize}`);
  }

  protected nextLrs(current: number[]): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return current;
    return current.map((lr) => lr * this.gamma);
  }
}

/** ExponentialLR: multiplies the lr by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly gamma: number,
  ) {
    super(optimizer);
  }

  protected nextLrs(current: number[]): number[] {
    if (this.lastEpoch === 0) return current;
    return current.map((lr) => lr * this.gamma);
  }
}

/**
 * CosineAnnealingLR: lr_t = eta_min + (base - eta_min)(1 + cos(pi t / T_max)) / 2, applied
 * recursively as torch does (so the lr rises again after T_max).
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: T_max must be positive, got ${tMax}`);
  }

  protected nextLrs(current: number[]): number[] {
    const t = this.lastEpoch;
    const T = this.tMax;
    if (t === 0) return current;
    if ((t - 1 - T) % (2 * T) === 0) {
      return current.map((lr, i) => lr + ((this.baseLrs[i] - this.etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return current.map((lr) => ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - this.etaMin) + this.etaMin);
  }
}

export interface ReduceLROnPlateauOptions {
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  /** One floor for every group, or one per group. */
  minLr: number | number[];
  eps: number;
}

/**
 * ReduceLROnPlateau: multiplies the lr by `factor` when the metric has not improved (by
 * `threshold`, relative or absolute) for more than `patience` epochs, then waits `cooldown`
 * epochs; never below `minLr`, and changes smaller than `eps` are ignored (as torch).
 */
export class ReduceLROnPlateau {
  readonly opts: ReduceLROnPlateauOptions;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private readonly minLrs: number[];

  constructor(
    readonly optimizer: Optimizer<BaseOptions>,
    opts: Partial<ReduceLROnPlateauOptions> = {},
  ) {
    this.opts = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...opts };
    if (!(this.opts.factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be below 1, got ${this.opts.factor}`);
    const n = optimizer.paramGroups.length;
    const { minLr } = this.opts;
    if (Array.isArray(minLr) && minLr.length !== n) throw new Error(`ReduceLROnPlateau: ${minLr.length} min_lr values for ${n} parameter groups`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array<number>(n).fill(minLr);
    this.best = this.opts.mode === 'min' ? Infinity : -Infinity;
  }

  isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.opts;
    if (mode === 'min' && thresholdMode === 'rel') return a < best * (1 - threshold);
    if (mode === 'min') return a < best - threshold;
    if (thresholdMode === 'rel') return a > best * (threshold + 1);
    return a > best + threshold;
  }

  /** Records the epoch's metric (e.g. validation loss) and reduces the lr if it has plateaued. */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.opts.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.opts.factor, this.minLrs[i]);
        if (g.lr - next > this.opts.eps) g.lr = next;
      });
      this.cooldownCounter = this.opts.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { best: number; numBadEpochs: number; cooldownCounter: number; lastEpoch: number } {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  loadStateDict(s: { best: number; numBadEpochs: number; cooldownCounter: number; lastEpoch: number }): void {
    ({ best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch } = s);
  }
}
