import { describe, expect, it } from 'vitest';
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { int32, randn } from '../../ops/creation.ts';
import { checkParam, defaultParams, getLayer, listLayers } from '../catalogue.ts';
import { residualBlock, vggBlock } from '../blocks.ts';
import { attachGraph } from '../layers/graph-value.ts';
import type { GraphNode, ParamValues, ValueType } from '../types.ts';

const gen = new Generator(3);
const N = 3;
const img = (c: number, h: number, w: number): ValueType => ({ kind: 'tensor', shape: [c, h, w], dtype: 'float32' });
const vec = (f: number): ValueType => ({ kind: 'tensor', shape: [f], dtype: 'float32' });
const seq = (t: number, f: number): ValueType => ({ kind: 'sequence', shape: [t, f], dtype: 'float32' });
const graph = (f: number): ValueType => ({ kind: 'graph', shape: [-1, f], dtype: 'float32' });
const cls: ValueType = { kind: 'tensor', shape: [], dtype: 'int32' };

/** One example per layer type: params and input types (several for some). */
const cases: Record<string, { params?: ParamValues; inputs: ValueType[]; node?: GraphNode }[]> = {
  ImageInput: [{ inputs: [] }],
  VectorInput: [{ inputs: [] }],
  SequenceInput: [{ inputs: [] }],
  TokenInput: [{ inputs: [] }],
  GraphInput: [{ inputs: [] }],
  Target: [{ inputs: [] }],
  Linear: [{ params: { out_features: 5 }, inputs: [vec(7)] }, { params: { out_features: 4, bias: false }, inputs: [seq(6, 3)] }],
  Conv1d: [
    { params: { out_channels: 4, kernel_size: [3], stride: [2], padding: [1] }, inputs: [{ kind: 'tensor', shape: [2, 11], dtype: 'float32' }] },
    { params: { out_channels: 3, kernel_size: [4], dilation: [2], padding: 'same' }, inputs: [{ kind: 'tensor', shape: [2, 9], dtype: 'float32' }] },
  ],
  Conv2d: [
    { params: { out_channels: 6, kernel_size: [5], padding: [2] }, inputs: [img(1, 12, 12)] },
    { params: { out_channels: 4, kernel_size: [3, 2], stride: [2], dilation: [2], groups: 2 }, inputs: [img(2, 11, 9)] },
    // 'same' with an even kernel pads one more after than before, as PyTorch.
    { params: { out_channels: 3, kernel_size: [4, 3], dilation: [1, 2], padding: 'same' }, inputs: [img(2, 7, 8)] },
    { params: { out_channels: 3, kernel_size: [3], stride: [2], padding: 'valid' }, inputs: [img(2, 9, 9)] },
  ],
  ConvTranspose2d: [{ params: { out_channels: 3, kernel_size: [3], stride: [2], padding: [1], output_padding: [1] }, inputs: [img(4, 7, 7)] }],
  MaxPool2d: [{ params: { kernel_size: [2] }, inputs: [img(2, 9, 9)] }, { params: { kernel_size: [3], stride: [2], ceil_mode: true, padding: [1] }, inputs: [img(2, 10, 10)] }],
  AvgPool2d: [{ params: { kernel_size: [2], stride: [1] }, inputs: [img(2, 5, 6)] }],
  AdaptiveAvgPool2d: [{ params: { output_size: [2, 3] }, inputs: [img(2, 8, 9)] }],
  GlobalAvgPool: [{ inputs: [img(5, 4, 4)] }],
  BatchNorm1d: [{ inputs: [vec(6)] }],
  BatchNorm2d: [{ inputs: [img(3, 4, 4)] }],
  LayerNorm: [{ inputs: [seq(5, 8)] }, { params: { normalized_dims: 3 }, inputs: [img(2, 3, 3)] }],
  Dropout: [{ params: { p: 0.3 }, inputs: [img(2, 3, 3)] }],
  Step: [{ inputs: [vec(4)] }],
  Sign: [{ inputs: [vec(4)] }],
  Sigmoid: [{ inputs: [img(2, 3, 3)] }],
  Tanh: [{ inputs: [seq(3, 2)] }],
  ReLU: [{ inputs: [graph(3)] }, { inputs: [vec(5)] }],
  LeakyReLU: [{ params: { negative_slope: 0.2 }, inputs: [vec(4)] }],
  SiLU: [{ inputs: [vec(4)] }],
  Softplus: [{ params: { beta: 2 }, inputs: [vec(4)] }],
  GELU: [{ params: { approximate: 'tanh' }, inputs: [vec(4)] }],
  Softmax: [{ inputs: [vec(4)] }, { params: { dim: 0 }, inputs: [img(3, 2, 2)] }],
  LogSoftmax: [{ inputs: [seq(3, 4)] }],
  PReLU: [{ params: { num_parameters: 3 }, inputs: [img(3, 2, 2)] }],
  Embedding: [{ params: { num_embeddings: 20, embedding_dim: 6 }, inputs: [{ kind: 'sequence', shape: [7], dtype: 'int32' }] }, { params: { num_embeddings: 10, embedding_dim: 4 }, inputs: [cls] }],
  RNN: [{ params: { hidden_size: 5, nonlinearity: 'relu' }, inputs: [seq(4, 3)] }],
  LSTM: [{ params: { hidden_size: 5, num_layers: 2, bidirectional: true }, inputs: [seq(4, 3)] }],
  GRU: [{ params: { hidden_size: 6 }, inputs: [seq(5, 2)] }],
  MultiheadAttention: [{ params: { num_heads: 2 }, inputs: [seq(5, 8)] }],
  TransformerEncoderLayer: [{ params: { nhead: 2, dim_feedforward: 16 }, inputs: [seq(5, 8)] }],
  TransformerDecoderLayer: [{ params: { nhead: 2, dim_feedforward: 16 }, inputs: [seq(4, 8), seq(6, 8)] }],
  PositionalEncoding: [{ inputs: [seq(5, 8)] }, { params: { mode: 'learned', max_len: 10 }, inputs: [seq(5, 8)] }],
  PatchEmbedding: [{ params: { patch_size: 4, embed_dim: 8 }, inputs: [img(1, 8, 8)] }],
  GCNConv: [{ params: { out_channels: 5 }, inputs: [graph(3)] }],
  GATConv: [{ params: { out_channels: 4, heads: 2 }, inputs: [graph(3)] }, { params: { out_channels: 4, heads: 3, concat: false }, inputs: [graph(3)] }],
  GraphReadout: [{ params: { reduce: 'max' }, inputs: [graph(4)] }],
  DeepSets: [{ params: { hidden: 6, out_features: 3 }, inputs: [seq(5, 2)] }],
  Reparameterize: [{ inputs: [vec(4), vec(4)] }],
  Add: [{ params: { inputs: 3 }, inputs: [img(2, 3, 3), img(2, 3, 3), img(2, 3, 3)] }],
  Multiply: [{ inputs: [vec(4), vec(4)] }],
  Concat: [{ inputs: [img(2, 3, 3), img(5, 3, 3)] }, { params: { dim: -1 }, inputs: [seq(4, 2), seq(4, 3)] }],
  Flatten: [{ inputs: [img(2, 3, 4)] }],
  Reshape: [{ params: { shape: [4, -1] }, inputs: [img(2, 3, 4)] }, { params: { shape: [28, 28], as_sequence: true }, inputs: [img(1, 28, 28)] }],
  Unflatten: [{ params: { sizes: [2, 3, 2] }, inputs: [vec(12)] }],
  SelectLast: [{ inputs: [seq(5, 3)] }],
  MeanPool: [{ inputs: [seq(5, 3)] }],
  MSELoss: [{ inputs: [vec(3), vec(3)] }],
  CrossEntropyLoss: [{ inputs: [vec(4), cls] }, { inputs: [seq(5, 4), { kind: 'sequence', shape: [5], dtype: 'int32' }] }],
  BCELoss: [{ inputs: [vec(2), vec(2)] }],
  BCEWithLogitsLoss: [{ inputs: [vec(2), vec(2)] }],
  KLDivLoss: [{ inputs: [vec(3), vec(3)] }],
  GaussianKL: [{ inputs: [vec(3), vec(3)] }],
  Block: [{ inputs: [img(4, 6, 6)], node: residualBlock('res', { inChannels: 4, outChannels: 8, stride: 2 }) }, { inputs: [img(2, 8, 8)], node: vggBlock('vgg', { convs: 2, channels: 3 }) }],
};

