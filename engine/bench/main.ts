/**
 * `npm run bench`: training throughput of the standard workloads (batch 64, float32, MNIST),
 * the GFLOP/s of the core kernels and the time of one shape inference over a 200-node
 * graph, for the engine's CPU backend and, in the same run,
 * TensorFlow.js and PyTorch CPU (where `import torch` works), with ratios.
 *
 * Flags: --quick (short run), --json (one JSON object on stdout), --only=id,id,
 * --no-tfjs, --no-torch, --seconds=S (time per measurement), --backend gpu (cpu and gpu side
 * by side, see backends.ts), --threads=N (the engine's GEMM threads; default APS_THREADS or
 * the available cores). For each engine measurement the log gives the share of large
 * products that ran on threads (the rest stayed on one thread because the cores were busy).
 * Each workload (and the kernel set) runs on the engine and then at once on PyTorch (a Python
 * process per workload), so each engine/torch ratio compares measurements taken seconds
 * apart; TensorFlow.js runs after all engine measurements, since loading it slows the engine.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromValues } from '../core/engine.ts';
import { Generator } from '../core/random.ts';
import { tidy } from '../core/scope.ts';
import { cpuBackend } from '../backends/cpu/cpu-backend.ts';
import { gemmKernel, takeGemmThreadStats } from '../backends/cpu/matmul.ts';
import { gemmThreads, setGemmThreads } from '../backends/cpu/parallel.ts';
import { installNodeGemmThreads } from '../backends/cpu/parallel.node.ts';
import { benchInfer } from '../graph/bench-infer.ts';
import { rand } from '../ops/creation.ts';
import { conv2d } from '../ops/conv.ts';
import { crossEntropy } from '../ops/loss.ts';
import { matmul } from '../ops/matmul.ts';
import { SGD } from '../optim/sgd.ts';
import { type Batches, loadBatches } from './mnist.node.ts';
import { type KernelSpec, loadTf, tfKernels, trainTf } from './tfjs.ts';
import { timeLoop, type TimingOptions } from './timing.ts';
import type { InputLayout, Workload } from './workload.ts';
import { imageWorkloads } from './workloads-image.ts';

const BATCH = 64;

installNodeGemmThreads();

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const json = flag('json');
const timing: TimingOptions = { seconds: Number(value('seconds') ?? (quick ? 0.6 : 3)), warmup: quick ? 1 : 3 };
const batchCount = quick ? 4 : 16;
if (value('threads') !== undefined) {
  const n = Number(value('threads'));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads must be a positive integer, got "${value('threads')}"`);
  setGemmThreads(n);
}
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

/** Sequence workloads (d, e) join the list from their own file when it exists. */
async function allWorkloads(): Promise<Workload[]> {
  const list = [...imageWorkloads];
  try {
    const seq = (await import(join(dirname(fileURLToPath(import.meta.url)), 'workloads-seq.ts'))) as { seqWorkloads?: Workload[] };
    list.push(...(seq.seqWorkloads ?? []));
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  const only = value('only')?.split(',');
  return only ? list.filter((w) => only.includes(w.id)) : list;
}

const kernelSpecs: KernelSpec[] = [
  { name: 'matmul 512', kind: 'matmul', n: 512 },
  { name: 'matmul 1024', kind: 'matmul', n: 1024 },
  { name: 'conv2d fwd 16x32x28x28 * 32x32x3x3 pad 1', kind: 'conv2d', x: [16, 32, 28, 28], w: [32, 32, 3, 3], padding: 1 },
];

function engineShape(layout: InputLayout, n: number): number[] {
  if (layout === 'image') return [n, 1, 28, 28];
  if (layout === 'rows') return [n, 28, 28];
  return [n, 784];
}

/** Share of the large products that ran split between threads since the last call ('-' when none was large). */
function splitShare(): number | null {
  const s = takeGemmThreadStats();
  return s.large === 0 ? null : (s.large - s.backedOff) / s.large;
}
const fmtShare = (v: number | null) => (v === null ? '' : `, ${Math.round(v * 100)}% of large products on threads`);

function trainEngine(w: Workload, data: Batches): { samplesPerSec: number; liveTensorsGrowth: number; threadedShare: number | null } {
  const model = w.engine(new Generator(0));
  const opt = new SGD(model.parameters, { lr: 0.01, momentum: 0.9 });
  const per = data.batchSize * 784;
  const xs = Array.from({ length: data.count }, (_, k) => fromValues(data.images.slice(k * per, (k + 1) * per), engineShape(w.input, data.batchSize)));
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
    if (i === timing.warmup) live = cpuBackend.memory().tensors;
  };
  takeGemmThreadStats();
  const { steps, seconds } = timeLoop(step, timing);
  const threadedShare = splitShare();
  const growth = cpuBackend.memory().tensors - live;
  [...xs, ...ys, ...model.parameters].forEach((t) => t.dispose());
  opt.dispose();
  return { samplesPerSec: (steps * data.batchSize) / seconds, liveTensorsGrowth: growth, threadedShare };
}

