/**
 * `npm run examples`: writes the bundled example projects (examples/<id>.aps) and
 * examples/index.json from the definitions below. Each example trains from the command
 * line (`npm run aps -- train examples/<id>.aps --out /tmp/x.aps`) to the quality stated
 * in its description in a few minutes on a 2-core machine.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultParams, inputPorts, outputPorts } from '../engine/graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../engine/graph/types.ts';
import { writeProject } from '../engine/io/project.ts';
import { type PartialDataSettings, type PartialTrainingSettings, withDataDefaults, withTrainingDefaults } from '../engine/train/settings.ts';
import { arrangedLayout } from '../renderer/store/layout.ts';
import { MODE_EXAMPLES, type ModeExample, type ModeSpec } from './examples-modes.ts';

interface Example {
  id: string;
  title: string;
  description: string;
  graph: ModelGraph;
  data: PartialDataSettings;
  training: PartialTrainingSettings;
  /** The course mode that trains it (autoencoder, VAE, GAN...), saved as `training.mode`. */
  mode?: ModeSpec;
}

// ---------------------------------------------------------------------------------------
// Graph-building helpers

function layer(id: string, type: string, params: ParamValues = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}

/** An edge from `source`'s output (by index) to `target`'s input (by index). */
function wire(nodes: GraphNode[], source: string, target: string, out = 0, input = 0): GraphEdge {
  const s = nodes.find((n) => n.id === source);
  const t = nodes.find((n) => n.id === target);
  if (!s || !t) throw new Error(`wire: unknown node ${s ? target : source}`);
  const sp = outputPorts(s)[out]!.name;
  const tp = inputPorts(t)[input]!.name;
  return { id: `${source}.${sp}->${target}.${tp}`, source, sourcePort: sp, target, targetPort: tp };
}

/** Layers in a row, plus extra edges. */
function sequential(nodes: GraphNode[], extra: [string, string, number?, number?][] = []): ModelGraph {
  const edges: GraphEdge[] = [];
  for (let i = 1; i < nodes.length; i++) edges.push(wire(nodes, nodes[i - 1]!.id, nodes[i]!.id));
  for (const [s, t, o, i] of extra) edges.push(wire(nodes, s, t, o, i));
  return { nodes, edges };
}

/** Appends a Target and a loss comparing `prediction` with it. */
function withLoss(g: ModelGraph, prediction: string, loss = 'CrossEntropyLoss', target: ParamValues = {}, predictionOut = 0): ModelGraph {
  const nodes = [...g.nodes, layer('label', 'Target', target), layer('loss', loss)];
  return { nodes, edges: [...g.edges, wire(nodes, prediction, 'loss', predictionOut, 0), wire(nodes, 'label', 'loss', 0, 1)] };
}

// ---------------------------------------------------------------------------------------
// The examples

const mnist = (samples: number): PartialDataSettings => ({ source: { kind: 'builtin', id: 'mnist', options: { samples } }, split: { train: 0.8, val: 0.1, test: 0.1 } });

