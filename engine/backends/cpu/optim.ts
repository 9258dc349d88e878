/**
 * Fused optimiser updates. Unlike other kernels these write in place: they update the
 * parameter (input 0) and the optimiser state buffers (inputs 2...) from the gradient
 * (input 1) in one pass and return no outputs. Formulas as torch.optim (single-tensor path).
 */
import { registerKernel } from '../../core/backend.ts';
import { f32 } from './cpu-backend.ts';
import { ascii, instantiateWasm, leb, section } from '../../core/wasm-host.ts';

interface SgdWasm {
  /** b = momentum b + keep d; p -= lr b, over n4 groups of 4 float32s at byte offsets p, d, b; in float64 as the JS loop. */
  momentum(p: number, d: number, b: number, n4: number, lr: number, momentum: number, keep: number): void;
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
}

/**
 * The momentum update as WebAssembly SIMD: each f32x4 group is widened to two f64x2
 * halves, updated with the JS loop's float64 operations in the same order and narrowed
 * back, so results are bit-identical to `sgdLoop`.
 */
function sgdWasmBytes(): Uint8Array {
  const [P, D, B, N, LR, MOM, KEEP] = [0, 1, 2, 3, 4, 5, 6];
  const [SLR, SMOM, SKEEP, BV, DV, PV, VLO, VHI] = [7, 8, 9, 10, 11, 12, 13, 14];
  const c: number[] = [];
  const get = (l: number) => c.push(0x20, ...leb(l));
  const set = (l: number) => c.push(0x21, ...leb(l));
  const simd = (op: number, ...imm: number[]) => c.push(0xfd, ...leb(op), ...imm);
  const HI = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const JOIN = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const promoteLo = (l: number) => { get(l); simd(0x5f); };
  const promoteHi = (l: number) => { get(l); get(l); simd(0x0d, ...HI); simd(0x5f); };
  const f64 = { add: 0xf0, sub: 0xf1, mul: 0xf2, splat: 0x14 };
  for (const [from, to] of [[LR, SLR], [MOM, SMOM], [KEEP, SKEEP]]) {
    get(from);
    simd(f64.splat);
    set(to);
  }
  c.push(0x03, 0x40); // loop
  get(B); simd(0x00, 2, 0); set(BV);
  get(D); simd(0x00, 2, 0); set(DV);
  get(P); simd(0x00, 2, 0); set(PV);
  // v = momentum * b + keep * d, per half
  for (const [half, dst] of [[promoteLo, VLO], [promoteHi, VHI]] as const) {
    get(SMOM); half(BV); simd(f64.mul);
    get(SKEEP); half(DV); simd(f64.mul);
    simd(f64.add);
    set(dst);
  }
  // b = f32(v)
  get(B); get(VLO); simd(0x5e); get(VHI); simd(0x5e); simd(0x0d, ...JOIN); simd(0x0b, 2, 0);
  // p = f32(p - lr * v)
  get(P);
  promoteLo(PV); get(SLR); get(VLO); simd(f64.mul); simd(f64.sub); simd(0x5e);
  promoteHi(PV); get(SLR); get(VHI); simd(f64.mul); simd(f64.sub); simd(0x5e);
  simd(0x0d, ...JOIN);
  simd(0x0b, 2, 0);
  for (const l of [P, D, B]) {
    get(l);
    c.push(0x41, 16, 0x6a);
    set(l);
  }
  get(N); c.push(0x41, 1, 0x6b, 0x22, ...leb(N), 0x0d, 0);
  c.push(0x0b, 0x0b);
  const body = [1, 8, 0x7b, ...c];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7c, 0x7c, 0x7c, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, 8, ...ascii('momentum'), 0, 0, 3, ...ascii('mem'), 2, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

function createSgdWasm(): SgdWasm | null {
  const exports = instantiateWasm(sgdWasmBytes());
  return exports && { momentum: exports.momentum as SgdWasm['momentum'], memory: exports.mem as unknown as SgdWasm['memory'] };
}

const sgdWasm = createSgdWasm();
/** Below this many values the plain loop is as fast as copying into the module. */
const SGD_WASM_MIN = 1024;

/** Floats per array per call: three chunks stay in the L2 cache between the copies and the update. */
const SGD_CHUNK = 1 << 14;

/** The momentum update (not the first step, no Nesterov) through the module, a chunk at a time; false when it is not available. */
function sgdMomentumWasm(p: Float32Array, d: Float32Array, b: Float32Array, lr: number, momentum: number, keep: number): boolean {
  const n = p.length;
  if (!sgdWasm || n < SGD_WASM_MIN) return false;
  const bytes = 3 * SGD_CHUNK * 4;
  const have = sgdWasm.memory.buffer.byteLength;
  if (bytes > have) sgdWasm.memory.grow(Math.ceil((bytes - have) / 65536));
  const view = new Float32Array(sgdWasm.memory.buffer);
  const len = n & ~3;
  for (let i = 0; i < len; i += SGD_CHUNK) {
    const m = Math.min(SGD_CHUNK, len - i);
    view.set(p.subarray(i, i + m), 0);
    view.set(d.subarray(i, i + m), SGD_CHUNK);
    view.set(b.subarray(i, i + m), 2 * SGD_CHUNK);
    sgdWasm.momentum(0, 4 * SGD_CHUNK, 8 * SGD_CHUNK, m >> 2, lr, momentum, keep);
    p.set(view.subarray(0, m), i);
    b.set(view.subarray(2 * SGD_CHUNK, 2 * SGD_CHUNK + m), i);
  }
  for (let i = len; i < n; i++) {
    const v = momentum * b[i] + keep * d[i];
    b[i] = v;
    p[i] -= lr * v;
  }
  return true;
}

/** SGD: d = g + wd p; buf = momentum buf + (1 - dampening) d (buf = d on the first step); p -= lr (nesterov ? d + momentum buf : buf). */
registerKernel('SGDStep', 'cpu', ([param, grad, buf], attrs) => {
  const lr = attrs.lr as number;
  const momentum = attrs.momentum as number;
  const dampening = attrs.dampening as number;
  const nesterov = attrs.nesterov as boolean;
  const wd = attrs.weightDecay as number;
  const first = attrs.firstStep as boolean;
  const p = f32(param);
  const g = f32(grad);
  const n = p.length;
  if (wd !== 0) {
    // Rare path: fold the decay into a copy of the gradient first.
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = g[i] + wd * p[i];
    sgdLoop(p, d, momentum !== 0 ? f32(buf) : null, lr, momentum, dampening, nesterov, first);
  } else {
    sgdLoop(p, g, momentum !== 0 ? f32(buf) : null, lr, momentum, dampening, nesterov, first);
  }
  return [];
});

/** The SGD update with the decayed gradient d, one plain loop per case. */
function sgdLoop(p: Float32Array, d: Float32Array, b: Float32Array | null, lr: number, momentum: number, dampening: number, nesterov: boolean, first: boolean): void {
  const n = p.length;
  if (!b) {
    for (let i = 0; i < n; i++) p[i] -= lr * d[i];
  } else if (first) {
    if (nesterov) for (let i = 0; i < n; i++) {
      b[i] = d[i];
      p[i] -= lr * (d[i] + momentum * d[i]);
    }
    else for (let i = 0; i < n; i++) {
      b[i] = d[i];
      p[i] -= lr * d[i];
    }
  } else {
    const keep = 1 - dampening;
    if (!nesterov && sgdMomentumWasm(p, d, b, lr, momentum, keep)) return;
    if (nesterov) for (let i = 0; i < n; i++) {
      const v = momentum * b[i] + keep * d[i];
      b[i] = v;
      p[i] -= lr * (d[i] + momentum * v);
    }
    else for (let i = 0; i < n; i++) {
      const v = momentum * b[i] + keep * d[i];
      b[i] = v;
      p[i] -= lr * v;
    }
  }
}

/**
 * Adam / AdamW: (AdamW first decays p *= 1 - lr wd; Adam adds wd p to the gradient)
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) with amsgrad;
 * p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
 */
registerKernel('AdamStep', 'cpu', ([param, grad, expAvg, expAvgSq, maxExpAvgSq], attrs) => {
  const lr = attrs.lr as number;
  const beta1 = attrs.beta1 as number;
  const beta2 = attrs.beta2 as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const decoupled = attrs.decoupled as boolean;
  const amsgrad = attrs.amsgrad as boolean;
  const step = attrs.step as number;
  const p = f32(param);
  const g = f32(grad);
  const m = f32(expAvg);
  const v = f32(expAvgSq);
  const vmax = amsgrad ? f32(maxExpAvgSq) : null;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const decay = decoupled ? 1 - lr * wd : 1;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (decoupled) p[i] *= decay;
    else if (wd !== 0) gi += wd * p[i];
    const mi = m[i] + (1 - beta1) * (gi - m[i]);
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (vmax) {
      second = Math.max(vmax[i], vi);
      vmax[i] = second;
    }
    p[i] -= (stepSize * mi) / (Math.sqrt(second) / bc2Sqrt + eps);
  }
  return [];
});

