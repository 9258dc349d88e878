/**
 * gpu ↔ cpu parity: each case builds the same tensors from the same seed on both backends
 * and compares every output (and gradient) elementwise. gpu.js computes in float32 (float32
 * textures on GL, f32 in WebAssembly) and sums in another order than the CPU's float64
 * GEMM accumulators, so values must agree within |gpu - cpu| <= ATOL + RTOL * |cpu|.
 */
import { describe, expect, it, vi } from 'vitest';
import { kernelsOf } from '../../../core/backend.ts';
import { Generator } from '../../../core/random.ts';
import { tidy } from '../../../core/scope.ts';
import type { Tensor } from '../../../core/tensor.ts';
import { tensor } from '../../../core/engine.ts';
import { gelu, leakyRelu, logSoftmax, relu, sigmoid, silu, softmax, tanh } from '../../../ops/activation.ts';
import { conv2d, convTranspose2d } from '../../../ops/conv.ts';
import { randn } from '../../../ops/creation.ts';
import { abs, add, clamp, cos, div, eq, exp, ge, gt, le, log, lt, maximum, minimum, mul, neg, sign, sin, sqrt, square, sub, where } from '../../../ops/elementwise.ts';
import { expand, permute, reshape, transpose } from '../../../ops/layout.ts';
import { crossEntropy, mseLoss } from '../../../ops/loss.ts';
import { bmm, linear, matmul } from '../../../ops/matmul.ts';
import { avgPool2d, maxPool2d } from '../../../ops/pool.ts';
import { mean, sum, variance } from '../../../ops/reduce.ts';
import { Conv2d } from '../../../nn/conv.ts';
import { Linear } from '../../../nn/linear.ts';
import { MaxPool2d } from '../../../nn/pool.ts';
import { SGD } from '../../../optim/sgd.ts';
import { gpuBackend } from '../gpu-backend.ts';
import { availableBackends } from '../../../session/dispatch.ts';
import { backendLabel, forEachBackend, prepareBackend } from '../../../testing/backends.ts';

const RTOL = 1e-4;
const ATOL = 1e-4;

type Build = (gen: Generator) => Tensor | Tensor[];

/** Values, shape and dtype of every output of `build`, per backend. */
function runOn(build: Build): Record<string, { shape: readonly number[]; dtype: string; values: number[] }[]> {
  const res: Record<string, { shape: readonly number[]; dtype: string; values: number[] }[]> = {};
  forEachBackend((name) => {
    const outs = [build(new Generator(11))].flat();
    res[name] = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
    for (const t of outs) t.dispose();
  });
  return res;
}

function expectClose(gpu: number[], cpu: number[], what: string, rtol = RTOL, atol = ATOL): void {
  expect(gpu.length, `${what}: length`).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    const ok = Object.is(gpu[i], cpu[i]) || Math.abs(gpu[i] - cpu[i]) <= atol + rtol * Math.abs(cpu[i]);
    if (!ok) expect.fail(`${what}: element ${i} differs: gpu ${gpu[i]}, cpu ${cpu[i]}`);
  }
}

function expectParity(build: Build, rtol = RTOL, atol = ATOL): void {
  const { cpu, gpu } = runOn(build);
  expect(gpu.length).toBe(cpu.length);
  cpu.forEach((c, k) => {
    expect(gpu[k].shape, `output ${k} shape`).toEqual(c.shape);
    expect(gpu[k].dtype, `output ${k} dtype`).toBe(c.dtype);
    expectClose(gpu[k].values, c.values, `output ${k}`, rtol, atol);
  });
}

