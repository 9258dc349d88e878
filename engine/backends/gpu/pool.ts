/**
 * 2-D max and average pooling on the gpu (NCHW) with their gradients, as gathers. Same
 * kernel names and window attributes as the CPU reference (backends/cpu/pool.ts): kernelH,
 * kernelW, strideH, strideW, padH, padW, dilationH, dilationW (max only), outH, outW,
 * countIncludePad (average), inputShape (gradients).
 */
import { registerKernel } from '../../core/backend.ts';
import { poolWindow as windowOf, type PoolWindow as Window } from '../kernel-attrs.ts';
import { lit } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';


/** Statements splitting flat index `t` over [planes, rows, cols] into pl, r, q. */
function split3(t: string, rows: number, cols: number, names: [string, string, string]): string {
  const [pl, r, q] = names;
  return `const ${pl} = Math.floor((${t} + 0.5) / ${lit(rows * cols)});
const ${r}q = Math.floor((${t} + 0.5) / ${lit(cols)});
const ${r} = ${r}q - ${pl} * ${lit(rows)};
const ${q} = ${t} - ${r}q * ${lit(cols)};`;
}

/** The max-pool scan; returns the best value or (index) its position h*W + w in the plane. */
function maxSource(p: Window, H: number, W: number, index: boolean): string {
  return `function(a0) {
const t = this.thread.x;
${split3('t', p.outH, p.outW, ['pl', 'oh', 'ow'])}
const base = pl * ${lit(H * W)};
let best = 0.0;
let bestIdx = -1.0;
for (let i = 0; i < ${p.kh}; i++) {
const h = oh * ${lit(p.sh)} - ${lit(p.ph)} + i * ${lit(p.dh)};
if (h >= 0.0 && h < ${lit(H)}) {
for (let j = 0; j < ${p.kw}; j++) {
const w = ow * ${lit(p.sw)} - ${lit(p.pw)} + j * ${lit(p.dw)};
if (w >= 0.0 && w < ${lit(W)}) {
const v = a0[base + h * ${lit(W)} + w];
if (bestIdx < 0.0 || v > best) {
best = v;
bestIdx = h * ${lit(W)} + w;
}
}
}
}
}
return ${index ? 'bestIdx' : 'best'};
}`;
}

/** MaxPool2D: x [N, C, H, W] -> values and int32 indices (h*W + w in the plane), as torch. */
registerKernel('MaxPool2D', 'gpu', ([x], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = x.shape;
  const shape = [N, C, p.outH, p.outW];
  return [gpuBackend.run(maxSource(p, H, W, false), [x], shape), gpuBackend.run(maxSource(p, H, W, true), [x], shape, 'int32')];
});

/**
 * dx[h, w] = sum of dy over the windows (oh, ow) that hold (h, w) and chose it. Without
 * the window attributes every output of the plane is scanned.
 */
registerKernel('MaxPool2DGrad', 'gpu', ([dy, indices], attrs) => {
  const [N, C, H, W] = attrs.inputShape as number[];
  const [, , outH, outW] = dy.shape;
  if (attrs.kernelH === undefined) {
    const scan = `function(a0, a1) {
const t = this.thread.x;
const pl = Math.floor((t + 0.5) / ${lit(H * W)});
const self = t - pl * ${lit(H * W)};
let s = 0.0;
for (let o = 0; o < ${outH * outW}; o++) {
if (a1[pl * ${lit(outH * outW)} + o] === self) {
s += a0[pl * ${lit(outH * outW)} + o];
}
}
return s;
}`;
    return gpuBackend.run(scan, [dy, indices], [N, C, H, W]);
  }
  const p = windowOf({ ...attrs, outH, outW });
  const source = `function(a0, a1) {
const t = this.thread.x;
${split3('t', H, W, ['pl', 'h', 'w'])}
const self = h * ${lit(W)} + w;
let s = 0.0;
for (let i = 0; i < ${p.kh}; i++) {
const th = h + ${lit(p.ph)} - i * ${lit(p.dh)};
const oh = Math.floor((th + 0.5) / ${lit(p.sh)});
if (th >= 0.0 && oh * ${lit(p.sh)} === th && oh < ${lit(outH)}) {
for (let j = 0; j < ${p.kw}; j++) {
const tw = w + ${lit(p.pw)} - j * ${lit(p.dw)};
const ow = Math.floor((tw + 0.5) / ${lit(p.sw)});
if (tw >= 0.0 && ow * ${lit(p.sw)} === tw && ow < ${lit(outW)}) {
const o = (pl * ${lit(outH)} + oh) * ${lit(outW)} + ow;
if (a1[o] === self) {
s += a0[o];
}
}
}
}
}
return s;
}`;
  return gpuBackend.run(source, [dy, indices], [N, C, H, W]);
});

