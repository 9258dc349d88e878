/**
 * Contrastive self-supervised learning (SimCLR): two random augmentations of each image go
 * through the same network; the NT-Xent (InfoNCE) loss pulls the two views of an image
 * together and pushes them away from every other image in the batch. The features before
 * the projection head are then judged by a linear probe (transfer.ts `linearProbe`).
 */
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { augmentBatch, type Augmentation, validateAugmentation } from '../../data/augment.ts';
import { type Dataset, inputSize } from '../../data/dataset.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { add, div, sqrt } from '../../ops/elementwise.ts';
import { matmul } from '../../ops/matmul.ts';
import { crossEntropy } from '../../ops/loss.ts';
import { transpose } from '../../ops/layout.ts';
import { sum } from '../../ops/reduce.ts';
import { square } from '../../ops/elementwise.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, evalRun, floats, gatherInputs, graphStep, type OptimizerChoice, optimizerFor, outputOf, type StepLosses } from './common.ts';

/**
 * NT-Xent loss of 2N embeddings [2N, D] where rows i and i + N are two views of one sample:
 * cross-entropy of each row's cosine similarities / temperature to every other row, with
 * its partner as the correct class (as in SimCLR).
 */
export function ntXentLoss(z: Tensor, temperature = 0.5): Tensor {
  if (z.rank !== 2 || z.shape[0] % 2 !== 0 || z.shape[0] < 2) throw new Error(`ntXentLoss: needs embeddings [2N, D] (two views of N samples), got [${z.shape.join(', ')}]`);
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature must be above 0, got ${temperature}`);
  const m = z.shape[0];
  const n = m / 2;
  const norm = sqrt(add(sum(square(z), 1, true), 1e-12));
  const u = div(z, norm);
  const sim = div(matmul(u, transpose(u, 0, 1)), temperature);
  // A row is never compared with itself.
  const mask = new Float32Array(m * m);
  for (let i = 0; i < m; i++) mask[i * m + i] = -1e9;
  const logits = add(sim, fromValues(mask, [m, m]));
  const target = Int32Array.from({ length: m }, (_, i) => (i < n ? i + n : i - n));
  return crossEntropy(logits, fromValues(target, [m], 'int32'));
}

/** Default views for 28x28 digits: shift, small rotation, noise and a cut-out square. */
export const DIGIT_VIEW_AUGMENTATIONS: Augmentation[] = [
  { type: 'crop', padding: 3 },
  { type: 'rotate', degrees: 15 },
  { type: 'cutout', size: 8, p: 0.5 },
  { type: 'noise', std: 0.1 },
];

export interface ContrastiveOptions {
  /** Image input -> encoder -> projection head, with no loss node (e.g. contrastiveGraph). */
  graph: ModelGraph;
  /** Images; their labels are not used. */
  data: Dataset;
  /** The node whose output the loss compares (default "projection"). */
  projectionId?: string;
  /** How each view is made (default DIGIT_VIEW_AUGMENTATIONS). */
  augmentations?: Augmentation[];
  /** NT-Xent temperature (default 0.5). */
  temperature?: number;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

export interface ContrastiveStep extends StepLosses {
  epoch: number;
  step: number;
}

export class ContrastiveMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly inputId: string;
  readonly projectionId: string;
  readonly shape: number[];
  readonly augmentations: Augmentation[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private steps = 0;

  constructor(readonly opts: ContrastiveOptions) {
    this.model = compileGraph(opts.graph, { seed: opts.seed ?? 0 });
    if (this.model.inputIds.length !== 1) throw new Error(`Contrastive learning needs one image input; this graph has ${this.model.inputIds.join(', ') || 'none'}`);
    this.inputId = this.model.inputIds[0];
    this.projectionId = opts.projectionId ?? 'projection';
    const proj = this.model.analysis.nodes[this.projectionId];
    if (!proj) throw new Error(`The graph has no node "${this.projectionId}" (the projection the contrastive loss compares)`);
    if (proj.outputs[0]!.shape.length !== 1) throw new Error(`"${this.projectionId}" must give a vector per image, it gives [${proj.outputs[0]!.shape.join(', ')}]`);
    this.shape = this.model.analysis.nodes[this.inputId].outputs[0]!.shape;
    if (inputSize(opts.data.meta) !== this.shape.reduce((a, b) => a * b, 1)) throw new Error(`The dataset's samples have shape [${opts.data.meta.inputShape.join(', ')}], the input node expects [${this.shape.join(', ')}]`);
    this.augmentations = opts.augmentations ?? DIGIT_VIEW_AUGMENTATIONS;
    const problems = this.augmentations.flatMap(validateAugmentation);
    if (problems.length) throw new Error(problems.join('; '));
    if ((opts.batchSize ?? 64) < 2) throw new Error(`Contrastive learning needs at least 2 images per batch (others are the negatives), got ${opts.batchSize}`);
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 64, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  /** Two augmented views of each image, first views then second views: [2N, ...shape]. */
  views(x: Float32Array, gen: Generator = this.gen): Float32Array {
    const a = augmentBatch(x, this.shape, this.augmentations, gen);
    const b = augmentBatch(x, this.shape, this.augmentations, gen);
    const out = new Float32Array(a.length * 2);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  step(): ContrastiveStep {
    let idx = this.cursor.next();
    if (idx.length < 2) idx = this.cursor.next();
    const x = this.views(gatherInputs(this.opts.data, idx));
    const m = 2 * idx.length;
    const t = this.opts.temperature ?? 0.5;
    const r = graphStep(this.model, this.optimizer, () => ({ [this.inputId]: floats(x, [m, ...this.shape]) }), this.gen, (res) => ({ name: 'nt_xent', value: ntXentLoss(outputOf(res, this.projectionId), t) }));
    this.steps++;
    return { ...r, epoch: this.cursor.epoch, step: this.steps };
  }

  /**
   * Fraction of views (of `count` images, seeded augmentations) whose most similar other
   * view is the other view of the same image (chance: 1 / (2 count - 1)), and the mean loss.
   */
  matchAccuracy(ds: Dataset, count = 64, seed = 0): { accuracy: number; loss: number } {
    const n = Math.min(count, ds.length);
    const x = this.views(gatherInputs(ds, Array.from({ length: n }, (_, i) => i)), new Generator(seed));
    const m = 2 * n;
    return evalRun(this.model, () => ({ [this.inputId]: floats(x, [m, ...this.shape]) }), (r) => {
      const z = outputOf(r, this.projectionId);
      const loss = ntXentLoss(z, this.opts.temperature ?? 0.5).item();
      const d = z.shape[1];
      const v = z.dataSync();
      const norms = Array.from({ length: m }, (_, i) => Math.hypot(...v.subarray(i * d, (i + 1) * d)) || 1);
      let hits = 0;
      for (let i = 0; i < m; i++) {
        let best = -1;
        let bestSim = -Infinity;
        for (let j = 0; j < m; j++) {
          if (j === i) continue;
          let s = 0;
          for (let k = 0; k < d; k++) s += v[i * d + k] * v[j * d + k];
          s /= norms[i] * norms[j];
          if (s > bestSim) [best, bestSim] = [j, s];
        }
        if (best === (i < n ? i + n : i - n)) hits++;
      }
      return { accuracy: hits / m, loss };
    });
  }
}
