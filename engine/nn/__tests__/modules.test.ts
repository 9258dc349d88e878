import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { gelu, leakyRelu, logSoftmax, relu, sigmoid, silu, softmax, softplus, tanh } from '../../ops/activation.ts';
import { conv2d, convTranspose2d } from '../../ops/conv.ts';
import { int32, randn } from '../../ops/creation.ts';
import { mseLoss } from '../../ops/loss.ts';
import { mean, variance } from '../../ops/reduce.ts';
import { SGD } from '../../optim/sgd.ts';
import { GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh } from '../activation.ts';
import { Sequential } from '../container.ts';
import { Conv1d, Conv2d, ConvTranspose2d } from '../conv.ts';
import { Dropout } from '../dropout.ts';
import { Embedding } from '../embedding.ts';
import { Flatten, Unflatten } from '../flatten.ts';
import { Identity, Linear } from '../linear.ts';
import type { Module, StateEntry } from '../module.ts';
import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm } from '../norm.ts';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../pool.ts';

const gen = new Generator(21);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);
const values = (t: Tensor) => Array.from(t.dataSync());

function stats(v: number[]): { mean: number; std: number; maxAbs: number } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  return { mean: m, std, maxAbs: Math.max(...v.map(Math.abs)) };
}

function plainState(m: Module): Map<string, StateEntry> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], values: t.dataSync().slice() }]));
}

describe('module names, shapes and default initialisation (as torch)', () => {
  it('Sequential names children 0, 1, ... so state_dict keys match torch', () => {
    const m = new Sequential(new Linear(4, 3), new ReLU(), new BatchNorm1d(3), new Linear(3, 2));
    expect([...m.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '2.running_mean', '2.running_var', '2.num_batches_tracked', '3.weight', '3.bias']);
    expect(m.stateDict().get('2.num_batches_tracked')!.dtype).toBe('int32');
    expect(m.stateDict().get('2.num_batches_tracked')!.shape).toEqual([]);
    expect(m.length).toBe(4);
    expect(m.at(-1)).toBeInstanceOf(Linear);
    expect(() => m.at(4)).toThrow(/index 4 is out of range for 4 layers/);
    expect(m.forward(r(5, 4)).shape).toEqual([5, 2]);
  });

  it('Conv2d: weight [out, in/groups, kh, kw] and bias [out] uniform within 1/sqrt(fan_in)', () => {
    const c = new Conv2d(6, 40, [3, 5], { groups: 2, generator: new Generator(1) });
    expect(c.weight.shape).toEqual([40, 3, 3, 5]);
    expect(c.bias!.shape).toEqual([40]);
    const bound = 1 / Math.sqrt(3 * 15);
    const w = stats(values(c.weight));
    expect(w.maxAbs).toBeLessThanOrEqual(bound);
    // U(-b, b) has standard deviation b / sqrt(3).
    expect(w.std).toBeGreaterThan(0.9 * (bound / Math.sqrt(3)));
    expect(w.std).toBeLessThan(1.1 * (bound / Math.sqrt(3)));
    expect(stats(values(c.bias!)).maxAbs).toBeLessThanOrEqual(bound);
    expect(new Conv2d(3, 4, 3, { bias: false }).bias).toBeNull();
    expect(() => new Conv2d(5, 4, 3, { groups: 2 })).toThrow(/in_channels 5 is not divisible by groups 2/);
  });

  it('ConvTranspose2d: weight [in, out/groups, kh, kw] with fan_in from dim 1', () => {
    const c = new ConvTranspose2d(8, 6, 4, { groups: 2, generator: new Generator(2) });
    expect(c.weight.shape).toEqual([8, 3, 4, 4]);
    expect(c.bias!.shape).toEqual([6]);
    const bound = 1 / Math.sqrt(3 * 16);
    const w = stats(values(c.weight));
    expect(w.maxAbs).toBeLessThanOrEqual(bound);
    expect(w.std).toBeGreaterThan(0.85 * (bound / Math.sqrt(3)));
    expect(stats(values(c.bias!)).maxAbs).toBeLessThanOrEqual(bound);
  });

  it('Conv1d: weight [out, in/groups, k]', () => {
    const c = new Conv1d(4, 6, 3, { padding: 1 });
    expect(c.weight.shape).toEqual([6, 4, 3]);
    expect(c.forward(r(2, 4, 10)).shape).toEqual([2, 6, 10]);
  });

  it('Embedding: N(0, 1) with the padding row zeroed; PReLU starts at 0.25; norm layers at ones and zeros', () => {
    const e = new Embedding(100, 50, { paddingIdx: -1, generator: new Generator(3) });
    expect(e.paddingIdx).toBe(99);
    const v = values(e.weight);
    const s = stats(v.slice(0, 99 * 50));
    expect(Math.abs(s.mean)).toBeLessThan(0.05);
    expect(s.std).toBeGreaterThan(0.95);
    expect(s.std).toBeLessThan(1.05);
    expect(v.slice(99 * 50).every((x) => x === 0)).toBe(true);
    expect(e.forward(int32([1, 99, 4, 5], [2, 2])).shape).toEqual([2, 2, 50]);
    expect(values(new PReLU(3).weight)).toEqual([0.25, 0.25, 0.25]);
    const bn = new BatchNorm2d(3);
    expect([bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((t) => values(t!))).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
    ]);
    const ln = new LayerNorm([2, 3]);
    expect(ln.weight!.shape).toEqual([2, 3]);
    expect(new LayerNorm(4, { elementwiseAffine: false }).numParameters()).toBe(0);
  });
});