/**
 * Statements for the average window at (oh, ow): its clipped bounds h0..h1, w0..w1 and
 * `scale`, 1 / count with torch's divisor rules (padding counted, ceil overhang not).
 */
function avgWindow(p: Window, H: number, W: number, countIncludePad: boolean): string {
  return `const h0 = oh * ${lit(p.sh)} - ${lit(p.ph)};
const h1 = Math.min(h0 + ${lit(p.kh)}, ${lit(H + p.ph)});
const w0 = ow * ${lit(p.sw)} - ${lit(p.pw)};
const w1 = Math.min(w0 + ${lit(p.kw)}, ${lit(W + p.pw)});
const h0c = Math.max(h0, 0.0);
const h1c = Math.min(h1, ${lit(H)});
const w0c = Math.max(w0, 0.0);
const w1c = Math.min(w1, ${lit(W)});
const scale = 1.0 / ${countIncludePad ? '((h1 - h0) * (w1 - w0))' : '((h1c - h0c) * (w1c - w0c))'};`;
}

/** AvgPool2D: x [N, C, H, W] -> [N, C, outH, outW]. */
registerKernel('AvgPool2D', 'gpu', ([x], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = x.shape;
  const source = `function(a0) {
const t = this.thread.x;
${split3('t', p.outH, p.outW, ['pl', 'oh', 'ow'])}
${avgWindow(p, H, W, attrs.countIncludePad === true)}
let s = 0.0;
for (let i = 0; i < ${p.kh}; i++) {
const h = h0 + i;
if (h >= h0c && h < h1c) {
for (let j = 0; j < ${p.kw}; j++) {
const w = w0 + j;
if (w >= w0c && w < w1c) {
s += a0[pl * ${lit(H * W)} + h * ${lit(W)} + w];
}
}
}
}
return h0c < h1c && w0c < w1c ? s * scale : 0.0;
}`;
  return gpuBackend.run(source, [x], [N, C, p.outH, p.outW]);
});

/** dx[h, w] = sum over the windows holding (h, w) of dy / count. */
registerKernel('AvgPool2DGrad', 'gpu', ([dy], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = attrs.inputShape as number[];
  const source = `function(a0) {
const t = this.thread.x;
${split3('t', H, W, ['pl', 'h', 'w'])}
let s = 0.0;
for (let i = 0; i < ${p.kh}; i++) {
const th = h + ${lit(p.ph)} - i;
const oh = Math.floor((th + 0.5) / ${lit(p.sh)});
if (th >= 0.0 && oh * ${lit(p.sh)} === th && oh < ${lit(p.outH)}) {
for (let j = 0; j < ${p.kw}; j++) {
const tw = w + ${lit(p.pw)} - j;
const ow = Math.floor((tw + 0.5) / ${lit(p.sw)});
if (tw >= 0.0 && ow * ${lit(p.sw)} === tw && ow < ${lit(p.outW)}) {
${avgWindow(p, H, W, attrs.countIncludePad === true)}
s += a0[(pl * ${lit(p.outH)} + oh) * ${lit(p.outW)} + ow] * scale;
}
}
}
}
return s;
}`;
  return gpuBackend.run(source, [dy], [N, C, H, W]);
});

