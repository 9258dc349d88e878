/**
 * 2-D convolution on the gpu (NCHW), the forward pass and both gradients, each written as
 * a gather: one thread per output element loops over what contributes to it. Same kernel
 * names and geometry attributes as the CPU reference (backends/cpu/conv.ts): strideH,
 * strideW, padTop, padLeft, dilationH, dilationW, groups (+ outH/outW, inputShape,
 * filterShape).
 */
import { registerKernel } from '../../core/backend.ts';
import { convGeometry as geometry } from '../kernel-attrs.ts';
import { lit } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';


/** Statements splitting flat index `t` of shape [d0, d1, d2, d3] into the four named coordinates. */
function split4(t: string, dims: readonly number[], names: readonly string[]): string {
  const [, d1, d2, d3] = dims;
  const [n0, n1, n2, n3] = names;
  return `const ${n0} = Math.floor((${t} + 0.5) / ${lit(d1 * d2 * d3)});
const ${n1}q = Math.floor((${t} + 0.5) / ${lit(d2 * d3)});
const ${n1} = ${n1}q - ${n0} * ${lit(d1)};
const ${n2}q = Math.floor((${t} + 0.5) / ${lit(d3)});
const ${n2} = ${n2}q - ${n1}q * ${lit(d2)};
const ${n3} = ${t} - ${n2}q * ${lit(d3)};`;
}

/** Conv2D: x [N, C, H, W], w [O, C/groups, kh, kw], optional bias [O] -> [N, O, outH, outW]. */
registerKernel('Conv2D', 'gpu', (inputs, attrs) => {
  const [x, w, bias] = inputs;
  const g = geometry(attrs);
  const outH = attrs.outH as number;
  const outW = attrs.outW as number;
  const [N, C, H, W] = x.shape;
  const [O, cg, kh, kw] = w.shape;
  const og = O / g.groups;
  const source = `function(${bias ? 'a0, a1, a2' : 'a0, a1'}) {
const t = this.thread.x;
${split4('t', [N, O, outH, outW], ['n', 'o', 'oh', 'ow'])}
const grp = Math.floor((o + 0.5) / ${lit(og)});
const xBase = (n * ${lit(C)} + grp * ${lit(cg)}) * ${lit(H * W)};
const wBase = o * ${lit(cg * kh * kw)};
let s = ${bias ? 'a2[o]' : '0.0'};
for (let c = 0; c < ${cg}; c++) {
for (let i = 0; i < ${kh}; i++) {
const ih = oh * ${lit(g.sh)} - ${lit(g.pt)} + i * ${lit(g.dh)};
if (ih >= 0.0 && ih < ${lit(H)}) {
for (let j = 0; j < ${kw}; j++) {
const iw = ow * ${lit(g.sw)} - ${lit(g.pl)} + j * ${lit(g.dw)};
if (iw >= 0.0 && iw < ${lit(W)}) {
s += a0[xBase + c * ${lit(H * W)} + ih * ${lit(W)} + iw] * a1[wBase + (c * ${lit(kh)} + i) * ${lit(kw)} + j];
}
}
}
}
}
return s;
}`;
  return gpuBackend.run(source, bias ? [x, w, bias] : [x, w], [N, O, outH, outW]);
});

/**
 * Gradient w.r.t. the input: dx[n, c, h, w] = sum of dy[n, o, oh, ow] w[o, c', i, j] over
 * the (oh, ow, i, j) with oh*sh - pt + i*dh = h and ow*sw - pl + j*dw = w.
 */
registerKernel('Conv2DBackpropInput', 'gpu', ([dy, w], attrs) => {
  const g = geometry(attrs);
  const [N, C, H, W] = attrs.inputShape as number[];
  const [, , outH, outW] = dy.shape;
  const [O, cg, kh, kw] = w.shape;
  const og = O / g.groups;
  const source = `function(a0, a1) {
const t = this.thread.x;
${split4('t', [N, C, H, W], ['n', 'c', 'h', 'w'])}
const grp = Math.floor((c + 0.5) / ${lit(cg)});
const cl = c - grp * ${lit(cg)};
let s = 0.0;
for (let i = 0; i < ${kh}; i++) {
const th = h + ${lit(g.pt)} - i * ${lit(g.dh)};
const oh = Math.floor((th + 0.5) / ${lit(g.sh)});
if (th >= 0.0 && oh * ${lit(g.sh)} === th && oh < ${lit(outH)}) {
for (let j = 0; j < ${kw}; j++) {
const tw = w + ${lit(g.pl)} - j * ${lit(g.dw)};
const ow = Math.floor((tw + 0.5) / ${lit(g.sw)});
if (tw >= 0.0 && ow * ${lit(g.sw)} === tw && ow < ${lit(outW)}) {
for (let ol = 0; ol < ${og}; ol++) {
const o = grp * ${lit(og)} + ol;
s += a0[((n * ${lit(O)} + o) * ${lit(outH)} + oh) * ${lit(outW)} + ow] * a1[((o * ${lit(cg)} + cl) * ${lit(kh)} + i) * ${lit(kw)} + j];
}
}
}
}
}
return s;
}`;
  return gpuBackend.run(source, [dy, w], [N, C, H, W]);
});

/** Gradient w.r.t. the weight: dw[o, c', i, j] = sum over n, oh, ow of dy[n, o, oh, ow] x[n, c, ih, iw]. */
registerKernel('Conv2DBackpropFilter', 'gpu', ([x, dy], attrs) => {
  const g = geometry(attrs);
  const [O, cg, kh, kw] = attrs.filterShape as number[];
  const [N, C, H, W] = x.shape;
  const [, , outH, outW] = dy.shape;
  const og = O / g.groups;
  const source = `function(a0, a1) {
const t = this.thread.x;
${split4('t', [O, cg, kh, kw], ['o', 'cl', 'i', 'j'])}
const c = Math.floor((o + 0.5) / ${lit(og)}) * ${lit(cg)} + cl;
let s = 0.0;
for (let n = 0; n < ${N}; n++) {
for (let oh = 0; oh < ${outH}; oh++) {
const ih = oh * ${lit(g.sh)} - ${lit(g.pt)} + i * ${lit(g.dh)};
if (ih >= 0.0 && ih < ${lit(H)}) {
for (let ow = 0; ow < ${outW}; ow++) {
const iw = ow * ${lit(g.sw)} - ${lit(g.pl)} + j * ${lit(g.dw)};
if (iw >= 0.0 && iw < ${lit(W)}) {
s += a1[((n * ${lit(O)} + o) * ${lit(outH)} + oh) * ${lit(outW)} + ow] * a0[((n * ${lit(C)} + c) * ${lit(H)} + ih) * ${lit(W)} + iw];
}
}
}
}
}
return s;
}`;
  return gpuBackend.run(source, [x, dy], [O, cg, kh, kw]);
});