describe('module forward passes', () => {
  it('conv and pool modules call the functional ops with their options', () => {
    const x = r(2, 3, 9, 9);
    const c = new Conv2d(3, 8, 3, { stride: 2, padding: 1 });
    const y = c.forward(x);
    expect(y.shape).toEqual([2, 8, 5, 5]);
    expect(values(y)).toEqual(values(conv2d(x, c.weight, c.bias, { stride: 2, padding: 1 })));
    const t = new ConvTranspose2d(8, 3, 3, { stride: 2, padding: 1, outputPadding: 1 });
    const z = t.forward(y);
    expect(z.shape).toEqual([2, 3, 10, 10]);
    expect(values(z)).toEqual(values(convTranspose2d(y, t.weight, t.bias, { stride: 2, padding: 1, outputPadding: 1 })));
    expect(new MaxPool2d(2).forward(x).shape).toEqual([2, 3, 4, 4]);
    expect(new MaxPool2d(2, { ceilMode: true }).forward(x).shape).toEqual([2, 3, 5, 5]);
    expect(new AvgPool2d(3, { stride: 2, padding: 1 }).forward(x).shape).toEqual([2, 3, 5, 5]);
    const g = new AdaptiveAvgPool2d(1).forward(x);
    expect(g.shape).toEqual([2, 3, 1, 1]);
    expect(values(g)[0]).toBeCloseTo(values(mean(x, [2, 3]))[0], 5);
  });

  it('activation modules match their functional ops', () => {
    const x = r(3, 4);
    const pairs: [Module, Tensor][] = [
      [new ReLU(), relu(x)],
      [new LeakyReLU(0.2), leakyRelu(x, 0.2)],
      [new Sigmoid(), sigmoid(x)],
      [new Tanh(), tanh(x)],
      [new SiLU(), silu(x)],
      [new Softplus(2, 10), softplus(x, 2, 10)],
      [new GELU('tanh'), gelu(x, 'tanh')],
      [new Softmax(0), softmax(x, 0)],
      [new LogSoftmax(1), logSoftmax(x, 1)],
    ];
    for (const [m, ref] of pairs) expect(values(m.forward(x))).toEqual(values(ref));
    expect(new Identity().forward(x)).toBe(x);
    const p = new PReLU(4);
    expect(values(p.forward(tensor([-4, 4, -1, 0], [1, 4])))).toEqual([-1, 4, -0.25, 0]);
  });

  it('Flatten(start_dim=1) and Unflatten', () => {
    const x = r(2, 3, 4, 5);
    expect(new Flatten().forward(x).shape).toEqual([2, 60]);
    expect(new Flatten(0, 1).forward(x).shape).toEqual([6, 4, 5]);
    expect(new Unflatten(1, [3, 4, 5]).forward(new Flatten().forward(x)).shape).toEqual([2, 3, 4, 5]);
    expect(new Unflatten(-1, [2, -1]).forward(r(3, 8)).shape).toEqual([3, 2, 4]);
    expect(() => new Unflatten(1, [3, 3]).forward(r(2, 8))).toThrow(/size 8 .* cannot be unflattened into \[3, 3\]/);
  });

  it('BatchNorm1d in training normalises with batch statistics and tracks running ones', () => {
    const bn = new BatchNorm1d(2);
    const x = tensor([1, 10, 2, 20, 3, 30, 6, 40], [4, 2]);
    const y = bn.forward(x);
    expect(values(mean(y, 0)).map((v) => Math.abs(v) < 1e-6)).toEqual([true, true]);
    expect(values(bn.runningMean!)).toEqual([0.3, 2.5].map((v) => Math.fround(v)));
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.forward(x);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    // Eval uses the running statistics and changes nothing.
    bn.eval();
    const rm = values(bn.runningMean!);
    const rv = values(bn.runningVar!);
    const ye = values(bn.forward(x));
    expect(ye[0]).toBeCloseTo((1 - rm[0]) / Math.sqrt(rv[0] + 1e-5), 5);
    expect(values(bn.runningMean!)).toEqual(rm);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expect(() => bn.forward(r(4, 3))).toThrow(/expected 2 channels in dimension 1, got input \[4, 3\]/);
    expect(() => new BatchNorm2d(2).forward(r(4, 2))).toThrow(/rank 4/);
  });

  it('BatchNorm with momentum null keeps the cumulative average of batch statistics', () => {
    const bn = new BatchNorm1d(1, { momentum: null });
    bn.forward(tensor([1, 3], [2, 1]));
    bn.forward(tensor([5, 7, 9], [3, 1]));
    expect(bn.runningMean!.item()).toBeCloseTo((2 + 7) / 2, 5);
    expect(bn.runningVar!.item()).toBeCloseTo((2 + 4) / 2, 5);
  });

  it('BatchNorm2d normalises each channel over N, H, W; without tracking, eval uses batch statistics', () => {
    const x = randn([4, 3, 5, 5], 2, 3, gen);
    const y = new BatchNorm2d(3).forward(x);
    const m = values(mean(y, [0, 2, 3]));
    const v = values(variance(y, [0, 2, 3]));
    m.forEach((e) => expect(Math.abs(e)).toBeLessThan(1e-5));
    v.forEach((e) => expect(e).toBeCloseTo(1, 3));
    const untracked = new BatchNorm2d(3, { trackRunningStats: false }).eval();
    expect(untracked.runningMean).toBeNull();
    expect(values(untracked.forward(x))).toEqual(values(y));
  });

  it('Dropout is active in training and the identity after eval()', () => {
    const d = new Dropout(0.5, { generator: new Generator(4) });
    const x = r(100);
    const yt = values(d.forward(x));
    expect(yt.filter((e) => e === 0).length).toBeGreaterThan(30);
    const m = new Sequential(new Linear(100, 100), d);
    m.eval();
    expect(d.training).toBe(false);
    expect(d.forward(x)).toBe(x);
    m.train();
    expect(d.training).toBe(true);
  });

  it('LayerNorm and GroupNorm modules normalise', () => {
    const x = randn([2, 4, 6], 3, 2, gen);
    const y = new LayerNorm(6).forward(x);
    values(mean(y, 2)).forEach((e) => expect(Math.abs(e)).toBeLessThan(1e-5));
    const g = new GroupNorm(2, 4).forward(x);
    expect(g.shape).toEqual([2, 4, 6]);
    expect(() => new GroupNorm(3, 4)).toThrow(/4 channels cannot be split into 3 groups/);
  });
});