function engineKernels(): { gflops: Record<string, number>; threadedShare: Record<string, number | null> } {
  const gen = new Generator(1);
  const res: Record<string, number> = {};
  const threadedShare: Record<string, number | null> = {};
  const opts = { ...timing, seconds: timing.seconds / 2, warmup: 1, minSteps: 2 };
  for (const s of kernelSpecs) {
    if (s.kind === 'matmul') {
      const a = rand([s.n, s.n], 0, 1, gen);
      const b = rand([s.n, s.n], 0, 1, gen);
      takeGemmThreadStats();
      const { steps, seconds } = timeLoop(() => matmul(a, b).dispose(), opts);
      res[s.name] = (2 * s.n ** 3 * steps) / seconds / 1e9;
      threadedShare[s.name] = splitShare();
      a.dispose();
      b.dispose();
    } else {
      const x = rand(s.x, 0, 1, gen);
      const f = rand(s.w, 0, 1, gen);
      const y = conv2d(x, f, null, { padding: s.padding });
      const flops = 2 * y.size * s.w[1] * s.w[2] * s.w[3];
      y.dispose();
      takeGemmThreadStats();
      const { steps, seconds } = timeLoop(() => conv2d(x, f, null, { padding: s.padding }).dispose(), opts);
      res[s.name] = (flops * steps) / seconds / 1e9;
      threadedShare[s.name] = splitShare();
      x.dispose();
      f.dispose();
    }
  }
  return { gflops: res, threadedShare };
}

interface TorchResult {
  version: string;
  workloads: Record<string, { samplesPerSec: number; threads: number }>;
  kernels: Record<string, { gflops: number; threads: number }>;
}

function findTorchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3', 'python']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

function runTorch(py: string, workloads: Workload[], kernels: KernelSpec[], data: Batches): TorchResult | { error: string } {
  const dataPath = join(tmpdir(), `aps-bench-mnist-${process.pid}.bin`);
  writeFileSync(dataPath, Buffer.concat([Buffer.from(data.images.buffer, data.images.byteOffset, data.images.byteLength), Buffer.from(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength)]));
  try {
    const cfg = {
      batch: data.batchSize, count: data.count, dataPath, seconds: timing.seconds, warmup: timing.warmup, threads: [1, 2],
      workloads: workloads.filter((w) => w.torch).map((w) => ({ id: w.id, input: w.input, torch: w.torch })),
      kernels,
    };
    const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_bench.py');
    const r = spawnSync(py, [script], { input: JSON.stringify(cfg), encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) return { error: (r.stderr || 'PyTorch run failed').trim().split('\n').slice(-3).join(' ') };
    return JSON.parse(r.stdout) as TorchResult;
  } finally {
    rmSync(dataPath, { force: true });
  }
}

const fmtRate = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const fmtRatio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** Runs `fn` with console.log and console.warn silenced (TensorFlow.js greets Node users and warns about slow initialisers). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const [quietLog, quietWarn] = [console.log, console.warn];
  console.log = () => {};
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.log = quietLog;
    console.warn = quietWarn;
  }
}

