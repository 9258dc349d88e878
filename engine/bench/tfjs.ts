/**
 * TensorFlow.js side of the benchmark. Its wasm backend is tried first; where it lacks a
 * kernel training needs (it has no convolution filter gradient), the pure-JS cpu backend
 * trains instead.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { Batches } from './mnist.node.ts';
import { timeLoop, type TimingOptions } from './timing.ts';
import type { InputLayout, Workload } from './workload.ts';

type Tf = typeof tfjs;

export async function loadTf(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  return tf;
}

function tfShape(layout: InputLayout, n: number): number[] {
  if (layout === 'image') return [n, 28, 28, 1];
  if (layout === 'rows') return [n, 28, 28];
  return [n, 784];
}

async function trainOn(tf: Tf, backend: string, w: Workload, data: Batches, opts: TimingOptions): Promise<number> {
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} is unavailable`);
  await tf.ready();
  const model = w.tfjs!(tf);
  const opt = tf.train.momentum(0.01, 0.9);
  const per = data.batchSize * 784;
  const xs = Array.from({ length: data.count }, (_, k) => tf.tensor(data.images.subarray(k * per, (k + 1) * per), tfShape(w.input, data.batchSize)));
  const ys = Array.from({ length: data.count }, (_, k) => tf.oneHot(tf.tensor1d(data.labels.subarray(k * data.batchSize, (k + 1) * data.batchSize), 'int32'), 10));
  let i = 0;
  try {
    const step = () => {
      const k = i++ % data.count;
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys[k], model.apply(xs[k], { training: true }) as tfjs.Tensor) as tfjs.Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    };
    const { steps, seconds } = timeLoop(step, opts);
    return (steps * data.batchSize) / seconds;
  } finally {
    xs.forEach((t) => t.dispose());
    ys.forEach((t) => t.dispose());
    model.dispose();
    opt.dispose();
  }
}

/** Training samples per second on the fastest TensorFlow.js backend that can train `w`. */
export async function trainTf(tf: Tf, w: Workload, data: Batches, opts: TimingOptions): Promise<{ samplesPerSec: number; backend: string } | null> {
  if (!w.tfjs) return null;
  for (const backend of ['wasm', 'cpu']) {
    try {
      return { samplesPerSec: await trainOn(tf, backend, w, data, opts), backend };
    } catch {
      // This backend cannot train the model (e.g. a missing gradient kernel): try the next.
    }
  }
  return null;
}

/** GFLOP/s of tf.matMul (n x n) and tf.conv2d on the wasm backend (cpu if wasm is missing). */
export async function tfKernels(tf: Tf, specs: KernelSpec[], opts: TimingOptions): Promise<{ backend: string; gflops: Record<string, number> }> {
  const backend = (await tf.setBackend('wasm')) ? 'wasm' : 'cpu';
  if (backend === 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  const gflops: Record<string, number> = {};
  for (const s of specs) {
    if (s.kind === 'matmul') {
      const a = tf.randomUniform([s.n, s.n]);
      const b = tf.randomUniform([s.n, s.n]);
      const { steps, seconds } = timeLoop(() => tf.matMul(a, b).dispose(), { ...opts, warmup: 1, minSteps: 2 });
      gflops[s.name] = (2 * s.n ** 3 * steps) / seconds / 1e9;
      a.dispose();
      b.dispose();
    } else {
      const [n, c, h, wd] = s.x;
      const [o, , kh, kw] = s.w;
      const x = tf.randomUniform([n, h, wd, c]) as tfjs.Tensor4D;
      const f = tf.randomUniform([kh, kw, c, o]) as tfjs.Tensor4D;
      const run = () => tf.conv2d(x, f, 1, s.padding === 0 ? 'valid' : 'same');
      const y = run();
      const flops = 2 * y.size * c * kh * kw;
      y.dispose();
      const { steps, seconds } = timeLoop(() => run().dispose(), { ...opts, warmup: 1, minSteps: 2 });
      gflops[s.name] = (flops * steps) / seconds / 1e9;
      x.dispose();
      f.dispose();
    }
  }
  return { backend, gflops };
}

export type KernelSpec =
  | { name: string; kind: 'matmul'; n: number }
  | { name: string; kind: 'conv2d'; x: [number, number, number, number]; w: [number, number, number, number]; padding: number };
