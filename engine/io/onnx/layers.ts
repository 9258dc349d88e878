/**
 * ONNX emitters, one per layer type: each turns a graph node (with its trained weights)
 * into ONNX opset-17 nodes. Layouts follow PyTorch's (NCHW images, batch-first sequences),
 * as does the engine, so weights go in unchanged except where ONNX orders recurrent gates
 * differently. Layer types without an emitter are named by the exporter with the reason
 * from `unsupportedReasons`.
 */
import type { GraphNode, ParamValues, ValueType } from '../../graph/types.ts';
import { convPadding } from '../../graph/layers/conv.ts';
import { sinusoidTable } from '../../nn/sequence.ts';
import type { AttrValue } from './proto.ts';

export interface OnnxWeight {
  shape: number[];
  values: Float32Array;
}

/** Adds ONNX nodes and constants to the model being built; names are made unique. */
export interface OnnxBuilder {
  /** Adds a node and returns its output names. */
  op(opType: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs?: number): string[];
  /** A float32 initializer. */
  floats(hint: string, dims: number[], values: ArrayLike<number>): string;
  /** An int64 initializer (shapes, axes, indices). */
  int64s(hint: string, dims: number[], values: readonly number[]): string;
}

export interface EmitContext {
  node: GraphNode;
  /** Parameters with defaults filled in. */
  params: ParamValues;
  /** ONNX value names of the node's inputs, in port order ('' where unconnected). */
  inputs: string[];
  /** Per-sample types of the inputs and outputs (batch dimension left out). */
  inputTypes: (ValueType | undefined)[];
  outputTypes: (ValueType | undefined)[];
  /** A trained parameter or buffer of the node's module, by its local name ("weight"). */
  weight(name: string): OnnxWeight | undefined;
  b: OnnxBuilder;
}

export type LayerEmitter = (ctx: EmitContext) => string[];

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

// ---------------------------------------------------------------------------------------
// Parameter helpers

const num = (p: ParamValues, k: string): number => Number(p[k]);
const bool = (p: ParamValues, k: string): boolean => Boolean(p[k]);
function ints(p: ParamValues, k: string): number[] {
  const v = p[k];
  return Array.isArray(v) ? v : typeof v === 'number' ? [v] : [];
}
function pair(p: ParamValues, k: string): [number, number] {
  const v = ints(p, k);
  return v.length === 1 ? [v[0]!, v[0]!] : [v[0]!, v[1]!];
}

function need(ctx: EmitContext, name: string): OnnxWeight {
  const w = ctx.weight(name);
  if (!w) throw new OnnxExportError(`${ctx.node.id}: the model has no "${name}" for this ${ctx.node.type}`);
  return w;
}

function inType(ctx: EmitContext, i = 0): ValueType {
  const t = ctx.inputTypes[i];
  if (!t) throw new OnnxExportError(`${ctx.node.id}: input ${i + 1} has no known shape`);
  return t;
}

function outType(ctx: EmitContext, i = 0): ValueType {
  const t = ctx.outputTypes[i];
  if (!t) throw new OnnxExportError(`${ctx.node.id}: output ${i + 1} has no known shape`);
  return t;
}

/** Transpose of a 2-D weight, [r, c] -> [c, r]. */
function transpose2d(w: OnnxWeight): OnnxWeight {
  const [r, c] = w.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = w.values[i * c + j]!;
  return { shape: [c, r], values: out };
}

const unary = (opType: string): LayerEmitter => (ctx) => ctx.b.op(opType, [ctx.inputs[0]!]);

function weightOrConst(ctx: EmitContext, name: string, size: number, fill: number): string {
  const w = ctx.weight(name);
  return w ? ctx.b.floats(name, [size], w.values) : ctx.b.floats(name, [size], new Float32Array(size).fill(fill));
}

// ---------------------------------------------------------------------------------------
// Recurrent layers: ONNX wants [T, N, F] and its own gate order.

/** Torch gate blocks in ONNX order: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h. */
const GATE_ORDER: Record<string, number[]> = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] };

