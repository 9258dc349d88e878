/** Graph neural network layers over graph batches (node features [nodes, F]) and DeepSets over sets. */
import type { Tensor } from '../../core/tensor.ts';
import { relu } from '../../ops/activation.ts';
import { DeepSets, GATConv, GCNConv, GlobalPool } from '../../nn/gnn.ts';
import { Linear } from '../../nn/linear.ts';
import { Module } from '../../nn/module.ts';
import type { InferContext, LayerDef } from '../types.ts';
import { graphOf } from './graph-value.ts';
import { ShapeError } from '../types.ts';
import { bool, choice, flag, float, fmt, graphBatch, input, int, kwargs, num, port, requireFloat, sourceName } from './util.ts';

function nodeFeatures(ctx: InferContext): number {
  const x = input(ctx);
  requireFloat(x);
  if (x.kind !== 'graph') throw new ShapeError(`needs a graph batch, ${sourceName(ctx)} gives ${x.kind === 'tensor' ? 'a tensor' : 'a sequence'} of shape ${fmt(x.shape)}; connect a Graph input`);
  const expected = num(ctx.params, 'in_channels');
  if (expected > 0 && expected !== x.shape[1]) throw new ShapeError(`expects ${expected} features per graph node, its input has ${x.shape[1]}`);
  return x.shape[1];
}

const inChannels = int(0, 0, { help: '0: taken from the input' });

