/**
 * ONNX emitters, one per layer type: each turns a graph node (with its trained weights)
 * into ONNX opset-17 nodes. Layouts follow PyTorch's (NCHW images, batch-first sequences),
 * as does the engine, so weights go in unchanged except where ONNX orders recurrent gates
 * differently. Layer types without an emitter are named by the exporter with the reason
 * from `unsupportedReasons`.
 */
import type { GraphNode, ParamValues, ValueType } from '../../graph/types.ts';
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
    const [ph, pw] = pair(p, 'padding');
    const ins = [ctx.inputs[0]!, ctx.b.floats('weight', w.shape, w.values)];
    if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
    return ctx.b.op('Conv', ins, {
      kernel_shape: [w.shape[2]!, w.shape[3]!],
      strides: pair(p, 'stride'),
      pads: [ph, pw, ph, pw],
      dilations: pair(p, 'dilation'),
      group: num(p, 'groups'),
    });
  },

  Conv1d(ctx) {
    const p = ctx.params;
    const w = need(ctx, 'weight');
    const bias = ctx.weight('bias');
    const pad = ints(p, 'padding')[0]!;
    const ins = [ctx.inputs[0]!, ctx.b.floats('weight', w.shape, w.values)];
    if (bias) ins.push(ctx.b.floats('bias', bias.shape, bias.values));
    return ctx.b.op('Conv', ins, {
      kernel_shape: [w.shape[2]!],
      strides: [ints(p, 'stride')[0]!],
      pads: [pad, pad],
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
  MultiheadAttention: 'attention is not exported to ONNX yet',
  TransformerEncoderLayer: 'transformer layers are not exported to ONNX yet',
  TransformerDecoderLayer: 'transformer layers are not exported to ONNX yet',
  PositionalEncoding: 'positional encodings are not exported to ONNX yet',
  PatchEmbedding: 'patch embeddings are not exported to ONNX yet',
  GCNConv: 'graph layers take a batch of graphs, which has no ONNX tensor form',
  GATConv: 'graph layers take a batch of graphs, which has no ONNX tensor form',
  GraphReadout: 'graph layers take a batch of graphs, which has no ONNX tensor form',
  DeepSets: 'set layers are not exported to ONNX yet',
  Reparameterize: 'random sampling has no deterministic ONNX form',
  Block: 'composite blocks are not exported to ONNX yet',
};
