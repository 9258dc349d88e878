/**
 * The training loop: mini-batch steps with the optimiser, schedule, clipping and weight
 * decay of the settings; metrics per epoch on the training and validation splits and on the
 * test split at the end; early stopping; divergence detection; pause, resume and stop
 * between steps; and checkpoints from which a run continues exactly as if uninterrupted.
 */
import { noGrad } from '../core/autograd.ts';
import { Generator } from '../core/random.ts';
import { keep, tidy } from '../core/scope.ts';
import type { Tensor } from '../core/tensor.ts';
import { augmentBatch } from '../data/augment.ts';
import type { Augmentation } from '../data/augment.ts';
import { batchAt, batchCount, epochOrder, sequentialBatches, type DatasetSplits } from '../data/pipeline.ts';
import type { Dataset } from '../data/dataset.ts';
import type { GraphModel } from '../graph/compile.ts';
import { cast } from '../ops/elementwise.ts';
import { Adam, AdamW } from '../optim/adam.ts';
import { clipGradNorm, clipGradValue } from '../optim/clip.ts';
import { CosineAnnealingLR, ExponentialLR, type LRScheduler, ReduceLROnPlateau, StepLR } from '../optim/lr-scheduler.ts';
import type { BaseOptions, Optimizer, OptimizerStateDict } from '../optim/optimizer.ts';
import { RMSprop } from '../optim/rmsprop.ts';
import { SGD } from '../optim/sgd.ts';
import { nowMs, yieldToEventLoop } from './clock.ts';
import { FeedPlan } from './feeds.ts';
import { type EpochMetrics, higherIsBetter, MetricAccumulator, type MetricName } from './metrics.ts';
import type { TrainingSettings } from './settings.ts';

export type RunStatus = 'completed' | 'stopped' | 'diverged' | 'early-stopped';
export type TrainerState = 'idle' | 'running' | 'paused' | RunStatus | 'failed';

export interface StepProgress {
  /** 1-based epoch and step within it. */
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  loss: number;
  samplesPerSec: number;
  etaSec: number;
  lr: number;
}

export interface EpochRecord {
  epoch: number;
  train: EpochMetrics;
  val: EpochMetrics | null;
  lr: number;
  durationSec: number;
}

export interface TrainResult {
  status: RunStatus;
  history: EpochRecord[];
  testMetrics: EpochMetrics | null;
  /** Why a diverged run stopped. */
  reason?: string;
  /** 1-based epoch whose weights were restored by early stopping. */
  bestEpoch?: number;
}

export interface NamedValues {
  name: string;
  shape: number[];
  values: number[];
}

/** Everything needed to continue a run exactly: plain data (structured-clone safe). */
export interface TrainerCheckpoint {
  /** Completed epochs, and completed steps of the current one. */
  epoch: number;
  step: number;
  globalStep: number;
  /** Sample order of the current epoch (null between epochs). */
  order: number[] | null;
  weights: NamedValues[];
  optimizer: OptimizerStateDict;
  scheduler: Record<string, unknown> | null;
  rng: { shuffle: number[]; step: number[] };
  accumulator: ReturnType<MetricAccumulator['getState']> | null;
  history: EpochRecord[];
  earlyStopping: { best: number; wait: number; bestEpoch: number; bestWeights: NamedValues[] | null } | null;
}

export interface TrainerOptions {
  model: GraphModel;
  data: DatasetSplits;
  settings: TrainingSettings;
  augmentation?: Augmentation[];
  onStep?(p: StepProgress): void;
  onEpoch?(r: EpochRecord): void;
  /** The loop has paused (before its next step) or is running again. */
  onState?(state: 'running' | 'paused'): void;
  /** Continue a run from this checkpoint (same model graph, data and settings). */
  checkpoint?: TrainerCheckpoint;
}

const now = nowMs;

export function makeOptimizer(model: GraphModel, s: TrainingSettings['optimizer']): Optimizer<BaseOptions> {
  const groups = model.paramGroups().map((g) => ({ params: g.params, lr: s.lr * g.lrScale }));
  if (groups.length === 0) throw new Error('The model has no trainable parameters (are all layers frozen?)');
  switch (s.type) {
    case 'sgd':
      return new SGD(groups, { lr: s.lr, momentum: s.momentum, nesterov: s.nesterov, weightDecay: s.weightDecay }) as unknown as Optimizer<BaseOptions>;
    case 'adam':
      return new Adam(groups, { lr: s.lr, betas: [...s.betas], eps: s.eps, weightDecay: s.weightDecay }) as unknown as Optimizer<BaseOptions>;
    case 'adamw':
      return new AdamW(groups, { lr: s.lr, betas: [...s.betas], eps: s.eps, weightDecay: s.weightDecay }) as unknown as Optimizer<BaseOptions>;
    case 'rmsprop':
      return new RMSprop(groups, { lr: s.lr, alpha: s.alpha, eps: s.eps, momentum: s.momentum, weightDecay: s.weightDecay }) as unknown as Optimizer<BaseOptions>;
  }
}

