/**
 * Fused recurrent layers on the CPU: one kernel runs a whole sequence of one direction of
 * one layer (LSTM, GRU or Elman RNN), saving the gate activations, and one kernel runs its
 * backpropagation through time. Per time step there is one small GEMM, whose weight is
 * packed into GEMM panels once per call, and one pass over the gates. LSTM: the step's GEMM
 * multiplies [x_t, h] by [W_ih, W_hh]^T and the gates (bias added there) read it straight
 * from the finished GEMM block when one block holds the product; GRU and RNN: the input
 * projection of all steps is a single GEMM (bias added as its blocks are stored) and the
 * step's GEMM is the recurrent product.
 *
 * With WebAssembly SIMD (and hidden size >= 4) the LSTM runs its gate passes in rnn-wasm.ts's
 * module instead, whose memory holds the layer's sequence; step products below 2^23
 * multiply-adds run on the module's own GEMM kernel instance on that memory (the weight
 * packed once per call, each step's operand packed in place), larger ones on matmul.ts.
 *
 * Layout: x [T, N, I] (time-major), h0/c0 [N, H], weight_ih [G*H, I], weight_hh [G*H, H],
 * biases [G*H], with G = 4 (gates i, f, g, o), 3 (r, z, n) or 1.
 */
import { registerKernel, type Attrs, type TensorInfo } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';
import { expm1Into, sigmoidFast as sigmoid, tanhFast as tanh } from './fast-math.ts';
import { WASM_MR, WASM_NR } from './gemm-wasm.ts';
import { gemm, gemmKernel, gemmPacked, gemmStrided, packStrided, type PackPanels, type StoreBlock } from './matmul.ts';
import { createRnnWasm } from './rnn-wasm.ts';

// Module-level copies: imported bindings may be read through accessors in some loaders.
const MR = WASM_MR;
const NR = WASM_NR;

export type RnnMode = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

const gateWasm = createRnnWasm();
let useGateWasm = gateWasm !== null;

/**
 * Selects the LSTM gate passes: 'wasm' (WebAssembly SIMD, rnn-wasm.ts; used with the
 * WebAssembly GEMM for hidden sizes of at least 4) or 'js'. Returns whether it is now active.
 */
export function setLstmGateKernel(name: 'wasm' | 'js'): boolean {
  useGateWasm = name === 'wasm' && gateWasm !== null;
  return useGateWasm === (name === 'wasm');
}

/** The LSTM gate passes in use: 'wasm' or 'js'. */
export function lstmGateKernel(): 'wasm' | 'js' {
  return useGateWasm ? 'wasm' : 'js';
}

export function gateCount(mode: RnnMode): number {
  return mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
}

/**
 * A GEMM right-hand side B (k x n), element (p, j) at b[p*rs + j*cs], used for many
 * products: on the WebAssembly path its panels are packed once and copied for each product.
 */
class Rhs {
  private panels: Float32Array | null = null;
  private readonly packer: PackPanels;

  constructor(
    readonly b: Float32Array,
    readonly k: number,
    readonly n: number,
    readonly rs: number,
    readonly cs: number,
  ) {
    this.packer = packStrided(b, 0, rs, cs);
  }

  /** PackPanels for gemmPacked: a copy of the cached panels when the request is whole-depth. */
  readonly pack: PackPanels = (view, d, p0, kc, j0, nc) => {
    const { k, n } = this;
    if (p0 !== 0 || kc !== k || j0 % NR !== 0 || (nc % NR !== 0 && j0 + nc !== n)) {
      this.packer(view, d, p0, kc, j0, nc);
      return;
    }
    if (!this.panels) {
      this.panels = new Float32Array(Math.ceil(n / NR) * NR * k);
      this.packer(this.panels, 0, 0, k, 0, n);
    }
    const w = Math.ceil(nc / NR) * NR;
    view.set(this.panels.subarray(j0 * k, (j0 + w) * k), d);
  };
}

/**
 * C = A (m x k, element (i, p) at a[aOff + i*aRs + p*aCs]) @ B, each finished block of C
 * handed to `store` (see StoreBlock); without the WebAssembly kernel the whole product is
 * computed into a scratch matrix and stored as one block.
 */
function product(m: number, n: number, k: number, a: Float32Array, aOff: number, aRs: number, aCs: number, rhs: Rhs, store: StoreBlock): void {
  if (gemmPacked(m, n, k, a, aOff, aRs, aCs, rhs.pack, store)) return;
  const c = new Float32Array(m * n);
  gemmStrided(m, n, k, a, aOff, aRs, aCs, rhs.b, 0, rhs.rs, rhs.cs, c, 0, n);
  store(c, 0, n, 0, m, 0, n);
}

interface LayerInputs {
  x: Float32Array;
  h0: Float32Array;
  c0: Float32Array | null;
  wIh: Float32Array;
  wHh: Float32Array;
  bIh: Float32Array | null;
  bHh: Float32Array | null;
  T: number;
  N: number;
  I: number;
  H: number;
}