async function main(): Promise<void> {
  const workloads = await allWorkloads();
  const data = loadBatches(BATCH, batchCount);
  log(`APS Studio benchmark: batch ${BATCH}, float32, ${batchCount} MNIST batches, ${timing.seconds} s per measurement${quick ? ' (quick)' : ''}, engine GEMM micro-kernel: ${gemmKernel()}, threads: ${gemmThreads()}`);

  // --backend gpu [--gpu-mode=MODE]: cpu and gpu side by side instead (engine/bench/backends.ts).
  const backendArg = value('backend') ?? (args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined);
  if (backendArg && backendArg !== 'cpu') {
    const { benchBackends } = await import('./backends.ts');
    const report = benchBackends({ backend: backendArg, gpuMode: value('gpu-mode') as never, workloads, data, timing, timeLoop, log });
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }

  // PyTorch (a Python process per workload) runs right after the engine on each workload and
  // on the kernels, so that each engine/torch ratio compares measurements taken seconds apart
  // (this machine's speed drifts over a run). TensorFlow.js runs in this process, after every
  // engine measurement: loaded any earlier, it slows the engine (measured: the MLP 0.64-0.8x,
  // LeNet-5 0.65-0.9x of its speed without TensorFlow.js loaded).
  let torchRes: TorchResult | null = null;
  let torchNote = flag('no-torch') ? 'skipped (--no-torch)' : 'not installed (python3 -c "import torch" fails)';
  let torchPy = flag('no-torch') ? null : findTorchPython();
  const measureTorch = (ws: Workload[], ks: KernelSpec[]) => {
    if (!torchPy) return;
    const r = runTorch(torchPy, ws, ks, data);
    if ('error' in r) {
      torchNote = `failed: ${r.error}`;
      torchRes = null;
      torchPy = null;
      return;
    }
    const acc: TorchResult = torchRes ?? { version: r.version, workloads: {}, kernels: {} };
    Object.assign(acc.workloads, r.workloads);
    Object.assign(acc.kernels, r.kernels);
    torchRes = acc;
    for (const w of ws) if (r.workloads[w.id]) log(`  torch ${w.id}: ${fmtRate(r.workloads[w.id].samplesPerSec)} samples/s (${r.workloads[w.id].threads}t)`);
  };

  const engine: Record<string, { samplesPerSec: number; liveTensorsGrowth: number; threadedShare: number | null }> = {};
  for (const w of workloads) {
    engine[w.id] = trainEngine(w, data);
    log(`  engine ${w.id}: ${fmtRate(engine[w.id].samplesPerSec)} samples/s${fmtShare(engine[w.id].threadedShare)}`);
    if (w.torch) measureTorch([w], []);
  }
  const { gflops: engineK, threadedShare: kernelShare } = engineKernels();
  for (const s of kernelSpecs) log(`  engine ${s.name}: ${engineK[s.name].toFixed(2)} GFLOP/s${fmtShare(kernelShare[s.name])}`);
  measureTorch([], kernelSpecs);
  const INFER_SIZE = 200;
  const infer = benchInfer(INFER_SIZE, quick ? 10 : 50, () => performance.now());

  let tfjsRes: Record<string, { samplesPerSec: number; backend: string } | null> = {};
  let tfK: { backend: string; gflops: Record<string, number> } | null = null;
  if (!flag('no-tfjs')) {
    try {
      await quietly(async () => {
        const tf = await loadTf();
        tf.env().set('PROD', true);
        for (const w of workloads) tfjsRes[w.id] = await trainTf(tf, w, data, timing);
        tfK = await tfKernels(tf, kernelSpecs, { ...timing, seconds: timing.seconds / 2 });
      });
      for (const w of workloads) {
        const r = tfjsRes[w.id];
        if (r) log(`  tfjs ${w.id}: ${fmtRate(r.samplesPerSec)} samples/s (${r.backend})`);
      }
    } catch (e) {
      tfjsRes = {};
      tfK = null;
      log(`  TensorFlow.js unavailable: ${(e as Error).message}`);
    }
  }
  const tfKFinal = tfK as { backend: string; gflops: Record<string, number> } | null;
  // (Assigned inside measureTorch, which the compiler's narrowing does not follow.)
  const torchFinal = torchRes as TorchResult | null;

  const report = {
    batch: BATCH, quick, secondsPerMeasurement: timing.seconds, engineGemmKernel: gemmKernel(), engineThreads: gemmThreads(),
    workloads: workloads.map((w) => ({
      id: w.id, title: w.title,
      engine: engine[w.id].samplesPerSec,
      engineLiveTensorGrowth: engine[w.id].liveTensorsGrowth,
      engineThreadedShare: engine[w.id].threadedShare,
      tfjs: tfjsRes[w.id] ?? null,
      torch: torchFinal?.workloads[w.id] ?? null,
    })),
    shapeInference: { size: INFER_SIZE, nodes: infer.nodes, msPerInfer: infer.msPerInfer },
    kernels: kernelSpecs.map((s) => ({ name: s.name, engine: engineK[s.name], engineThreadedShare: kernelShare[s.name], tfjs: tfKFinal ? { gflops: tfKFinal.gflops[s.name], backend: tfKFinal.backend } : null, torch: torchFinal?.kernels[s.name] ?? null })),
    torch: torchFinal ? { version: torchFinal.version } : { note: torchNote },
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  log('');
  log('Training throughput (samples/s, higher is better)');
  log(`${pad('workload', 10)}${lpad('engine', 10)}${lpad('tfjs', 18)}${lpad('torch', 18)}${lpad('eng/tfjs', 10)}${lpad('eng/torch', 11)}`);
  for (const r of report.workloads) {
    const tf = r.tfjs ? `${fmtRate(r.tfjs.samplesPerSec)} (${r.tfjs.backend})` : '-';
    const th = r.torch ? `${fmtRate(r.torch.samplesPerSec)} (${r.torch.threads}t)` : '-';
    log(`${pad(r.id, 10)}${lpad(fmtRate(r.engine), 10)}${lpad(tf, 18)}${lpad(th, 18)}${lpad(fmtRatio(r.engine, r.tfjs?.samplesPerSec), 10)}${lpad(fmtRatio(r.engine, r.torch?.samplesPerSec), 11)}`);
  }
  for (const w of workloads) log(`  ${w.id}: ${w.title}`);
  log('');
  log(`Kernels (GFLOP/s, engine GEMM on ${gemmThreads() === 1 ? 'one thread' : `up to ${gemmThreads()} threads`})`);
  log(`${pad('kernel', 44)}${lpad('engine', 8)}${lpad('tfjs', 14)}${lpad('torch', 12)}${lpad('eng/tfjs', 10)}${lpad('eng/torch', 11)}`);
  for (const k of report.kernels) {
    const tf = k.tfjs ? `${k.tfjs.gflops.toFixed(2)} (${k.tfjs.backend})` : '-';
    const th = k.torch ? `${k.torch.gflops.toFixed(2)} (${k.torch.threads}t)` : '-';
    log(`${pad(k.name, 44)}${lpad(k.engine.toFixed(2), 8)}${lpad(tf, 14)}${lpad(th, 12)}${lpad(fmtRatio(k.engine, k.tfjs?.gflops), 10)}${lpad(fmtRatio(k.engine, k.torch?.gflops), 11)}`);
  }
  log('');
  // largeGraph(size) builds about `size` nodes (202 for 200).
  log(`shape inference, ${INFER_SIZE}-node graph: ${infer.msPerInfer.toFixed(2)} ms`);
  log('');
  log(`PyTorch: ${torchFinal ? `${torchFinal.version}, best of 1 and 2 threads` : torchNote}`);
  const leaks = report.workloads.filter((r) => r.engineLiveTensorGrowth > 0);
  if (leaks.length > 0) log(`Warning: live tensors grew during training in ${leaks.map((r) => `${r.id} (+${r.engineLiveTensorGrowth})`).join(', ')}`);
}

await main();