type Scheduler = { kind: 'epoch'; s: LRScheduler } | { kind: 'plateau'; s: ReduceLROnPlateau; metric: MetricName } | null;

function makeScheduler(opt: Optimizer<BaseOptions>, s: TrainingSettings['schedule']): Scheduler {
  switch (s.type) {
    case 'none':
      return null;
    case 'step':
      return { kind: 'epoch', s: new StepLR(opt, s.stepSize, s.gamma) };
    case 'exponential':
      return { kind: 'epoch', s: new ExponentialLR(opt, s.gamma) };
    case 'cosine':
      return { kind: 'epoch', s: new CosineAnnealingLR(opt, s.tMax, s.etaMin) };
    case 'plateau':
      return { kind: 'plateau', s: new ReduceLROnPlateau(opt, { mode: higherIsBetter(s.metric) ? 'max' : 'min', factor: s.factor, patience: s.patience }), metric: s.metric };
  }
}

/** The model's parameters and buffers as plain arrays (state_dict names). */
export function snapshotWeights(model: GraphModel): NamedValues[] {
  return [...model.stateDict()].map(([name, t]) => ({ name, shape: [...t.shape], values: Array.from(t.dataSync()) }));
}

export function restoreWeights(model: GraphModel, weights: readonly NamedValues[]): void {
  model.loadStateDict(new Map(weights.map((w) => [w.name, { shape: w.shape, values: Float32Array.from(w.values) }])));
}

export class Trainer {
  readonly model: GraphModel;
  readonly data: DatasetSplits;
  readonly settings: TrainingSettings;
  readonly plan: FeedPlan;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly stepsPerEpoch: number;
  state: TrainerState = 'idle';
  history: EpochRecord[] = [];

  private readonly scheduler: Scheduler;
  private readonly augmentation: Augmentation[];
  private readonly shuffleGen: Generator;
  private readonly stepGen: Generator;
  private epoch = 0;
  private step = 0;
  private globalStep = 0;
  private order: Int32Array | null = null;
  private acc: MetricAccumulator | null = null;
  private early: { best: number; wait: number; bestEpoch: number; bestWeights: NamedValues[] | null } | null = null;
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private readonly onStep?: (p: StepProgress) => void;
  private readonly onEpoch?: (r: EpochRecord) => void;
  private readonly onState?: (state: 'running' | 'paused') => void;
  private stepTimes: number[] = [];

  constructor(opts: TrainerOptions) {
    this.model = opts.model;
    this.data = opts.data;
    this.settings = opts.settings;
    this.augmentation = opts.augmentation ?? [];
    this.onStep = opts.onStep;
    this.onEpoch = opts.onEpoch;
    this.onState = opts.onState;
    this.plan = new FeedPlan(this.model, this.data.train.meta);
    if (!this.model.lossIds.length) throw new Error('The model has no loss node: connect a loss (e.g. CrossEntropyLoss) to the prediction and a Target');
    if (this.augmentation.length && this.data.train.meta.inputShape.length !== 3) {
      throw new Error(`Image augmentation needs image samples [C, H, W]; "${this.data.train.meta.name}" has samples of shape [${this.data.train.meta.inputShape.join(', ')}]`);
    }
    this.stepsPerEpoch = batchCount(this.data.train.length, this.settings.batchSize);
    this.optimizer = makeOptimizer(this.model, this.settings.optimizer);
    this.scheduler = makeScheduler(this.optimizer, this.settings.schedule);
    this.shuffleGen = new Generator(this.settings.seed + 1);
    this.stepGen = new Generator(this.settings.seed + 2);
    if (this.settings.earlyStopping) this.early = { best: this.settings.earlyStopping.mode === 'max' ? -Infinity : Infinity, wait: 0, bestEpoch: 0, bestWeights: null };
    if (opts.checkpoint) this.load(opts.checkpoint);
  }

  /** Completed epochs. */
  get epochsDone(): number {
    return this.epoch;
  }

  pause(): void {
    if (this.state === 'running') this.pauseRequested = true;
  }

  resume(): void {
    this.pauseRequested = false;
    this.wake?.();
  }

  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  private lr(): number {
    return this.optimizer.paramGroups[0].lr;
  }