/** Splits the kernel inputs [x, h0, c0 (LSTM), w_ih, w_hh, b_ih, b_hh (with bias)]. */
function readInputs(inputs: readonly TensorInfo[], attrs: Attrs): LayerInputs {
  const mode = attrs.mode as RnnMode;
  const hasBias = attrs.hasBias as boolean;
  let k = 0;
  const x = inputs[k++];
  const h0 = inputs[k++];
  const c0 = mode === 'lstm' ? inputs[k++] : null;
  const wIh = inputs[k++];
  const wHh = inputs[k++];
  const bIh = hasBias ? inputs[k++] : null;
  const bHh = hasBias ? inputs[k++] : null;
  const [T, N, I] = x.shape;
  const H = h0.shape[1];
  return {
    x: f32(x), h0: f32(h0), c0: c0 && f32(c0), wIh: f32(wIh), wHh: f32(wHh), bIh: bIh && f32(bIh), bHh: bHh && f32(bHh),
    T, N, I, H,
  };
}

/** State written by the LSTM gate pass of one step. */
interface LstmStep {
  N: number;
  H: number;
  /** b_ih + b_hh (zeros without bias). */
  bias: Float64Array;
  /** Receives the gate activations i, f, g, o of the step at po... */
  pre: Float32Array;
  po: number;
  cPrev: Float32Array;
  cOff: number;
  cells: Float32Array;
  tanhCells: Float32Array;
  y: Float32Array;
  /** Offset of step t in cells, tanhCells and y. */
  yo: number;
}

/** Scratch rows for the LSTM gate pass (float64, grown on demand). */
let gateArgs = new Float64Array(0);
let gateSums = new Float64Array(0);

/**
 * One LSTM step's gates: pre-activation = hw + bias, where hw (the step's product
 * [x_t, h] [W_ih, W_hh]^T) row n, column j is at hw[hwBase + n*hwLd + j]. c' = f c + i g, h' = o tanh(c').
 * The exponentials of a row are taken in one batched pass (sigmoid(a) = 1 / (2 + expm1(-a)),
 * tanh(a) = -expm1(-2|a|) / (2 + expm1(-2|a|)) with the sign of a).
 */
function lstmGates(s: LstmStep, hw: Float32Array, hwBase: number, hwLd: number): void {
  const { N, H, bias, pre, po, cPrev, cOff, cells, tanhCells, y, yo } = s;
  const GH = 4 * H;
  if (gateArgs.length < GH) {
    gateArgs = new Float64Array(GH);
    gateSums = new Float64Array(GH);
  }
  const e = gateArgs;
  const a = gateSums;
  const H2 = 2 * H;
  const H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const row = po + n * GH;
    const hr = hwBase + n * hwLd;
    const so = yo + n * H;
    const co = cOff + n * H;
    for (let j = 0; j < GH; j++) {
      const v = hw[hr + j] + bias[j];
      a[j] = v;
      e[j] = j >= H2 && j < H3 ? (v < 0 ? 2 * v : -2 * v) : -v;
    }
    expm1Into(e, GH);
    for (let j = 0; j < H; j++) {
      const i = 1 / (2 + e[j]);
      const f = 1 / (2 + e[H + j]);
      const eg = e[H2 + j];
      const tg = -eg / (2 + eg);
      const g = a[H2 + j] < 0 ? -tg : tg;
      const o = 1 / (2 + e[H3 + j]);
      pre[row + j] = i;
      pre[row + H + j] = f;
      pre[row + H2 + j] = g;
      pre[row + H3 + j] = o;
      const c = f * cPrev[co + j] + i * g;
      cells[so + j] = c;
      a[j] = c;
      e[j] = c < 0 ? 2 * c : -2 * c;
    }
    expm1Into(e, H);
    for (let j = 0; j < H; j++) {
      const ec = e[j];
      const t = -ec / (2 + ec);
      const tc = a[j] < 0 ? -t : t;
      tanhCells[so + j] = tc;
      y[so + j] = pre[row + H3 + j] * tc;
    }
  }
}

/** Float offsets of consecutive regions of the given sizes (each 16-byte aligned), then the end. */
function regions(...sizes: number[]): number[] {
  const offs: number[] = [];
  let o = 0;
  for (const n of sizes) {
    offs.push(o);
    o += Math.ceil(n / 4) * 4;
  }
  offs.push(o);
  return offs;
}

/** Whether the LSTM of these sizes runs its gate passes in the WebAssembly module. */
function lstmInWasm(T: number, N: number, H: number): boolean {
  return useGateWasm && gemmKernel() === 'wasm' && T > 0 && N > 0 && H >= 4;
}

/**
 * A copy of mem[from, to) in a new array: through ArrayBuffer.slice, whose new buffer is
 * not zero-filled before the copy (TypedArray.slice's is).
 */
function copyOut(mem: Float32Array, from: number, to: number): Float32Array {
  return new Float32Array(mem.buffer.slice(mem.byteOffset + from * 4, mem.byteOffset + to * 4));
}

/**
 * Copies `rows` rows of n floats inside the module's memory (float offsets and strides):
 * in the module for n >= 4, else by a plain loop.
 */
