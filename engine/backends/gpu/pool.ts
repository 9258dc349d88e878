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
