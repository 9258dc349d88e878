/**
 * Loss nodes: (prediction, target) -> a scalar. Their `weight` scales them in the total
 * training loss, so auxiliary heads and KL terms combine with the main loss.
 */
import type { Tensor } from '../../core/tensor.ts';
import { fromValues } from '../../core/engine.ts';
import { flatten, indexSelect, reshape } from '../../ops/layout.ts';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, gaussianKl, klDiv, mseLoss } from '../../ops/loss.ts';
import { hasGraph } from './graph-value.ts';
import type { InferContext, LayerDef, ParamSpec, ParamValues, PortSpec, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { choice, float, fmt, input, numel, port, str } from './util.ts';

const weightSpec: ParamSpec = { kind: 'float', default: 1, min: 0, step: 0.1, help: 'Scale of this loss in the total training loss' };
const scalar: ValueType = { kind: 'tensor', shape: [], dtype: 'float32' };
const predTarget = (): PortSpec[] => [port('prediction', 'tensor', { accepts: ['sequence'] }), port('target', 'tensor', { accepts: ['sequence'] })];
/** Losses that also score every node of a graph batch (node-level tasks): the prediction may be node features [nodes, F]. */
const nodePredTarget = (): PortSpec[] => [port('prediction', 'tensor', { accepts: ['sequence', 'graph'] }), port('target', 'tensor', { accepts: ['sequence'] })];

/** Ignored class targets (torch's default ignore_index): graph nodes outside the batch's split. */
const IGNORE_INDEX = -100;

/**
 * The per-sample shape of a prediction: a graph batch [nodes, F] predicts per node, so each
 * node is one sample of shape [F].
 */
function perSample(v: ValueType): number[] {
  return v.kind === 'graph' ? v.shape.slice(1) : v.shape;
}

function names(ctx: InferContext): [string, string] {
  return [ctx.sources?.[0] ?? 'the prediction', ctx.sources?.[1] ?? 'the target'];
}

function sameShape(ctx: InferContext, floatTarget = true): void {
  const p = input(ctx, 0);
  const t = input(ctx, 1);
  const [pn, tn] = names(ctx);
  if (p.dtype !== 'float32') throw new ShapeError(`its prediction from ${pn} holds integer ids; connect a layer's output`);
  if (floatTarget && t.dtype !== 'float32') throw new ShapeError(`needs numbers as targets, ${tn} gives class indices; set the Target's target to "values"`);
  const ps = perSample(p);
  if (ps.join() !== t.shape.join()) {
    const what = p.kind === 'graph' ? `${pn} gives ${fmt(ps)} per graph node` : `${pn} gives ${fmt(p.shape)}`;
    throw new ShapeError(`prediction and target must have the same shape: ${what}, ${tn} gives ${fmt(t.shape)}`);
  }
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

/**
 * Cross-entropy: class scores [C] with a class index, [T, C] per time step with [T] indices,
 * or a graph batch's node features [nodes, C] with one class index per node.
 */
function checkCrossEntropy(ctx: InferContext): void {
  const input0 = input(ctx, 0);
  const t = input(ctx, 1);
  const [pn, tn] = names(ctx);
  if (input0.dtype !== 'float32') throw new ShapeError(`its prediction from ${pn} holds integer ids; connect a layer's output`);
  if (input0.kind === 'graph' && input0.shape.length !== 2) throw new ShapeError(`needs node scores [nodes, classes] from a graph batch, ${pn} gives ${fmt(input0.shape)}`);
  // A graph batch scores each node: per node, the scores are [C].
  const p = { ...input0, shape: perSample(input0) };
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

/**
 * Node-level cross-entropy over a graph batch: scores [nodes, C] against one class index per
 * node, where nodes labelled -100 (outside the batch's split) are left out entirely, so label
 * smoothing too counts only the labelled nodes (as torch's ignore_index does).
 */
function nodeCrossEntropy(pred: Tensor, target: Tensor, smoothing: number): Tensor {
  const n = pred.shape[0];
  if (target.size !== n) throw new Error(`CrossEntropyLoss: the graph batch has ${n} nodes but the target holds ${target.size} labels; give one class index per node (-100 for nodes to ignore)`);
  const labels = target.dataSync();
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] !== IGNORE_INDEX) kept.push(i);
  if (kept.length === 0) throw new Error(`CrossEntropyLoss: none of the ${n} graph nodes has a label (every target is ${IGNORE_INDEX}, ignored)`);
  if (kept.length === n) return crossEntropy(pred, flatten(target), { labelSmoothing: smoothing });
  const idx = fromValues(Int32Array.from(kept), [kept.length], 'int32');
  return crossEntropy(indexSelect(pred, 0, idx), indexSelect(flatten(target), 0, idx), { labelSmoothing: smoothing });
}

function crossEntropyRun(pred: Tensor, target: Tensor, p: ParamValues): Tensor {
  const smoothing = Number(p.label_smoothing) || 0;
  if (pred.shape.length === 2 && target.dtype === 'int32' && target.shape.length === 1 && hasGraph(pred)) return nodeCrossEntropy(pred, target, smoothing);
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
    { inputs: nodePredTarget },
  ),
  lossDef(
    'CrossEntropyLoss',
    'Cross-entropy loss',
    'Measures how little probability the network gives to the correct class; takes raw scores (logits), applies softmax itself.',
    checkCrossEntropy,
    crossEntropyRun,
    (p) => `nn.CrossEntropyLoss(${Number(p.label_smoothing) ? `label_smoothing=${p.label_smoothing}` : ''})`,
    { params: { label_smoothing: float(0, 0, 1) }, inputs: nodePredTarget },
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