function reorderGates(values: Float32Array, gates: number[], rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  const block = rows * cols;
  gates.forEach((src, dst) => out.set(values.subarray(src * block, (src + 1) * block), dst * block));
  return out;
}

const recurrent: LayerEmitter = (ctx) => {
  const { b, params: p, node } = ctx;
  const type = node.type;
  const order = GATE_ORDER[type]!;
  const g = order.length;
  const h = num(p, 'hidden_size');
  const layers = num(p, 'num_layers');
  const dirs = bool(p, 'bidirectional') ? 2 : 1;
  const hasBias = bool(p, 'bias');
  let x = b.op('Transpose', [ctx.inputs[0]!], { perm: [1, 0, 2] })[0]!; // [T, N, F]
  let lastH = '';
  for (let l = 0; l < layers; l++) {
    const inF = l === 0 ? inType(ctx).shape[1]! : dirs * h;
    const W = new Float32Array(dirs * g * h * inF);
    const R = new Float32Array(dirs * g * h * h);
    const B = new Float32Array(dirs * 2 * g * h);
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      W.set(reorderGates(need(ctx, `weight_ih${sfx}`).values, order, h, inF), d * g * h * inF);
      R.set(reorderGates(need(ctx, `weight_hh${sfx}`).values, order, h, h), d * g * h * h);
      if (hasBias) {
        B.set(reorderGates(need(ctx, `bias_ih${sfx}`).values, order, h, 1), d * 2 * g * h);
        B.set(reorderGates(need(ctx, `bias_hh${sfx}`).values, order, h, 1), d * 2 * g * h + g * h);
      }
    }
    const inputs = [x, b.floats(`W_l${l}`, [dirs, g * h, inF], W), b.floats(`R_l${l}`, [dirs, g * h, h], R)];
    if (hasBias) inputs.push(b.floats(`B_l${l}`, [dirs, 2 * g * h], B));
    const attrs: Record<string, AttrValue> = { hidden_size: h, direction: dirs === 2 ? 'bidirectional' : 'forward' };
    if (type === 'GRU') attrs.linear_before_reset = 1;
    if (type === 'RNN') attrs.activations = { strings: Array<string>(dirs).fill(String(p.nonlinearity) === 'relu' ? 'Relu' : 'Tanh') };
    const [y, yh] = b.op(type, inputs, attrs, 2) as [string, string]; // y [T, D, N, H], yh [D, N, H]
    const seq = b.op('Transpose', [y], { perm: [0, 2, 1, 3] })[0]!; // [T, N, D, H]
    x = b.op('Reshape', [seq, b.int64s('seq_shape', [3], [0, 0, -1])])[0]!; // [T, N, D*H]
    lastH = yh;
  }
  const output = b.op('Transpose', [x], { perm: [1, 0, 2] })[0]!;
  const hT = b.op('Transpose', [lastH], { perm: [1, 0, 2] })[0]!; // [N, D, H]
  const hidden = b.op('Reshape', [hT, b.int64s('hidden_shape', [2], [0, -1])])[0]!;
  return [output, hidden];
};

// ---------------------------------------------------------------------------------------
// Attention and transformers. Sequences are batch-first [N, T, E] as in the engine; the
// sequence lengths are fixed by the graph, so masks and position tables are constants.

/** x @ w^T + b for a torch Linear weight [out, in], on inputs of any rank. */
function linearNd(ctx: EmitContext, x: string, prefix: string, w: OnnxWeight, bias: OnnxWeight | undefined): string {
  const wt = transpose2d(w);
  const y = ctx.b.op('MatMul', [x, ctx.b.floats(`${prefix}weight_t`, wt.shape, wt.values)])[0]!;
  return bias ? ctx.b.op('Add', [y, ctx.b.floats(`${prefix}bias`, bias.shape, bias.values)])[0]! : y;
}