function graphSample(t: ValueType): Tensor {
  const x = randn([7, t.shape[1]], 0, 1, gen);
  return attachGraph(x, { edgeIndex: int32([0, 1, 2, 3, 4, 5, 1, 2, 3, 0, 6, 5], [2, 6]), batch: int32([0, 0, 0, 1, 1, 1, 1]), numGraphs: 2 });
}

/** Values in (0.1, 0.9): valid probabilities for BCE and KL targets. */
function probs(t: ValueType): Tensor {
  const shape = [N, ...t.shape];
  return fromValues(new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => 0.1 + 0.8 * gen.random()), shape);
}

function makeInputs(type: string, inputs: ValueType[]): Tensor[] {
  const probTargets = new Set(['BCELoss', 'KLDivLoss']);
  return inputs.map((t, i) => {
    if (t.kind !== 'graph' && t.dtype === 'float32' && (probTargets.has(type) || (type === 'BCEWithLogitsLoss' && i === 1))) return probs(t);
    if (t.kind === 'graph') return graphSample(t);
    if (t.dtype === 'int32') return int32(Array.from({ length: N * (t.shape[0] ?? 1) }, (_, k) => k % 4), [N, ...t.shape]);
    return randn([N, ...t.shape], 0, 1, gen);
  });
}

