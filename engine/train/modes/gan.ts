/**
 * Generative adversarial networks, unconditional and conditional: two graphs in one
 * project, a generator (noise [+ one-hot label] -> sample) and a discriminator (sample
 * [+ one-hot label] -> one logit). Training alternates k discriminator steps and one
 * generator step, each with its own optimiser and binary cross-entropy on logits (the
 * generator's is the non-saturating form). Per epoch: both losses, the discriminator's
 * accuracy, a grid of samples from fixed noise, and warnings when the discriminator's
 * accuracy stays pinned or the samples collapse to one mode.
 */
import { noGrad } from '../../core/autograd.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { type Dataset, inputSize } from '../../data/dataset.ts';
import { compileGraph, type Feed, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { randn } from '../../ops/creation.ts';
import { binaryCrossEntropyWithLogits } from '../../ops/loss.ts';
import { onesLike, zerosLike } from '../../ops/creation.ts';
import { add } from '../../ops/elementwise.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, floats, gatherInputs, gatherTargets, type ImageView, imageGrid, oneHot, type OptimizerChoice, optimizerFor, type PointView, toImage } from './common.ts';

export interface GanOptions {
  /** Noise (Vector input `noiseId`) [+ one-hot label (Vector input `labelId`)] -> a sample shaped like the data. */
  generator: ModelGraph;
  /** A sample (its other input) [+ one-hot label (`labelId`)] -> one logit (real vs generated). */
  discriminator: ModelGraph;
  data: Dataset;
  /** Feed one-hot class labels into both networks (default: when the generator has a `labelId` input). */
  conditional?: boolean;
  noiseId?: string;
  labelId?: string;
  /** Discriminator steps per generator step (k). */
  kDiscriminator?: number;
  batchSize?: number;
  optimizerG?: OptimizerChoice;
  optimizerD?: OptimizerChoice;
  /** Value range of the data, to show generated images (default [0, 1]). */
  valueRange?: [number, number];
  seed?: number;
}

export interface GanStep {
  /** Mean discriminator loss over its k steps (real + generated terms). */
  dLoss: number;
  gLoss: number;
  /** Discriminator accuracy on the last batch: real called real and generated called generated. */
  dAccuracy: number;
  epoch: number;
  /** True when this step finished a pass over the data. */
  epochDone: boolean;
}

export interface GanEpoch {
  epoch: number;
  dLoss: number;
  gLoss: number;
  dAccuracy: number;
  /** Samples from the same fixed noise every epoch: an image grid for image data, points for 2-D data. */
  grid: ImageView | null;
  points: PointView[] | null;
  /** Spread of generated samples relative to real ones (mean distance to the batch mean); near 0 means collapse. */
  diversity: number;
  warnings: string[];
}

const PINNED_WINDOW = 30;

export class GanMode {
  readonly generator: GraphModel;
  readonly discriminator: GraphModel;
  readonly optG: Optimizer<BaseOptions>;
  readonly optD: Optimizer<BaseOptions>;
  readonly conditional: boolean;
  readonly classes: number;
  readonly noiseId: string;
  readonly labelId: string;
  readonly sampleInputId: string;
  readonly outputId: string;
  readonly noiseDim: number;
  readonly sampleShape: number[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private readonly fixedNoise: Float32Array;
  private readonly fixedLabels: Int32Array;
  private accHistory: number[] = [];
  private epochLosses = { d: 0, g: 0, acc: 0, n: 0 };
  private epochsDone = 0;
  readonly history: GanEpoch[] = [];

  constructor(readonly opts: GanOptions) {
    const seed = opts.seed ?? 0;
    this.generator = compileGraph(opts.generator, { seed });
    this.discriminator = compileGraph(opts.discriminator, { seed: seed + 100 });
    this.noiseId = opts.noiseId ?? 'noise';
    this.labelId = opts.labelId ?? 'label';
    if (!this.generator.inputIds.includes(this.noiseId)) throw new Error(`The generator needs a Vector input "${this.noiseId}" for its noise; its inputs are ${this.generator.inputIds.join(', ')}`);
    this.conditional = opts.conditional ?? this.generator.inputIds.includes(this.labelId);
    this.classes = opts.data.meta.numClasses ?? 0;
    if (this.conditional) {
      if (!this.classes) throw new Error('A conditional GAN needs a dataset with classes');
      for (const [name, m] of [['generator', this.generator], ['discriminator', this.discriminator]] as const) {
        if (!m.inputIds.includes(this.labelId)) throw new Error(`A conditional GAN feeds the one-hot label into both networks: the ${name} needs a Vector input "${this.labelId}" with ${this.classes} features`);
        const f = m.analysis.nodes[this.labelId].outputs[0]!.shape;
        if (f.join() !== String(this.classes)) throw new Error(`The ${name}'s label input "${this.labelId}" has [${f.join(', ')}] features; the dataset has ${this.classes} classes`);
      }
    }
    const dInputs = this.discriminator.inputIds.filter((id) => !(this.conditional && id === this.labelId));
    if (dInputs.length !== 1) throw new Error(`The discriminator needs one sample input${this.conditional ? ' besides the label' : ''}; it has ${dInputs.join(', ') || 'none'}`);
    this.sampleInputId = dInputs[0];
    if (this.generator.outputIds.length !== 1) throw new Error(`The generator must end in one output; it has ${this.generator.outputIds.join(', ') || 'none'}`);
    this.outputId = this.generator.outputIds[0];
    if (this.generator.lossIds.length || this.discriminator.lossIds.length) throw new Error('GAN graphs hold no loss nodes: the mode applies binary cross-entropy to the discriminator logit itself');
    this.sampleShape = this.discriminator.analysis.nodes[this.sampleInputId].outputs[0]!.shape;
    const gOut = this.generator.analysis.nodes[this.outputId].outputs[0]!.shape;
    if (gOut.join() !== this.sampleShape.join()) throw new Error(`The generator makes samples of shape [${gOut.join(', ')}], the discriminator takes [${this.sampleShape.join(', ')}]`);
    if (inputSize(opts.data.meta) !== gOut.reduce((a, b) => a * b, 1)) throw new Error(`The dataset's samples have shape [${opts.data.meta.inputShape.join(', ')}], the generator makes [${gOut.join(', ')}]`);
    const dOut = this.discriminator.analysis.nodes[this.discriminator.outputIds[0]].outputs[0]!.shape;
    if (dOut.join() !== '1') throw new Error(`The discriminator must give one logit per sample ([1]), it gives [${dOut.join(', ')}]`);
    this.noiseDim = this.generator.analysis.nodes[this.noiseId].outputs[0]!.shape[0];
    this.optG = optimizerFor(this.generator, { lr: 2e-4, betas: [0.5, 0.999], ...opts.optimizerG });
    this.optD = optimizerFor(this.discriminator, { lr: 2e-4, betas: [0.5, 0.999], ...opts.optimizerD });
    this.gen = new Generator(seed + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 64, new Generator(seed + 2));
    const fixed = new Generator(seed + 3);
    const n = 16;
    this.fixedNoise = Float32Array.from({ length: n * this.noiseDim }, () => fixed.normal());
    this.fixedLabels = Int32Array.from({ length: n }, (_, i) => (this.classes ? i % this.classes : 0));
  }

  private gFeeds(noise: Tensor, labels: Int32Array | null): Record<string, Feed> {
    return { [this.noiseId]: noise, ...(labels ? { [this.labelId]: oneHot(labels, this.classes) } : {}) };
  }

  private logits(x: Tensor, labels: Int32Array | null, training: boolean): Tensor {
    const r = this.discriminator.run({ [this.sampleInputId]: x, ...(labels ? { [this.labelId]: oneHot(labels, this.classes) } : {}) }, { training, generator: this.gen });
    return r.outputs[this.discriminator.outputIds[0]][0];
  }

  private randomLabels(n: number): Int32Array | null {
    return this.conditional ? Int32Array.from({ length: n }, () => this.gen.int(this.classes)) : null;
  }

  /** k discriminator steps and one generator step. */
  step(): GanStep {
    const k = this.opts.kDiscriminator ?? 1;
    let dLoss = 0;
    let dAccuracy = 0;
    let epochDone = false;
    for (let i = 0; i < k; i++) {
      const before = this.cursor.epoch;
      const idx = this.cursor.next();
      if (this.cursor.epoch !== before) epochDone = true;
      const n = idx.length;
      const real = gatherInputs(this.opts.data, idx);
      const realLabels = this.conditional ? gatherTargets(this.opts.data, idx) : null;
      tidy(() => {
        this.optD.zeroGrad();
        const fakeLabels = this.randomLabels(n);
        const fake = noGrad(() => this.generator.run(this.gFeeds(randn([n, this.noiseDim], 0, 1, this.gen), fakeLabels), { training: true, generator: this.gen }).outputs[this.outputId][0]);
        const lr = this.logits(floats(real, [n, ...this.sampleShape]), realLabels, true);
        const lf = this.logits(fake, fakeLabels, true);
        const loss = add(binaryCrossEntropyWithLogits(lr, onesLike(lr)), binaryCrossEntropyWithLogits(lf, zerosLike(lf)));
        dLoss += loss.item() / k;
        loss.backward();
        this.optD.step();
        const r = lr.dataSync();
        const f = lf.dataSync();
        let correct = 0;
        for (let j = 0; j < n; j++) correct += (r[j] > 0 ? 1 : 0) + (f[j] < 0 ? 1 : 0);
        dAccuracy = correct / (2 * n);
      });
    }
    let gLoss = 0;
    tidy(() => {
      this.optG.zeroGrad();
      const n = this.cursor.batchSize;
      const labels = this.randomLabels(n);
      const fake = this.generator.run(this.gFeeds(randn([n, this.noiseDim], 0, 1, this.gen), labels), { training: true, generator: this.gen }).outputs[this.outputId][0];
      const lf = this.logits(fake, labels, true);
      const loss = binaryCrossEntropyWithLogits(lf, onesLike(lf));
      gLoss = loss.item();
      loss.backward();
      this.optG.step();
      // The discriminator's gradients from this step are not used; clear them.
      this.optD.zeroGrad();
    });
    this.accHistory.push(dAccuracy);
    if (this.accHistory.length > PINNED_WINDOW) this.accHistory.shift();
    const e = this.epochLosses;
    e.d += dLoss;
    e.g += gLoss;
    e.acc += dAccuracy;
    e.n++;
    return { dLoss, gLoss, dAccuracy, epoch: this.cursor.epoch, epochDone };
  }

  /** Generated samples as flat values [count * sampleSize] (labels cycle over the classes when conditional). */
  generate(count: number, opts: { seed?: number; labels?: readonly number[] } = {}): { values: Float32Array; labels: Int32Array | null } {
    const g = new Generator(opts.seed ?? 0);
    const noise = Float32Array.from({ length: count * this.noiseDim }, () => g.normal());
    const labels = this.conditional ? Int32Array.from({ length: count }, (_, i) => opts.labels?.[i] ?? i % this.classes) : null;
    return { values: this.run(noise, labels), labels };
  }

  private run(noise: Float32Array, labels: Int32Array | null): Float32Array {
    const n = noise.length / this.noiseDim;
    const wasTraining = this.generator.training;
    let out = new Float32Array(0);
    noGrad(() =>
      tidy(() => {
        const r = this.generator.run(this.gFeeds(floats(noise.slice(), [n, this.noiseDim]), labels), { training: false, generator: new Generator(0) });
        out = Float32Array.from(r.outputs[this.outputId][0].dataSync());
      }),
    );
    this.generator.train(wasTraining);
    return out;
  }

  /** Samples as images tiled `cols` per row (image data) or as points (2-D data). */
  view(values: Float32Array, labels: Int32Array | null, cols = 4): { grid: ImageView | null; points: PointView[] | null } {
    const s = this.sampleShape.reduce((a, b) => a * b, 1);
    const n = values.length / s;
    if (this.sampleShape.length === 1 && s === 2) {
      return { grid: null, points: Array.from({ length: n }, (_, i) => ({ x: values[2 * i], y: values[2 * i + 1], ...(labels ? { label: labels[i] } : {}) })) };
    }
    const images = Array.from({ length: n }, (_, i) => toImage(values.subarray(i * s, (i + 1) * s), this.sampleShape, this.opts.valueRange ?? [0, 1]));
    return { grid: imageGrid(images, cols), points: null };
  }

  /**
   * Spread of generated samples divided by the spread of real ones (mean euclidean distance
   * to their mean), over `count` samples each.
   */
  diversity(count = 64): number {
    const s = this.sampleShape.reduce((a, b) => a * b, 1);
    const n = Math.min(count, this.opts.data.length);
    const fake = this.generate(n, { seed: 99 }).values;
    const real = gatherInputs(this.opts.data, Array.from({ length: n }, (_, i) => Math.floor((i * this.opts.data.length) / n)));
    return spread(fake, n, s) / Math.max(1e-12, spread(real, n, s));
  }

  /** Problems worth telling the user about, judged on the recent steps. */
  warnings(diversity = this.diversity()): string[] {
    const out: string[] = [];
    if (this.accHistory.length >= PINNED_WINDOW) {
      const lo = Math.min(...this.accHistory);
      const hi = Math.max(...this.accHistory);
      if (lo >= 0.98) out.push(`The discriminator has told real from generated samples almost perfectly for the last ${PINNED_WINDOW} steps (accuracy >= 98%): the generator gets little useful gradient. Lower the discriminator's learning rate, use fewer discriminator steps, or make it smaller.`);
      else if (hi <= 0.1) out.push(`The discriminator's accuracy has stayed at or below 10% for the last ${PINNED_WINDOW} steps: it is not learning. Raise its learning rate or train it more steps per generator step.`);
    }
    if (diversity < 0.1) out.push(`The generated samples are nearly all the same (their spread is ${(diversity * 100).toFixed(1)}% of the real data's): the generator has collapsed to one mode. Try a lower learning rate, a different seed or a conditional GAN.`);
    return out;
  }

  /** The summary of the epoch just finished: mean losses and accuracy, samples from fixed noise, warnings. */
  epochSummary(): GanEpoch {
    const e = this.epochLosses;
    const n = Math.max(1, e.n);
    const labels = this.conditional ? this.fixedLabels : null;
    const { grid, points } = this.view(this.run(this.fixedNoise, labels), labels, this.conditional ? this.classes : 4);
    const diversity = this.diversity();
    const summary: GanEpoch = { epoch: ++this.epochsDone, dLoss: e.d / n, gLoss: e.g / n, dAccuracy: e.acc / n, grid, points, diversity, warnings: this.warnings(diversity) };
    this.epochLosses = { d: 0, g: 0, acc: 0, n: 0 };
    this.history.push(summary);
    return summary;
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.cursor.stepsPerEpoch / (this.opts.kDiscriminator ?? 1));
  }
}

function spread(values: Float32Array, n: number, s: number): number {
  const mean = new Float64Array(s);
  for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) mean[j] += values[i * s + j] / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < s; j++) d += (values[i * s + j] - mean[j]) ** 2;
    total += Math.sqrt(d);
  }
  return total / n;
}