/** Output and the gradients of sum(f(...) * R) w.r.t. each input, for parity of backward kernels. */
function withGrads(f: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor[] {
  for (const x of inputs) x.requiresGrad_();
  const y = f(...inputs);
  const r = randn(y.shape, 0, 1, new Generator(5));
  sum(mul(y, r)).backward();
  return [y, ...inputs.map((x) => x.grad as Tensor)];
}

const r = (gen: Generator, ...shape: number[]) => randn(shape, 0, 1, gen);
const pos = (gen: Generator, ...shape: number[]) => add(abs(r(gen, ...shape)), 0.5);

prepareBackend('gpu');

describe(`gpu backend [${backendLabel('gpu')}]`, () => {
  it('implements the hot kernels on the device', () => {
    const have = kernelsOf('gpu');
    for (const k of ['Add', 'Mul', 'Sum', 'BatchMatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool2D', 'MaxPool2DGrad', 'AvgPool2D', 'AvgPool2DGrad', 'Softmax', 'LogSoftmax']) {
      expect(have, k).toContain(k);
    }
  });

  it('reports its mode', () => {
    expect(backendLabel('gpu')).toMatch(/^gpu \(gpu\.js (webgpu|webgl2|webgl|headlessgl|webasm|cpu)\)$/);
    expect(gpuBackend.mode).not.toBeNull();
    // Hosts list it with its mode, highest priority first.
    expect(availableBackends()).toEqual([`gpu:${gpuBackend.mode}`, 'cpu']);
  });

  it('broadcasts binary ops', () => {
    expectParity((g) => [
      add(r(g, 3, 4), r(g, 4)),
      sub(r(g, 2, 3, 4), r(g, 3, 1)),
      mul(r(g, 2, 1, 1), r(g, 1, 3)),
      div(r(g, 3, 4), pos(g, 4)),
      add(r(g, 4, 1, 5), r(g, 1, 6, 1)),
      mul(r(g, 2, 3), tensor([2.5], [])),
      maximum(r(g, 5, 2), r(g, 2)),
      minimum(r(g, 5, 2), r(g, 5, 1)),
    ]);
  });

  it('computes comparisons, where and the unary maps', () => {
    expectParity((g) => {
      const x = mul(r(g, 4, 6), 3);
      const y = r(g, 6);
      return [
        gt(x, y), ge(x, 0), lt(x, y), le(x, 0.5), eq(tensor([1, 2, 3, 4], [4]), tensor([1, 0, 3, 0], [4])),
        where(gt(x, 0), x, y),
        neg(x), exp(x), log(pos(g, 7)), sqrt(pos(g, 7)), abs(x), sign(x), square(x),
        relu(x), sigmoid(mul(x, 20)), tanh(x), sin(x), cos(x), leakyRelu(x, 0.1), clamp(x, -1, 0.5), clamp(x, 0),
        silu(x), gelu(x),
      ];
    });
  });

  it('permutes and expands', () => {
    expectParity((g) => [transpose(r(g, 3, 5), 0, 1), permute(r(g, 2, 3, 4), [2, 0, 1]), expand(r(g, 3, 1), [2, 3, 4]), reshape(r(g, 2, 6), [3, 4])]);
  });

  it('reduces over any dims', () => {
    expectParity((g) => {
      const x = r(g, 2, 3, 4);
      return [sum(x), sum(x, 0), sum(x, 1, true), sum(x, [0, 2]), sum(x, -1), mean(x, [1, 2]), variance(x, 1, false, true), sum(r(g, 64, 300), 0)];
    });
  });

  it('multiplies matrices: plain, transposed, batched, broadcast, vectors, linear', () => {
    expectParity((g) => [
      matmul(r(g, 5, 7), r(g, 7, 3)),
      bmm(r(g, 7, 5), r(g, 7, 3), true, false),
      bmm(r(g, 5, 7), r(g, 3, 7), false, true),
      bmm(r(g, 7, 5), r(g, 3, 7), true, true),
      matmul(r(g, 2, 3, 4), r(g, 2, 4, 5)),
      matmul(r(g, 2, 1, 3, 4), r(g, 3, 4, 2)),
      matmul(r(g, 4), r(g, 4, 3)),
      matmul(r(g, 3, 4), r(g, 4)),
      linear(r(g, 6, 784), r(g, 32, 784), r(g, 32)),
    ]);
  });

  it('matmul gradients match for every transpose combination', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      expectParity((g) => withGrads((a, b) => bmm(a, b, ta, tb), ta ? r(g, 2, 4, 3) : r(g, 2, 3, 4), tb ? r(g, 1, 5, 4) : r(g, 1, 4, 5)));
    }
  });

  it('convolves forward and backward (stride, padding, dilation, groups, bias)', () => {
    const cases = [
      { x: [2, 3, 7, 7], w: [4, 3, 3, 3], opts: {} },
      { x: [2, 3, 8, 9], w: [4, 3, 3, 2], opts: { stride: 2, padding: 1 } },
      { x: [1, 4, 9, 9], w: [6, 2, 3, 3], opts: { padding: [2, 1] as [number, number], dilation: 2, groups: 2 } },
      { x: [2, 4, 5, 5], w: [8, 4, 1, 1], opts: {} },
      { x: [1, 2, 6, 6], w: [3, 2, 5, 5], opts: { padding: 'same' as const } },
    ];
    for (const c of cases) {
      expectParity((g) => withGrads((x, w, b) => conv2d(x, w, b, c.opts), r(g, ...c.x), r(g, ...c.w), r(g, c.w[0])));
    }
    expectParity((g) => withGrads((x, w) => convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), r(g, 2, 3, 4, 4), r(g, 3, 2, 3, 3)));
  });

  it('pools forward and backward', () => {
    const x = (g: Generator) => r(g, 2, 3, 9, 8);
    expectParity((g) => withGrads((t) => maxPool2d(t, { kernelSize: 2 }), x(g)));
    expectParity((g) => withGrads((t) => maxPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), x(g)));
    expectParity((g) => withGrads((t) => maxPool2d(t, { kernelSize: 2, dilation: 2, ceilMode: true }), x(g)));
    expectParity((g) => withGrads((t) => avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), x(g)));
    expectParity((g) => withGrads((t) => avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), x(g)));
    expectParity((g) => withGrads((t) => avgPool2d(t, { kernelSize: [2, 3] }), x(g)));
  });

  it('softmax and log-softmax along every dim, with gradients', () => {
    for (const dim of [0, 1, -1]) {
      expectParity((g) => withGrads((t) => softmax(t, dim), mul(r(g, 3, 4, 5), 4)));
      expectParity((g) => withGrads((t) => logSoftmax(t, dim), mul(r(g, 3, 4, 5), 4)));
    }
  });

  it('trains an MLP: the same losses and parameters after three SGD steps', () => {
    expectParity((g) => {
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
    }, 1e-3, 1e-4);
  });

  it('trains a CNN: the same losses and parameters after two SGD steps', () => {
    expectParity((g) => {
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
    }, 1e-3, 1e-4);
  });

  it('keeps a training step on the device: only the reported loss is read back', () => {
    forEachBackend(() => {
      const g = new Generator(3);
      const l1 = new Linear(20, 16, { generator: g });
      const l2 = new Linear(16, 4, { generator: g });
      const opt = new SGD([...l1.parameters(), ...l2.parameters()], { lr: 0.1 });
      const x = r(g, 8, 20);
      const t = r(g, 8, 4);
      const reads = vi.spyOn(gpuBackend, 'readSync');
      let afterFirst = 0;
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        const loss = tidy(() => {
          const l = mseLoss(l2.forward(tanh(l1.forward(x))), t);
          l.backward();
          return l;
        });
        opt.step();
        expect(reads).not.toHaveBeenCalled();
        expect(Number.isFinite(loss.item())).toBe(true);
        expect(reads).toHaveBeenCalledTimes(1);
        reads.mockClear();
        loss.dispose();
        if (s === 0) afterFirst = gpuBackend.memory().tensors;
      }
      reads.mockRestore();
      // Device memory stays flat across steps.
      expect(gpuBackend.memory().tensors).toBe(afterFirst);
    }, ['gpu']);
  });
});