function copyRowsIn(src: number, srcLd: number, dst: number, dstLd: number, rows: number, n: number): void {
  const k = gateWasm!;
  if (n >= 4) {
    k.copyRows(src * 4, srcLd * 4, dst * 4, dstLd * 4, rows, n);
    return;
  }
  const m = k.f32;
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) m[dst + r * dstLd + j] = m[src + r * srcLd + j];
}

/**
 * A StoreBlock that gathers an m x n product into the module's memory at `dst`: a product
 * finished in one block is copied whole (rows `ldc` apart), others row by row (rows n
 * apart). `ld` is then the row stride used, in floats.
 */
class Gather {
  ld = 0;
  dst = 0;
  m = 0;
  n = 0;

  reset(dst: number, m: number, n: number): void {
    this.dst = dst;
    this.m = m;
    this.n = n;
    this.ld = n;
  }

  readonly store: StoreBlock = (view, base, ldc, i0, mc, j0, nc) => {
    const mem = gateWasm!.f32;
    if (i0 === 0 && mc === this.m && j0 === 0 && nc === this.n) {
      mem.set(view.subarray(base, base + (mc - 1) * ldc + nc), this.dst);
      this.ld = ldc;
      return;
    }
    for (let i = 0; i < mc; i++) mem.set(view.subarray(base + i * ldc, base + i * ldc + nc), this.dst + (i0 + i) * this.n + j0);
  };
}

const gather = new Gather();

/**
 * Below this many multiply-adds per step product the LSTM runs its step products on the
 * gate module's own GEMM kernel (one thread, the weight packed once per call, operands
 * packed in the module); larger ones go through matmul.ts, which may split them between
 * threads (its threshold for that is the same 2^23).
 */
const RESIDENT_MAX_MACS = 1 << 23;

/**
 * Packs `rows` rows of k floats (row i at src + i*srcLd) as 6-row GEMM panels (k-major,
 * panel q at dst + q*panel), all float offsets in the module's memory: full panels in the
 * module, the rows of a last partial panel by a plain loop.
 */
function packPanels6(src: number, srcLd: number, rows: number, k: number, dst: number, panel: number): void {
  const g = gateWasm!;
  const full = Math.floor(rows / MR);
  if (full > 0) g.gemm.transposePanels6(src * 4, srcLd * 4, k, full, dst * 4, panel * 4);
  const m = g.f32;
  const d = dst + full * panel;
  for (let i = full * MR; i < rows; i++) {
    const s = src + i * srcLd;
    const l = d + i - full * MR;
    for (let p = 0; p < k; p++) m[l + p * MR] = m[s + p];
  }
}

/**
 * The LSTM forward with the gate pass in the WebAssembly module, which holds the sequence:
 * the step operands [x_t, h] (x copied in once, h from the previous step's gate pass), the
 * saved activations and the outputs. y_t is kept at slot t + 1 of T + 2 slots, h0 in slot
 * 0 (or T + 1 when reverse), so that the hidden states each step read are one contiguous
 * block. Same outputs as the JS path; null, leaving it to the JS path, where the memory
 * cannot grow to hold the sequence.
 */