/** Rows [start, start + count) of a 2-D weight, or of a 1-D bias. */
function rows(w: OnnxWeight, start: number, count: number): OnnxWeight {
  const cols = w.shape.length === 2 ? w.shape[1]! : 1;
  return { shape: w.shape.length === 2 ? [count, cols] : [count], values: w.values.slice(start * cols, (start + count) * cols) };
}

interface AttentionCall {
  /** Name prefix of the torch MultiheadAttention's parameters ("" or "self_attn."). */
  prefix: string;
  heads: number;
  query: string;
  key: string;
  value: string;
  /** Query and key lengths (fixed by the graph). */
  L: number;
  S: number;
  E: number;
  causal?: boolean;
  /** Also return the attention weights averaged over heads [N, L, S]. */
  weights?: boolean;
}

/**
 * torch.nn.MultiheadAttention (batch-first, eval): projections from in_proj_weight/bias,
 * per-head softmax(q k^T / sqrt(d) + mask) v, heads joined, out_proj. Returns [output, weights?].
 */
function multiheadAttention(ctx: EmitContext, a: AttentionCall): string[] {
  const { b } = ctx;
  const { E, L, S, heads: h } = a;
  const d = E / h;
  const w = need(ctx, `${a.prefix}in_proj_weight`);
  const bias = ctx.weight(`${a.prefix}in_proj_bias`);
  const proj = (x: string, i: number, hint: string) => linearNd(ctx, x, `${a.prefix}${hint}_proj.`, rows(w, i * E, E), bias && rows(bias, i * E, E));
  const split = (x: string, perm: number[]) => b.op('Transpose', [b.op('Reshape', [x, b.int64s(`${a.prefix}heads_shape`, [4], [0, 0, h, d])])[0]!], { perm })[0]!;
  const q = split(proj(a.query, 0, 'q'), [0, 2, 1, 3]); // [N, h, L, d]
  const kT = split(proj(a.key, 1, 'k'), [0, 2, 3, 1]); // [N, h, d, S]
  const v = split(proj(a.value, 2, 'v'), [0, 2, 1, 3]); // [N, h, S, d]
  let scores = b.op('Mul', [b.op('MatMul', [q, kT])[0]!, b.floats(`${a.prefix}scale`, [], [1 / Math.sqrt(d)])])[0]!; // [N, h, L, S]
  if (a.causal) {
    const mask = new Float32Array(L * S);
    for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) mask[i * S + j] = -Infinity;
    scores = b.op('Add', [scores, b.floats(`${a.prefix}causal_mask`, [L, S], mask)])[0]!;
  }
  const p = b.op('Softmax', [scores], { axis: -1 })[0]!;
  const o = b.op('Transpose', [b.op('MatMul', [p, v])[0]!], { perm: [0, 2, 1, 3] })[0]!; // [N, L, h, d]
  const joined = b.op('Reshape', [o, b.int64s(`${a.prefix}joined_shape`, [3], [0, 0, E])])[0]!;
  const out = linearNd(ctx, joined, `${a.prefix}out_proj.`, need(ctx, `${a.prefix}out_proj.weight`), ctx.weight(`${a.prefix}out_proj.bias`));
  if (!a.weights) return [out];
  return [out, b.op('ReduceMean', [p], { axes: [1], keepdims: 0 })[0]!];
}

/** LayerNorm over the last axis with the weights under `name` (torch's eps 1e-5). */
function layerNormLast(ctx: EmitContext, x: string, name: string, E: number): string {
  const w = ctx.weight(`${name}.weight`);
  const bias = ctx.weight(`${name}.bias`);
  return ctx.b.op(
    'LayerNormalization',
    [x, ctx.b.floats(`${name}.weight`, [E], w ? w.values : new Float32Array(E).fill(1)), ctx.b.floats(`${name}.bias`, [E], bias ? bias.values : new Float32Array(E))],
    { axis: -1, epsilon: { float: 1e-5 } },
  )[0]!;
}

