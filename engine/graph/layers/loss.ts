/**
 * Loss nodes: (prediction, target) -> a scalar. Their `weight` scales them in the total
 * training loss, so auxiliary heads and KL terms combine with the main loss.
 */
import type { Tensor } from '../../core/tensor.ts';
import { flatten, reshape } from '../../ops/layout.ts';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, gaussianKl, klDiv, mseLoss } from '../../ops/loss.ts';
import type { InferContext, LayerDef, ParamSpec, ParamValues, PortSpec, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { choice, float, fmt, input, numel, port, str } from './util.ts';

const weightSpec: ParamSpec = { kind: 'float', default: 1, min: 0, step: 0.1, help: 'Scale of this loss in the total training loss' };
const scalar: ValueType = { kind: 'tensor', shape: [], dtype: 'float32' };
const predTarget = (): PortSpec[] => [port('prediction', 'tensor', { accepts: ['sequence'] }), port('target', 'tensor', { accepts: ['sequence'] })];

function names(ctx: InferContext): [string, string] {
  return [ctx.sources?.[0] ?? 'the prediction', ctx.sources?.[1] ?? 'the target'];
}

function sameShape(ctx: InferContext, floatTarget = true): void {
  const p = input(ctx, 0);
  const t = input(ctx, 1);
  const [pn, tn] = names(ctx);
  if (p.dtype !== 'float32') throw new ShapeError(`its prediction from ${pn} holds integer ids; connect a layer's output`);
  if (floatTarget && t.dtype !== 'float32') throw new ShapeError(`needs numbers as targets, ${tn} gives class indices; set the Target's target to "values"`);
  if (p.shape.join() !== t.shape.join()) throw new ShapeError(`prediction and target must have the same shape: ${pn} gives ${fmt(p.shape)}, ${tn} gives ${fmt(t.shape)}`);
}

function lossDef(
  type: string,
  displayName: string,
  description: string,
  check: (ctx: InferContext) => void,
  fn: (pred: Tensor, target: Tensor, p: ParamValues) => Tensor,
  torch: (p: ParamValues) => string,
  extra: { params?: Record<string, ParamSpec>; inputs?: () => PortSpec[] } = {},
): LayerDef {
  return {
    type,
    category: 'Loss',
    displayName,
    description,
    inputs: extra.inputs ?? predTarget,
    outputs: () => [port('loss')],
    params: { weight: weightSpec, ...(extra.params ?? {}) },
    infer(ctx) {
      check(ctx);
      return [scalar];
    },
    paramCount: () => 0,
    flops: (ctx) => 3 * numel(input(ctx).shape),
    build: (ctx) => ({ module: null, run: (xs) => [fn(xs[0], xs[1], ctx.params)] }),
    inspect: [],
    isLoss: true,
    torch: (ctx) => ({ functional: false, module: torch(ctx.params) }),
  };
}

/** Cross-entropy: class scores [C] with a class index, or [T, C] per time step with [T] indices. */
function checkCrossEntropy(ctx: InferContext): void {
  const p = input(ctx, 0);
  const t = input(ctx, 1);
  const [pn, tn] = names(ctx);
  if (p.dtype !== 'float32') throw new ShapeError(`its prediction from ${pn} holds integer ids; connect a layer's output`);
  const c = p.shape[p.shape.length - 1];
  if (p.shape.length === 0) throw new ShapeError(`needs class scores (one per class), ${pn} gives a scalar`);
  if (t.dtype === 'int32') {
    const want = p.shape.slice(0, -1);
    if (t.shape.join() !== want.join()) {
      throw new ShapeError(`${pn} gives scores of shape ${fmt(p.shape)}, so the target must hold ${want.length ? `class indices of shape ${fmt(want)}` : 'one class index per sample'}; ${tn} gives ${fmt(t.shape)}`);
    }
  } else if (t.shape.join() !== p.shape.join()) {
    throw new ShapeError(`with probability targets, target and prediction must have the same shape: ${pn} gives ${fmt(p.shape)}, ${tn} gives ${fmt(t.shape)}`);
  }
  if (p.shape.length > 2) throw new ShapeError(`expects class scores [classes] or [time, classes], ${pn} gives ${fmt(p.shape)}; add Flatten first`);
  if (c < 2 && t.dtype === 'int32') throw new ShapeError(`needs at least 2 classes, ${pn} gives ${c}; use BCEWithLogitsLoss for one output`);
}

function crossEntropyRun(pred: Tensor, target: Tensor, p: ParamValues): Tensor {
  const smoothing = Number(p.label_smoothing) || 0;
  if (pred.shape.length === 3) {
    // [N, T, C] scores: one classification per time step.
    const c = pred.shape[2];
    const flatPred = reshape(pred, [pred.shape[0] * pred.shape[1], c]);
    const flatTarget = target.dtype === 'int32' ? flatten(target) : reshape(target, [target.shape[0] * target.shape[1], c]);
    return crossEntropy(flatPred, flatTarget, { labelSmoothing: smoothing });
  }
  return crossEntropy(pred, target, { labelSmoothing: smoothing });
}

export const lossLayers: LayerDef[] = [
  lossDef(
    'MSELoss',
    'MSE loss',
    'The average squared difference between prediction and target, for predicting numbers.',
    (ctx) => sameShape(ctx),
    (a, b) => mseLoss(a, b),
    () => 'nn.MSELoss()',
  ),
  lossDef(
    'CrossEntropyLoss',
    'Cross-entropy loss',
    'Measures how little probability the network gives to the correct class; takes raw scores (logits), applies softmax itself.',
    checkCrossEntropy,
    crossEntropyRun,
    (p) => `nn.CrossEntropyLoss(${Number(p.label_smoothing) ? `label_smoothing=${p.label_smoothing}` : ''})`,
    { params: { label_smoothing: float(0, 0, 1) } },
  ),
  lossDef(
    'BCELoss',
    'Binary cross-entropy',
    'For yes/no outputs already squashed to 0..1 by a Sigmoid: penalises confident wrong answers most.',
    (ctx) => sameShape(ctx),
    (a, b) => binaryCrossEntropy(a, b),
    () => 'nn.BCELoss()',
  ),
  lossDef(
    'BCEWithLogitsLoss',
    'Binary cross-entropy (logits)',
    'Binary cross-entropy on raw scores; applies the sigmoid itself, which is more stable than Sigmoid + BCELoss.',
    (ctx) => sameShape(ctx),
    (a, b) => binaryCrossEntropyWithLogits(a, b),
    () => 'nn.BCEWithLogitsLoss()',
  ),
  lossDef(
    'KLDivLoss',
    'KL divergence',
    'How far the predicted distribution (given as log-probabilities) is from the target distribution.',
    (ctx) => sameShape(ctx),
    (a, b, p) => klDiv(a, b, str(p, 'reduction') as 'batchmean' | 'mean' | 'sum'),
    (p) => `nn.KLDivLoss(reduction='${str(p, 'reduction')}')`,
    { params: { reduction: choice('batchmean', ['batchmean', 'mean', 'sum']) } },
  ),
  lossDef(
    'GaussianKL',
    'Gaussian KL (VAE)',
    'Pulls the encoder distribution N(mu, exp(logvar)) towards a standard normal, the regulariser of a variational autoencoder.',
    (ctx) => {
      const mu = input(ctx, 0);
      const lv = input(ctx, 1);
      const [mn, ln] = names(ctx);
      if (mu.shape.join() !== lv.shape.join()) throw new ShapeError(`mu and logvar must have the same shape: ${mn} gives ${fmt(mu.shape)}, ${ln} gives ${fmt(lv.shape)}`);
    },
    (mu, logvar) => gaussianKl(mu, logvar),
    () => 'GaussianKL()  # torch: -0.5 * torch.mean(torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1))',
    { inputs: () => [port('mu'), port('logvar')] },
  ),
];
