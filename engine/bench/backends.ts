/**
 * `npm run bench -- --backend gpu [--gpu-mode=webasm]`: the standard workloads and the core
 * kernels on the CPU backend and on the gpu backend (gpu.js, in the best mode that works
 * here unless --gpu-mode names one), side by side in one run, with gpu/cpu ratios.
 */
import type { Backend } from '../core/backend.ts';
import { activeBackend, fromValues, setBackend } from '../core/engine.ts';
import { Generator } from '../core/random.ts';
import { tidy } from '../core/scope.ts';
import type { GpuMode } from '../backends/gpu/gpu-backend.ts';
import { describeBackend, enableGpuBackend } from '../backends/gpu/register.ts';
import { rand } from '../ops/creation.ts';
import { conv2d } from '../ops/conv.ts';
import { crossEntropy } from '../ops/loss.ts';
import { matmul } from '../ops/matmul.ts';
import { SGD } from '../optim/sgd.ts';
import type { Batches } from './mnist.node.ts';
import type { TimingOptions } from './timing.ts';
import type { InputLayout, Workload } from './workload.ts';

export interface BackendBenchOptions {
  /** The backend set against the CPU: 'gpu'. */
  backend: string;
  gpuMode?: GpuMode;
  workloads: Workload[];
  data: Batches;
  timing: TimingOptions;
  timeLoop: (step: () => void, opts: TimingOptions) => { steps: number; seconds: number };
  log: (line: string) => void;
  /** Kernel sizes (square matmuls) to time on both backends. */
  matmulSizes?: number[];
}

export interface BackendBenchReport {
  backends: Record<string, string>;
  workloads: { id: string; title: string; samplesPerSec: Record<string, number>; liveTensorGrowth: Record<string, number> }[];
  kernels: { name: string; gflops: Record<string, number> }[];
}

function shapeOf(layout: InputLayout, n: number): number[] {
  if (layout === 'image') return [n, 1, 28, 28];
  if (layout === 'rows') return [n, 28, 28];
  return [n, 784];
}

/** Training samples/s of workload `w` on the active backend (SGD with momentum, as main.ts). */
function train(w: Workload, data: Batches, o: BackendBenchOptions, backend: Backend): { samplesPerSec: number; liveTensorGrowth: number } {
  const model = w.engine(new Generator(0));
  const opt = new SGD(model.parameters, { lr: 0.01, momentum: 0.9 });
  const per = data.batchSize * 784;
  const xs = Array.from({ length: data.count }, (_, k) => fromValues(data.images.slice(k * per, (k + 1) * per), shapeOf(w.input, data.batchSize)));
  const ys = Array.from({ length: data.count }, (_, k) => fromValues(data.labels.slice(k * data.batchSize, (k + 1) * data.batchSize), [data.batchSize]));
  let i = 0;
  let live = 0;
  const step = () => {
    const k = i++ % data.count;
    tidy(() => {
      const loss = crossEntropy(model.forward(xs[k]), ys[k]);
      loss.backward();
      loss.item();
      opt.step();
      opt.zeroGrad();
    });
    if (i === o.timing.warmup) live = backend.memory().tensors;
  };
  const { steps, seconds } = o.timeLoop(step, o.timing);
  const growth = backend.memory().tensors - live;
  [...xs, ...ys, ...model.parameters].forEach((t) => t.dispose());
  opt.dispose();
  return { samplesPerSec: (steps * data.batchSize) / seconds, liveTensorGrowth: growth };
}