function lstmForwardWasm(li: LayerInputs, reverse: boolean): TensorInfo[] | null {
  const { x, h0, c0, wIh, wHh, bIh, bHh, T, N, I, H } = li;
  const k = gateWasm!;
  resident = null;
  const GH = 4 * H;
  const K = I + H;
  const NH = N * H;
  const own = N * GH * K < RESIDENT_MAX_MACS;
  // own GEMM: A as 6-row panels per step (slot T for the last step's unused h), B as 8-column panels
  const mTiles = Math.ceil(N / MR);
  const Np = mTiles * MR;
  const GHp = Math.ceil(GH / NR) * NR;
  const ldMax = own ? GHp : Math.ceil(GH / NR) * NR;
  const [oA, oX, oB, oC0, oHw, oG, oCells, oTanh, oY, oWs, oPB, end] = regions(
    own ? (T + 1) * Np * K : (T + 1) * N * K, T * N * I, GH, NH, (own ? Np : N) * ldMax, T * N * GH, T * NH, T * NH, (T + 2) * NH,
    own ? GHp * K : 0, own ? GHp * K : 0,
  );
  if (!k.ensure(end + 4)) return null;
  const mem = k.f32;
  const first = reverse ? T - 1 : 0;
  const ySlot = (t: number) => oY + (t + 1) * NH;
  const oH0 = reverse ? ySlot(T) : ySlot(-1);
  mem.set(x, oX);
  mem.set(h0, oH0);
  mem.set(c0 as Float32Array, oC0);
  if (bIh && bHh) for (let j = 0; j < GH; j++) mem[oB + j] = bIh[j] + bHh[j];
  else mem.fill(0, oB, oB + GH);
  let rhs: Rhs | null = null;
  if (own) {
    // W = [W_ih, W_hh] (GH x K, zero rows up to GHp) transposed into panels
    mem.fill(0, oWs + GH * K, oWs + GHp * K);
    for (let j = 0; j < GH; j++) {
      mem.set(wIh.subarray(j * I, (j + 1) * I), oWs + j * K);
      mem.set(wHh.subarray(j * H, (j + 1) * H), oWs + j * K + I);
    }
    k.gemm.transposePanels8(oWs * 4, K * 4, K, GHp / NR, oPB * 4, K * NR * 4);
    mem.fill(0, oA, oA + (T + 1) * Np * K);
    for (let t = 0; t < T; t++) packPanels6(oX + t * N * I, I, N, I, oA + t * Np * K, K * MR);
    packPanels6(oH0, H, N, H, oA + first * Np * K + I * MR, K * MR);
  } else {
    copyRowsIn(oX, I, oA, K, T * N, I);
    copyRowsIn(oH0, H, oA + first * N * K + I, K, N, H);
    const wCat = new Float32Array(GH * K);
    for (let j = 0; j < GH; j++) {
      wCat.set(wIh.subarray(j * I, (j + 1) * I), j * K);
      wCat.set(wHh.subarray(j * H, (j + 1) * H), j * K + I);
    }
    rhs = new Rhs(wCat, K, GH, 1, K);
  }
  let prevT = -1;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const next = s === T - 1 ? T : reverse ? t - 1 : t + 1;
    let hwLd = GHp;
    if (own) {
      k.gemm.block(K, (oA + t * Np * K) * 4, oPB * 4, oHw * 4, GHp * 4, mTiles, GHp / NR, K * NR * 4, 1);
    } else {
      gather.reset(oHw, N, GH);
      product(N, GH, K, mem, oA + t * N * K, K, 1, rhs!, gather.store);
      hwLd = gather.ld;
    }
    const cPrev = prevT < 0 ? oC0 : oCells + prevT * NH;
    // h goes to y and, on the JS-driven path, straight into the next step's operand
    const hNext = own ? ySlot(t) : oA + next * N * K + I;
    k.lstmForward(N, H, oHw * 4, hwLd * 4, oB * 4, cPrev * 4, (oG + t * N * GH) * 4, (oCells + t * NH) * 4,
      (oTanh + t * NH) * 4, ySlot(t) * 4, hNext * 4, (own ? H : K) * 4);
    if (own && s < T - 1) packPanels6(ySlot(t), H, N, H, oA + next * Np * K + I * MR, K * MR);
    prevT = t;
  }
  const y = copyOut(mem, ySlot(0), ySlot(T));
  const cells = copyOut(mem, oCells, oCells + T * NH);
  const gates = copyOut(mem, oG, oG + T * N * GH);
  const tanhCells = copyOut(mem, oTanh, oTanh + T * NH);
  resident = { x, h0, c0: c0 as Float32Array, gates, cells, tanhCells, y, reverse, oY, oG, oCells, oTanh, oC0, end };
  return [
    out(y, [T, N, H]),
    out(y.slice(prevT * NH, (prevT + 1) * NH), [N, H]),
    out(cells.slice(prevT * NH, (prevT + 1) * NH), [N, H]),
    out(gates, [T, N, GH]),
    out(cells, [T, N, H]),
    out(tanhCells, [T, N, H]),
  ];
}

/**
 * What the last forward left in the module's memory (region offsets and the arrays it read
 * and returned): the backward that follows it directly finds its operands there.
 */
interface Resident {
  x: Float32Array;
  h0: Float32Array;
  c0: Float32Array;
  gates: Float32Array;
  cells: Float32Array;
  tanhCells: Float32Array;
  y: Float32Array;
  reverse: boolean;
  /** T + 2 slots of N x H: h0 and y (see lstmForwardWasm). */
  oY: number;
  oG: number;
  oCells: number;
  oTanh: number;
  oC0: number;
  end: number;
}

let resident: Resident | null = null;

/**
 * The LSTM backward with the gate pass in the WebAssembly module: per step the gate
 * gradients and dh = dGates W_hh; then dx = dGates W_ih, [dW_ih, dW_hh] = dGates^T [x_t, h_prev]
 * and the bias gradient summed in float64. Null where the memory cannot grow that far.
 */