/**
 * RMSprop: s = alpha s + (1 - alpha) g^2; centered: a = lerp(a, g, 1 - alpha),
 * avg = sqrt(s - a^2) + eps, else sqrt(s) + eps; with momentum buf = mu buf + g / avg and
 * p -= lr buf, else p -= lr g / avg.
 */
registerKernel('RMSpropStep', 'cpu', ([param, grad, squareAvg, gradAvg, momentumBuf], attrs) => {
  const lr = attrs.lr as number;
  const alpha = attrs.alpha as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const momentum = attrs.momentum as number;
  const centered = attrs.centered as boolean;
  const p = f32(param);
  const g = f32(grad);
  const s = f32(squareAvg);
  const a = centered ? f32(gradAvg) : null;
  const buf = momentum > 0 ? f32(momentumBuf) : null;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (wd !== 0) gi += wd * p[i];
    const si = alpha * s[i] + (1 - alpha) * gi * gi;
    s[i] = si;
    let avg: number;
    if (a) {
      const ai = a[i] + (1 - alpha) * (gi - a[i]);
      a[i] = ai;
      avg = Math.sqrt(si - ai * ai) + eps;
    } else {
      avg = Math.sqrt(si) + eps;
    }
    if (buf) {
      const bi = momentum * buf[i] + gi / avg;
      buf[i] = bi;
      p[i] -= lr * bi;
    } else {
      p[i] -= (lr * gi) / avg;
    }
  }
  return [];
});