/** linear2(act(linear1(x))) of a transformer layer. */
function feedForward(ctx: EmitContext, x: string): string {
  const h = linearNd(ctx, x, 'linear1.', need(ctx, 'linear1.weight'), ctx.weight('linear1.bias'));
  const act = String(ctx.params.activation) === 'gelu' ? geluExact(ctx, h) : ctx.b.op('Relu', [h])[0]!;
  return linearNd(ctx, act, 'linear2.', need(ctx, 'linear2.weight'), ctx.weight('linear2.bias'));
}

function geluExact(ctx: EmitContext, x: string): string {
  const { b } = ctx;
  const inner = b.op('Erf', [b.op('Mul', [x, b.floats('inv_sqrt2', [], [Math.SQRT1_2])])[0]!])[0]!;
  const onePlus = b.op('Add', [inner, b.floats('one', [], [1])])[0]!;
  return b.op('Mul', [b.op('Mul', [x, onePlus])[0]!, b.floats('half', [], [0.5])])[0]!;
}

/** The residual sub-layers of a transformer layer: post-norm norm(x + f(x)) or pre-norm x + f(norm(x)). */
function residual(ctx: EmitContext, x: string, norm: string, E: number, f: (y: string) => string): string {
  if (bool(ctx.params, 'norm_first')) return ctx.b.op('Add', [x, f(layerNormLast(ctx, x, norm, E))])[0]!;
  return layerNormLast(ctx, ctx.b.op('Add', [x, f(x)])[0]!, norm, E);
}