function lstmBackwardWasm(
  li: LayerInputs, reverse: boolean, y: Float32Array, saved: Float32Array[], dy: Float32Array, dhT: Float32Array, dcT: Float32Array,
  gradX: boolean, gradH0: boolean,
): TensorInfo[] | null {
  const { x, h0, c0, wIh, wHh, T, N, I, H } = li;
  const k = gateWasm!;
  const GH = 4 * H;
  const K = I + H;
  const NH = N * H;
  const own = N * GH * K < RESIDENT_MAX_MACS;
  const mTiles = Math.ceil(N / MR);
  const Np = mTiles * MR;
  const Hp = Math.ceil(H / NR) * NR;
  const [gates, cells, tanhCells] = saved;
  const r = resident;
  resident = null;
  let oY: number, oG: number, oCells: number, oTanh: number, oC0: number, base: number;
  if (r && r.x === x && r.h0 === h0 && r.c0 === c0 && r.gates === gates && r.cells === cells && r.tanhCells === tanhCells && r.y === y && r.reverse === reverse) {
    // The forward's states and activations are still in place.
    ({ oY, oG, oCells, oTanh, oC0 } = r);
    base = r.end;
  } else {
    [oY, oG, oCells, oTanh, oC0, base] = regions((T + 2) * NH, T * N * GH, T * NH, T * NH, NH);
    if (!k.ensure(base)) return null;
    const mem = k.f32;
    mem.set(gates, oG);
    mem.set(cells, oCells);
    mem.set(tanhCells, oTanh);
    mem.set(c0 as Float32Array, oC0);
    mem.set(y, oY + NH);
    mem.set(h0, reverse ? oY + (T + 1) * NH : oY);
  }
  const [oDy, oDh, oDc0, oDc1, oDA, oDb, oWs, oPB, oPA, oX, oXH, end] = regions(
    T * NH, Np * Math.max(Hp, H), NH, NH, T * N * GH, 2 * GH, own ? GH * Hp : 0, own ? GH * Hp : 0, own ? Np * GH : 0, T * N * I, T * N * K,
  ).map((o) => o + base);
  if (!k.ensure(end + 4)) return null;
  const mem = k.f32;
  mem.set(dy, oDy);
  mem.set(dhT, oDh);
  mem.set(dcT, oDc0);
  let whh: Rhs | null = null;
  if (own) {
    // B = W_hh (GH x H, zero columns up to Hp) as 8-column panels
    if (Hp === H) mem.set(wHh, oWs);
    else {
      mem.fill(0, oWs, oWs + GH * Hp);
      for (let j = 0; j < GH; j++) mem.set(wHh.subarray(j * H, (j + 1) * H), oWs + j * Hp);
    }
    k.gemm.copyPanels8(oWs * 4, Hp * 4, GH, Hp / NR, oPB * 4, GH * NR * 4);
    mem.fill(0, oPA, oPA + Np * GH);
  } else {
    whh = new Rhs(wHh, GH, H, H, 1);
  }
  let dhLd = H;
  let dcIn = oDc0;
  let dcOut = oDc1;
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const cPrev = s === 0 ? oC0 : oCells + (reverse ? t + 1 : t - 1) * NH;
    const dA = oDA + t * N * GH;
    k.lstmBackward(N, H, oDh * 4, dhLd * 4, (oDy + t * NH) * 4, (oG + t * N * GH) * 4, cPrev * 4, (oTanh + t * NH) * 4,
      dcIn * 4, dcOut * 4, dA * 4);
    [dcIn, dcOut] = [dcOut, dcIn];
    if (s === 0 && !gradH0) break;
    if (own) {
      packPanels6(dA, GH, N, GH, oPA, GH * MR);
      k.gemm.block(GH, oPA * 4, oPB * 4, oDh * 4, Hp * 4, mTiles, Hp / NR, GH * NR * 4, 1);
      dhLd = Hp;
    } else {
      gather.reset(oDh, N, H);
      product(N, H, GH, mem, dA, GH, 1, whh!, gather.store);
      dhLd = gather.ld;
    }
  }
  const dh0 = new Float32Array(NH);
  if (gradH0) for (let n = 0; n < N; n++) dh0.set(mem.subarray(oDh + n * dhLd, oDh + n * dhLd + H), n * H);
  const dc0 = mem.slice(dcIn, dcIn + NH);
  const dx = new Float32Array(T * N * I);
  if (gradX) gemm(T * N, I, GH, mem, oDA, GH, 1, wIh, 0, I, dx, 0);
  // [dW_ih, dW_hh] = dGates^T [x_t, h_prev] in one product; the hidden states the steps
  // read are one block: h0, y_0 .. y_T-2 (reverse: y_1 .. y_T-1, h0)
  mem.set(x, oX);
  copyRowsIn(oX, I, oXH, K, T * N, I);
  copyRowsIn(reverse ? oY + 2 * NH : oY, H, oXH + I, K, T * N, H);
  const dW = new Float32Array(GH * K);
  gemm(GH, K, T * N, mem, oDA, 1, GH, mem, oXH, K, dW, 0);
  const dWih = new Float32Array(GH * I);
  const dWhh = new Float32Array(GH * H);
  for (let j = 0; j < GH; j++) {
    const r = j * K;
    for (let i = 0; i < I; i++) dWih[j * I + i] = dW[r + i];
    for (let i = 0; i < H; i++) dWhh[j * H + i] = dW[r + I + i];
  }
  k.f64.fill(0, oDb / 2, oDb / 2 + GH);
  k.colSums(oDA * 4, T * N, GH / 4, oDb * 4);
  const dbIh = Float32Array.from(k.f64.subarray(oDb / 2, oDb / 2 + GH));
  return [out(dx, [T, N, I]), out(dh0, [N, H]), out(dc0, [N, H]), out(dWih, [GH, I]), out(dWhh, [GH, H]), out(dbIh, [GH]), out(dbIh.slice(), [GH])];
}