  /** Runs until the last epoch, a stop, early stopping or divergence. */
  async run(): Promise<TrainResult> {
    if (this.state === 'running' || this.state === 'paused') throw new Error('This training run is already running');
    this.state = 'running';
    const { epochs, batchSize } = this.settings;
    const train = this.data.train;
    while (this.epoch < epochs) {
      if (!this.order) {
        this.order = epochOrder(train.length, this.settings.shuffle, this.shuffleGen);
        this.step = 0;
        this.acc = new MetricAccumulator(this.plan.metricKind, this.plan.numClasses);
      }
      const epochStart = now();
      while (this.step < this.stepsPerEpoch) {
        await yieldToEventLoop();
        if (this.pauseRequested && !this.stopRequested) {
          this.state = 'paused';
          this.onState?.('paused');
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          this.state = 'running';
          if (!this.stopRequested) this.onState?.('running');
        }
        if (this.stopRequested) return this.finish('stopped');
        const t0 = now();
        const batch = batchAt(train, this.order, this.step, batchSize);
        // Values from before the step, put back if it diverges (the step that produced a
        // non-finite loss changes nothing itself, but the one before may have).
        this.keepLastGood();
        const loss = this.trainStep(batch);
        if (!Number.isFinite(loss)) {
          this.restoreLastGood();
          return this.finish('diverged', `The loss became ${loss} at epoch ${this.epoch + 1}, step ${this.step + 1}; the weights from before that step were kept. Try a smaller learning rate or gradient clipping.`);
        }
        this.step++;
        this.globalStep++;
        this.stepTimes.push(now() - t0);
        if (this.stepTimes.length > 20) this.stepTimes.shift();
        const perStep = this.stepTimes.reduce((a, b) => a + b, 0) / this.stepTimes.length / 1000;
        const remaining = (epochs - this.epoch) * this.stepsPerEpoch - this.step;
        this.onStep?.({
          epoch: this.epoch + 1,
          step: this.step,
          stepsPerEpoch: this.stepsPerEpoch,
          globalStep: this.globalStep,
          loss,
          samplesPerSec: perStep > 0 ? batch.size / perStep : 0,
          etaSec: remaining * perStep,
          lr: this.lr(),
        });
      }
      const record: EpochRecord = {
        epoch: this.epoch + 1,
        train: this.acc!.result(),
        val: this.data.val.length > 0 ? this.evaluate(this.data.val) : null,
        lr: this.lr(),
        durationSec: (now() - epochStart) / 1000,
      };
      this.history.push(record);
      this.epoch++;
      this.order = null;
      this.acc = null;
      const monitored = (metric: MetricName) => (record.val ?? record.train)[metric];
      if (this.scheduler?.kind === 'epoch') this.scheduler.s.step();
      else if (this.scheduler?.kind === 'plateau') {
        const v = monitored(this.scheduler.metric);
        if (v === undefined) throw new Error(`The plateau schedule watches "${this.scheduler.metric}", which this task does not report`);
        this.scheduler.s.step(v);
      }
      this.onEpoch?.(record);
      const es = this.settings.earlyStopping;
      if (es && this.early) {
        const v = monitored(es.metric);
        if (v === undefined) throw new Error(`Early stopping watches "${es.metric}", which this task does not report (it reports ${Object.keys(record.train).join(', ')})`);
        const improved = es.mode === 'max' ? v > this.early.best + es.minDelta : v < this.early.best - es.minDelta;
        if (improved) {
          this.early.best = v;
          this.early.wait = 0;
          this.early.bestEpoch = record.epoch;
          if (es.restoreBest) this.early.bestWeights = snapshotWeights(this.model);
        } else if (++this.early.wait >= es.patience && this.epoch < epochs) {
          if (es.restoreBest && this.early.bestWeights) restoreWeights(this.model, this.early.bestWeights);
          return this.finish('early-stopped');
        }
      }
    }
    return this.finish('completed');
  }

  private lastGood: Map<string, Tensor> | null = null;
  private previousGood: Map<string, Tensor> | null = null;

  /**
   * Copies the weights before a step. The copies are tensors on the model's backend (a
   * same-dtype Cast), so a gpu run keeps them on the device instead of reading every
   * weight back each step; only a divergence reads them.
   */
  private keepLastGood(): void {
    this.disposeSnapshot(this.previousGood);
    this.previousGood = this.lastGood;
    this.lastGood = noGrad(() => new Map([...this.model.stateDict()].map(([name, t]) => [name, keep(cast(t, t.dtype))])));
  }

  private disposeSnapshot(snapshot: Map<string, Tensor> | null): void {
    for (const t of snapshot?.values() ?? []) t.dispose();
  }

  /** Puts back the weights from before the last successful update (the last finite loss). */
  private restoreLastGood(): void {
    const good = this.previousGood ?? this.lastGood;
    if (!good) return;
    this.model.loadStateDict(new Map([...good].map(([name, t]) => [name, { shape: [...t.shape], values: t.dataSync() as Float32Array | Int32Array }])));
  }

