/**
 * Reference values from PyTorch: forward values and gradients of the core ops (and a few
 * optimiser steps) computed by torch on inputs written by this test, compared with the
 * engine's in float32 tolerance. Gradients are of sum(output * dy) for a random dy, so every
 * element of the backward pass is checked. All cases run in one Python process.
 * Skipped, with the reason in the title, where no Python with torch is found.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../backends/cpu/register.ts';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.ts';
import { MultiheadAttention } from '../../nn/attention.ts';
import type { Module } from '../../nn/module.ts';
import { GRU, LSTM } from '../../nn/rnn.ts';
import { Adam, AdamW } from '../../optim/adam.ts';
import type { Optimizer } from '../../optim/optimizer.ts';
import { SGD } from '../../optim/sgd.ts';
import { runPython, torch, torchTitle } from '../../testing/torch.node.ts';
import { gelu, softplus } from '../activation.ts';
import { conv2d, convTranspose2d } from '../conv.ts';
import { add, mul } from '../elementwise.ts';
import { binaryCrossEntropyWithLogits, crossEntropy } from '../loss.ts';
import { batchNorm, layerNorm } from '../norm.ts';
import { avgPool2d, maxPool2d } from '../pool.ts';
import { sum } from '../reduce.ts';

type Values = Float32Array | Int32Array;
interface Input {
  shape: number[];
  data: Values;
}
interface Case {
  name: string;
  inputs: Record<string, Input>;
  /** The engine's results under the names the Python case returns. */
  engine: (t: Record<string, Tensor>) => Record<string, Tensor>;
}

const gen = new Generator(5);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const normal = (shape: number[], scale = 1): Input => ({ shape, data: Float32Array.from({ length: size(shape) }, () => gen.normal(0, scale)) });
const uniform = (shape: number[], lo: number, hi: number): Input => ({ shape, data: Float32Array.from({ length: size(shape) }, () => gen.uniform(lo, hi)) });
const ints = (shape: number[], n: number): Input => ({ shape, data: Int32Array.from({ length: size(shape) }, () => gen.int(n)) });
const fixed = (shape: number[], values: number[]): Input => ({ shape, data: Float32Array.from(values) });

/** Leaves that need gradients, marked in place. */
function leaves(t: Record<string, Tensor>, ...names: string[]): void {
  for (const n of names) t[n]!.requiresGrad_();
}

/** sum(out_i * dy_i) backwards; returns the outputs and the gradients of `wrt` as "grad.<name>". */
function withGrads(outs: Record<string, [Tensor, Tensor]>, wrt: Record<string, Tensor>): Record<string, Tensor> {
  let loss: Tensor | null = null;
  for (const [out, dy] of Object.values(outs)) {
    const term = sum(mul(out, dy));
    loss = loss ? add(loss, term) : term;
  }
  loss!.backward();
  const result: Record<string, Tensor> = {};
  for (const [name, [out]] of Object.entries(outs)) result[name] = out;
  for (const [name, t] of Object.entries(wrt)) {
    if (!t.grad) throw new Error(`no gradient reached ${name}`);
    result[`grad.${name}`] = t.grad;
  }
  return result;
}

/** The module's parameters, loaded from inputs named "<prefix><param name>", with gradients on. */
function loadModule<M extends Module>(m: M, t: Record<string, Tensor>, prefix: string): M {
  const state = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name] of m.namedParameters()) {
    const v = t[`${prefix}${name}`];
    if (!v) throw new Error(`missing input ${prefix}${name}`);
    state.set(name, { shape: [...v.shape], values: v.dataSync() as Float32Array });
  }
  m.loadStateDict(state);
  return m;
}

function paramGrads(m: Module, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(m.namedParameters().map(([n, p]) => [`${prefix}${n}`, p]));
}

/** Runs three optimiser steps on gradients g0..g2 (as the gradients of sum(p * g_i)); returns p after each. */
function optimiserSteps(t: Record<string, Tensor>, make: (p: Tensor) => Optimizer): Record<string, Tensor> {
  const p = tensor(t.p!.dataSync() as Float32Array, [...t.p!.shape]).requiresGrad_();
  const opt = make(p);
  const out: Record<string, Tensor> = {};
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    sum(mul(p, t[`g${i}`]!)).backward();
    opt.step();
    out[`p${i}`] = tensor(Float32Array.from(p.dataSync() as Float32Array), [...p.shape]);
  }
  return out;
}