/**
 * Forward. Outputs: y [T, N, H], h_T [N, H], then LSTM: c_T, gates (i, f, g, o activations)
 * [T, N, 4H], cells [T, N, H], tanh(cells) [T, N, H]; GRU: gates (r, z, n) [T, N, 3H],
 * W_hn h + b_hn [T, N, H]; RNN: nothing more.
 */
registerKernel('RnnLayer', 'cpu', (inputs, attrs) => {
  const mode = attrs.mode as RnnMode;
  const reverse = attrs.reverse as boolean;
  const li = readInputs(inputs, attrs);
  if (mode === 'lstm' && lstmInWasm(li.T, li.N, li.H)) {
    const res = lstmForwardWasm(li, reverse);
    if (res) return res;
  }
  const { x, h0, c0, wIh, wHh, bIh, bHh, T, N, I, H } = li;
  const G = gateCount(mode);
  const GH = G * H;
  const NH = N * H;
  // Input projections of every step: pre = x W_ih^T + b_ih (+ b_hh where it simply adds).
  const pre = new Float32Array(T * N * GH);
  let bias: Float64Array | null = null;
  if (bIh && bHh) {
    bias = new Float64Array(GH);
    const addHh = mode !== 'gru';
    for (let j = 0; j < GH; j++) bias[j] = bIh[j] + (addHh ? bHh[j] : 0);
  }
  const isLstm = mode === 'lstm';
  // LSTM: each step multiplies [x_t, h] by [W_ih, W_hh]^T in one GEMM (depth I + H), so the
  // input projection is never stored apart; the other modes project all steps at once.
  if (!isLstm) product(T * N, GH, I, x, 0, I, 1, new Rhs(wIh, I, GH, 1, I), (view, base, ldc, i0, mc, j0, nc) => {
    for (let i = 0; i < mc; i++) {
      const row = (i0 + i) * GH + j0;
      const t = base + i * ldc;
      if (bias) for (let j = 0; j < nc; j++) pre[row + j] = view[t + j] + bias[j0 + j];
      else for (let j = 0; j < nc; j++) pre[row + j] = view[t + j];
    }
  });
  // The recurrent weight as B = W_hh^T (H x GH).
  const whhT = new Rhs(wHh, H, GH, 1, H);
  const K = I + H;
  let stepRhs: Rhs | null = null;
  let stepA: Float32Array | null = null;
  if (isLstm) {
    const wCat = new Float32Array(GH * K);
    for (let j = 0; j < GH; j++) {
      wCat.set(wIh.subarray(j * I, (j + 1) * I), j * K);
      wCat.set(wHh.subarray(j * H, (j + 1) * H), j * K + I);
    }
    stepRhs = new Rhs(wCat, K, GH, 1, K);
    stepA = new Float32Array(N * K);
  }
  const y = new Float32Array(T * NH);
  const hT = new Float32Array(NH);
  const cells = isLstm ? new Float32Array(T * NH) : null;
  const tanhCells = isLstm ? new Float32Array(T * NH) : null;
  const cT = isLstm ? new Float32Array(NH) : null;
  const ghn = mode === 'gru' ? new Float32Array(T * NH) : null;
  const gh = mode !== 'rnn_tanh' && mode !== 'rnn_relu' ? new Float32Array(N * GH) : null;

  let prevT = -1;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = prevT < 0 ? h0 : y;
    const hOff = prevT < 0 ? 0 : prevT * NH;
    const po = t * N * GH;
    if (mode === 'gru') {
      const g = gh as Float32Array;
      if (bHh) for (let n = 0; n < N; n++) g.set(bHh, n * GH);
      else g.fill(0);
      product(N, GH, H, hPrev, hOff, H, 1, whhT, (view, base, ldc, i0, mc, j0, nc) => {
        for (let i = 0; i < mc; i++) {
          const row = (i0 + i) * GH + j0;
          const v = base + i * ldc;
          for (let j = 0; j < nc; j++) g[row + j] += view[v + j];
        }
      });
      const gn = ghn as Float32Array;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        const gr = n * GH;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(pre[row + j] + g[gr + j]);
          const z = sigmoid(pre[row + H + j] + g[gr + H + j]);
          const hn = g[gr + 2 * H + j];
          const nv = tanh(pre[row + 2 * H + j] + r * hn);
          const hp = hPrev[hOff + n * H + j];
          pre[row + j] = r;
          pre[row + H + j] = z;
          pre[row + 2 * H + j] = nv;
          gn[t * NH + n * H + j] = hn;
          y[t * NH + n * H + j] = (1 - z) * nv + z * hp;
        }
      }
    } else if (isLstm) {
      const step: LstmStep = {
        N, H, bias: bias ?? new Float64Array(GH), pre, po,
        cPrev: prevT < 0 ? (c0 as Float32Array) : (cells as Float32Array),
        cOff: prevT < 0 ? 0 : prevT * NH,
        cells: cells as Float32Array,
        tanhCells: tanhCells as Float32Array,
        y,
        yo: t * NH,
      };
      const hw = gh as Float32Array;
      const a = stepA as Float32Array;
      // A = [x_t, h] (plain loops: no subarray views to allocate per row)
      for (let n = 0; n < N; n++) {
        const d = n * K;
        const xs = (t * N + n) * I;
        for (let i = 0; i < I; i++) a[d + i] = x[xs + i];
        const hs = hOff + n * H;
        for (let j = 0; j < H; j++) a[d + I + j] = hPrev[hs + j];
      }
      let fused = false;
      product(N, GH, K, a, 0, K, 1, stepRhs as Rhs, (view, base, ldc, i0, mc, j0, nc) => {
        if (i0 === 0 && mc === N && j0 === 0 && nc === GH) {
          // The whole product in one block: the gates read it where it lies.
          lstmGates(step, view, base, ldc);
          fused = true;
          return;
        }
        for (let i = 0; i < mc; i++) hw.set(view.subarray(base + i * ldc, base + i * ldc + nc), (i0 + i) * GH + j0);
      });
      if (!fused) lstmGates(step, hw, 0, GH);
    } else {
      // pre[t] += h_prev W_hh^T
      product(N, GH, H, hPrev, hOff, H, 1, whhT, (view, base, ldc, i0, mc, j0, nc) => {
        for (let i = 0; i < mc; i++) {
          const row = po + (i0 + i) * GH + j0;
          const v = base + i * ldc;
          for (let j = 0; j < nc; j++) pre[row + j] += view[v + j];
        }
      });
      const relu = mode === 'rnn_relu';
      for (let k = 0; k < NH; k++) {
        const a = pre[po + k];
        y[t * NH + k] = relu ? (a > 0 ? a : 0) : tanh(a);
      }
    }
    prevT = t;
  }
  if (T > 0) {
    hT.set(y.subarray(prevT * NH, (prevT + 1) * NH));
    if (cT && cells) cT.set(cells.subarray(prevT * NH, (prevT + 1) * NH));
  } else {
    hT.set(h0);
    if (cT && c0) cT.set(c0);
  }
  const res = [out(y, [T, N, H]), out(hT, [N, H])];
  if (isLstm) res.push(out(cT as Float32Array, [N, H]), out(pre, [T, N, GH]), out(cells as Float32Array, [T, N, H]), out(tanhCells as Float32Array, [T, N, H]));
  if (mode === 'gru') res.push(out(pre, [T, N, GH]), out(ghn as Float32Array, [T, N, H]));
  return res;
});