describe('state dicts, train/eval and freezing', () => {
  const build = (seed: number) => {
    const g = new Generator(seed);
    return new Sequential(new Conv2d(1, 4, 3, { generator: g }), new BatchNorm2d(4), new ReLU(), new Flatten(), new Linear(4 * 4 * 4, 3, { generator: g }), new PReLU(), new Embedding(5, 2, { generator: g }));
  };

  it('round-trips parameters and buffers through stateDict/loadStateDict', () => {
    const a = build(1);
    const x = r(2, 1, 6, 6);
    const head = (m: Sequential, t: Tensor) => [0, 1, 2, 3, 4, 5].reduce((y, i) => m.at(i).forward(y), t);
    head(a, x); // updates the running statistics
    a.eval();
    const b = build(2).eval();
    expect(values(head(b, x))).not.toEqual(values(head(a, x)));
    b.loadStateDict(plainState(a));
    expect(values(head(b, x))).toEqual(values(head(a, x)));
    for (const [k, t] of a.stateDict()) expect(values(b.stateDict().get(k)!)).toEqual(values(t));
    expect(b.stateDict().get('1.num_batches_tracked')!.item()).toBe(1);
  });

  it('loadStateDict names missing and mismatched entries', () => {
    const a = build(1);
    const state = plainState(a);
    state.delete('4.bias');
    expect(() => build(2).loadStateDict(state)).toThrow(/missing keys: 4.bias/);
    state.set('4.bias', { shape: [4], values: new Float32Array(4) });
    expect(() => build(2).loadStateDict(state)).toThrow(/"4.bias" has shape \[4\] in the file, the model expects \[3\]/);
  });

  it('frozen parameters get no gradient and are not changed by the optimiser', () => {
    const m = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
    m.at(0).requiresGrad_(false);
    const opt = new SGD(m.parameters(), { lr: 0.5 });
    const before = m.at(0).parameters().map(values);
    const head = values((m.at(2) as Linear).weight);
    mseLoss(m.forward(r(5, 3)), r(5, 2)).backward();
    expect(m.at(0).parameters().every((p) => p.grad === null)).toBe(true);
    expect((m.at(2) as Linear).weight.grad).not.toBeNull();
    opt.step();
    expect(m.at(0).parameters().map(values)).toEqual(before);
    expect(values((m.at(2) as Linear).weight)).not.toEqual(head);
  });
});
