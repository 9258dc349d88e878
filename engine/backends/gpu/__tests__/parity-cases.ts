/**
 * The gpu ↔ cpu parity cases, shared by the Node suite (parity.test.ts, gpu.js webasm/cpu)
 * and the browser run (e2e/gpu-webgl2.spec.ts, gpu.js webgl2 in Chromium). No test
 * framework here: each case builds the same tensors from the same seed on both backends and
 * `checkParity` returns the first disagreement, or null.
 *
 * gpu.js computes in float32 (float32 textures on GL, f32 in WebAssembly) and sums in
 * another order than the CPU's float64 GEMM accumulators, so values must agree within
 * |gpu - cpu| <= atol + rtol * |cpu|.
 */
import { kernelsOf } from '../../../core/backend.ts';
import { activeBackend, setBackend, tensor } from '../../../core/engine.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { cpuBackend } from '../../cpu/cpu-backend.ts';
import { gelu, leakyRelu, logSoftmax, relu, reluGrad, sigmoid, sigmoidGrad, silu, softmax, tanh, tanhGrad } from '../../../ops/activation.ts';
import { conv2d, convTranspose2d } from '../../../ops/conv.ts';
import { full, ones, randn, zeros } from '../../../ops/creation.ts';
import { abs, add, cast, clamp, cos, div, eq, exp, ge, gt, le, log, lt, maximum, minimum, mul, neg, sign, sin, sqrt, square, sub, where } from '../../../ops/elementwise.ts';
import { cat, expand, gather, indexSelect, narrow, pad, permute, reshape, slice, stack, transpose } from '../../../ops/layout.ts';
import { crossEntropy, mseLoss } from '../../../ops/loss.ts';
import { bmm, linear, matmul } from '../../../ops/matmul.ts';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../../ops/pool.ts';
import { batchNorm, layerNorm } from '../../../ops/norm.ts';
import { mean, sum, variance } from '../../../ops/reduce.ts';
import { Conv2d } from '../../../nn/conv.ts';
import { Linear } from '../../../nn/linear.ts';
import { MaxPool2d } from '../../../nn/pool.ts';
import { Adam, AdamW } from '../../../optim/adam.ts';
import { RMSprop } from '../../../optim/rmsprop.ts';
import { SGD } from '../../../optim/sgd.ts';
import { gpuBackend } from '../gpu-backend.ts';

export const RTOL = 1e-4;
export const ATOL = 1e-4;

type Build = (gen: Generator) => Tensor | Tensor[];

export interface ParityCase {
  name: string;
  /** Kernels the gpu must run itself for this case to test the device (not the CPU fallback). */
  kernels: string[];
  /** One or more builds, each compared output by output. */
  builds: Build[];
  rtol?: number;
  atol?: number;
}

interface Output {
  shape: readonly number[];
  dtype: string;
  values: Float32Array | Int32Array;
}

/** Runs `fn` with `name` active, then restores the previous backend. */
function on<T>(name: string, fn: () => T): T {
  const previous = activeBackend().name;
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

/** The outputs' values; every tensor the build made (inputs, intermediates, modules) is freed. */
function outputsOf(build: Build): Output[] {
  let res: Output[] = [];
  tidy(() => {
    const outs = [build(new Generator(11))].flat();
    res = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: t.dataSync().slice() }));
  });
  return res;
}

function firstMismatch(gpu: Output[], cpu: Output[], rtol: number, atol: number): string | null {
  if (gpu.length !== cpu.length) return `${gpu.length} outputs on the gpu, ${cpu.length} on the cpu`;
  for (let k = 0; k < cpu.length; k++) {
    const c = cpu[k];
    const g = gpu[k];
    if (g.shape.join(',') !== c.shape.join(',')) return `output ${k}: shape [${g.shape.join(', ')}] on the gpu, [${c.shape.join(', ')}] on the cpu`;
    if (g.dtype !== c.dtype) return `output ${k}: dtype ${g.dtype} on the gpu, ${c.dtype} on the cpu`;
    for (let i = 0; i < c.values.length; i++) {
      const gv = g.values[i];
      const cv = c.values[i];
      if (!(Object.is(gv, cv) || Math.abs(gv - cv) <= atol + rtol * Math.abs(cv))) {
        return `output ${k} [${c.shape.join(', ')}]: element ${i} differs: gpu ${gv}, cpu ${cv} (tolerance ${atol} + ${rtol}·|cpu|)`;
      }
    }
  }
  return null;
}