/**
 * Adaptive pooling windows along one axis (as torch): output o of n over an input of size s
 * covers [floor(o·s/n), ceil((o+1)·s/n)). Statements declaring `${v}0` and `${v}1` for output
 * coordinate `o`; the +0.5 keeps float floor exact for these integer quotients.
 */
function adaptiveWindow(o: string, n: number, s: number, v: string): string {
  return `const ${v}0 = Math.floor((${o} * ${lit(s)} + 0.5) / ${lit(n)});
const ${v}1 = Math.floor(((${o} + 1.0) * ${lit(s)} + ${lit(n - 1)} + 0.5) / ${lit(n)});`;
}

/** The longest adaptive window along an axis: loops run this many times and skip the rest. */
const longestWindow = (n: number, s: number) => Math.ceil(s / n) + 1;

/** AdaptiveAvgPool2D: x [N, C, H, W] -> [N, C, outH, outW], each output the mean of its window. */
registerKernel('AdaptiveAvgPool2D', 'gpu', ([x], attrs) => {
  const outH = attrs.outH as number;
  const outW = attrs.outW as number;
  const [N, C, H, W] = x.shape;
  const source = `function(a0) {
const t = this.thread.x;
${split3('t', outH, outW, ['pl', 'oh', 'ow'])}
${adaptiveWindow('oh', outH, H, 'h')}
${adaptiveWindow('ow', outW, W, 'w')}
const base = pl * ${lit(H * W)};
let s = 0.0;
for (let i = 0; i < ${longestWindow(outH, H)}; i++) {
const h = h0 + i;
if (h < h1) {
for (let j = 0; j < ${longestWindow(outW, W)}; j++) {
const w = w0 + j;
if (w < w1) { s += a0[base + h * ${lit(W)} + w]; }
}
}
}
return s / ((h1 - h0) * (w1 - w0));
}`;
  return gpuBackend.run(source, [x], [N, C, outH, outW]);
});

/**
 * AdaptiveAvgPool2DGrad: dy [N, C, outH, outW] -> dx of attrs.inputShape; each input element
 * gathers dy / window area from every output whose window holds it.
 */
registerKernel('AdaptiveAvgPool2DGrad', 'gpu', ([dy], attrs) => {
  const [N, C, H, W] = attrs.inputShape as number[];
  const [, , outH, outW] = dy.shape;
  // Outputs whose windows can hold input row h start at floor(h·outH/H) - 1 or later.
  const spanH = longestWindow(H, outH) + 1;
  const spanW = longestWindow(W, outW) + 1;
  const source = `function(a0) {
const t = this.thread.x;
${split3('t', H, W, ['pl', 'h', 'w'])}
const base = pl * ${lit(outH * outW)};
const firstH = Math.max(Math.floor((h * ${lit(outH)} + 0.5) / ${lit(H)}) - 1.0, 0.0);
const firstW = Math.max(Math.floor((w * ${lit(outW)} + 0.5) / ${lit(W)}) - 1.0, 0.0);
let s = 0.0;
for (let i = 0; i < ${spanH}; i++) {
const oh = firstH + i;
${adaptiveWindow('oh', outH, H, 'h')}
if (oh < ${lit(outH)} && h >= h0 && h < h1) {
for (let j = 0; j < ${spanW}; j++) {
const ow = firstW + j;
${adaptiveWindow('ow', outW, W, 'w')}
if (ow < ${lit(outW)} && w >= w0 && w < w1) { s += a0[base + oh * ${lit(outW)} + ow] / ((h1 - h0) * (w1 - w0)); }
}
}
}
return s;
}`;
  return gpuBackend.run(source, [dy], [N, C, H, W]);
});