export const EXAMPLES: Example[] = [
  {
    id: 'lenet5-mnist',
    title: 'LeNet-5 on MNIST digits',
    description: 'The classic convolutional network: two convolution and pooling stages, then three dense layers. Reaches about 94% test accuracy on 4,000 digits in 4 epochs.',
    graph: withLoss(
      sequential([
        layer('image', 'ImageInput', { channels: 1, height: 28, width: 28 }),
        layer('conv1', 'Conv2d', { out_channels: 6, kernel_size: [5], padding: [2] }),
        layer('relu1', 'ReLU'),
        layer('pool1', 'MaxPool2d', { kernel_size: [2] }),
        layer('conv2', 'Conv2d', { out_channels: 16, kernel_size: [5] }),
        layer('relu2', 'ReLU'),
        layer('pool2', 'MaxPool2d', { kernel_size: [2] }),
        layer('flatten', 'Flatten'),
        layer('fc1', 'Linear', { out_features: 120 }),
        layer('relu3', 'ReLU'),
        layer('fc2', 'Linear', { out_features: 84 }),
        layer('relu4', 'ReLU'),
        layer('fc3', 'Linear', { out_features: 10 }),
      ]),
      'fc3',
    ),
    data: mnist(4000),
    training: { epochs: 4, batchSize: 32, optimizer: { type: 'adam', lr: 0.002 }, seed: 1 },
  },
  {
    id: 'mlp-spirals',
    title: 'MLP on two spirals',
    description: 'A small fully-connected network learns to separate two interleaved spirals, a boundary no straight line can draw. Reaches about 95% test accuracy in 60 epochs.',
    graph: withLoss(
      sequential([
        layer('points', 'VectorInput', { features: 2 }),
        layer('fc1', 'Linear', { out_features: 32 }),
        layer('act1', 'Tanh'),
        layer('fc2', 'Linear', { out_features: 32 }),
        layer('act2', 'Tanh'),
        layer('out', 'Linear', { out_features: 2 }),
      ]),
      'out',
    ),
    data: { source: { kind: 'builtin', id: 'spirals', options: { samples: 600 } }, split: { train: 0.7, val: 0.15, test: 0.15 } },
    training: { epochs: 60, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 1 },
  },
  {
    id: 'resnet-mnist',
    title: 'Residual CNN on MNIST digits',
    description: 'A small residual network: a stem convolution, a residual block whose skip connection adds the input of the block back to its output, pooling and a linear classifier. Reaches about 90% test accuracy on 3,000 digits in 3 epochs.',
    graph: withLoss(
      sequential(
        [
          layer('image', 'ImageInput', { channels: 1, height: 28, width: 28 }),
          layer('stem', 'Conv2d', { out_channels: 16, kernel_size: [3], stride: [2], padding: [1] }),
          layer('stem_bn', 'BatchNorm2d'),
          layer('stem_relu', 'ReLU'),
          layer('block_conv1', 'Conv2d', { out_channels: 16, kernel_size: [3], padding: [1] }),
          layer('block_bn1', 'BatchNorm2d'),
          layer('block_relu', 'ReLU'),
          layer('block_conv2', 'Conv2d', { out_channels: 16, kernel_size: [3], padding: [1] }),
          layer('block_bn2', 'BatchNorm2d'),
          layer('skip_add', 'Add'),
          layer('block_out', 'ReLU'),
          layer('pool', 'MaxPool2d', { kernel_size: [2] }),
          layer('flatten', 'Flatten'),
          layer('classifier', 'Linear', { out_features: 10 }),
        ],
        [['stem_relu', 'skip_add', 0, 1]],
      ),
      'classifier',
    ),
    data: mnist(3000),
    training: { epochs: 3, batchSize: 32, optimizer: { type: 'adam', lr: 0.003 }, seed: 1 },
  },
  {
    id: 'conv-autoencoder-mnist',
    title: 'Convolutional autoencoder on MNIST digits',
    description: 'Strided convolutions squeeze each digit into a small code and transposed convolutions (with output padding) rebuild it; the loss compares the output with the input. Reaches a test reconstruction MSE below 0.01 in 3 epochs.',
    graph: withLoss(
      sequential([
        layer('image', 'ImageInput', { channels: 1, height: 28, width: 28 }),
        layer('enc1', 'Conv2d', { out_channels: 8, kernel_size: [3], stride: [2], padding: [1] }),
        layer('enc1_relu', 'ReLU'),
        layer('enc2', 'Conv2d', { out_channels: 16, kernel_size: [3], stride: [2], padding: [1] }),
        layer('enc2_relu', 'ReLU'),
        layer('dec1', 'ConvTranspose2d', { out_channels: 8, kernel_size: [3], stride: [2], padding: [1], output_padding: [1] }),
        layer('dec1_relu', 'ReLU'),
        layer('dec2', 'ConvTranspose2d', { out_channels: 1, kernel_size: [3], stride: [2], padding: [1], output_padding: [1] }),
        layer('reconstruction', 'Sigmoid'),
      ]),
      'reconstruction',
      'MSELoss',
      { target: 'values', shape: [1, 28, 28] },
    ),
    data: mnist(2000),
    training: { epochs: 3, batchSize: 32, optimizer: { type: 'adam', lr: 0.005 }, seed: 1 },
  },
  {
    id: 'lstm-sine-frequency',
    title: 'LSTM sequence classifier',
    description: 'An LSTM reads a noisy sine wave step by step and its last hidden state decides whether the wave is slow, medium or fast. Reaches about 90% test accuracy in 15 epochs.',
    graph: withLoss(
      {
        nodes: [layer('wave', 'SequenceInput', { length: 32, features: 1 }), layer('lstm', 'LSTM', { hidden_size: 24 }), layer('classifier', 'Linear', { out_features: 3 })],
        edges: [],
      },
      'classifier',
    ),
    data: { source: { kind: 'builtin', id: 'sine-frequency', options: {} }, split: { train: 0.7, val: 0.15, test: 0.15 } },
    training: { epochs: 15, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 1 },
  },
  {
    id: 'transformer-sine-frequency',
    title: 'Small transformer sequence classifier',
    description: 'Each time step is projected to 16 features, given a sinusoidal position signal and read by one transformer encoder layer (self-attention and a feed-forward network); the mean over time is classified. Reaches about 90% test accuracy in 15 epochs.',
    graph: withLoss(
      sequential([
        layer('wave', 'SequenceInput', { length: 32, features: 1 }),
        layer('embed', 'Linear', { out_features: 16 }),
        layer('positions', 'PositionalEncoding', { max_len: 64 }),
        layer('encoder', 'TransformerEncoderLayer', { nhead: 2, dim_feedforward: 32, dropout: 0 }),
        layer('mean', 'MeanPool'),
        layer('classifier', 'Linear', { out_features: 3 }),
      ]),
      'classifier',
    ),
    data: { source: { kind: 'builtin', id: 'sine-frequency', options: {} }, split: { train: 0.7, val: 0.15, test: 0.15 } },
    training: { epochs: 15, batchSize: 32, optimizer: { type: 'adam', lr: 0.005 }, seed: 1 },
  },  {
    id: 'gcn-communities',
    title: 'GCN node classifier',
    description:
      'Two graph convolutions (GCNConv: each node averages its neighbours\' features with symmetric normalisation) label every node of one 120-node community graph from very noisy features and its links; only the training nodes\' labels are seen. Reaches 100% accuracy on the 24 test nodes in 30 epochs.',
    graph: withLoss(
      sequential([
        layer('graph', 'GraphInput', { node_features: 8 }),
        layer('gcn1', 'GCNConv', { out_channels: 16 }),
        layer('relu', 'ReLU'),
        layer('gcn2', 'GCNConv', { out_channels: 3 }),
      ]),
      'gcn2',
    ),
    data: { source: { kind: 'builtin', id: 'communities', options: { noise: 3 } }, split: { train: 0.6, val: 0.2, test: 0.2 } },
    training: { epochs: 30, batchSize: 24, optimizer: { type: 'adam', lr: 0.01 }, seed: 1 },
  },
];

