/** Input nodes (fed from the dataset) and the Target node (fed from the labels). */
import type { BuiltLayer, LayerDef, ParamValues, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { choice, fmt, graphBatch, int, ints, num, port, sequence, str, tensor } from './util.ts';

const passThrough: BuiltLayer = { module: null, run: (xs) => [xs[0]] };

function inputDef(
  type: string,
  displayName: string,
  description: string,
  params: LayerDef['params'],
  value: (p: ParamValues) => ValueType,
  torchHint: string,
): LayerDef {
  return {
    type,
    category: 'Input',
    displayName,
    description,
    inputs: () => [],
    outputs: (p) => [port('y', value(p).kind)],
    params,
    validate: (p) => {
      const shape = value(p).shape;
      return shape.some((d) => d === 0) ? [`every dimension must be at least 1, got ${fmt(shape)}`] : [];
    },
    infer: (ctx) => [value(ctx.params)],
    paramCount: () => 0,
    flops: () => 0,
    build: () => passThrough,
    inspect: ['activations'],
    isInput: true,
    torch: () => ({ functional: true, expr: torchHint }),
  };
}

export const inputLayers: LayerDef[] = [
  inputDef(
    'ImageInput',
    'Image input',
    'Feeds images from the dataset as channels x height x width (1 channel for grey, 3 for colour).',
    { channels: int(1, 1), height: int(28, 1), width: int(28, 1) },
    (p) => tensor([num(p, 'channels'), num(p, 'height'), num(p, 'width')]),
    'x',
  ),
  inputDef(
    'VectorInput',
    'Vector input',
    'Feeds one row of numbers (features) per sample, for example the columns of a table.',
    { features: int(4, 1) },
    (p) => tensor([num(p, 'features')]),
    'x',
  ),
  inputDef(
    'SequenceInput',
    'Sequence input',
    'Feeds a sequence of vectors per sample: time steps x features, such as the rows of an image or a time series.',
    { length: int(28, 1, { help: 'Number of time steps' }), features: int(28, 1) },
    (p) => sequence([num(p, 'length'), num(p, 'features')]),
    'x',
  ),
  inputDef(
    'TokenInput',
    'Token ids input',
    'Feeds a sequence of whole-number token ids per sample, to be turned into vectors by an Embedding.',
    { length: int(32, 1, { help: 'Number of tokens' }), vocab_size: int(1000, 1, { help: 'Ids run from 0 to vocab_size - 1' }) },
    (p) => sequence([num(p, 'length')], 'int32'),
    'tokens',
  ),
  inputDef(
    'GraphInput',
    'Graph input',
    'Feeds a batch of graphs: a feature vector for every graph node plus the edges between nodes.',
    { node_features: int(8, 1) },
    (p) => graphBatch(num(p, 'node_features')),
    'graph',
  ),
  {
    type: 'Target',
    category: 'Input',
    displayName: 'Target',
    description: 'Feeds the correct answers (labels) from the dataset to a loss node.',
    inputs: () => [],
    outputs: () => [port('y', 'tensor', { accepts: ['sequence'] })],
    params: {
      target: choice('class', ['class', 'values'], 'class: one class index per sample; values: numbers to regress'),
      shape: { kind: 'ints', default: [], min: 1, help: 'Per-sample shape: [] for one class index, [1] for one number' },
    },
    validate: (p) => (ints(p, 'shape').some((d) => d < 1) ? [`every dimension of shape must be at least 1, got ${fmt(ints(p, 'shape'))}`] : []),
    infer: (ctx) => {
      const shape = ints(ctx.params, 'shape');
      if (shape.some((d) => d < 1)) throw new ShapeError(`every dimension of shape must be at least 1, got ${fmt(shape)}`);
      return [tensor([...shape], str(ctx.params, 'target') === 'class' ? 'int32' : 'float32')];
    },
    paramCount: () => 0,
    flops: () => 0,
    build: () => passThrough,
    inspect: [],
    isInput: true,
    isTarget: true,
    torch: () => ({ functional: true, expr: 'target' }),
  },
];