export const graphLayers: LayerDef[] = [
  {
    type: 'GCNConv',
    category: 'Graph',
    displayName: 'GCN convolution',
    description: 'Each graph node averages its neighbours\u2019 features (weighted by degree) and passes them through a learned linear map.',
    inputs: () => [port('x', 'graph')],
    outputs: () => [port('y', 'graph')],
    params: { out_channels: int(16, 1), bias: flag(true), in_channels: inChannels },
    infer: (ctx) => {
      nodeFeatures(ctx);
      return [graphBatch(num(ctx.params, 'out_channels'))];
    },
    paramCount: (ctx) => nodeFeatures(ctx) * num(ctx.params, 'out_channels') + (bool(ctx.params, 'bias') ? num(ctx.params, 'out_channels') : 0),
    flops: (ctx) => 2 * nodeFeatures(ctx) * num(ctx.params, 'out_channels') + 4 * num(ctx.params, 'out_channels'),
    build(ctx) {
      const m = new GCNConv(nodeFeatures(ctx), num(ctx.params, 'out_channels'), { bias: bool(ctx.params, 'bias'), generator: ctx.generator });
      return {
        module: m,
        run: ([x]) => {
          const g = graphOf(x, 'GCNConv');
          return [m.forward(x, g.edgeIndex, g.edgeWeight ?? null)];
        },
      };
    },
    inspect: ['activations'],
    torch: (ctx) => ({ functional: false, module: `GCNConv(${nodeFeatures(ctx)}, ${num(ctx.params, 'out_channels')}${kwargs(ctx.params, { bias: true })})` }),
  },
  {
    type: 'GATConv',
    category: 'Graph',
    displayName: 'GAT convolution',
    description: 'Each graph node mixes its neighbours\u2019 features with learned attention weights, so it can focus on the most relevant neighbours.',
    inputs: () => [port('x', 'graph')],
    outputs: () => [port('y', 'graph')],
    params: {
      out_channels: int(8, 1),
      heads: int(4, 1),
      concat: flag(true, 'Concatenate the heads (else average them)'),
      negative_slope: float(0.2, 0),
      dropout: float(0, 0, 1),
      bias: flag(true),
      in_channels: inChannels,
    },
    infer: (ctx) => {
      nodeFeatures(ctx);
      const out = num(ctx.params, 'out_channels') * (bool(ctx.params, 'concat') ? num(ctx.params, 'heads') : 1);
      return [graphBatch(out)];
    },
    paramCount(ctx) {
      const f = nodeFeatures(ctx);
      const h = num(ctx.params, 'heads');
      const c = num(ctx.params, 'out_channels');
      return f * h * c + 2 * h * c + (bool(ctx.params, 'bias') ? (bool(ctx.params, 'concat') ? h * c : c) : 0);
    },
    flops: (ctx) => {
      const h = num(ctx.params, 'heads');
      const c = num(ctx.params, 'out_channels');
      return 2 * nodeFeatures(ctx) * h * c + 8 * h * c;
    },
    build(ctx) {
      const p = ctx.params;
      const m = new GATConv(nodeFeatures(ctx), num(p, 'out_channels'), {
        heads: num(p, 'heads'),
        concat: bool(p, 'concat'),
        negativeSlope: num(p, 'negative_slope'),
        dropout: num(p, 'dropout'),
        bias: bool(p, 'bias'),
        generator: ctx.generator,
      });
      return { module: m, run: ([x]) => [m.forward(x, graphOf(x, 'GATConv').edgeIndex)] };
    },
    inspect: ['activations', 'attention'],
    torch: (ctx) => ({
      functional: false,
      module: `GATConv(${nodeFeatures(ctx)}, ${num(ctx.params, 'out_channels')}, heads=${num(ctx.params, 'heads')}${kwargs(ctx.params, { concat: true, negative_slope: 0.2, dropout: 0, bias: true })})`,
    }),
  },
  {
    type: 'GraphReadout',
    category: 'Graph',
    displayName: 'Graph readout',
    description: 'Pools the features of all nodes of each graph into one vector per graph (mean, sum or max).',
    inputs: () => [port('x', 'graph')],
    outputs: () => [port('y')],
    params: { reduce: choice('mean', ['mean', 'sum', 'max']) },
    infer: (ctx) => {
      const f = input(ctx).shape[1];
      if (input(ctx).kind !== 'graph') throw new ShapeError(`needs a graph batch, ${sourceName(ctx)} gives shape ${fmt(input(ctx).shape)}`);
      return [{ kind: 'tensor', shape: [f], dtype: 'float32' }];
    },
    paramCount: () => 0,
    flops: (ctx) => input(ctx).shape[1],
    build(ctx) {
      const m = new GlobalPool(ctx.params.reduce === 'sum' ? 'sum' : ctx.params.reduce === 'max' ? 'max' : 'mean');
      return {
        module: null,
        run: ([x]) => {
          const g = graphOf(x, 'GraphReadout');
          return [m.pool(x, g.batch, g.numGraphs)];
        },
      };
    },
    inspect: ['activations'],
    torch: (ctx) => ({ functional: true, expr: `global_${ctx.params.reduce === 'sum' ? 'add' : String(ctx.params.reduce)}_pool(${ctx.args[0]}, batch)` }),
  },
  {
    type: 'DeepSets',
    category: 'Graph',
    displayName: 'Deep Sets',
    description: 'Encodes every element of a set, pools them (so order does not matter), then maps the pooled vector to the output.',
    inputs: () => [port('x', 'sequence', { label: 'set of vectors' })],
    outputs: () => [port('y')],
    params: { hidden: int(64, 1), out_features: int(32, 1), pool: choice('sum', ['sum', 'mean', 'max']) },
    infer: (ctx) => {
      const x = input(ctx);
      requireFloat(x);
      if (x.kind !== 'sequence' || x.shape.length !== 2) throw new ShapeError(`needs a set given as a sequence [elements, features], ${sourceName(ctx)} gives ${fmt(x.shape)}`);
      return [{ kind: 'tensor', shape: [num(ctx.params, 'out_features')], dtype: 'float32' }];
    },
    paramCount(ctx) {
      const f = input(ctx).shape[1];
      const h = num(ctx.params, 'hidden');
      const o = num(ctx.params, 'out_features');
      // phi: Linear(f, h), ReLU, Linear(h, h); rho: Linear(h, h), ReLU, Linear(h, o)
      return f * h + h + 2 * (h * h + h) + h * o + o;
    },
    flops(ctx) {
      const [t, f] = input(ctx).shape;
      const h = num(ctx.params, 'hidden');
      const o = num(ctx.params, 'out_features');
      return 2 * (t * (f * h + h * h) + h * h + h * o);
    },
    build(ctx) {
      const f = input(ctx).shape[1];
      const h = num(ctx.params, 'hidden');
      const g = ctx.generator;
      const pool = ctx.params.pool === 'mean' ? 'mean' : ctx.params.pool === 'max' ? 'max' : 'sum';
      const m = new DeepSets(new Mlp(new Linear(f, h, { generator: g }), new Linear(h, h, { generator: g })), new Mlp(new Linear(h, h, { generator: g }), new Linear(h, num(ctx.params, 'out_features'), { generator: g })), pool);
      return { module: m, run: ([x]) => [m.forward(x)] };
    },
    inspect: ['activations'],
    torch: (ctx) => ({ functional: false, module: `DeepSets(${input(ctx).shape[1]}, ${num(ctx.params, 'hidden')}, ${num(ctx.params, 'out_features')}, pool='${String(ctx.params.pool)}')` }),
  },
];

/** Linear, ReLU, Linear; children named "0" and "2" as in torch's nn.Sequential. */
class Mlp extends Module {
  constructor(
    readonly first: Linear,
    readonly second: Linear,
  ) {
    super();
    this.registerModule('0', first);
    this.registerModule('2', second);
  }
  forward(x: Tensor): Tensor {
    return this.second.forward(relu(this.first.forward(x)));
  }
}