function rnnInputs(mode: 'lstm' | 'gru', I: number, H: number, layers: number, dirs: number): Record<string, Input> {
  const G = mode === 'lstm' ? 4 : 3;
  const inputs: Record<string, Input> = {};
  for (let l = 0; l < layers; l++) {
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const inF = l === 0 ? I : H * dirs;
      inputs[`m.weight_ih${sfx}`] = normal([G * H, inF], 0.4);
      inputs[`m.weight_hh${sfx}`] = normal([G * H, H], 0.4);
      inputs[`m.bias_ih${sfx}`] = normal([G * H], 0.2);
      inputs[`m.bias_hh${sfx}`] = normal([G * H], 0.2);
    }
  }
  return inputs;
}

const cases: Case[] = [
  {
    name: 'conv2d_stride_padding_dilation_groups',
    inputs: { x: normal([2, 4, 7, 8]), w: normal([6, 2, 3, 2], 0.3), b: normal([6]), dy: normal([2, 6, 4, 10]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      const y = conv2d(t.x!, t.w!, t.b!, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 });
      return withGrads({ y: [y, t.dy!] }, { x: t.x!, w: t.w!, b: t.b! });
    },
  },
  {
    name: 'conv2d_same_padding',
    inputs: { x: normal([1, 3, 6, 5]), w: normal([4, 3, 3, 4], 0.3), dy: normal([1, 4, 6, 5]) },
    engine: (t) => {
      leaves(t, 'x', 'w');
      return withGrads({ y: [conv2d(t.x!, t.w!, null, { padding: 'same', dilation: [2, 1] }), t.dy!] }, { x: t.x!, w: t.w! });
    },
  },
  {
    name: 'conv_transpose2d_output_padding',
    inputs: { x: normal([2, 4, 3, 4]), w: normal([4, 3, 3, 3], 0.3), b: normal([3]), dy: normal([2, 3, 6, 8]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      const y = convTranspose2d(t.x!, t.w!, t.b!, { stride: 2, padding: 1, outputPadding: 1 });
      return withGrads({ y: [y, t.dy!] }, { x: t.x!, w: t.w!, b: t.b! });
    },
  },
  {
    name: 'conv_transpose2d_groups_dilation',
    inputs: { x: normal([1, 4, 3, 3]), w: normal([4, 2, 2, 3], 0.3), b: normal([4]), dy: normal([1, 4, 6, 13]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      const y = convTranspose2d(t.x!, t.w!, t.b!, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], groups: 2, dilation: [2, 2] });
      return withGrads({ y: [y, t.dy!] }, { x: t.x!, w: t.w!, b: t.b! });
    },
  },
  {
    name: 'max_pool2d',
    inputs: { x: normal([2, 3, 7, 6]), dy: normal([2, 3, 4, 4]), dy2: normal([2, 3, 8, 6]) },
    engine: (t) => {
      leaves(t, 'x');
      const a = maxPool2d(t.x!, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
      const b = maxPool2d(t.x!, { kernelSize: [2, 2], stride: 1, padding: 1, dilation: [1, 2] });
      return withGrads({ y: [a, t.dy!], y2: [b, t.dy2!] }, { x: t.x! });
    },
  },
  {
    name: 'avg_pool2d',
    inputs: { x: normal([2, 3, 7, 6]), dy: normal([2, 3, 4, 7]), dy2: normal([2, 3, 4, 3]) },
    engine: (t) => {
      leaves(t, 'x');
      const a = avgPool2d(t.x!, { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true, countIncludePad: false });
      const b = avgPool2d(t.x!, { kernelSize: 3, stride: 2, padding: 1 });
      return withGrads({ y: [a, t.dy!], y2: [b, t.dy2!] }, { x: t.x! });
    },
  },
  {
    name: 'batch_norm_train',
    inputs: { x: normal([4, 3, 5], 2), rm: normal([3]), rv: uniform([3], 0.5, 1.5), w: normal([3]), b: normal([3]), dy: normal([4, 3, 5]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      const rm = tensor(t.rm!.dataSync() as Float32Array, [3]);
      const rv = tensor(t.rv!.dataSync() as Float32Array, [3]);
      const y = batchNorm(t.x!, rm, rv, t.w!, t.b!, true, 0.2, 1e-3);
      return { ...withGrads({ y: [y, t.dy!] }, { x: t.x!, w: t.w!, b: t.b! }), running_mean: rm, running_var: rv };
    },
  },
  {
    name: 'batch_norm_eval',
    inputs: { x: normal([2, 3, 4, 4]), rm: normal([3]), rv: uniform([3], 0.5, 1.5), w: normal([3]), b: normal([3]), dy: normal([2, 3, 4, 4]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      const y = batchNorm(t.x!, t.rm!, t.rv!, t.w!, t.b!, false, 0.1, 1e-5);
      return withGrads({ y: [y, t.dy!] }, { x: t.x!, w: t.w!, b: t.b! });
    },
  },
  {
    name: 'layer_norm',
    inputs: { x: normal([3, 4, 5], 3), w: normal([4, 5]), b: normal([4, 5]), dy: normal([3, 4, 5]) },
    engine: (t) => {
      leaves(t, 'x', 'w', 'b');
      return withGrads({ y: [layerNorm(t.x!, [4, 5], t.w!, t.b!, 1e-5), t.dy!] }, { x: t.x!, w: t.w!, b: t.b! });
    },
  },
  {
    name: 'lstm_two_layers_bidirectional',
    inputs: { x: normal([2, 5, 3]), ...rnnInputs('lstm', 3, 4, 2, 2), dy: normal([2, 5, 8]), dh: normal([4, 2, 4]), dc: normal([4, 2, 4]) },
    engine: (t) => {
      leaves(t, 'x');
      const m = loadModule(new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true }), t, 'm.');
      const r = m.run(t.x!);
      return withGrads({ y: [r.output, t.dy!], h: [r.hN, t.dh!], c: [r.cN!, t.dc!] }, { x: t.x!, ...paramGrads(m, 'm.') });
    },
  },
  {
    name: 'gru_with_initial_state',
    inputs: { x: normal([3, 4, 2]), h0: normal([1, 3, 5]), ...rnnInputs('gru', 2, 5, 1, 1), dy: normal([3, 4, 5]), dh: normal([1, 3, 5]) },
    engine: (t) => {
      leaves(t, 'x', 'h0');
      const m = loadModule(new GRU(2, 5, { batchFirst: true }), t, 'm.');
      const r = m.run(t.x!, t.h0!);
      return withGrads({ y: [r.output, t.dy!], h: [r.hN, t.dh!] }, { x: t.x!, h0: t.h0!, ...paramGrads(m, 'm.') });
    },
  },
  {
    name: 'multihead_attention_key_padding',
    inputs: {
      q: normal([2, 3, 8]),
      kv: normal([2, 5, 8]),
      pad: { shape: [2, 5], data: Int32Array.from([0, 0, 0, 1, 1, 0, 0, 0, 0, 1]) },
      'm.in_proj_weight': normal([24, 8], 0.3),
      'm.in_proj_bias': normal([24], 0.1),
      'm.out_proj.weight': normal([8, 8], 0.3),
      'm.out_proj.bias': normal([8], 0.1),
      dy: normal([2, 3, 8]),
      dw: normal([2, 3, 5]),
    },
    engine: (t) => {
      leaves(t, 'q', 'kv');
      const m = loadModule(new MultiheadAttention(8, 2, { batchFirst: true, dropout: 0 }), t, 'm.');
      const r = m.attend(t.q!, t.kv!, t.kv!, { keyPaddingMask: t.pad!, needWeights: true });
      return withGrads({ y: [r.output, t.dy!], weights: [r.weights!, t.dw!] }, { q: t.q!, kv: t.kv!, ...paramGrads(m, 'm.') });
    },
  },
  {
    name: 'multihead_attention_causal_self',
    inputs: {
      x: normal([2, 4, 6]),
      'm.in_proj_weight': normal([18, 6], 0.3),
      'm.in_proj_bias': normal([18], 0.1),
      'm.out_proj.weight': normal([6, 6], 0.3),
      'm.out_proj.bias': normal([6], 0.1),
      dy: normal([2, 4, 6]),
    },
    engine: (t) => {
      leaves(t, 'x');
      const m = loadModule(new MultiheadAttention(6, 3, { batchFirst: true, dropout: 0 }), t, 'm.');
      const r = m.attend(t.x!, t.x!, t.x!, { isCausal: true, needWeights: true, averageAttnWeights: false });
      return { ...withGrads({ y: [r.output, t.dy!] }, { x: t.x!, ...paramGrads(m, 'm.') }), weights: r.weights! };
    },
  },
  {
    name: 'cross_entropy',
    inputs: { logits: normal([6, 5], 2), target: ints([6], 5), w: uniform([5], 0.5, 2), logits2: normal([3, 4, 5]), target2: ints([3, 5], 4) },
    engine: (t) => {
      leaves(t, 'logits', 'logits2');
      const a = crossEntropy(t.logits!, t.target!, { weight: t.w!, labelSmoothing: 0.1 });
      const b = crossEntropy(t.logits2!, t.target2!, { ignoreIndex: 2 });
      const one = tensor([1], []);
      return withGrads({ loss: [a, one], loss2: [b, one] }, { logits: t.logits!, logits2: t.logits2! });
    },
  },
  {
    name: 'bce_with_logits',
    inputs: { x: fixed([2, 4], [-30, -3, -0.5, 0, 0.5, 3, 30, 1]), y: uniform([2, 4], 0, 1), pw: uniform([4], 0.5, 3), x2: normal([3, 4], 3), y2: uniform([3, 4], 0, 1) },
    engine: (t) => {
      leaves(t, 'x', 'x2');
      const one = tensor([1], []);
      const a = binaryCrossEntropyWithLogits(t.x!, t.y!, 'mean', t.pw!);
      const b = binaryCrossEntropyWithLogits(t.x2!, t.y2!, 'sum');
      return withGrads({ loss: [a, one], loss2: [b, one] }, { x: t.x!, x2: t.x2! });
    },
  },
  {
    name: 'softplus_gelu',
    inputs: { x: fixed([10], [-40, -8, -2, -0.5, 0, 0.3, 2, 9.5, 10.5, 40]), dy: normal([10]), dy2: normal([10]), dy3: normal([10]), dy4: normal([10]) },
    engine: (t) => {
      leaves(t, 'x');
      const x = t.x!;
      return withGrads(
        { softplus: [softplus(x), t.dy!], softplus_beta: [softplus(x, 2, 20), t.dy2!], gelu: [gelu(x), t.dy3!], gelu_tanh: [gelu(x, 'tanh'), t.dy4!] },
        { x },
      );
    },
  },
  {
    name: 'adam_amsgrad_weight_decay',
    inputs: { p: normal([3, 4]), g0: normal([3, 4]), g1: normal([3, 4]), g2: normal([3, 4], 0.01) },
    engine: (t) => optimiserSteps(t, (p) => new Adam([p], { lr: 0.01, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.05, amsgrad: true })),
  },
  {
    name: 'adamw',
    inputs: { p: normal([3, 4]), g0: normal([3, 4]), g1: normal([3, 4]), g2: normal([3, 4]) },
    engine: (t) => optimiserSteps(t, (p) => new AdamW([p], { lr: 0.02, weightDecay: 0.1 })),
  },
  {
    name: 'sgd_nesterov',
    inputs: { p: normal([3, 4]), g0: normal([3, 4]), g1: normal([3, 4]), g2: normal([3, 4]) },
    engine: (t) => optimiserSteps(t, (p) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })),
  },
  {
    name: 'sgd_momentum_dampening',
    inputs: { p: normal([3, 4]), g0: normal([3, 4]), g1: normal([3, 4]), g2: normal([3, 4]) },
    engine: (t) => optimiserSteps(t, (p) => new SGD([p], { lr: 0.05, momentum: 0.5, dampening: 0.3 })),
  },
];