/**
 * Runs every build of `c` on the cpu and on the (already enabled) gpu backend and returns
 * the first disagreement in words, or null when all outputs agree. Also refuses a case whose
 * kernels the gpu does not implement, so a passing case always means device kernels ran.
 */
export function checkParity(c: ParityCase): string | null {
  const have = new Set(kernelsOf('gpu'));
  const missing = c.kernels.filter((k) => !have.has(k));
  if (missing.length) return `the gpu backend has no ${missing.join(', ')} kernel`;
  for (let b = 0; b < c.builds.length; b++) {
    const cpu = on('cpu', () => outputsOf(c.builds[b]));
    const gpu = on('gpu', () => outputsOf(c.builds[b]));
    const why = firstMismatch(gpu, cpu, c.rtol ?? RTOL, c.atol ?? ATOL);
    if (why) return c.builds.length > 1 ? `variant ${b + 1} of ${c.builds.length}: ${why}` : why;
  }
  return null;
}

/**
 * Output and the gradients of sum(f(...) * R) w.r.t. each input that receives one (an input
 * whose backward returns null, like ReluGrad's x, has none), for parity of backward kernels.
 */
function withGrads(f: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor[] {
  for (const x of inputs) x.requiresGrad_();
  const y = f(...inputs);
  const r = randn(y.shape, 0, 1, new Generator(5));
  sum(mul(y, r)).backward();
  return [y, ...inputs.flatMap((x) => (x.grad ? [x.grad] : []))];
}

const r = (gen: Generator, ...shape: number[]) => randn(shape, 0, 1, gen);
const pos = (gen: Generator, ...shape: number[]) => add(abs(r(gen, ...shape)), 0.5);

const convCases = [
  { x: [2, 3, 7, 7], w: [4, 3, 3, 3], opts: {} },
  { x: [2, 3, 8, 9], w: [4, 3, 3, 2], opts: { stride: 2, padding: 1 } },
  { x: [1, 4, 9, 9], w: [6, 2, 3, 3], opts: { padding: [2, 1] as [number, number], dilation: 2, groups: 2 } },
  { x: [2, 4, 5, 5], w: [8, 4, 1, 1], opts: {} },
  { x: [1, 2, 6, 6], w: [3, 2, 5, 5], opts: { padding: 'same' as const } },
];

const poolInput = (g: Generator) => r(g, 2, 3, 9, 8);

export const PARITY_CASES: ParityCase[] = [
  {
    name: 'binary ops broadcast',
    kernels: ['Add', 'Sub', 'Mul', 'Div', 'Maximum', 'Minimum'],
    builds: [(g) => [
      add(r(g, 3, 4), r(g, 4)),
      sub(r(g, 2, 3, 4), r(g, 3, 1)),
      mul(r(g, 2, 1, 1), r(g, 1, 3)),
      div(r(g, 3, 4), pos(g, 4)),
      add(r(g, 4, 1, 5), r(g, 1, 6, 1)),
      mul(r(g, 2, 3), tensor([2.5], [])),
      maximum(r(g, 5, 2), r(g, 2)),
      minimum(r(g, 5, 2), r(g, 5, 1)),
    ]],
  },
  {
    name: 'comparisons, where and the unary maps',
    kernels: ['Greater', 'Where', 'Exp', 'Log', 'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Clamp'],
    builds: [(g) => {
      const x = mul(r(g, 4, 6), 3);
      const y = r(g, 6);
      return [
        gt(x, y), ge(x, 0), lt(x, y), le(x, 0.5), eq(tensor([1, 2, 3, 4], [4]), tensor([1, 0, 3, 0], [4])),
        where(gt(x, 0), x, y),
        neg(x), exp(x), log(pos(g, 7)), sqrt(pos(g, 7)), abs(x), sign(x), square(x),
        relu(x), sigmoid(mul(x, 20)), tanh(x), sin(x), cos(x), leakyRelu(x, 0.1), clamp(x, -1, 0.5), clamp(x, 0),
        silu(x), gelu(x),
      ];
    }],
  },
  {
    name: 'fused relu, sigmoid and tanh gradients, and their own backward',
    kernels: ['ReluGrad', 'SigmoidGrad', 'TanhGrad'],
    builds: [
      (g) => withGrads((x) => relu(x), mul(r(g, 3, 7), 2)),
      (g) => withGrads((x) => sigmoid(x), mul(r(g, 3, 7), 4)),
      (g) => withGrads((x) => tanh(x), mul(r(g, 2, 3, 5), 2)),
      // The fused kernels called directly, with their own backward (the second derivative).
      (g) => withGrads((dy, x) => reluGrad(dy, x), r(g, 4, 5), r(g, 4, 5)),
      (g) => withGrads((dy, y) => sigmoidGrad(dy, y), r(g, 4, 5), sigmoid(r(g, 4, 5))),
      (g) => withGrads((dy, y) => tanhGrad(dy, y), r(g, 4, 5), tanh(r(g, 4, 5))),
    ],
  },
  {
    name: 'constants and casts',
    kernels: ['Fill', 'Cast'],
    builds: [(g) => [
      zeros([2, 3]), ones([4]), full([3, 2], -1.5), full([5], 7, 'int32'),
      cast(mul(r(g, 3, 4), 5), 'int32'), cast(tensor([3, -2, 0, 9], [4], 'int32'), 'float32'), cast(tensor([1.9, -1.9, 0.5], [3]), 'int32'),
    ]],
  },
  {
    name: 'gather and index_select with their scatter/index-add backward',
    kernels: ['Gather', 'ScatterAdd', 'IndexSelect', 'IndexAdd'],
    builds: [
      (g) => withGrads((x) => gather(x, 1, tensor([2, 0, 4, 4, 1, 3], [6, 1], 'int32')), r(g, 6, 5)),
      (g) => withGrads((x) => gather(x, 0, tensor([1, 0, 2, 2, 2, 0, 1, 1], [2, 4], 'int32')), r(g, 3, 5)),
      (g) => withGrads((x) => gather(x, -1, tensor([0, 1, 1, 0, 2, 2, 1, 0, 0, 2, 2, 2], [2, 3, 2], 'int32')), r(g, 2, 3, 4)),
      (g) => withGrads((x) => indexSelect(x, 0, tensor([3, 0, 3, 1], [4], 'int32')), r(g, 5, 6)),
      (g) => withGrads((x) => indexSelect(x, 1, tensor([2, 2, 0], [3], 'int32')), r(g, 2, 4, 3)),
    ],
  },
  {
    name: 'slice, narrow, pad, cat and stack, with gradients',
    kernels: ['Slice', 'Pad', 'Concat'],
    builds: [
      (g) => withGrads((x) => narrow(x, 1, 1, 3), r(g, 2, 5, 3)),
      (g) => withGrads((x) => slice(x, [1, 0, 2], [2, 3, 2]), r(g, 4, 3, 5)),
      (g) => [slice(r(g, 6, 7), [1, 0], [3, 3], [2, 3]), slice(tensor([1, 2, 3, 4, 5, 6], [6], 'int32'), [1], [2], [2])],
      (g) => withGrads((x) => pad(x, [[1, 2], [0, 3]], 0.5), r(g, 3, 4)),
      (g) => [pad(r(g, 2, 3, 6), [[0, 0], [-1, 1], [2, -3]])],
      (g) => withGrads((a, b, c) => cat([a, b, c], 1), r(g, 2, 3, 4), r(g, 2, 1, 4), r(g, 2, 5, 4)),
      (g) => withGrads((...xs) => stack(xs, 0), ...Array.from({ length: 11 }, () => r(g, 3, 2))),
      (g) => [cat([r(g, 0, 3), r(g, 2, 3), r(g, 0, 3)], 0), cat([r(g, 2, 0), r(g, 2, 0)], 0)],
    ],
  },
  {
    name: 'permute, expand and reshape',
    kernels: ['Transpose', 'BroadcastTo', 'Reshape'],
    builds: [(g) => [transpose(r(g, 3, 5), 0, 1), permute(r(g, 2, 3, 4), [2, 0, 1]), expand(r(g, 3, 1), [2, 3, 4]), reshape(r(g, 2, 6), [3, 4])]],
  },
  {
    name: 'reductions over any dims',
    kernels: ['Sum'],
    builds: [(g) => {
      const x = r(g, 2, 3, 4);
      return [sum(x), sum(x, 0), sum(x, 1, true), sum(x, [0, 2]), sum(x, -1), mean(x, [1, 2]), variance(x, 1, false, true), sum(r(g, 64, 300), 0)];
    }],
  },
  {
    name: 'matmul: plain, transposed, batched, broadcast, vectors, linear',
    kernels: ['BatchMatMul'],
    builds: [(g) => [
      matmul(r(g, 5, 7), r(g, 7, 3)),
      bmm(r(g, 7, 5), r(g, 7, 3), true, false),
      bmm(r(g, 5, 7), r(g, 3, 7), false, true),
      bmm(r(g, 7, 5), r(g, 3, 7), true, true),
      matmul(r(g, 2, 3, 4), r(g, 2, 4, 5)),
      matmul(r(g, 2, 1, 3, 4), r(g, 3, 4, 2)),
      matmul(r(g, 4), r(g, 4, 3)),
      matmul(r(g, 3, 4), r(g, 4)),
      linear(r(g, 6, 784), r(g, 32, 784), r(g, 32)),
    ]],
  },
  {
    name: 'batched matmul gradients for every transpose combination',
    kernels: ['BatchMatMul'],
    builds: ([[false, false], [true, false], [false, true], [true, true]] as const).map(([ta, tb]): Build => (g) =>
      withGrads((a, b) => bmm(a, b, ta, tb), ta ? r(g, 2, 4, 3) : r(g, 2, 3, 4), tb ? r(g, 1, 5, 4) : r(g, 1, 4, 5))),
  },
  {
    name: 'conv2d forward and both backward passes (stride, padding, dilation, groups, bias)',
    kernels: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
    builds: [
      ...convCases.map((c): Build => (g) => withGrads((x, w, b) => conv2d(x, w, b, c.opts), r(g, ...c.x), r(g, ...c.w), r(g, c.w[0]))),
      (g) => withGrads((x, w) => convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), r(g, 2, 3, 4, 4), r(g, 3, 2, 3, 3)),
    ],
  },
  {
    name: 'max, average and adaptive average pooling forward and backward',
    kernels: ['MaxPool2D', 'MaxPool2DGrad', 'AvgPool2D', 'AvgPool2DGrad', 'AdaptiveAvgPool2D', 'AdaptiveAvgPool2DGrad'],
    builds: [
      (g) => withGrads((t) => maxPool2d(t, { kernelSize: 2 }), poolInput(g)),
      (g) => withGrads((t) => maxPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), poolInput(g)),
      (g) => withGrads((t) => maxPool2d(t, { kernelSize: 2, dilation: 2, ceilMode: true }), poolInput(g)),
      (g) => withGrads((t) => avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), poolInput(g)),
      (g) => withGrads((t) => avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), poolInput(g)),
      (g) => withGrads((t) => avgPool2d(t, { kernelSize: [2, 3] }), poolInput(g)),
      ...([1, [3, 2], [4, 4], [9, 8], [5, 11]] as const).map((size): Build => (g) => withGrads((t) => adaptiveAvgPool2d(t, size), poolInput(g))),
      (g) => withGrads((t) => adaptiveAvgPool2d(t, [7, 5]), r(g, 1, 2, 3, 3)),
    ],
  },
  {
    name: 'softmax and log-softmax along every dim, with gradients',
    kernels: ['Softmax', 'LogSoftmax'],
    builds: [0, 1, -1].flatMap((dim): Build[] => [
      (g) => withGrads((t) => softmax(t, dim), mul(r(g, 3, 4, 5), 4)),
      (g) => withGrads((t) => logSoftmax(t, dim), mul(r(g, 3, 4, 5), 4)),
    ]),
  },
  {
    name: 'batch norm (training with running statistics, eval) and layer norm, with gradients',
    kernels: ['BatchNorm', 'BatchNormGrad', 'LayerNorm', 'LayerNormGrad'],
    builds: [
      ...([[4, 3, 5, 6], [8, 5]] as const).map((shape): Build => (g) => {
        const c = shape[1];
        const rm = r(g, c);
        const rv = pos(g, c);
        return [...withGrads((x, w, b) => batchNorm(x, rm, rv, w, b, true, 0.1, 1e-5), add(mul(r(g, ...shape), 2), 1), r(g, c), r(g, c)), rm, rv];
      }),
      (g) => withGrads((x) => batchNorm(x, null, null, null, null, true), r(g, 3, 4, 5)),
      (g) => withGrads((x, w, b) => batchNorm(x, r(g, 3), pos(g, 3), w, b, false), r(g, 2, 3, 4, 4), r(g, 3), r(g, 3)),
      (g) => withGrads((x, w, b) => layerNorm(x, [6], w, b), add(mul(r(g, 4, 5, 6), 3), 2), r(g, 6), r(g, 6)),
      (g) => withGrads((x, w, b) => layerNorm(x, [3, 4], w, b, 1e-3), r(g, 5, 3, 4), r(g, 3, 4), r(g, 3, 4)),
      (g) => withGrads((x) => layerNorm(x, [7]), r(g, 6, 7)),
    ],
  },
  {
    name: 'fused SGD (momentum, dampening, nesterov, weight decay), Adam/AdamW (amsgrad) and RMSprop (centered, momentum) updates',
    kernels: ['SGDStep', 'AdamStep', 'RMSpropStep'],
    builds: ([
      (ps) => new SGD(ps, { lr: 0.1 }),
      (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 0.01 }),
      (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, dampening: 0.3 }),
      (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
      (ps) => new Adam(ps, { lr: 0.01 }),
      (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, amsgrad: true }),
      (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
      (ps) => new RMSprop(ps, { lr: 0.01 }),
      (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.05 }),
      (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.5 }),
    ] as ((ps: Tensor[]) => { step(): void })[]).map((make): Build => (g) => {
      const ps = [r(g, 4, 3), r(g, 5)];
      const opt = make(ps);
      for (let s = 0; s < 3; s++) {
        for (const p of ps) p.grad = r(g, ...p.shape);
        opt.step();
      }
      return ps;
    }),
  },
  {
    name: 'an MLP trains to the same losses and parameters (three SGD steps)',
    kernels: ['BatchMatMul', 'Relu', 'LogSoftmax'],
    rtol: 1e-3,
    builds: [(g) => {
      const l1 = new Linear(64, 32, { generator: g });
      const l2 = new Linear(32, 10, { generator: g });
      const params = [...l1.parameters(), ...l2.parameters()];
      const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
      const x = r(g, 16, 64);
      const y = tensor(Array.from({ length: 16 }, (_, i) => i % 10), [16], 'int32');
      const losses: Tensor[] = [];
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        const loss = crossEntropy(l2.forward(relu(l1.forward(x))), y);
        loss.backward();
        opt.step();
        losses.push(loss);
      }
      return [...losses, ...params];
    }],
  },
  {
    name: 'a CNN trains to the same losses and parameters (two SGD steps)',
    kernels: ['Conv2D', 'Conv2DBackpropFilter', 'MaxPool2D', 'MaxPool2DGrad'],
    rtol: 1e-3,
    builds: [(g) => {
      const conv = new Conv2d(1, 4, 3, { padding: 1, generator: g });
      const pool = new MaxPool2d(2);
      const fc = new Linear(4 * 7 * 7, 10, { generator: g });
      const params = [...conv.parameters(), ...fc.parameters()];
      const opt = new SGD(params, { lr: 0.05, momentum: 0.9 });
      const x = r(g, 8, 1, 14, 14);
      const y = tensor([0, 1, 2, 3, 4, 5, 6, 7], [8], 'int32');
      const losses: Tensor[] = [];
      for (let s = 0; s < 2; s++) {
        opt.zeroGrad();
        const h = pool.forward(relu(conv.forward(x)));
        const loss = crossEntropy(fc.forward(reshape(h, [8, -1])), y);
        loss.backward();
        opt.step();
        losses.push(loss);
      }
      return [...losses, ...params];
    }],
  },
];