const attentionEmitters: Record<string, LayerEmitter> = {
  MultiheadAttention(ctx) {
    const [L, E] = inType(ctx).shape as [number, number];
    const q = ctx.inputs[0]!;
    const k = ctx.inputs[1] || q;
    const v = ctx.inputs[2] || k;
    const S = ctx.inputs[1] ? inType(ctx, 1).shape[0]! : ctx.inputs[2] ? inType(ctx, 2).shape[0]! : L;
    return multiheadAttention(ctx, { prefix: '', heads: num(ctx.params, 'num_heads'), query: q, key: k, value: v, L, S, E, weights: true, causal: bool(ctx.params, 'causal') });
  },

  TransformerEncoderLayer(ctx) {
    const [T, E] = inType(ctx).shape as [number, number];
    const heads = num(ctx.params, 'nhead');
    let x = ctx.inputs[0]!;
    x = residual(ctx, x, 'norm1', E, (y) => multiheadAttention(ctx, { prefix: 'self_attn.', heads, query: y, key: y, value: y, L: T, S: T, E, causal: bool(ctx.params, 'causal') })[0]!);
    x = residual(ctx, x, 'norm2', E, (y) => feedForward(ctx, y));
    return [x];
  },

  TransformerDecoderLayer(ctx) {
    const [T, E] = inType(ctx).shape as [number, number];
    const S = inType(ctx, 1).shape[0]!;
    const heads = num(ctx.params, 'nhead');
    const memory = ctx.inputs[1]!;
    let x = ctx.inputs[0]!;
    x = residual(ctx, x, 'norm1', E, (y) => multiheadAttention(ctx, { prefix: 'self_attn.', heads, query: y, key: y, value: y, L: T, S: T, E, causal: ctx.params.causal !== false })[0]!);
    x = residual(ctx, x, 'norm2', E, (y) => multiheadAttention(ctx, { prefix: 'multihead_attn.', heads, query: y, key: memory, value: memory, L: T, S, E })[0]!);
    x = residual(ctx, x, 'norm3', E, (y) => feedForward(ctx, y));
    return [x];
  },

  PositionalEncoding(ctx) {
    const [T, E] = inType(ctx).shape as [number, number];
    const table = String(ctx.params.mode) === 'learned' ? need(ctx, 'weight').values.subarray(0, T * E) : sinusoidTable(T, E);
    return ctx.b.op('Add', [ctx.inputs[0]!, ctx.b.floats('positions', [T, E], table)]);
  },

  PatchEmbedding(ctx) {
    const { b } = ctx;
    const p = num(ctx.params, 'patch_size');
    const w = need(ctx, 'proj.weight');
    const E = w.shape[0]!;
    const conv = b.op('Conv', [ctx.inputs[0]!, b.floats('proj.weight', w.shape, w.values), b.floats('proj.bias', [E], need(ctx, 'proj.bias').values)], {
      kernel_shape: [p, p],
      strides: [p, p],
    })[0]!; // [N, E, H/p, W/p]
    const flat = b.op('Reshape', [conv, b.int64s('flat_shape', [3], [0, E, -1])])[0]!;
    let tokens = b.op('Transpose', [flat], { perm: [0, 2, 1] })[0]!; // [N, P, E], patches in row-major order
    const cls = ctx.weight('cls_token');
    if (cls) {
      // The class token [1, 1, E] expanded to the batch: Expand to [N, 1, E] from the input's shape.
      const batch = b.op('Slice', [b.op('Shape', [ctx.inputs[0]!])[0]!, b.int64s('zero', [1], [0]), b.int64s('one', [1], [1])])[0]!;
      const shape = b.op('Concat', [batch, b.int64s('token_shape', [2], [1, E])], { axis: 0 })[0]!;
      const clsTokens = b.op('Expand', [b.floats('cls_token', [1, 1, E], cls.values), shape])[0]!;
      tokens = b.op('Concat', [clsTokens, tokens], { axis: 1 })[0]!;
    }
    const pos = need(ctx, 'pos_embed');
    return b.op('Add', [tokens, b.floats('pos_embed', pos.shape, pos.values)]);
  },

  Reparameterize(ctx) {
    // Evaluation: z = mu; KL(N(mu, e^logvar) || N(0, 1)) per sample = -1/2 sum(1 + logvar - mu^2 - e^logvar).
    const { b } = ctx;
    const [mu, logvar] = [ctx.inputs[0]!, ctx.inputs[1]!];
    const z = b.op('Identity', [mu])[0]!;
    const terms = b.op('Sub', [b.op('Add', [logvar, b.floats('one', [], [1])])[0]!, b.op('Add', [b.op('Mul', [mu, mu])[0]!, b.op('Exp', [logvar])[0]!])[0]!])[0]!;
    const total = b.op('ReduceSum', [terms, b.int64s('axes', [1], [1])], { keepdims: 0 })[0]!;
    return [z, b.op('Mul', [total, b.floats('minus_half', [], [-0.5])])[0]!];
  },

  DeepSets(ctx) {
    // rho(pool(phi(x_i))), phi and rho Linear-ReLU-Linear, pooled over the set axis.
    const mlp = (x: string, name: string) => {
      const h = ctx.b.op('Relu', [linearNd(ctx, x, `${name}.0.`, need(ctx, `${name}.0.weight`), ctx.weight(`${name}.0.bias`))])[0]!;
      return linearNd(ctx, h, `${name}.2.`, need(ctx, `${name}.2.weight`), ctx.weight(`${name}.2.bias`));
    };
    const e = mlp(ctx.inputs[0]!, 'phi');
    const pool = String(ctx.params.pool);
    const pooled =
      pool === 'sum'
        ? ctx.b.op('ReduceSum', [e, ctx.b.int64s('axes', [1], [1])], { keepdims: 0 })[0]!
        : ctx.b.op(pool === 'max' ? 'ReduceMax' : 'ReduceMean', [e], { axes: [1], keepdims: 0 })[0]!;
    return [mlp(pooled, 'rho')];
  },
};