/** Each case reads its inputs t[name] (float32, or int64 for integers) and returns its results. */
const SCRIPT = String.raw`
import json, sys
import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(1)
DT = {"F32": torch.float32, "I64": torch.int64}

def read(path):
    data = open(path, "rb").read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=DT[info["dtype"]]).reshape(info["shape"]).clone()
    return out

def write(tensors, path):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        raw = bytes(t.detach().float().contiguous().reshape(-1).view(torch.uint8).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for c in chunks:
            f.write(c)

def leaves(t, *names):
    for n in names:
        t[n].requires_grad_(True)

def with_grads(outs, wrt):
    loss = sum((o * dy).sum() for o, dy in outs.values())
    loss.backward()
    res = {k: o for k, (o, _) in outs.items()}
    for k, v in wrt.items():
        res["grad." + k] = v.grad
    return res

def load(m, t, prefix):
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(t[prefix + name])
    return m

def params(m, prefix):
    return {prefix + n: p for n, p in m.named_parameters()}

def steps(t, make):
    p = t["p"].clone().requires_grad_(True)
    opt = make(p)
    res = {}
    for i in range(3):
        opt.zero_grad()
        (p * t[f"g{i}"]).sum().backward()
        opt.step()
        res[f"p{i}"] = p.detach().clone()
    return res

def conv2d_stride_padding_dilation_groups(t):
    leaves(t, "x", "w", "b")
    y = F.conv2d(t["x"], t["w"], t["b"], stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    return with_grads({"y": (y, t["dy"])}, {k: t[k] for k in "xwb"})

def conv2d_same_padding(t):
    leaves(t, "x", "w")
    return with_grads({"y": (F.conv2d(t["x"], t["w"], None, padding="same", dilation=(2, 1)), t["dy"])}, {k: t[k] for k in "xw"})

def conv_transpose2d_output_padding(t):
    leaves(t, "x", "w", "b")
    y = F.conv_transpose2d(t["x"], t["w"], t["b"], stride=2, padding=1, output_padding=1)
    return with_grads({"y": (y, t["dy"])}, {k: t[k] for k in "xwb"})

def conv_transpose2d_groups_dilation(t):
    leaves(t, "x", "w", "b")
    y = F.conv_transpose2d(t["x"], t["w"], t["b"], stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(2, 2))
    return with_grads({"y": (y, t["dy"])}, {k: t[k] for k in "xwb"})

def max_pool2d(t):
    leaves(t, "x")
    a = F.max_pool2d(t["x"], 3, stride=2, padding=1, ceil_mode=True)
    b = F.max_pool2d(t["x"], (2, 2), stride=1, padding=1, dilation=(1, 2))
    return with_grads({"y": (a, t["dy"]), "y2": (b, t["dy2"])}, {"x": t["x"]})

def avg_pool2d(t):
    leaves(t, "x")
    a = F.avg_pool2d(t["x"], (3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True, count_include_pad=False)
    b = F.avg_pool2d(t["x"], 3, stride=2, padding=1)
    return with_grads({"y": (a, t["dy"]), "y2": (b, t["dy2"])}, {"x": t["x"]})

def batch_norm_train(t):
    leaves(t, "x", "w", "b")
    rm, rv = t["rm"].clone(), t["rv"].clone()
    y = F.batch_norm(t["x"], rm, rv, t["w"], t["b"], training=True, momentum=0.2, eps=1e-3)
    res = with_grads({"y": (y, t["dy"])}, {k: t[k] for k in "xwb"})
    res["running_mean"], res["running_var"] = rm, rv
    return res

def batch_norm_eval(t):
    leaves(t, "x", "w", "b")
    y = F.batch_norm(t["x"], t["rm"], t["rv"], t["w"], t["b"], training=False, momentum=0.1, eps=1e-5)
    return with_grads({"y": (y, t["dy"])}, {k: t[k] for k in "xwb"})

def layer_norm(t):
    leaves(t, "x", "w", "b")
    return with_grads({"y": (F.layer_norm(t["x"], (4, 5), t["w"], t["b"], 1e-5), t["dy"])}, {k: t[k] for k in "xwb"})

def lstm_two_layers_bidirectional(t):
    leaves(t, "x")
    m = load(nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), t, "m.")
    y, (h, c) = m(t["x"])
    return with_grads({"y": (y, t["dy"]), "h": (h, t["dh"]), "c": (c, t["dc"])}, {"x": t["x"], **params(m, "m.")})

def gru_with_initial_state(t):
    leaves(t, "x", "h0")
    m = load(nn.GRU(2, 5, batch_first=True), t, "m.")
    y, h = m(t["x"], t["h0"])
    return with_grads({"y": (y, t["dy"]), "h": (h, t["dh"])}, {"x": t["x"], "h0": t["h0"], **params(m, "m.")})

def multihead_attention_key_padding(t):
    leaves(t, "q", "kv")
    m = load(nn.MultiheadAttention(8, 2, batch_first=True), t, "m.")
    y, w = m(t["q"], t["kv"], t["kv"], key_padding_mask=t["pad"].bool(), need_weights=True)
    return with_grads({"y": (y, t["dy"]), "weights": (w, t["dw"])}, {"q": t["q"], "kv": t["kv"], **params(m, "m.")})

def multihead_attention_causal_self(t):
    leaves(t, "x")
    m = load(nn.MultiheadAttention(6, 3, batch_first=True), t, "m.")
    mask = torch.triu(torch.full((4, 4), float("-inf")), diagonal=1)
    y, w = m(t["x"], t["x"], t["x"], attn_mask=mask, need_weights=True, average_attn_weights=False)
    res = with_grads({"y": (y, t["dy"])}, {"x": t["x"], **params(m, "m.")})
    res["weights"] = w
    return res

def cross_entropy(t):
    leaves(t, "logits", "logits2")
    a = F.cross_entropy(t["logits"], t["target"], weight=t["w"], label_smoothing=0.1)
    b = F.cross_entropy(t["logits2"], t["target2"], ignore_index=2)
    one = torch.tensor(1.0)
    return with_grads({"loss": (a, one), "loss2": (b, one)}, {"logits": t["logits"], "logits2": t["logits2"]})

def bce_with_logits(t):
    leaves(t, "x", "x2")
    one = torch.tensor(1.0)
    a = F.binary_cross_entropy_with_logits(t["x"], t["y"], pos_weight=t["pw"])
    b = F.binary_cross_entropy_with_logits(t["x2"], t["y2"], reduction="sum")
    return with_grads({"loss": (a, one), "loss2": (b, one)}, {"x": t["x"], "x2": t["x2"]})

def softplus_gelu(t):
    leaves(t, "x")
    x = t["x"]
    outs = {"softplus": (F.softplus(x), t["dy"]), "softplus_beta": (F.softplus(x, beta=2, threshold=20), t["dy2"]),
            "gelu": (F.gelu(x), t["dy3"]), "gelu_tanh": (F.gelu(x, approximate="tanh"), t["dy4"])}
    return with_grads(outs, {"x": x})

def adam_amsgrad_weight_decay(t):
    return steps(t, lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05, amsgrad=True))

def adamw(t):
    return steps(t, lambda p: torch.optim.AdamW([p], lr=0.02, weight_decay=0.1))

def sgd_nesterov(t):
    return steps(t, lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))

def sgd_momentum_dampening(t):
    return steps(t, lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.5, dampening=0.3))

inputs = read(sys.argv[1])
results = {}
for case in json.loads(sys.argv[3]):
    t = {k[len(case) + 1:]: v for k, v in inputs.items() if k.startswith(case + ".")}
    for k, v in globals()[case](t).items():
        results[case + "." + k] = v
write(results, sys.argv[2])
`;

