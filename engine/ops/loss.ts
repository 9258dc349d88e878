/** Loss functions, named and reduced as torch.nn.functional. */
import { fromValues } from '../core/engine.ts';
import type { Tensor } from '../core/tensor.ts';
import { shapeStr } from '../core/shape.ts';
import { abs, add, clamp, div, exp, log, mul, ne, neg, sqrt, square, sub, where } from './elementwise.ts';
import { logSoftmax, softplus } from './activation.ts';
import { gather, permute, reshape } from './layout.ts';
import { mean, sum } from './reduce.ts';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === 'mean' ? mean(x) : reduction === 'sum' ? sum(x) : x;
}

function sameShape(a: Tensor, b: Tensor, name: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${name}: input shape ${shapeStr(a.shape)} and target shape ${shapeStr(b.shape)} differ`);
  }
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShape(input, target, 'mse_loss');
  return reduce(square(sub(input, target)), reduction);
}

export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShape(input, target, 'l1_loss');
  return reduce(abs(sub(input, target)), reduction);
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/**
 * nll_loss over log-probabilities [N, C] or [N, C, d1, ...] with int32 class targets
 * [N] or [N, d1, ...]; ignored targets contribute nothing and are not counted.
 */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { weight = null, ignoreIndex = -100, reduction = 'mean' } = opts;
  const lp = classLast(logProbs);
  const c = logProbs.shape[1];
  const t = reshape(target, [target.size]);
  if (target.dtype !== 'int32') throw new Error('nll_loss: class targets must be int32 indices');
  if (lp.shape[0] !== t.size) {
    throw new Error(`cross_entropy: input ${shapeStr(logProbs.shape)} needs a target of shape ${shapeStr([logProbs.shape[0], ...logProbs.shape.slice(2)])}, got ${shapeStr(target.shape)}`);
  }
  const tv = t.dataSync();
  const safe = new Int32Array(tv.length);
  const keep = new Float32Array(tv.length);
  const wv = weight ? weight.dataSync() : null;
  for (let i = 0; i < tv.length; i++) {
    if (tv[i] === ignoreIndex) continue;
    if (tv[i] < 0 || tv[i] >= c) throw new Error(`cross_entropy: target ${tv[i]} is out of range for ${c} classes`);
    safe[i] = tv[i];
    keep[i] = wv ? wv[tv[i]] : 1;
  }
  const picked = reshape(gather(lp, 1, intTensor(safe, [tv.length, 1])), [tv.length]);
  const w = floatTensor(keep);
  const losses = neg(mul(picked, w));
  if (reduction === 'none') return reshape(losses, target.shape);
  if (reduction === 'sum') return sum(losses);
  let total = 0;
  for (const k of keep) total += k;
  return div(sum(losses), Math.max(total, Number.MIN_VALUE));
}

/**
 * cross_entropy from logits. Targets are int32 class indices (any N, C, d1... layout) or
 * float class probabilities of the input's shape.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { labelSmoothing = 0, reduction = 'mean' } = opts;
  if (logits.shape.length < 2) throw new Error(`cross_entropy: input needs shape [N, C, ...], got ${shapeStr(logits.shape)}`);
  const lp = logSoftmax(logits, 1);
  const c = logits.shape[1];
  if (target.dtype === 'float32') {
    sameShape(logits, target, 'cross_entropy');
    const smoothed = labelSmoothing > 0 ? add(mul(target, 1 - labelSmoothing), labelSmoothing / c) : target;
    return reduce(neg(sum(mul(lp, smoothed), 1)), reduction);
  }
  const nll = nllLoss(lp, target, opts);
  if (labelSmoothing <= 0) return nll;
  // torch: the smoothing term is -sum_c w_c lp_c per position, zero where the target is
  // ignored, and 'mean' divides it by what nll_loss divides by (the summed target weights).
  const { weight = null, ignoreIndex = -100 } = opts;
  const flat = classLast(lp);
  const tv = target.dataSync();
  const wv = weight ? weight.dataSync() : null;
  const keep = new Float32Array(tv.length);
  let total = 0;
  for (let i = 0; i < tv.length; i++) {
    if (tv[i] === ignoreIndex) continue;
    keep[i] = 1;
    total += wv ? wv[tv[i]] : 1;
  }
  const smooth = mul(neg(sum(weight ? mul(flat, weight) : flat, 1)), floatTensor(keep));
  const reduced = reduction === 'none' ? reshape(smooth, target.shape) : reduction === 'sum' ? sum(smooth) : div(sum(smooth), Math.max(total, Number.MIN_VALUE));
  return add(mul(nll, 1 - labelSmoothing), mul(reduced, labelSmoothing / c));
}

/** BCE on probabilities; logs are clamped to >= -100 as torch does. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, reduction: Reduction = 'mean', weight?: Tensor): Tensor {
  sameShape(input, target, 'binary_cross_entropy');
  const logP = clamp(log(input), -100);
  const log1mP = clamp(log(sub(1, input)), -100);
  let l = neg(add(mul(target, logP), mul(sub(1, target), log1mP)));
  if (weight) l = mul(l, weight);
  return reduce(l, reduction);
}

/** BCE on logits, stable: max(x, 0) - x y + log(1 + exp(-|x|)), with optional pos_weight. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, reduction: Reduction = 'mean', posWeight?: Tensor): Tensor {
  sameShape(input, target, 'binary_cross_entropy_with_logits');
  const softplusNeg = softplus(neg(input)); // log(1 + e^-x)
  let l: Tensor;
  if (posWeight) {
    // (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)
    const coef = add(mul(sub(posWeight, 1), target), 1);
    l = add(mul(sub(1, target), input), mul(coef, softplusNeg));
  } else {
    l = add(mul(sub(1, target), input), softplusNeg);
  }
  return reduce(l, reduction);
}

/**
 * kl_div(input, target) with `input` log-probabilities and `target` probabilities (or
 * log-probabilities with logTarget): target * (log target - input). 'batchmean' divides by N.
 */
export function klDiv(input: Tensor, target: Tensor, reduction: Reduction | 'batchmean' = 'mean', logTarget = false): Tensor {
  sameShape(input, target, 'kl_div');
  const pointwise = logTarget
    ? mul(exp(target), sub(target, input))
    : where(ne(target, 0), mul(target, sub(log(where(ne(target, 0), target, 1)), input)), 0);
  if (reduction === 'batchmean') return div(sum(pointwise), input.shape[0]);
  return reduce(pointwise, reduction);
}

/**
 * The VAE's KL term, KL(N(mu, sigma^2) || N(0, 1)) = -1/2 sum(1 + logvar - mu^2 - e^logvar),
 * summed over latent dims and averaged over the batch.
 */
export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  sameShape(mu, logvar, 'gaussian_kl');
  const perElem = sub(add(logvar, 1), add(square(mu), exp(logvar)));
  const dims = mu.shape.map((_, i) => i).slice(1);
  return mul(mean(sum(perElem, dims.length > 0 ? dims : undefined)), -0.5);
}

/** cosine_similarity along `dim`: x1.x2 / max(|x1| |x2|, eps). */
export function cosineSimilarity(x1: Tensor, x2: Tensor, dim = 1, eps = 1e-8): Tensor {
  const dot = sum(mul(x1, x2), dim);
  const n1 = sqrt(sum(square(x1), dim));
  const n2 = sqrt(sum(square(x2), dim));
  return div(dot, clamp(mul(n1, n2), eps));
}

/** pairwise_distance (euclidean for p = 2): |x1 - x2 + eps|_p along the last dim. */
export function pairwiseDistance(x1: Tensor, x2: Tensor, p = 2, eps = 1e-6): Tensor {
  const d = add(sub(x1, x2), eps);
  if (p === 1) return sum(abs(d), -1);
  return sqrt(sum(square(d), -1));
}

function classLast(lp: Tensor): Tensor {
  if (lp.shape.length === 2) return lp;
  const rank = lp.shape.length;
  const perm = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
  return reshape(permute(lp, perm), [-1, lp.shape[1]]);
}

function intTensor(v: Int32Array, shape: number[]): Tensor {
  return fromValues(v, shape, 'int32');
}
function floatTensor(v: Float32Array): Tensor {
  return fromValues(v, [v.length], 'float32');
}
