/**
 * Standard image workloads (a-c) on MNIST digits at batch 64: an MLP, LeNet-5 and a small
 * 3-conv CNN, each written for the engine, TensorFlow.js and PyTorch.
 */
import { fromValues } from '../core/engine.ts';
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { torchDefaultBias, torchDefaultWeight } from '../nn/init.ts';
import { relu } from '../ops/activation.ts';
import { conv2d } from '../ops/conv.ts';
import { reshape } from '../ops/layout.ts';
import { linear } from '../ops/matmul.ts';
import { maxPool2d } from '../ops/pool.ts';
import type { EngineModel, Workload } from './workload.ts';

/** A weight/bias pair with torch's default Linear/Conv initialisation. */
function layer(params: Tensor[], shape: number[], gen: Generator): [Tensor, Tensor] {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const w = fromValues(torchDefaultWeight(shape, gen), shape).requiresGrad_();
  const b = fromValues(torchDefaultBias(shape[0], fanIn, gen), [shape[0]]).requiresGrad_();
  params.push(w, b);
  return [w, b];
}

export const mlp: Workload = {
  id: 'mlp',
  title: 'a) MLP 784-128-64-10, ReLU',
  input: 'flat',
  engine(gen): EngineModel {
    const p: Tensor[] = [];
    const [w1, b1] = layer(p, [128, 784], gen);
    const [w2, b2] = layer(p, [64, 128], gen);
    const [w3, b3] = layer(p, [10, 64], gen);
    return { parameters: p, forward: (x) => linear(relu(linear(relu(linear(x, w1, b1)), w2, b2)), w3, b3) };
  },
  tfjs: (tf) =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    }),
  torch: 'model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))',
};

export const lenet5: Workload = {
  id: 'lenet5',
  title: 'b) LeNet-5: conv 6@5x5 pad 2, maxpool 2, conv 16@5x5, maxpool 2, 120, 84, 10, ReLU',
  input: 'image',
  engine(gen): EngineModel {
    const p: Tensor[] = [];
    const [c1, cb1] = layer(p, [6, 1, 5, 5], gen);
    const [c2, cb2] = layer(p, [16, 6, 5, 5], gen);
    const [f1, fb1] = layer(p, [120, 400], gen);
    const [f2, fb2] = layer(p, [84, 120], gen);
    const [f3, fb3] = layer(p, [10, 84], gen);
    return {
      parameters: p,
      forward: (x) => {
        let h = maxPool2d(relu(conv2d(x, c1, cb1, { padding: 2 })), { kernelSize: 2 });
        h = maxPool2d(relu(conv2d(h, c2, cb2)), { kernelSize: 2 });
        h = reshape(h, [h.shape[0], 400]);
        return linear(relu(linear(relu(linear(h, f1, fb1)), f2, fb2)), f3, fb3);
      },
    };
  },
  tfjs: (tf) =>
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 120, activation: 'relu' }),
        tf.layers.dense({ units: 84, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    }),
  torch: `model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))`,
};

export const cnn3: Workload = {
  id: 'cnn3',
  title: 'c) CNN: conv 32@3x3, conv 32@3x3, maxpool 2, conv 64@3x3, maxpool 2, dense 128, 10, ReLU',
  input: 'image',
  engine(gen): EngineModel {
    const p: Tensor[] = [];
    const [c1, cb1] = layer(p, [32, 1, 3, 3], gen);
    const [c2, cb2] = layer(p, [32, 32, 3, 3], gen);
    const [c3, cb3] = layer(p, [64, 32, 3, 3], gen);
    const [f1, fb1] = layer(p, [128, 1600], gen);
    const [f2, fb2] = layer(p, [10, 128], gen);
    return {
      parameters: p,
      forward: (x) => {
        // 28 -> 26 -> 24 -> 12 -> 10 -> 5
        let h = relu(conv2d(x, c1, cb1));
        h = maxPool2d(relu(conv2d(h, c2, cb2)), { kernelSize: 2 });
        h = maxPool2d(relu(conv2d(h, c3, cb3)), { kernelSize: 2 });
        h = reshape(h, [h.shape[0], 1600]);
        return linear(relu(linear(h, f1, fb1)), f2, fb2);
      },
    };
  },
  tfjs: (tf) =>
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    }),
  torch: `model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))`,
};

export const imageWorkloads: Workload[] = [mlp, lenet5, cnn3];
