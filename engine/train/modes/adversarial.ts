/**
 * Adversarial attacks on a trained classifier graph: FGSM (one signed-gradient step of size
 * epsilon) and its iterated form (BIM/PGD: small steps, each projected back into the
 * epsilon-ball around the input and clipped to the valid value range), untargeted (push
 * away from the true class) or targeted (pull towards a chosen class).
 */
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { GraphModel } from '../../graph/compile.ts';
import { crossEntropy } from '../../ops/loss.ts';
import { evalRun, floats, gatherInputs, gatherTargets, type ImageView, ints, outputOf, softmaxRow, toImage } from './common.ts';

export interface AttackOptions {
  /** Largest change of any input value (L-infinity radius). */
  epsilon: number;
  /** Iterations: 1 is FGSM, more is BIM/PGD (default 1). */
  steps?: number;
  /** Step size of the iterations (default epsilon / steps * 2.5, as in Madry et al.). */
  stepSize?: number;
  /** Targeted: move every input towards this class instead of away from its own. */
  targetClass?: number;
  /** Valid input range; adversarial inputs are clipped to it (default [0, 1]). */
  clip?: [number, number];
}

/** Which node of a classifier graph gives the class scores: what its loss compares, else its first output. */
export function logitsNodeOf(model: GraphModel): string {
  const lossEdge = model.graph.edges.find((e) => model.lossIds.includes(e.target) && e.targetPort === 'prediction');
  const id = lossEdge?.source ?? model.outputIds[0];
  if (!id) throw new Error('The classifier has no output to attack');
  return id;
}

function checkOptions(o: AttackOptions, classes: number): void {
  if (!(o.epsilon >= 0)) throw new Error(`epsilon must be a number >= 0, got ${o.epsilon}`);
  if (o.steps !== undefined && (!Number.isInteger(o.steps) || o.steps < 1)) throw new Error(`steps must be a whole number of at least 1, got ${o.steps}`);
  if (o.targetClass !== undefined && (!Number.isInteger(o.targetClass) || o.targetClass < 0 || o.targetClass >= classes)) throw new Error(`targetClass must be a class from 0 to ${classes - 1}, got ${o.targetClass}`);
}

/** Class scores [n, C] of inputs [n, ...shape]. */
export function classScores(model: GraphModel, x: Float32Array, n: number): Float32Array {
  const inputId = model.inputIds[0];
  const shape = model.analysis.nodes[inputId].outputs[0]!.shape;
  const id = logitsNodeOf(model);
  return evalRun(model, () => ({ [inputId]: floats(x.slice(), [n, ...shape]) }), (r) => Float32Array.from(outputOf(r, id).dataSync()));
}

/** Adversarial versions of `n` inputs with true labels `labels`. */
export function attack(model: GraphModel, x: Float32Array, labels: Int32Array, opts: AttackOptions): Float32Array {
  const inputId = model.inputIds[0];
  const shape = model.analysis.nodes[inputId].outputs[0]!.shape;
  const logitsId = logitsNodeOf(model);
  const n = labels.length;
  const classes = model.analysis.nodes[logitsId].outputs[0]!.shape.at(-1)!;
  checkOptions(opts, classes);
  const steps = opts.steps ?? 1;
  const alpha = steps === 1 ? opts.epsilon : (opts.stepSize ?? (2.5 * opts.epsilon) / steps);
  const [lo, hi] = opts.clip ?? [0, 1];
  const targeted = opts.targetClass !== undefined;
  const aim = targeted ? new Int32Array(n).fill(opts.targetClass!) : labels;
  const wasTraining = model.training;
  let adv = x.slice();
  for (let s = 0; s < steps; s++) {
    let grad!: Float32Array;
    tidy(() => {
      const input: Tensor = floats(adv.slice(), [n, ...shape]).requiresGrad_();
      const r = model.run({ [inputId]: input }, { training: false, generator: new Generator(0) });
      crossEntropy(outputOf(r, logitsId), ints(aim.slice(), [n])).backward();
      grad = Float32Array.from(input.grad!.dataSync());
    });
    model.zeroGrad();
    // Untargeted: climb the loss of the true class; targeted: descend the loss of the target.
    const dir = targeted ? -1 : 1;
    adv = adv.map((v, i) => {
      const g = grad[i];
      const stepped = v + dir * alpha * (g > 0 ? 1 : g < 0 ? -1 : 0);
      const projected = Math.min(x[i] + opts.epsilon, Math.max(x[i] - opts.epsilon, stepped));
      return Math.min(hi, Math.max(lo, projected));
    });
  }
  model.train(wasTraining);
  return adv;
}