  private finish(status: RunStatus, reason?: string): TrainResult {
    this.state = status;
    this.disposeSnapshot(this.previousGood);
    this.disposeSnapshot(this.lastGood);
    this.previousGood = this.lastGood = null;
    const testMetrics = status !== 'diverged' && this.data.test.length > 0 ? this.evaluate(this.data.test) : null;
    const result: TrainResult = { status, history: this.history, testMetrics };
    if (reason) result.reason = reason;
    if (status === 'early-stopped' && this.early) result.bestEpoch = this.early.bestEpoch;
    return result;
  }

  /** One optimisation step; returns the loss (not finite: nothing was updated). */
  private trainStep(batch: ReturnType<typeof batchAt>): number {
    const inputs = this.augmentation.length && batch.inputs instanceof Float32Array ? augmentBatch(batch.inputs, batch.inputShape, this.augmentation, this.stepGen) : batch.inputs;
    return tidy(() => {
      this.optimizer.zeroGrad();
      const result = this.model.run(this.plan.feeds(batch, inputs), { training: true, generator: this.stepGen });
      const total = result.totalLoss;
      if (!total) throw new Error('The model computed no loss for this batch: is every loss node connected to a prediction and a Target?');
      const loss = total.item();
      if (!Number.isFinite(loss)) return loss;
      total.backward();
      const params = this.optimizer.paramGroups.flatMap((g) => g.params);
      if (this.settings.clipValue !== null) clipGradValue(params, this.settings.clipValue);
      if (this.settings.clipNorm !== null) clipGradNorm(params, this.settings.clipNorm).dispose();
      this.optimizer.step();
      const pred = this.plan.predictionOf(result, batch);
      this.acc!.addLoss(loss, batch.size);
      if (pred) noGrad(() => this.acc!.addBatch(this.plan.metricOutputs(pred), this.plan.metricTargets(batch, inputs)));
      return loss;
    });
  }

  /** Loss and metrics of the model on a split, in evaluation mode. */
  evaluate(split: Dataset): EpochMetrics {
    const acc = new MetricAccumulator(this.plan.metricKind, this.plan.numClasses);
    const wasTraining = this.model.training;
    noGrad(() => {
      for (const batch of sequentialBatches(split, Math.max(this.settings.batchSize, 64))) {
        tidy(() => {
          const result = this.model.run(this.plan.feeds(batch), { training: false, generator: new Generator(0) });
          if (result.totalLoss) acc.addLoss(result.totalLoss.item(), batch.size);
          const pred: Tensor | null = this.plan.predictionOf(result, batch);
          if (pred) acc.addBatch(this.plan.metricOutputs(pred), this.plan.metricTargets(batch));
        });
      }
    });
    this.model.train(wasTraining);
    return acc.result();
  }

  /** A snapshot from which a new Trainer continues this run exactly. */
  checkpoint(): TrainerCheckpoint {
    const sch = this.scheduler;
    let scheduler: Record<string, unknown> | null = null;
    if (sch?.kind === 'epoch') scheduler = { ...sch.s.stateDict() };
    else if (sch?.kind === 'plateau') scheduler = { best: sch.s.best, numBadEpochs: sch.s.numBadEpochs, cooldownCounter: sch.s.cooldownCounter, lastEpoch: sch.s.lastEpoch };
    return {
      epoch: this.epoch,
      step: this.step,
      globalStep: this.globalStep,
      order: this.order ? Array.from(this.order) : null,
      weights: snapshotWeights(this.model),
      optimizer: this.optimizer.stateDict(),
      scheduler,
      rng: { shuffle: this.shuffleGen.getState(), step: this.stepGen.getState() },
      accumulator: this.acc ? this.acc.getState() : null,
      history: structuredCloneSafe(this.history),
      earlyStopping: this.early ? { ...this.early, bestWeights: this.early.bestWeights } : null,
    };
  }

  private load(c: TrainerCheckpoint): void {
    restoreWeights(this.model, c.weights);
    this.optimizer.loadStateDict(c.optimizer);
    const sch = this.scheduler;
    if (sch && c.scheduler) {
      if (sch.kind === 'epoch') sch.s.loadStateDict(c.scheduler as { lastEpoch: number; lastLrs: number[] });
      else Object.assign(sch.s, c.scheduler);
    }
    this.shuffleGen.setState(c.rng.shuffle);
    this.stepGen.setState(c.rng.step);
    this.epoch = c.epoch;
    this.step = c.step;
    this.globalStep = c.globalStep;
    this.order = c.order ? Int32Array.from(c.order) : null;
    if (c.accumulator) {
      this.acc = new MetricAccumulator(this.plan.metricKind, this.plan.numClasses);
      this.acc.setState(c.accumulator);
    }
    this.history = structuredCloneSafe(c.history);
    if (c.earlyStopping) this.early = { ...c.earlyStopping };
  }
}

function structuredCloneSafe<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
