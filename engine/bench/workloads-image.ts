/**
 * Standard image workloads (a-c) on MNIST digits at batch 64: an MLP, LeNet-5 and a small
 * 3-conv CNN, each written for the engine (nn modules, torch's default initialisation),
 * TensorFlow.js and PyTorch.
 */
import type { Module } from '../nn/module.ts';
import { Conv2d } from '../nn/conv.ts';
import { Linear } from '../nn/linear.ts';
import { relu } from '../ops/activation.ts';
import { reshape } from '../ops/layout.ts';
import { maxPool2d } from '../ops/pool.ts';
import type { EngineModel, Workload } from './workload.ts';

/** The trainable parameters of `modules`, in order. */
const paramsOf = (modules: Module[]) => modules.flatMap((m) => m.parameters());

export const mlp: Workload = {
  id: 'mlp',
  title: 'a) MLP 784-128-64-10, ReLU',
  input: 'flat',
  engine(gen): EngineModel {
    const generator = gen;
    const fc1 = new Linear(784, 128, { generator });
    const fc2 = new Linear(128, 64, { generator });
    const fc3 = new Linear(64, 10, { generator });
    return { parameters: paramsOf([fc1, fc2, fc3]), forward: (x) => fc3.forward(relu(fc2.forward(relu(fc1.forward(x))))) };
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
    const generator = gen;
    const c1 = new Conv2d(1, 6, 5, { padding: 2, generator });
    const c2 = new Conv2d(6, 16, 5, { generator });
    const f1 = new Linear(400, 120, { generator });
    const f2 = new Linear(120, 84, { generator });
    const f3 = new Linear(84, 10, { generator });
    return {
      parameters: paramsOf([c1, c2, f1, f2, f3]),
      forward: (x) => {
        let h = maxPool2d(relu(c1.forward(x)), { kernelSize: 2 });
        h = maxPool2d(relu(c2.forward(h)), { kernelSize: 2 });
        h = reshape(h, [h.shape[0], 400]);
        return f3.forward(relu(f2.forward(relu(f1.forward(h)))));
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
    const generator = gen;
    const c1 = new Conv2d(1, 32, 3, { generator });
    const c2 = new Conv2d(32, 32, 3, { generator });
    const c3 = new Conv2d(32, 64, 3, { generator });
    const f1 = new Linear(1600, 128, { generator });
    const f2 = new Linear(128, 10, { generator });
    return {
      parameters: paramsOf([c1, c2, c3, f1, f2]),
      forward: (x) => {
        // 28 -> 26 -> 24 -> 12 -> 10 -> 5
        let h = relu(c1.forward(x));
        h = maxPool2d(relu(c2.forward(h)), { kernelSize: 2 });
        h = maxPool2d(relu(c3.forward(h)), { kernelSize: 2 });
        h = reshape(h, [h.shape[0], 1600]);
        return f2.forward(relu(f1.forward(h)));
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
