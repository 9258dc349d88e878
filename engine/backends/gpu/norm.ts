/**
 * Batch norm and layer norm on the gpu, forward and backward, so normalised models train
 * without a CPU round trip per layer. Each statistic is its own small kernel (one thread per
 * channel or row, looping over the values it reduces), then one kernel per full-size output.
 * Contracts and formulas follow the CPU reference (backends/cpu/norm.ts).
 */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { shapeStr, sizeOf } from '../../core/shape.ts';
import { lit } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

/** Splits an [N, C, *] shape into N, C and the size of the trailing spatial dims. */
function ncl(shape: readonly number[]): [number, number, number] {
  let l = 1;
  for (let i = 2; i < shape.length; i++) l *= shape[i];
  return [shape[0], shape[1], l];
}

/**
 * Kernel source for a per-channel sum over [N, C, L] of `argCount` inputs: thread ch adds
 * `term` (an expression of a0, a1, ... at the flat index `k` of (b, ch, i), or at ch for
 * per-channel inputs) over every b < N and i < L.
 */
function channelSum(n: number, c: number, l: number, argCount: number, term: string): string {
  const args = Array.from({ length: argCount }, (_, j) => `a${j}`).join(', ');
  return `function(${args}) {
const ch = this.thread.x;
let s = 0.0;
for (let b = 0; b < ${n}; b++) {
for (let i = 0; i < ${l}; i++) {
const k = (b * ${lit(c)} + ch) * ${lit(l)} + i;
s += ${term};
}
}
return s;
}`;
}

/** The channel of flat index i in [N, C, L]. */
const channelOf = (c: number, l: number) => `const ch = Math.floor((i + 0.5) / ${lit(l)}) - ${lit(c)} * Math.floor((i + 0.5) / ${lit(c * l)});`;

/**
 * BatchNorm forward: inputs x [N, C, *], weight, bias, runningMean, runningVar [C]; outputs
 * y, the mean and inverse standard deviation used [C], new running mean and var [C].
 */
registerKernel('BatchNorm', 'gpu', ([x, weight, bias, runningMean, runningVar], attrs) => {
  const training = attrs.training as boolean;
  const momentum = attrs.momentum as number;
  const eps = attrs.eps as number;
  const [n, c, l] = ncl(x.shape);
  const count = n * l;
  let mean: TensorInfo;
  let invstd: TensorInfo;
  let newMean: TensorInfo;
  let newVar: TensorInfo;
  if (training) {
    const sum = gpuBackend.run(channelSum(n, c, l, 1, 'a0[k]'), [x], [c]);
    mean = gpuBackend.run(`function(a0) { return a0[this.thread.x] / ${lit(count)}; }`, [sum], [c]);
    gpuBackend.dispose(sum.dataId);
    const ss = gpuBackend.run(channelSum(n, c, l, 2, '(a0[k] - a1[ch]) * (a0[k] - a1[ch])'), [x, mean], [c]);
    invstd = gpuBackend.run(`function(a0) { return 1.0 / Math.sqrt(a0[this.thread.x] / ${lit(count)} + ${lit(eps)}); }`, [ss], [c]);
    newMean = gpuBackend.run(`function(a0, a1) { const ch = this.thread.x; return ${lit(1 - momentum)} * a0[ch] + ${lit(momentum)} * a1[ch]; }`, [runningMean, mean], [c]);
    // Unbiased variance (batch_norm refuses to train on one value per channel, so count > 1).
    newVar = gpuBackend.run(
      `function(a0, a1) { const ch = this.thread.x; return ${lit(1 - momentum)} * a0[ch] + ${lit(momentum)} * a1[ch] / ${lit(Math.max(count - 1, 1))}; }`,
      [runningVar, ss],
      [c],
    );
    gpuBackend.dispose(ss.dataId);
  } else {
    const copy = 'function(a0) { return a0[this.thread.x]; }';
    mean = gpuBackend.run(copy, [runningMean], [c]);
    invstd = gpuBackend.run(`function(a0) { return 1.0 / Math.sqrt(a0[this.thread.x] + ${lit(eps)}); }`, [runningVar], [c]);
    newMean = gpuBackend.run(copy, [runningMean], [c]);
    newVar = gpuBackend.run(copy, [runningVar], [c]);
  }
  const y = gpuBackend.run(
    `function(a0, a1, a2, a3, a4) {
const i = this.thread.x;
${channelOf(c, l)}
const scale = a1[ch] * a4[ch];
return a0[i] * scale + (a2[ch] - a3[ch] * scale);
}`,
    [x, weight, bias, mean, invstd],
    x.shape,
  );
  return [y, mean, invstd, newMean, newVar];
});

/**
 * BatchNorm backward: inputs dy, x, weight, mean, invstd. Training: dx = w·invstd·(dy -
 * mean(dy) - x̂·mean(dy·x̂)); eval: dx = dy·w·invstd. dweight = Σ dy·x̂, dbias = Σ dy.
 */
