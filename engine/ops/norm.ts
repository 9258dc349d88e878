/**
 * Normalisation ops (torch.nn.functional.batch_norm, layer_norm, group_norm). Batch norm
 * and layer norm run as fused kernels with explicit backward kernels; group norm is a
 * composite of reductions.
 */
import { applyMulti, fromValues, recordGrad } from '../core/engine.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { dropoutMask } from '../core/dropout-mask.ts';
import { full, ones, zeros } from './creation.ts';
import { add, div, mul, sqrt, sub } from './elementwise.ts';
import { reshape } from './layout.ts';
import { mean, variance } from './reduce.ts';

function checkChannelVector(t: Tensor | null, c: number, what: string, op: string, xShape: readonly number[]): void {
  if (t && (t.shape.length !== 1 || t.shape[0] !== c)) {
    throw new Error(`${op}: ${what} has shape ${shapeStr(t.shape)}, expected [${c}] for an input of shape ${shapeStr(xShape)} (${c} channels in dimension 1)`);
  }
}

/**
 * batch_norm over an input [N, C], [N, C, L] or [N, C, H, W] (any [N, C, *]).
 * Training normalises with the batch's mean and biased variance per channel and, when
 * running statistics are given, updates them in place:
 * running = (1 - momentum) * running + momentum * batch (the variance unbiased), as torch.
 * Eval normalises with the running statistics. Output has the input's shape.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  if (x.shape.length < 2) throw new Error(`batch_norm: input needs shape [N, C, *], got ${shapeStr(x.shape)}`);
  const c = x.shape[1];
  checkChannelVector(weight, c, 'weight', 'batch_norm', x.shape);
  checkChannelVector(bias, c, 'bias', 'batch_norm', x.shape);
  checkChannelVector(runningMean, c, 'running_mean', 'batch_norm', x.shape);
  checkChannelVector(runningVar, c, 'running_var', 'batch_norm', x.shape);
  if ((runningMean === null) !== (runningVar === null)) throw new Error('batch_norm: running_mean and running_var must be given together');
  if (!training && !runningMean) throw new Error('batch_norm: eval mode needs running_mean and running_var');
  if (training && x.size / c <= 1) {
    throw new Error(`batch_norm: expected more than 1 value per channel when training, got input of shape ${shapeStr(x.shape)}`);
  }
  const w = weight ?? ones([c]);
  const b = bias ?? zeros([c]);
  const rm = runningMean ?? zeros([c]);
  const rv = runningVar ?? ones([c]);
  const outs = applyMulti('BatchNorm', [x, w, b, rm, rv], { training, momentum, eps }, ([dy]) => {
    const [dx, dw, db] = applyMulti('BatchNormGrad', [dy, x, w, outs[1], outs[2]], { training });
    return [dx, weight ? dw : null, bias ? db : null, null, null];
  });
  if (training && runningMean && runningVar) {
    runningMean.assign(outs[3]);
    runningVar.assign(outs[4]);
  }
  return outs[0];
}

/** Checks layer_norm's shapes; returns the number of normalised elements per row. */
function checkLayerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null, bias: Tensor | null): number {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.shape.length - k);
  if (k === 0 || k > x.shape.length || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new Error(`layer_norm: normalized_shape ${shapeStr(normalizedShape)} does not match the trailing dimensions of input shape ${shapeStr(x.shape)}`);
  }
  for (const [t, what] of [
    [weight, 'weight'],
    [bias, 'bias'],
  ] as const) {
    if (t && (t.shape.length !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new Error(`layer_norm: ${what} has shape ${shapeStr(t.shape)}, expected normalized_shape ${shapeStr(normalizedShape)}`);
    }
  }
  return normalizedShape.reduce((a, d) => a * d, 1);
}

/**
 * layer_norm: normalises over the trailing dims `normalizedShape` (biased variance), then
 * applies the optional elementwise weight and bias of shape `normalizedShape`.
 * Output has the input's shape.
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const inner = checkLayerNorm(x, normalizedShape, weight, bias);
  const affine = weight !== null || bias !== null;
  const w = weight ?? full(normalizedShape, 1);
  const b = bias ?? zeros(normalizedShape);
  const outs = applyMulti('LayerNorm', [x, w, b], { inner, eps, affine }, ([dy]) => {
    const [dx, dw, db] = applyMulti('LayerNormGrad', [dy, x, w, outs[1], outs[2]], { inner, affine });
    return [dx, weight ? reshape(dw, normalizedShape) : null, bias ? reshape(db, normalizedShape) : null];
  });
  return outs[0];
}

/**
 * group_norm: splits the C channels of [N, C, *] into `numGroups` groups and normalises
 * each (sample, group) over its channels and positions, then applies per-channel weight
 * and bias. Output has the input's shape.
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  if (x.shape.length < 2) throw new Error(`group_norm: input needs shape [N, C, *], got ${shapeStr(x.shape)}`);
  const [n, c] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new Error(`group_norm: ${c} channels cannot be split into ${numGroups} groups`);
  }
  checkChannelVector(weight, c, 'weight', 'group_norm', x.shape);
  checkChannelVector(bias, c, 'bias', 'group_norm', x.shape);
  const grouped = reshape(x, [n, numGroups, -1]);
  const mu = mean(grouped, 2, true);
  const v = variance(grouped, 2, true);
  const normed = reshape(div(sub(grouped, mu), sqrt(add(v, eps))), x.shape);
  const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
  let y = normed;
  if (weight) y = mul(y, reshape(weight, perChannel));
  if (bias) y = add(y, reshape(bias, perChannel));
  return y;
}

/**
 * layer_norm(x + dropout(r, p)) over the trailing `normalizedShape` dims, as one kernel with
 * its own backward: the residual-then-norm step of a post-norm transformer layer. The
 * dropout mask is drawn from `generator` exactly as ops/dropout.ts draws it (one draw per
 * element, in order), so the result equals the op chain's. Dropout acts only when
 * `training` and p > 0.
 */
export function addLayerNorm(
  x: Tensor, r: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5,
  dropoutOpts: { p: number; training: boolean; generator?: Generator } = { p: 0, training: false },
): Tensor {
  if (x.rank !== r.rank || x.shape.some((d, i) => d !== r.shape[i])) {
    throw new Error(`add_layer_norm: the residual ${shapeStr(x.shape)} and the branch ${shapeStr(r.shape)} must have the same shape`);
  }
  const inner = checkLayerNorm(x, normalizedShape, weight, bias);
  const { p, training } = dropoutOpts;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must be between 0 and 1, got ${p}`);
  const affine = weight !== null || bias !== null;
  const w = weight ?? full(normalizedShape, 1);
  const b = bias ?? zeros(normalizedShape);
  const drop = training && p > 0;
  const inputs = [x, r, w, b];
  if (drop) {
    inputs.push(fromValues(dropoutMask(r.size, p, dropoutOpts.generator ?? defaultGenerator), r.shape));
  }
  const attrs = { inner, eps, affine, dropout: drop };
  const outs = applyMulti('AddLayerNorm', inputs, attrs);
  recordGrad('addLayerNorm', inputs, [outs[0]], ([dy]) => {
    const g = applyMulti('AddLayerNormGrad', drop ? [dy, outs[1], w, outs[2], inputs[4]] : [dy, outs[1], w, outs[2]], attrs);
    const [dx, dr, dw, db] = drop ? g : [g[0], g[0], g[1], g[2]];
    return [dx, dr, weight ? reshape(dw, normalizedShape) : null, bias ? reshape(db, normalizedShape) : null, null];
  });
  return outs[0];
}