const dir = mkdtempSync(path.join(tmpdir(), 'aps-torch-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** |engine - torch| <= atol + rtol |torch| everywhere; returns the first element that is not. */
function mismatch(engine: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): string | null {
  for (let i = 0; i < want.length; i++) {
    const e = engine[i]!;
    const w = want[i]!;
    if (!(Math.abs(e - w) <= atol + rtol * Math.abs(w))) return `element ${i}: engine ${e}, torch ${w}`;
  }
  return null;
}

describe(torchTitle('core ops match PyTorch: values and gradients'), () => {
  let reference = new Map<string, { shape: number[]; data: Float32Array }>();

  beforeAll(() => {
    if (!torch) return;
    const tensors: [string, { shape: number[]; data: Float32Array | BigInt64Array }][] = [];
    for (const c of cases) {
      for (const [name, input] of Object.entries(c.inputs)) {
        tensors.push([`${c.name}.${name}`, { shape: input.shape, data: input.data instanceof Int32Array ? BigInt64Array.from(input.data, (v) => BigInt(v)) : input.data }]);
      }
    }
    const inFile = path.join(dir, 'inputs.safetensors');
    const outFile = path.join(dir, 'torch.safetensors');
    const script = path.join(dir, 'parity.py');
    writeFileSync(inFile, writeSafetensors(tensors));
    writeFileSync(script, SCRIPT);
    runPython([script, inFile, outFile, JSON.stringify(cases.map((c) => c.name))], { timeoutMs: 60_000 });
    const file = readSafetensors(new Uint8Array(readFileSync(outFile)));
    reference = new Map([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
  }, 90_000);

  it.skipIf(!torch).each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(v.data.slice(), v.shape, v.data instanceof Int32Array ? 'int32' : 'float32')]));
    const results = c.engine(inputs);
    const want = [...reference.keys()].filter((k) => k.startsWith(`${name}.`)).map((k) => k.slice(name.length + 1));
    expect(want.length).toBeGreaterThan(0);
    expect(Object.keys(results).sort()).toEqual(want.sort());
    for (const key of want) {
      const ref = reference.get(`${name}.${key}`)!;
      const got = results[key]!;
      expect(got.shape, `${name}: ${key} shape`).toEqual(ref.shape);
      const bad = mismatch(got.dataSync() as Float32Array, ref.data, 1e-4, 1e-5);
      expect(bad, `${name}: ${key}`).toBeNull();
    }
  });
});