registerKernel('BatchNormGrad', 'gpu', ([dy, x, weight, mean, invstd], attrs) => {
  const training = attrs.training as boolean;
  const [n, c, l] = ncl(x.shape);
  if (sizeOf(dy.shape) !== sizeOf(x.shape)) throw new Error(`batch_norm backward: gradient ${shapeStr(dy.shape)} does not match input ${shapeStr(x.shape)}`);
  const count = n * l;
  const db = gpuBackend.run(channelSum(n, c, l, 1, 'a0[k]'), [dy], [c]);
  const dw = gpuBackend.run(channelSum(n, c, l, 4, 'a0[k] * (a1[k] - a2[ch]) * a3[ch]'), [dy, x, mean, invstd], [c]);
  const dx = training
    ? gpuBackend.run(
      `function(a0, a1, a2, a3, a4, a5, a6) {
const i = this.thread.x;
${channelOf(c, l)}
const is = a4[ch];
const xhat = (a1[i] - a3[ch]) * is;
return a2[ch] * is * (a0[i] - a5[ch] / ${lit(count)} - xhat * a6[ch] / ${lit(count)});
}`,
      [dy, x, weight, mean, invstd, db, dw],
      x.shape,
    )
    : gpuBackend.run(
      `function(a0, a1, a2) {
const i = this.thread.x;
${channelOf(c, l)}
return a0[i] * a1[ch] * a2[ch];
}`,
      [dy, weight, invstd],
      x.shape,
    );
  return [dx, dw, db];
});

/**
 * LayerNorm forward over the trailing `inner` elements of each row: inputs x, weight and
 * bias [inner] (ignored unless attrs.affine); outputs y, mean [rows], rstd [rows].
 */
registerKernel('LayerNorm', 'gpu', ([x, weight, bias], attrs) => {
  const inner = attrs.inner as number;
  const eps = attrs.eps as number;
  const affine = attrs.affine as boolean;
  const rows = inner === 0 ? 0 : sizeOf(x.shape) / inner;
  const mean = gpuBackend.run(
    `function(a0) {
const base = this.thread.x * ${lit(inner)};
let s = 0.0;
for (let i = 0; i < ${inner}; i++) { s += a0[base + i]; }
return s / ${lit(inner)};
}`,
    [x],
    [rows],
  );
  const rstd = gpuBackend.run(
    `function(a0, a1) {
const r = this.thread.x;
const base = r * ${lit(inner)};
const m = a1[r];
let s = 0.0;
for (let i = 0; i < ${inner}; i++) { const d = a0[base + i] - m; s += d * d; }
return 1.0 / Math.sqrt(s / ${lit(inner)} + ${lit(eps)});
}`,
    [x, mean],
    [rows],
  );
  const y = gpuBackend.run(
    `function(a0, a1, a2, a3, a4) {
const i = this.thread.x;
const r = Math.floor((i + 0.5) / ${lit(inner)});
const j = i - r * ${lit(inner)};
const v = (a0[i] - a3[r]) * a4[r];
return ${affine ? 'v * a1[j] + a2[j]' : 'v'};
}`,
    [x, weight, bias, mean, rstd],
    x.shape,
  );
  return [y, mean, rstd];
});

/**
 * LayerNorm backward: inputs dy, x, weight, mean, rstd. With g = dy·w: dx = rstd·(g -
 * mean(g) - x̂·mean(g·x̂)); dweight = Σ_rows dy·x̂; dbias = Σ_rows dy.
 */
registerKernel('LayerNormGrad', 'gpu', ([dy, x, weight, mean, rstd], attrs) => {
  const inner = attrs.inner as number;
  const affine = attrs.affine as boolean;
  const rows = sizeOf(mean.shape);
  if (sizeOf(dy.shape) !== sizeOf(x.shape)) throw new Error(`layer_norm backward: gradient ${shapeStr(dy.shape)} does not match input ${shapeStr(x.shape)}`);
  const g = (d: string, j: string) => (affine ? `${d} * a2[${j}]` : d);
  // Per row: Σg and Σg·x̂.
  const rowSum = (term: string) => `function(a0, a1, a2, a3, a4) {
const r = this.thread.x;
const base = r * ${lit(inner)};
let s = 0.0;
for (let j = 0; j < ${inner}; j++) {
const xhat = (a1[base + j] - a3[r]) * a4[r];
s += ${term};
}
return s;
}`;
  const sg = gpuBackend.run(rowSum(g('a0[base + j]', 'j')), [dy, x, weight, mean, rstd], [rows]);
  const sgx = gpuBackend.run(rowSum(`${g('a0[base + j]', 'j')} * xhat`), [dy, x, weight, mean, rstd], [rows]);
  const dx = gpuBackend.run(
    `function(a0, a1, a2, a3, a4, a5, a6) {
const i = this.thread.x;
const r = Math.floor((i + 0.5) / ${lit(inner)});
const j = i - r * ${lit(inner)};
const xhat = (a1[i] - a3[r]) * a4[r];
return a4[r] * (${g('a0[i]', 'j')} - a5[r] / ${lit(inner)} - xhat * a6[r] / ${lit(inner)});
}`,
    [dy, x, weight, mean, rstd, sg, sgx],
    x.shape,
  );
  gpuBackend.dispose(sg.dataId);
  gpuBackend.dispose(sgx.dataId);
  // Per column: Σ over rows of dy·x̂ and of dy.
  const colSum = (term: string) => `function(a0, a1, a2, a3) {
const j = this.thread.x;
let s = 0.0;
for (let r = 0; r < ${rows}; r++) {
const k = r * ${lit(inner)} + j;
const xhat = (a1[k] - a2[r]) * a3[r];
s += ${term};
}
return s;
}`;
  const dw = gpuBackend.run(colSum('a0[k] * xhat'), [dy, x, mean, rstd], [inner]);
  const db = gpuBackend.run(colSum('a0[k]'), [dy, x, mean, rstd], [inner]);
  return [dx, dw, db];
});