/** Why one node cannot be exported although its type can (null when it can). */
export function onnxNodeProblem(node: GraphNode): string | null {
  if (node.type === 'Reparameterize' && node.params.sample_in_eval === true) {
    return 'samples z at random also in evaluation (sample_in_eval), which has no deterministic ONNX form; turn sample_in_eval off to export z = mu';
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// The emitters

export const onnxLayers: Record<string, LayerEmitter> = {
  Linear(ctx) {
    const w = need(ctx, 'weight');
    const bias = ctx.weight('bias');
    const x = ctx.inputs[0]!;
    if (inType(ctx).shape.length === 1) {
      const ins = [x, ctx.b.floats('weight', w.shape, w.values)];
      if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
      return ctx.b.op('Gemm', ins, { transB: 1 });
    }
    const wt = transpose2d(w);
    const y = ctx.b.op('MatMul', [x, ctx.b.floats('weight_t', wt.shape, wt.values)])[0]!;
    return bias ? ctx.b.op('Add', [y, ctx.b.floats('bias', bias.shape, bias.values)]) : [y];
  },

  Conv2d(ctx) {
    const p = ctx.params;
    const w = need(ctx, 'weight');
    const bias = ctx.weight('bias');
    const pad = convPadding(p, [w.shape[2]!, w.shape[3]!], pair(p, 'dilation'), pair(p, 'stride'));
    const ins = [ctx.inputs[0]!, ctx.b.floats('weight', w.shape, w.values)];
    if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
    return ctx.b.op('Conv', ins, {
      kernel_shape: [w.shape[2]!, w.shape[3]!],
      strides: pair(p, 'stride'),
      pads: [...pad.begin, ...pad.end],
      dilations: pair(p, 'dilation'),
      group: num(p, 'groups'),
    });
  },

  Conv1d(ctx) {
    const p = ctx.params;
    const w = need(ctx, 'weight');
    const bias = ctx.weight('bias');
    const pad = convPadding(p, [w.shape[2]!], [ints(p, 'dilation')[0]!], [ints(p, 'stride')[0]!]);
    const ins = [ctx.inputs[0]!, ctx.b.floats('weight', w.shape, w.values)];
    if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
    return ctx.b.op('Conv', ins, {
      kernel_shape: [w.shape[2]!],
      strides: [ints(p, 'stride')[0]!],
      pads: [...pad.begin, ...pad.end],
      dilations: [ints(p, 'dilation')[0]!],
      group: num(p, 'groups'),
    });
  },

  ConvTranspose2d(ctx) {
    const p = ctx.params;
    const w = need(ctx, 'weight');
    const bias = ctx.weight('bias');
    const [ph, pw] = pair(p, 'padding');
    const ins = [ctx.inputs[0]!, ctx.b.floats('weight', w.shape, w.values)];
    if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
    return ctx.b.op('ConvTranspose', ins, {
      kernel_shape: [w.shape[2]!, w.shape[3]!],
      strides: pair(p, 'stride'),
      pads: [ph, pw, ph, pw],
      dilations: pair(p, 'dilation'),
      output_padding: pair(p, 'output_padding'),
      group: num(p, 'groups'),
    });
  },

  MaxPool2d(ctx) {
    const p = ctx.params;
    const k = pair(p, 'kernel_size');
    const [ph, pw] = pair(p, 'padding');
    return ctx.b.op('MaxPool', [ctx.inputs[0]!], {
      kernel_shape: k,
      strides: ints(p, 'stride').length ? pair(p, 'stride') : k,
      pads: [ph, pw, ph, pw],
      dilations: pair(p, 'dilation'),
      ceil_mode: bool(p, 'ceil_mode') ? 1 : 0,
    });
  },

  AvgPool2d(ctx) {
    const p = ctx.params;
    const k = pair(p, 'kernel_size');
    const [ph, pw] = pair(p, 'padding');
    return ctx.b.op('AveragePool', [ctx.inputs[0]!], {
      kernel_shape: k,
      strides: ints(p, 'stride').length ? pair(p, 'stride') : k,
      pads: [ph, pw, ph, pw],
      ceil_mode: bool(p, 'ceil_mode') ? 1 : 0,
      count_include_pad: bool(p, 'count_include_pad') ? 1 : 0,
    });
  },

  AdaptiveAvgPool2d(ctx) {
    const [, h, w] = inType(ctx).shape as [number, number, number];
    const [oh, ow] = pair(ctx.params, 'output_size');
    if (oh === 1 && ow === 1) return ctx.b.op('GlobalAveragePool', [ctx.inputs[0]!]);
    if (h % oh !== 0 || w % ow !== 0) {
      throw new OnnxExportError(`${ctx.node.id}: AdaptiveAvgPool2d from ${h}x${w} to ${oh}x${ow} has uneven windows, which ONNX cannot express; use sizes that divide the input`);
    }
    const k = [h / oh, w / ow];
    return ctx.b.op('AveragePool', [ctx.inputs[0]!], { kernel_shape: k, strides: k });
  },

  GlobalAvgPool(ctx) {
    const pooled = ctx.b.op('GlobalAveragePool', [ctx.inputs[0]!])[0]!;
    return ctx.b.op('Flatten', [pooled], { axis: 1 });
  },

  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,

  LayerNorm(ctx) {
    const dims = Math.max(1, num(ctx.params, 'normalized_dims'));
    const shape = inType(ctx).shape.slice(-dims);
    const size = shape.reduce((a, b) => a * b, 1);
    const scale = ctx.weight('weight');
    const bias = ctx.weight('bias');
    return ctx.b.op(
      'LayerNormalization',
      [
        ctx.inputs[0]!,
        ctx.b.floats('weight', shape, scale ? scale.values : new Float32Array(size).fill(1)),
        ctx.b.floats('bias', shape, bias ? bias.values : new Float32Array(size)),
      ],
      { axis: -dims, epsilon: { float: num(ctx.params, 'eps') } },
    );
  },

  Dropout: unary('Identity'),
  ReLU: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Sign: unary('Sign'),
  Step(ctx) {
    const positive = ctx.b.op('Greater', [ctx.inputs[0]!, ctx.b.floats('zero', [], [0])])[0]!;
    return ctx.b.op('Cast', [positive], { to: 1 });
  },
  LeakyReLU: (ctx) => ctx.b.op('LeakyRelu', [ctx.inputs[0]!], { alpha: { float: num(ctx.params, 'negative_slope') } }),
  PReLU(ctx) {
    const w = need(ctx, 'weight');
    const rank = inType(ctx).shape.length;
    // A per-channel slope broadcasts over the axes after the channel axis.
    const dims = w.values.length === 1 ? [1] : [w.values.length, ...Array<number>(Math.max(0, rank - 1)).fill(1)];
    return ctx.b.op('PRelu', [ctx.inputs[0]!, ctx.b.floats('weight', dims, w.values)]);
  },
  SiLU(ctx) {
    const s = ctx.b.op('Sigmoid', [ctx.inputs[0]!])[0]!;
    return ctx.b.op('Mul', [ctx.inputs[0]!, s]);
  },
  Softplus(ctx) {
    const beta = num(ctx.params, 'beta');
    if (beta === 1) return ctx.b.op('Softplus', [ctx.inputs[0]!]);
    const scaled = ctx.b.op('Mul', [ctx.inputs[0]!, ctx.b.floats('beta', [], [beta])])[0]!;
    const sp = ctx.b.op('Softplus', [scaled])[0]!;
    return ctx.b.op('Div', [sp, ctx.b.floats('beta', [], [beta])]);
  },
  GELU(ctx) {
    const x = ctx.inputs[0]!;
    const { b } = ctx;
    let inner: string;
    if (String(ctx.params.approximate) === 'tanh') {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const x3 = b.op('Mul', [b.op('Mul', [x, x])[0]!, x])[0]!;
      const poly = b.op('Add', [x, b.op('Mul', [x3, b.floats('c', [], [0.044715])])[0]!])[0]!;
      inner = b.op('Tanh', [b.op('Mul', [poly, b.floats('k', [], [Math.sqrt(2 / Math.PI)])])[0]!])[0]!;
    } else {
      // 0.5 x (1 + erf(x / sqrt 2))
      inner = b.op('Erf', [b.op('Mul', [x, b.floats('inv_sqrt2', [], [Math.SQRT1_2])])[0]!])[0]!;
    }
    const onePlus = b.op('Add', [inner, b.floats('one', [], [1])])[0]!;
    return b.op('Mul', [b.op('Mul', [x, onePlus])[0]!, b.floats('half', [], [0.5])]);
  },
  Softmax: (ctx) => ctx.b.op('Softmax', [ctx.inputs[0]!], { axis: batchedDim(num(ctx.params, 'dim')) }),
  LogSoftmax: (ctx) => ctx.b.op('LogSoftmax', [ctx.inputs[0]!], { axis: batchedDim(num(ctx.params, 'dim')) }),

  Flatten: (ctx) => ctx.b.op('Flatten', [ctx.inputs[0]!], { axis: 1 }),
  Reshape: reshapeToOutput,
  Unflatten: reshapeToOutput,
  SelectLast: (ctx) => ctx.b.op('Gather', [ctx.inputs[0]!, ctx.b.int64s('last', [], [-1])], { axis: 1 }),
  MeanPool: (ctx) => ctx.b.op('ReduceMean', [ctx.inputs[0]!], { axes: [1], keepdims: 0 }),

  Add: (ctx) => chain(ctx, 'Add'),
  Multiply: (ctx) => chain(ctx, 'Mul'),
  Concat(ctx) {
    const connected = ctx.inputs.filter((x) => x !== '');
    const rank = inType(ctx).shape.length;
    const d = num(ctx.params, 'dim');
    return ctx.b.op('Concat', connected, { axis: (d < 0 ? d + rank : d) + 1 });
  },

  Embedding(ctx) {
    const w = need(ctx, 'weight');
    return ctx.b.op('Gather', [ctx.b.floats('weight', w.shape, w.values), ctx.inputs[0]!], { axis: 0 });
  },

  LSTM: recurrent,
  GRU: recurrent,
  RNN: recurrent,

  ...attentionEmitters,
};

function batchedDim(dim: number): number {
  return dim < 0 ? dim : dim + 1;
}

function batchNorm(ctx: EmitContext): string[] {
  if (!bool(ctx.params, 'track_running_stats')) {
    throw new OnnxExportError(`${ctx.node.id}: ${ctx.node.type} without running statistics normalises with batch statistics at inference, which ONNX BatchNormalization cannot express`);
  }
  const mean = need(ctx, 'running_mean');
  const c = mean.values.length;
  return ctx.b.op(
    'BatchNormalization',
    [
      ctx.inputs[0]!,
      weightOrConst(ctx, 'weight', c, 1),
      weightOrConst(ctx, 'bias', c, 0),
      ctx.b.floats('running_mean', [c], mean.values),
      ctx.b.floats('running_var', [c], need(ctx, 'running_var').values),
    ],
    { epsilon: { float: num(ctx.params, 'eps') } },
  );
}

function reshapeToOutput(ctx: EmitContext): string[] {
  const shape = outType(ctx).shape;
  if (shape.some((d) => d < 0)) throw new OnnxExportError(`${ctx.node.id}: cannot reshape to a shape with symbolic sizes`);
  // 0 copies the batch size from the input.
  return ctx.b.op('Reshape', [ctx.inputs[0]!, ctx.b.int64s('shape', [shape.length + 1], [0, ...shape])]);
}

function chain(ctx: EmitContext, opType: string): string[] {
  const connected = ctx.inputs.filter((x) => x !== '');
  let acc = connected[0]!;
  for (const x of connected.slice(1)) acc = ctx.b.op(opType, [acc, x])[0]!;
  return [acc];
}

/** Why a layer type has no ONNX emitter. */
export const unsupportedReasons: Record<string, string> = {
  GCNConv: 'graph layers take a batch of graphs (node features [nodes, F] with an edge list, both of varying size per batch), which has no fixed-shape ONNX tensor form',
  GATConv: 'graph layers take a batch of graphs (node features [nodes, F] with an edge list, both of varying size per batch), which has no fixed-shape ONNX tensor form',
  GraphReadout: 'graph layers take a batch of graphs (node features [nodes, F] with an edge list, both of varying size per batch), which has no fixed-shape ONNX tensor form',
  Block: 'composite blocks are not exported to ONNX yet',
};
