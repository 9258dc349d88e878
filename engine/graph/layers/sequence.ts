/** Embedding and recurrent layers (RNN, LSTM, GRU) over batch-first sequences [T, F]. */
import type { Tensor } from '../../core/tensor.ts';
import { narrow, permute, reshape } from '../../ops/layout.ts';
import { Embedding } from '../../nn/embedding.ts';
import { GRU, LSTM, RNN, type RNNBase } from '../../nn/rnn.ts';
import type { InferContext, LayerDef, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { bool, choice, flag, float, fmt, input, int, kwargs, num, port, sourceName, str } from './util.ts';

function embedIn(ctx: InferContext): ValueType {
  const x = input(ctx);
  if (x.dtype !== 'int32') throw new ShapeError(`needs integer ids (token ids or class indices), ${sourceName(ctx)} gives float values of shape ${fmt(x.shape)}`);
  if (x.shape.length > 1) throw new ShapeError(`needs ids of shape [time] or one id, ${sourceName(ctx)} gives ${fmt(x.shape)}`);
  return x;
}

export const embeddingLayer: LayerDef = {
  type: 'Embedding',
  category: 'Dense',
  displayName: 'Embedding',
  description: 'Looks up a learned vector for every token id (or class index), turning words into points in space.',
  inputs: () => [port('x', 'sequence', { accepts: ['tensor'] })],
  outputs: () => [port('y', 'sequence')],
  params: {
    num_embeddings: int(1000, 1, { help: 'Vocabulary size: ids run from 0 to this minus one' }),
    embedding_dim: int(32, 1),
    padding_idx: int(-1, -1, { help: '-1: none; otherwise this id maps to a zero vector that is not trained' }),
  },
  infer(ctx) {
    const x = embedIn(ctx);
    const vocab = num(ctx.params, 'num_embeddings');
    const pad = num(ctx.params, 'padding_idx');
    if (pad >= vocab) throw new ShapeError(`padding_idx ${pad} must be below num_embeddings ${vocab}`);
    const e = num(ctx.params, 'embedding_dim');
    return [x.shape.length === 1 ? { kind: 'sequence', shape: [x.shape[0], e], dtype: 'float32' } : { kind: 'tensor', shape: [e], dtype: 'float32' }];
  },
  paramCount: (ctx) => num(ctx.params, 'num_embeddings') * num(ctx.params, 'embedding_dim'),
  flops: () => 0,
  build(ctx) {
    const pad = num(ctx.params, 'padding_idx');
    const m = new Embedding(num(ctx.params, 'num_embeddings'), num(ctx.params, 'embedding_dim'), { paddingIdx: pad >= 0 ? pad : null, generator: ctx.generator });
    return { module: m, run: (xs) => [m.forward(xs[0])] };
  },
  inspect: ['activations', 'filters'],
  torch: (ctx) => {
    const pad = num(ctx.params, 'padding_idx');
    return { functional: false, module: `nn.Embedding(${num(ctx.params, 'num_embeddings')}, ${num(ctx.params, 'embedding_dim')}${pad >= 0 ? `, padding_idx=${pad}` : ''})` };
  },
};

const GATES = { RNN: 1, LSTM: 4, GRU: 3 } as const;
type RecurrentType = keyof typeof GATES;

function seqFeatures(ctx: InferContext): [number, number] {
  const x = input(ctx);
  if (x.dtype === 'int32') throw new ShapeError(`needs vectors per time step, ${sourceName(ctx)} gives token ids; add an Embedding first`);
  if (x.kind !== 'sequence' || x.shape.length !== 2) {
    throw new ShapeError(`needs a sequence [time, features], ${sourceName(ctx)} gives ${x.kind === 'sequence' ? 'a sequence' : 'a tensor'} of shape ${fmt(x.shape)}${x.kind === 'tensor' && x.shape.length === 3 ? '; an image can be read row by row with a Reshape to [height, channels*width] as a sequence' : ''}`);
  }
  const expected = num(ctx.params, 'input_size');
  if (expected > 0 && expected !== x.shape[1]) throw new ShapeError(`expects ${expected} input features per time step, its input has ${x.shape[1]}`);
  return [x.shape[0], x.shape[1]];
}

function recurrent(type: RecurrentType, description: string): LayerDef {
  const g = GATES[type];
  const counts = (ctx: InferContext) => {
    const [t, f] = seqFeatures(ctx);
    const h = num(ctx.params, 'hidden_size');
    const layers = num(ctx.params, 'num_layers');
    const d = bool(ctx.params, 'bidirectional') ? 2 : 1;
    let params = 0;
    let macs = 0;
    for (let l = 0; l < layers; l++) {
      const inp = l === 0 ? f : d * h;
      params += d * (g * h * (inp + h) + (bool(ctx.params, 'bias') ? 2 * g * h : 0));
      macs += d * t * g * h * (inp + h);
    }
    return { t, h, d, params, flops: 2 * macs + t * d * layers * g * h * 4 };
  };
  return {
    type,
    category: 'Recurrent',
    displayName: type,
    description,
    inputs: () => [port('x', 'sequence')],
    outputs: () => [port('output', 'sequence', { label: 'output sequence' }), port('hidden', 'tensor', { label: 'last hidden state' })],
    params: {
      hidden_size: int(64, 1),
      num_layers: int(1, 1, { max: 8 }),
      bidirectional: flag(false),
      dropout: float(0, 0, 1, { help: 'Dropout between stacked layers' }),
      bias: flag(true),
      input_size: int(0, 0, { help: '0: taken from the input' }),
      ...(type === 'RNN' ? { nonlinearity: choice('tanh', ['tanh', 'relu']) } : {}),
    },
    infer(ctx) {
      const { t, h, d } = counts(ctx);
      return [
        { kind: 'sequence', shape: [t, d * h], dtype: 'float32' },
        { kind: 'tensor', shape: [d * h], dtype: 'float32' },
      ];
    },
    paramCount: (ctx) => counts(ctx).params,
    flops: (ctx) => counts(ctx).flops,
    build(ctx) {
      const [, f] = seqFeatures(ctx);
      const p = ctx.params;
      const opts = { numLayers: num(p, 'num_layers'), bias: bool(p, 'bias'), bidirectional: bool(p, 'bidirectional'), dropout: num(p, 'dropout'), batchFirst: true, generator: ctx.generator };
      const h = num(p, 'hidden_size');
      const m: RNNBase =
        type === 'LSTM' ? new LSTM(f, h, opts) : type === 'GRU' ? new GRU(f, h, opts) : new RNN(f, h, { ...opts, nonlinearity: str(p, 'nonlinearity') as 'tanh' | 'relu' });
      return {
        module: m,
        run: (xs) => {
          const { output, hN } = m.run(xs[0]);
          return [output, lastHidden(hN, m.numLayers, m.numDirections)];
        },
      };
    },
    inspect: ['activations'],
    torch: (ctx) => {
      const [, f] = seqFeatures(ctx);
      return {
        functional: false,
        module: `nn.${type}(${f}, ${num(ctx.params, 'hidden_size')}${kwargs(ctx.params, { num_layers: 1, bias: true, dropout: 0, bidirectional: false, ...(type === 'RNN' ? { nonlinearity: 'tanh' } : {}) })}, batch_first=True)`,
      };
    },
  };
}

/** h_n [D*L, N, H] -> the last layer's final state, directions side by side: [N, D*H]. */
function lastHidden(hN: Tensor, layers: number, dirs: number): Tensor {
  const last = narrow(hN, 0, (layers - 1) * dirs, dirs); // [D, N, H]
  const n = hN.shape[1];
  return reshape(permute(last, [1, 0, 2]), [n, dirs * hN.shape[2]]);
}

export const sequenceLayers: LayerDef[] = [
  embeddingLayer,
  recurrent('RNN', 'A simple recurrent layer: reads a sequence step by step, mixing each input into a running hidden state.'),
  recurrent('LSTM', 'A recurrent layer with gates that decide what to remember and forget, so it can carry information over long sequences.'),
  recurrent('GRU', 'A recurrent layer with update and reset gates: simpler than an LSTM and often as good.'),
];