describe('every catalogue layer: inferred shapes match what its module produces', () => {
  it('has a case for every layer type', () => {
    expect(listLayers().map((d) => d.type).filter((t) => !(t in cases))).toEqual([]);
  });

  for (const [type, list] of Object.entries(cases)) {
    list.forEach((c, k) => {
      it(`${type} #${k + 1}`, () => {
        const def = getLayer(type);
        const node = c.node ?? { id: 'n', type, params: {} };
        const params = { ...defaultParams(type), ...(c.params ?? {}) };
        const ctx = { inputs: c.inputs, params, node };
        const inferred = def.infer(ctx);
        expect(inferred.length).toBe(def.outputs(params, node).length);
        const count = def.paramCount(ctx);
        expect(count).toBeGreaterThanOrEqual(0);
        expect(def.flops(ctx)).toBeGreaterThanOrEqual(0);
        if (def.isInput) return;
        const built = def.build({ ...ctx, generator: new Generator(1) });
        expect(built.module?.numParameters() ?? 0).toBe(count);
        const outs = built.run(makeInputs(type, c.inputs), { training: true, generator: new Generator(2) });
        expect(outs.length).toBe(inferred.length);
        outs.forEach((o, i) => {
          const t = inferred[i];
          if (def.isLoss || (type === 'Reparameterize' && i === 1)) {
            expect(o.shape).toEqual(def.isLoss ? [] : [N]);
          } else if (c.inputs[0]?.kind === 'graph' && t.kind === 'tensor') {
            expect(o.shape).toEqual([2, ...t.shape]); // one row per graph of the batch
          } else if (t.kind === 'graph') {
            expect(o.shape).toEqual([7, t.shape[1]]);
          } else {
            expect(o.shape).toEqual([N, ...t.shape]);
          }
          expect(o.dtype).toBe(t.dtype);
        });
      });
    });
  }
});

describe("convolution padding 'same' and 'valid'", () => {
  const conv = getLayer('Conv2d');
  const ctx = (params: ParamValues, h = 7, w = 8) => ({ inputs: [img(2, h, w)], params: { ...defaultParams('Conv2d'), ...params }, node: { id: 'c', type: 'Conv2d', params } });

  it("'same' keeps the size for odd and even kernels with dilation; 'valid' adds nothing", () => {
    expect(conv.infer(ctx({ out_channels: 4, kernel_size: [4, 3], dilation: [1, 2], padding: 'same' }))[0].shape).toEqual([4, 7, 8]);
    expect(conv.infer(ctx({ out_channels: 4, kernel_size: [3], padding: 'valid' }))[0].shape).toEqual([4, 5, 6]);
  });

  it("'same' with a stride is refused with the reason, as PyTorch does", () => {
    expect(() => conv.infer(ctx({ kernel_size: [3], stride: [2], padding: 'same' }))).toThrow("padding 'same' needs stride 1, got stride 2x2");
  });

  it('the parameter check takes the two words and names them for anything else', () => {
    expect(checkParam('padding', conv.params.padding, 'same')).toBeNull();
    expect(checkParam('padding', conv.params.padding, 'full')).toBe('padding must be a list of whole numbers or one of same, valid, got "full"');
    // Transposed convolution has no 'same' in PyTorch, nor here.
    expect(checkParam('padding', getLayer('ConvTranspose2d').params.padding, 'same')).toMatch(/must be a list of whole numbers, got "same"/);
  });

  it("the PyTorch module line passes padding='same' through", () => {
    const code = conv.torch!({ ...ctx({ out_channels: 4, kernel_size: [3], padding: 'same' }), args: ['x'] });
    expect(code.functional ? code.expr : code.module).toBe("nn.Conv2d(2, 4, kernel_size=3, padding='same')");
  });
});

describe('causal attention nodes', () => {
  it('MultiheadAttention refuses a causal mask over keys of another length, naming both', () => {
    const mha = getLayer('MultiheadAttention');
    const params = { ...defaultParams('MultiheadAttention'), num_heads: 2, causal: true };
    const ctx = { inputs: [seq(4, 8), seq(6, 8)], params, node: { id: 'a', type: 'MultiheadAttention', params } };
    expect(() => mha.infer(ctx)).toThrow('causal attention needs as many keys as queries, got 6 keys for 4 queries');
  });

  it('a causal encoder layer: changing a later position leaves earlier outputs unchanged', () => {
    const enc = getLayer('TransformerEncoderLayer');
    const params = { ...defaultParams('TransformerEncoderLayer'), nhead: 2, dim_feedforward: 8, dropout: 0, causal: true };
    const built = enc.build({ inputs: [seq(5, 4)], params, node: { id: 'e', type: 'TransformerEncoderLayer', params }, generator: new Generator(4) });
    const x = randn([1, 5, 4], 0, 1, new Generator(5));
    const changed = x.dataSync().slice();
    for (let j = 0; j < 4; j++) changed[4 * 4 + j] += 1; // the last position only
    const a = built.run([x], { training: false, generator: new Generator(6) })[0].dataSync();
    const b = built.run([fromValues(changed, [1, 5, 4])], { training: false, generator: new Generator(6) })[0].dataSync();
    expect(Array.from(b.slice(0, 16))).toEqual(Array.from(a.slice(0, 16)));
    expect(Math.abs(b[16] - a[16])).toBeGreaterThan(1e-4);
  });
});