// The LSTM classifier reads the last hidden state (the LSTM's second output).
{
  const lstm = EXAMPLES.find((e) => e.id === 'lstm-sine-frequency')!;
  const n = lstm.graph.nodes;
  lstm.graph.edges.unshift(wire(n, 'wave', 'lstm'), wire(n, 'lstm', 'classifier', 1, 0));
}

/**
 * The course-mode examples the app trains (its Mode panel and the session's mode runs), after
 * the plain ones; their mode travels in the project as `training.mode`.
 */
export const APP_MODE_EXAMPLES: (ModeExample & Example)[] = MODE_EXAMPLES.filter((e): e is ModeExample & Example => e.data !== undefined && ['autoencoder', 'vae', 'gan', 'adversarial', 'language-model', 'seq2seq', 'word2vec', 'rotation', 'contrastive', 'pretrain-transfer', 'trainer'].includes(e.mode.kind));

export function exampleBytes(e: Example): Uint8Array {
  return writeProject({
    name: e.title,
    graph: e.graph,
    data: withDataDefaults(e.data),
    training: withTrainingDefaults({ ...e.training, ...(e.mode ? { mode: e.mode } : {}) } as PartialTrainingSettings),
    ui: { positions: arrangedLayout(e.graph), expanded: [] },
  });
}

const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');
  const only = process.argv.slice(2);
  const all: Example[] = [...EXAMPLES, ...APP_MODE_EXAMPLES];
  for (const e of all) {
    if (only.length && !only.includes(e.id)) continue;
    writeFileSync(path.join(dir, `${e.id}.aps`), exampleBytes(e));
    process.stdout.write(`wrote examples/${e.id}.aps\n`);
  }
  const index = all.map((e) => ({ id: e.id, title: e.title, description: e.description, file: `${e.id}.aps` }));
  writeFileSync(path.join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  process.stdout.write('wrote examples/index.json\n');
}