export interface Prediction {
  label: number;
  probability: number;
}

export interface AttackView {
  original: ImageView;
  /** The perturbation, amplified to fill the display range (0.5 is no change). */
  perturbation: ImageView;
  /** Largest absolute change of any value (at most epsilon). */
  perturbationMax: number;
  adversarial: ImageView;
  before: Prediction;
  after: Prediction;
  trueLabel: number;
  /** Untargeted: the prediction changed away from the true class; targeted: it became the target. */
  success: boolean;
}

function predict(scores: Float32Array, k: number, classes: number): Prediction {
  const p = softmaxRow(scores, k * classes, classes);
  const label = p.indexOf(Math.max(...p));
  return { label, probability: p[label] };
}

/** One sample attacked, with original, amplified perturbation, adversarial image and both predictions. */
export function attackView(model: GraphModel, ds: Dataset, index: number, opts: AttackOptions): AttackView {
  const x = gatherInputs(ds, [index]);
  const y = gatherTargets(ds, [index]);
  const adv = attack(model, x, y, opts);
  const shape = ds.meta.inputShape;
  const classes = model.analysis.nodes[logitsNodeOf(model)].outputs[0]!.shape.at(-1)!;
  const before = predict(classScores(model, x, 1), 0, classes);
  const after = predict(classScores(model, adv, 1), 0, classes);
  const delta = adv.map((v, i) => v - x[i]);
  const m = Math.max(1e-12, ...Array.from(delta, Math.abs));
  const range = opts.clip ?? [0, 1];
  return {
    original: toImage(x, shape, range),
    perturbation: toImage(delta, shape, [-m, m]),
    perturbationMax: Math.max(...Array.from(delta, Math.abs)),
    adversarial: toImage(adv, shape, range),
    before,
    after,
    trueLabel: y[0],
    success: opts.targetClass !== undefined ? after.label === opts.targetClass : after.label !== y[0],
  };
}

export interface AttackReport {
  /** Samples the classifier got right before the attack (only these are attacked). */
  attacked: number;
  succeeded: number;
  /** succeeded / attacked. */
  successRate: number;
  /** Accuracy over all samples before and after the attack. */
  cleanAccuracy: number;
  adversarialAccuracy: number;
}

/** Attack success rate over a dataset (the first `limit` samples), in batches. */
export function successRate(model: GraphModel, ds: Dataset, opts: AttackOptions, limit = ds.length, batchSize = 64): AttackReport {
  const classes = model.analysis.nodes[logitsNodeOf(model)].outputs[0]!.shape.at(-1)!;
  const total = Math.min(limit, ds.length);
  let attacked = 0;
  let succeeded = 0;
  let clean = 0;
  let robust = 0;
  for (let start = 0; start < total; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, total - start) }, (_, k) => start + k);
    const x = gatherInputs(ds, idx);
    const y = gatherTargets(ds, idx);
    const before = classScores(model, x, idx.length);
    const adv = attack(model, x, y, opts);
    const after = classScores(model, adv, idx.length);
    for (let k = 0; k < idx.length; k++) {
      const b = predict(before, k, classes).label;
      const a = predict(after, k, classes).label;
      if (b === y[k]) clean++;
      if (a === y[k]) robust++;
      if (b !== y[k]) continue;
      if (opts.targetClass !== undefined && y[k] === opts.targetClass) continue;
      attacked++;
      if (opts.targetClass !== undefined ? a === opts.targetClass : a !== y[k]) succeeded++;
    }
  }
  return { attacked, succeeded, successRate: attacked ? succeeded / attacked : 0, cleanAccuracy: clean / total, adversarialAccuracy: robust / total };
}