/** GFLOP/s of the core kernels on the active backend; each result is read back, so device work is counted. */
function kernels(o: BackendBenchOptions): { name: string; gflops: number }[] {
  const gen = new Generator(1);
  const opts = { ...o.timing, seconds: o.timing.seconds / 2, warmup: 1, minSteps: 2 };
  const res: { name: string; gflops: number }[] = [];
  for (const n of o.matmulSizes ?? [256, 512]) {
    const a = rand([n, n], 0, 1, gen);
    const b = rand([n, n], 0, 1, gen);
    const { steps, seconds } = o.timeLoop(() => {
      const c = matmul(a, b);
      c.dataSync();
      c.dispose();
    }, opts);
    res.push({ name: `matmul ${n}`, gflops: (2 * n ** 3 * steps) / seconds / 1e9 });
    a.dispose();
    b.dispose();
  }
  const x = rand([16, 32, 28, 28], 0, 1, gen);
  const f = rand([32, 32, 3, 3], 0, 1, gen);
  const flops = 2 * 16 * 32 * 28 * 28 * 32 * 9;
  const { steps, seconds } = o.timeLoop(() => {
    const y = conv2d(x, f, null, { padding: 1 });
    y.dataSync();
    y.dispose();
  }, opts);
  res.push({ name: 'conv2d fwd 16x32x28x28 * 32x32x3x3 pad 1', gflops: (flops * steps) / seconds / 1e9 });
  x.dispose();
  f.dispose();
  return res;
}

const fmt = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** Runs everything on cpu, then on the other backend, and prints one table. */
export function benchBackends(o: BackendBenchOptions): BackendBenchReport {
  if (o.backend !== 'gpu') throw new Error(`--backend: unknown backend "${o.backend}" (available: cpu, gpu)`);
  const info = enableGpuBackend(o.gpuMode);
  const names = ['cpu', 'gpu'];
  const labels: Record<string, string> = { cpu: 'cpu', gpu: describeBackend() };
  o.log(`Backends: cpu and ${labels.gpu}${Object.keys(info.refused).length ? ` (not available here: ${Object.entries(info.refused).map(([m, e]) => `${m}: ${e}`).join('; ')})` : ''}`);
  const previous = activeBackend().name;
  const report: BackendBenchReport = { backends: labels, workloads: o.workloads.map((w) => ({ id: w.id, title: w.title, samplesPerSec: {}, liveTensorGrowth: {} })), kernels: [] };
  try {
    for (const name of names) {
      setBackend(name);
      const backend = activeBackend();
      o.workloads.forEach((w, k) => {
        const r = train(w, o.data, o, backend);
        report.workloads[k].samplesPerSec[name] = r.samplesPerSec;
        report.workloads[k].liveTensorGrowth[name] = r.liveTensorGrowth;
        o.log(`  ${name} ${w.id}: ${fmt(r.samplesPerSec)} samples/s`);
      });
      for (const k of kernels(o)) {
        let row = report.kernels.find((r) => r.name === k.name);
        if (!row) report.kernels.push((row = { name: k.name, gflops: {} }));
        row.gflops[name] = k.gflops;
      }
    }
  } finally {
    setBackend(previous);
  }
  o.log('');
  o.log(`Training throughput (samples/s, higher is better), cpu vs ${labels.gpu}`);
  o.log(`${pad('workload', 10)}${lpad('cpu', 10)}${lpad('gpu', 10)}${lpad('gpu/cpu', 10)}`);
  for (const r of report.workloads) {
    const c = r.samplesPerSec.cpu;
    const g = r.samplesPerSec.gpu;
    o.log(`${pad(r.id, 10)}${lpad(fmt(c), 10)}${lpad(fmt(g), 10)}${lpad(`${(g / c).toFixed(2)}x`, 10)}`);
  }
  o.log('');
  o.log('Kernels (GFLOP/s, result read back)');
  o.log(`${pad('kernel', 44)}${lpad('cpu', 8)}${lpad('gpu', 8)}${lpad('gpu/cpu', 10)}`);
  for (const k of report.kernels) {
    o.log(`${pad(k.name, 44)}${lpad(fmt(k.gflops.cpu), 8)}${lpad(fmt(k.gflops.gpu), 8)}${lpad(`${(k.gflops.gpu / k.gflops.cpu).toFixed(2)}x`, 10)}`);
  }
  const leaks = report.workloads.flatMap((r) => names.filter((n) => r.liveTensorGrowth[n] > 0).map((n) => `${r.id} on ${n} (+${r.liveTensorGrowth[n]})`));
  if (leaks.length) o.log(`Warning: live tensors grew during training in ${leaks.join(', ')}`);
  return report;
}