/** Number of tensors the forward saves for the backward (after y, h_T and c_T). */
export function savedCount(mode: RnnMode): number {
  return mode === 'lstm' ? 3 : mode === 'gru' ? 2 : 0;
}

/**
 * Backpropagation through time. Inputs: the forward's inputs, then y, the saved tensors
 * (LSTM: gates, cells, tanh(cells); GRU: gates, ghn), then dy [T, N, H], dh_T [N, H] and
 * (LSTM) dc_T. Outputs: dx, dh0, dc0 (LSTM), dW_ih, dW_hh, db_ih, db_hh. With attribute
 * gradX (gradH0) false, dx (dh0) is not computed and returned as zeros.
 */
registerKernel('RnnLayerGrad', 'cpu', (inputs, attrs) => {
  const mode = attrs.mode as RnnMode;
  const reverse = attrs.reverse as boolean;
  const hasBias = attrs.hasBias as boolean;
  const gradX = attrs.gradX !== false;
  const gradH0 = attrs.gradH0 !== false;
  const li = readInputs(inputs, attrs);
  const { x, h0, c0, wIh, wHh, T, N, I, H } = li;
  let k = (mode === 'lstm' ? 5 : 4) + (hasBias ? 2 : 0);
  const y = f32(inputs[k++]);
  const nSaved = savedCount(mode);
  const saved = inputs.slice(k, k + nSaved).map(f32);
  k += nSaved;
  const dy = f32(inputs[k++]);
  if (mode === 'lstm' && lstmInWasm(T, N, H)) {
    const res = lstmBackwardWasm(li, reverse, y, saved, dy, f32(inputs[k]), f32(inputs[k + 1]), gradX, gradH0);
    if (res) return res;
  }
  const dh = Float32Array.from(f32(inputs[k++]));
  const dc = mode === 'lstm' ? Float32Array.from(f32(inputs[k++])) : null;
  const G = gateCount(mode);
  const GH = G * H;
  const NH = N * H;

  // LSTM: the bias gradient, accumulated during the gate pass.
  const lstmBiasGrad = mode === 'lstm' ? new Float64Array(GH) : null;
  // dA: gradient of the input-side pre-activations; dB (GRU only): of the hidden side.
  const dA = new Float32Array(T * N * GH);
  const dB = mode === 'gru' ? new Float32Array(T * N * GH) : dA;
  // hPrev[t]: the hidden state the step at t read.
  const hPrev = new Float32Array(T * NH);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (s === 0) hPrev.set(h0, t * NH);
    else {
      const p = reverse ? t + 1 : t - 1;
      hPrev.set(y.subarray(p * NH, (p + 1) * NH), t * NH);
    }
  }
  // B = W_hh (GH x H), row-major.
  const whh = new Rhs(wHh, GH, H, H, 1);
  // dh_prev (+)= dB[t] W_hh; the LSTM and RNN steps have consumed dh, the GRU step left z dh in it.
  const accumulate = mode === 'gru';
  const storeDh: StoreBlock = (view, base, ldc, i0, mc, j0, nc) => {
    for (let i = 0; i < mc; i++) {
      const row = (i0 + i) * H + j0;
      const v = base + i * ldc;
      if (accumulate) for (let j = 0; j < nc; j++) dh[row + j] += view[v + j];
      else for (let j = 0; j < nc; j++) dh[row + j] = view[v + j];
    }
  };

  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const po = t * N * GH;
    const yo = t * NH;
    if (mode === 'lstm') {
      const [gates, cells, tanhCells] = saved;
      const dcv = dc as Float32Array;
      const cPrev = s === 0 ? (c0 as Float32Array) : cells;
      const cOff = s === 0 ? 0 : (reverse ? t + 1 : t - 1) * NH;
      const db = lstmBiasGrad as Float64Array;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        for (let j = 0; j < H; j++) {
          const q = n * H + j;
          const i = gates[row + j];
          const f = gates[row + H + j];
          const g = gates[row + 2 * H + j];
          const o = gates[row + 3 * H + j];
          const tc = tanhCells[yo + q];
          const dhv = dh[q] + dy[yo + q];
          const dcTot = dcv[q] + dhv * o * (1 - tc * tc);
          const di = dcTot * g * i * (1 - i);
          const df = dcTot * cPrev[cOff + q] * f * (1 - f);
          const dg = dcTot * i * (1 - g * g);
          const dO = dhv * tc * o * (1 - o);
          dA[row + j] = di;
          dA[row + H + j] = df;
          dA[row + 2 * H + j] = dg;
          dA[row + 3 * H + j] = dO;
          // bias gradient summed here, in float64, while the values are at hand
          db[j] += Math.fround(di);
          db[H + j] += Math.fround(df);
          db[2 * H + j] += Math.fround(dg);
          db[3 * H + j] += Math.fround(dO);
          dcv[q] = dcTot * f;
        }
      }
    } else if (mode === 'gru') {
      const [gates, ghn] = saved;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        for (let j = 0; j < H; j++) {
          const q = n * H + j;
          const r = gates[row + j];
          const z = gates[row + H + j];
          const nv = gates[row + 2 * H + j];
          const hp = hPrev[yo + q];
          const dhv = dh[q] + dy[yo + q];
          // h = (1 - z) n + z h_prev; n = tanh(a_n + r * ghn)
          const dan = dhv * (1 - z) * (1 - nv * nv);
          const daz = dhv * (hp - nv) * z * (1 - z);
          const dar = dan * ghn[yo + q] * r * (1 - r);
          dA[row + j] = dar;
          dA[row + H + j] = daz;
          dA[row + 2 * H + j] = dan;
          dB[row + j] = dar;
          dB[row + H + j] = daz;
          dB[row + 2 * H + j] = dan * r;
          dh[q] = dhv * z;
        }
      }
    } else {
      const relu = mode === 'rnn_relu';
      for (let q = 0; q < NH; q++) {
        const h = y[yo + q];
        const dhv = dh[q] + dy[yo + q];
        dA[po + q] = relu ? (h > 0 ? dhv : 0) : dhv * (1 - h * h);
      }
    }
    if (s > 0 || gradH0) product(N, H, GH, dB, po, GH, 1, whh, storeDh);
  }
  if (!gradH0) dh.fill(0);

  const dx = new Float32Array(T * N * I);
  if (gradX) gemm(T * N, I, GH, dA, 0, GH, 1, wIh, 0, I, dx, 0);
  const dWih = new Float32Array(GH * I);
  gemm(GH, I, T * N, dA, 0, 1, GH, x, 0, I, dWih, 0);
  const dWhh = new Float32Array(GH * H);
  gemm(GH, H, T * N, dB, 0, 1, GH, hPrev, 0, H, dWhh, 0);
  const dbIh = new Float32Array(GH);
  const dbHh = new Float32Array(GH);
  if (lstmBiasGrad) dbIh.set(lstmBiasGrad);
  const colSums = (src: Float32Array, dst: Float32Array) => {
    for (let r = 0; r < T * N; r++) {
      const o = r * GH;
      for (let j = 0; j < GH; j++) dst[j] += src[o + j];
    }
  };
  if (!lstmBiasGrad) colSums(dA, dbIh);
  if (dB === dA) dbHh.set(dbIh);
  else colSums(dB, dbHh);
  const res = [out(dx, [T, N, I]), out(dh, [N, H])];
  if (mode === 'lstm') res.push(out(dc as Float32Array, [N, H]));
  res.push(out(dWih, [GH, I]), out(dWhh, [GH, H]), out(dbIh, [GH]), out(dbHh, [GH]));
  return res;
});
