import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../backends/cpu/cpu-backend.ts';
import { fromValues, tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { ReLU, Tanh } from '../../nn/activation.ts';
import { Sequential } from '../../nn/container.ts';
import { Conv2d } from '../../nn/conv.ts';
import { Flatten } from '../../nn/flatten.ts';
import { Linear } from '../../nn/linear.ts';
import { BatchNorm1d, BatchNorm2d } from '../../nn/norm.ts';
import { Dropout } from '../../nn/dropout.ts';
import { MaxPool2d } from '../../nn/pool.ts';
import { int32 } from '../../ops/creation.ts';
import { binaryCrossEntropyWithLogits, crossEntropy } from '../../ops/loss.ts';
import { argmax } from '../../ops/reduce.ts';
import { Adam } from '../adam.ts';
import { clipGradNorm } from '../clip.ts';
import { SGD } from '../sgd.ts';

const require = createRequire(import.meta.url);

describe('end-to-end training', () => {
  it('an MLP learns XOR: loss near 0 and 100% accuracy', () => {
    const g = new Generator(0);
    const model = new Sequential(new Linear(2, 8, { generator: g }), new Tanh(), new Linear(8, 1, { generator: g }));
    const x = tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
    const y = tensor([0, 1, 1, 0], [4, 1]);
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    let loss = Infinity;
    for (let step = 0; step < 400; step++) {
      loss = tidy(() => {
        opt.zeroGrad();
        const l = binaryCrossEntropyWithLogits(model.forward(x), y);
        l.backward();
        opt.step();
        return l.item();
      });
    }
    expect(loss).toBeLessThan(0.01);
    const pred = Array.from(model.forward(x).dataSync()).map((v) => (v > 0 ? 1 : 0));
    expect(pred).toEqual([0, 1, 1, 0]);
  });

  it('a training loop inside tidy keeps the live tensor count flat', () => {
    const g = new Generator(1);
    const model = new Sequential(new Linear(10, 16, { generator: g }), new BatchNorm1d(16), new ReLU(), new Dropout(0.2, { generator: g }), new Linear(16, 3, { generator: g }));
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    const x = fromValues(Float32Array.from({ length: 80 }, () => g.normal()), [8, 10]);
    const t = int32([0, 1, 2, 0, 1, 2, 0, 1]);
    const counts: number[] = [];
    for (let step = 0; step < 12; step++) {
      tidy(() => {
        opt.zeroGrad();
        const l = crossEntropy(model.forward(x), t);
        l.backward();
        clipGradNorm(model.parameters(), 1);
        opt.step();
      });
      counts.push(cpuBackend.memory().tensors);
    }
    // After the first step has created the optimiser state, every step ends with the same count.
    expect(new Set(counts.slice(1)).size).toBe(1);
    opt.zeroGrad();
    expect(cpuBackend.memory().tensors).toBeLessThan(counts[11]);
  });

  it('a small CNN learns real MNIST digits: >= 88% on 500 held-out digits after 2 epochs on 2000', () => {
    const perDigitTrain = 200;
    const perDigitTest = 50;
    const trainX = new Float32Array(10 * perDigitTrain * 784);
    const trainY = new Int32Array(10 * perDigitTrain);
    const testX = new Float32Array(10 * perDigitTest * 784);
    const testY = new Int32Array(10 * perDigitTest);
    for (let d = 0; d < 10; d++) {
      const raw = (JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] }).data;
      // Train on the first samples of each digit; test on samples from the end of the file.
      for (let i = 0; i < perDigitTrain; i++) {
        trainX.set(raw.slice(i * 784, (i + 1) * 784), (d * perDigitTrain + i) * 784);
        trainY[d * perDigitTrain + i] = d;
      }
      const n = Math.floor(raw.length / 784);
      for (let i = 0; i < perDigitTest; i++) {
        const k = n - 1 - i;
        testX.set(raw.slice(k * 784, (k + 1) * 784), (d * perDigitTest + i) * 784);
        testY[d * perDigitTest + i] = d;
      }
    }
    const g = new Generator(7);
    const model = new Sequential(
      new Conv2d(1, 6, 3, { padding: 1, generator: g }),
      new BatchNorm2d(6),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(6, 12, 3, { padding: 1, generator: g }),
      new BatchNorm2d(12),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(12 * 7 * 7, 10, { generator: g }),
    );
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    const batch = 50;
    const nTrain = trainY.length;
    const batchOf = (idx: Int32Array, from: number, to: number): [Tensor, Tensor] => {
      const xs = new Float32Array((to - from) * 784);
      const ys = new Int32Array(to - from);
      for (let i = from; i < to; i++) {
        xs.set(trainX.subarray(idx[i] * 784, (idx[i] + 1) * 784), (i - from) * 784);
        ys[i - from] = trainY[idx[i]];
      }
      return [fromValues(xs, [to - from, 1, 28, 28]), fromValues(ys, [to - from])];
    };
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = g.permutation(nTrain);
      for (let s = 0; s < nTrain; s += batch) {
        tidy(() => {
          const [xb, yb] = batchOf(order, s, Math.min(nTrain, s + batch));
          opt.zeroGrad();
          crossEntropy(model.forward(xb), yb).backward();
          opt.step();
        });
      }
    }
    model.eval();
    const correct = tidy(() => {
      const pred = argmax(model.forward(fromValues(testX, [testY.length, 1, 28, 28])), 1).dataSync();
      let c = 0;
      for (let i = 0; i < testY.length; i++) if (pred[i] === testY[i]) c++;
      return c;
    });
    expect(correct / testY.length).toBeGreaterThanOrEqual(0.88);
  }, 60000);
});