/** What crossed between the gpu backend and the host during one training step. */
export interface StepTraffic {
  /** Kernel results brought back to the host: the loss, plus any CPU fallback's inputs. */
  resultReads: number;
  /** Writes to the CPU backend: a CPU fallback kernel ran (its inputs and outputs). */
  cpuWrites: number;
  /** Readbacks from the device itself, when the caller can count them (e.g. WebGL readPixels). */
  deviceReads: number | null;
  /** Live tensors on the gpu backend after the step. */
  liveTensors: number;
}

/**
 * Trains a small MLP and a small CNN for `steps` SGD steps each on the gpu backend, reading
 * only the loss, and reports per step what was read back. In pipeline mode a step should
 * read exactly one value (the loss) and run nothing on the CPU. `deviceReads` counts
 * readbacks below the backend (the browser run counts WebGL readPixels calls).
 */
export function measureStepTraffic(steps = 3, deviceReads?: () => number): Record<'mlp' | 'cnn', StepTraffic[]> {
  const models = {
    mlp: (g: Generator) => {
      const l1 = new Linear(20, 16, { generator: g });
      const l2 = new Linear(16, 4, { generator: g });
      return { params: [...l1.parameters(), ...l2.parameters()], x: r(g, 8, 20), loss: (x: Tensor, t: Tensor) => mseLoss(l2.forward(tanh(l1.forward(x))), t), target: r(g, 8, 4) };
    },
    cnn: (g: Generator) => {
      const conv = new Conv2d(1, 4, 3, { padding: 1, generator: g });
      const pool = new MaxPool2d(2);
      const fc = new Linear(4 * 7 * 7, 10, { generator: g });
      const labels = tensor([0, 1, 2, 3, 4, 5, 6, 7], [8], 'int32');
      return {
        params: [...conv.parameters(), ...fc.parameters()],
        x: r(g, 8, 1, 14, 14),
        loss: (x: Tensor, t: Tensor) => crossEntropy(fc.forward(reshape(pool.forward(relu(conv.forward(x))), [8, -1])), t),
        target: labels,
      };
    },
  };
  let cpuWrites = 0;
  const cpuWrite = cpuBackend.write;
  cpuBackend.write = (values) => {
    cpuWrites++;
    return cpuWrite.call(cpuBackend, values);
  };
  try {
    return on('gpu', () => {
      const res = { mlp: [] as StepTraffic[], cnn: [] as StepTraffic[] };
      for (const key of ['mlp', 'cnn'] as const) {
        const m = models[key](new Generator(3));
        const opt = new SGD(m.params, { lr: 0.1, momentum: 0.9 });
        for (let s = 0; s < steps; s++) {
          const reads0 = gpuBackend.resultReads;
          cpuWrites = 0;
          const device0 = deviceReads?.() ?? 0;
          opt.zeroGrad();
          const loss = tidy(() => {
            const l = m.loss(m.x, m.target);
            l.backward();
            return l;
          });
          opt.step();
          const value = loss.item();
          if (!Number.isFinite(value)) throw new Error(`${key} step ${s + 1}: loss is ${value}`);
          loss.dispose();
          res[key].push({ resultReads: gpuBackend.resultReads - reads0, cpuWrites, deviceReads: deviceReads ? deviceReads() - device0 : null, liveTensors: gpuBackend.memory().tensors });
        }
        for (const t of [...m.params, m.x, m.target]) t.dispose();
        opt.dispose();
      }
      return res;
    });
  } finally {
    Reflect.deleteProperty(cpuBackend, 'write');
  }
}
