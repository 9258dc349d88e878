/**
 * WebAssembly SIMD kernels for the LSTM gate passes (rnn.ts), assembled here from bytes like
 * gemm-wasm.ts (no build step, no file to load). They import the memory of a GEMM kernel
 * instance of their own (createWasmGemmKernel), which holds a layer's whole sequence while
 * its kernel runs, so that the step products and the gate passes work on the same data.
 * Four functions, all addresses and strides
 * in bytes, float32 rows with H values each (H >= 4; 4 lanes at a time, the last group
 * of a row overlapping the one before it when 4 does not divide H, which is harmless
 * because every output is a pure function of inputs that no call overwrites):
 *
 * - `lstmForward(N, H, hw, hwLd, bias, cPrev, gates, cells, tanhCells, y, hNext, hNextLd)`:
 *   one step's gates from the step's product hw (rows hwLd apart, columns i, f, g, o of H
 *   each) plus bias: i, f, o = sigmoid, g = tanh, c = f cPrev + i g, h = o tanh(c). Writes
 *   the activations (rows of 4H), c, tanh(c), h (rows of H) and h again at hNext (rows
 *   hNextLd apart: the next step's GEMM operand [x_t, h]).
 * - `lstmBackward(N, H, dh, dhLd, dy, gates, cPrev, tanhCells, dcIn, dcOut, dGates)`: the
 *   gate gradients of one step from dh (rows dhLd apart) + dy and the cell gradient dcIn;
 *   dcOut = the cell gradient passed to the step before.
 * - `copyRows(src, srcLd, dst, dstLd, rows, n)`: copies `rows` rows of n >= 4 floats.
 * - `colSums(src, rows, n4, dst)`: adds the columns of a row-major [rows, 4 n4] float32
 *   matrix to the float64 row dst (the bias gradient, summed in float64).
 *
 * sigmoid(a) = 1 / (2 + expm1(-a)) and tanh(a) = -e / (2 + e), e = expm1(-2|a|), with the
 * sign of a, as in fast-math.ts but in float32: expm1(x) = s p + (s - 1), s = 2^k,
 * k = round(x / ln 2), p the degree-7 Taylor polynomial of e^r - 1 at r = x - k ln 2
 * (ln 2 in two parts so that r is exact), x clamped to [-88, 88]; a few float32 ulps from
 * the float64 functions, and NaN stays NaN. The forward evaluates the four gates'
 * exponentials side by side.
 *
 * Where WebAssembly SIMD is missing, `createRnnWasm` returns null and rnn.ts runs its JS passes.
 */
import { ascii, createWasmGemmKernel, leb, section, type WasmGemmKernel } from './gemm-wasm.ts';

export interface RnnWasm {
  lstmForward(N: number, H: number, hw: number, hwLd: number, bias: number, cPrev: number, gates: number, cells: number, tanhCells: number, y: number, hNext: number, hNextLd: number): void;
  lstmBackward(N: number, H: number, dh: number, dhLd: number, dy: number, gates: number, cPrev: number, tanhCells: number, dcIn: number, dcOut: number, dGates: number): void;
  copyRows(src: number, srcLd: number, dst: number, dstLd: number, rows: number, n: number): void;
  colSums(src: number, rows: number, n4: number, dst: number): void;
  /**
   * A GEMM kernel instance of its own (gemm-wasm.ts) on the same memory: its `block` and
   * panel packers work on the data the gate passes read and write.
   */
  gemm: WasmGemmKernel;
  /** Float32 view of the memory; replaced when `ensure` grows it. */
  f32: Float32Array;
  /** Float64 view of the same memory. */
  f64: Float64Array;
  /** Grows the memory to hold at least `floats` float32s; false where it cannot grow that far. */
  ensure(floats: number): boolean;
}

const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Eqz: 0x45, i32LtU: 0x49, i32LeS: 0x4c, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74,
  simd: 0xfd,
};
const V = {
  load: 0x00, store: 0x0b, const: 0x0c, shuffle: 0x0d,
  and: 0x4e, xor: 0x51, promoteLow: 0x5f, i32Shl: 0xab, i32Add: 0xae,
  fAbs: 0xe0, fAdd: 0xe4, fSub: 0xe5, fMul: 0xe6, fDiv: 0xe7, fPmin: 0xea, fPmax: 0xeb,
  dAdd: 0xf0,
};

/** A function body under construction: i32 params, then i32 and v128 locals. */
class Fn {
  readonly code: number[] = [];
  private nextI32: number;
  private nextV: number;

  constructor(readonly params: number, private readonly i32Locals: number, private readonly vLocals: number) {
    this.nextI32 = params;
    this.nextV = params + i32Locals;
  }

  i32(): number {
    if (this.nextI32 >= this.params + this.i32Locals) throw new Error('rnn-wasm: out of i32 locals');
    return this.nextI32++;
  }

  v(): number {
    if (this.nextV >= this.params + this.i32Locals + this.vLocals) throw new Error('rnn-wasm: out of v128 locals');
    return this.nextV++;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(l: number): this {
    return this.op(OP.localGet, ...leb(l));
  }

  set(l: number): this {
    return this.op(OP.localSet, ...leb(l));
  }

  tee(l: number): this {
    return this.op(OP.localTee, ...leb(l));
  }

  c(v: number): this {
    return this.op(OP.i32Const, ...sleb(v));
  }

  simd(op: number, ...imm: number[]): this {
    return this.op(OP.simd, ...leb(op), ...imm);
  }

  private readonly consts = new Map<number, number>();

  /** Pushes four float32s x from a local set once at the function's start. */
  k4(x: number): this {
    let l = this.consts.get(x);
    if (l === undefined) {
      l = this.v();
      this.consts.set(x, l);
    }
    return this.get(l);
  }

  /** v128.const of four float32s. */
  f4(x: number): this {
    const b = new Uint8Array(new Float32Array([x, x, x, x]).buffer);
    return this.simd(V.const, ...b);
  }

  /** v128.const of four int32 bit patterns. */
  u4(x: number): this {
    const b = new Uint8Array(new Uint32Array([x, x, x, x]).buffer);
    return this.simd(V.const, ...b);
  }

  /** Pushes v128 at (local addr) + (local off, or nothing). */
  load(addr: number, off = -1): this {
    this.get(addr);
    if (off >= 0) this.get(off).op(OP.i32Add);
    return this.simd(V.load, 0, 0);
  }

  /** Stores the v128 in local `v` at (local addr) + (local off). */
  store(addr: number, off: number, v: number): this {
    this.get(addr);
    if (off >= 0) this.get(off).op(OP.i32Add);
    return this.get(v).simd(V.store, 0, 0);
  }

  /** local l += local m (i32). */
  addTo(l: number, m: number): this {
    return this.get(l).get(m).op(OP.i32Add).set(l);
  }

  /** local l += constant (i32). */
  addConst(l: number, v: number): this {
    return this.get(l).c(v).op(OP.i32Add).set(l);
  }

  /** Ends a loop: l -= 1, again while l != 0. */
  countDown(l: number): this {
    return this.get(l).c(1).op(OP.i32Sub, OP.localTee, ...leb(l), OP.brIf, 0, OP.end);
  }

  encode(): number[] {
    const init = new Fn(0, 0, 0);
    for (const [x, l] of this.consts) init.f4(x).set(l);
    const body = [2, ...leb(this.i32Locals), 0x7f, ...leb(this.vLocals), 0x7b, ...init.code, ...this.code, OP.end];
    return [...leb(body.length), ...body];
  }
}

/** Signed LEB128 (i32.const immediates). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** 1.5 * 2^23: adding it rounds a float32 of magnitude below 2^22 to an integer, held in the low mantissa bits. */
const ROUND = 12582912;

/**
 * expm1 of each local in xs, in place, the steps of all of them interleaved (independent
 * dependency chains side by side); k[q], p[q] are temporaries for xs[q]. The clamp uses
 * pmin/pmax with x first, which give x when it is NaN; k = round(x / ln 2) and 2^k come
 * from the bits of x / ln 2 + 1.5 * 2^23 (k in the low mantissa bits, shifted into the
 * exponent field).
 */
function expm1Many(f: Fn, xs: number[], k: number[], p: number[]): void {
  const each = (emit: (q: number) => void) => xs.forEach((_, q) => emit(q));
  each((q) => f.get(xs[q]).k4(88).simd(V.fPmin).k4(-88).simd(V.fPmax).set(xs[q]));
  each((q) => f.get(xs[q]).k4(Math.LOG2E).simd(V.fMul).k4(ROUND).simd(V.fAdd).set(k[q]));
  // r = (x - k ln2_hi) - k ln2_lo, with k = (x / ln 2 + ROUND) - ROUND (in p for now)
  each((q) => f.get(k[q]).k4(ROUND).simd(V.fSub).set(p[q]));
  each((q) => f.get(xs[q]).get(p[q]).k4(0.693359375).simd(V.fMul).simd(V.fSub).get(p[q]).k4(-2.12194440e-4).simd(V.fMul).simd(V.fSub).set(xs[q]));
  // p = r (1 + r (1/2 + r (1/6 + ... + r / 5040)))
  each((q) => f.get(xs[q]).k4(1 / 5040).simd(V.fMul).set(p[q]));
  for (const coef of [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1]) each((q) => f.get(p[q]).k4(coef).simd(V.fAdd).get(xs[q]).simd(V.fMul).set(p[q]));
  // s = 2^k: (the bits holding k << 23) + (127 << 23)
  each((q) => f.get(k[q]).c(23).simd(V.i32Shl, 1).u4(127 << 23).simd(V.i32Add, 1).set(k[q]));
  // s p + (s - 1)
  each((q) => f.get(k[q]).get(p[q]).simd(V.fMul).get(k[q]).k4(1).simd(V.fSub).simd(V.fAdd).set(xs[q]));
}

/** Temporaries of tanh. */
interface TanhTemps {
  x: number;
  k: number;
  p: number;
}

/** Leaves tanh(local a) on the stack: -e / (2 + e), e = expm1(-2|a|), with the sign of a. */
function tanh(f: Fn, a: number, t: TanhTemps): void {
  f.get(a).simd(V.fAbs).k4(-2).simd(V.fMul).set(t.x);
  expm1Many(f, [t.x], [t.k], [t.p]);
  f.k4(0).get(t.x).simd(V.fSub).k4(2).get(t.x).simd(V.fAdd).simd(V.fDiv);
  f.get(a).u4(0x80000000).simd(V.and).simd(V.xor);
}

/**
 * Emits the loops over rows (local N, counted down) and groups of 4 columns: local `jb` is
 * the group's byte offset inside a row of local `hb` bytes (>= 16), the last group pulled
 * back to end at the row's end; `body` emits one group, `nextRow` advances the row pointers.
 */
function rowsAndGroups(f: Fn, N: number, hb: number, jb: number, body: () => void, nextRow: () => void): void {
  const last = f.i32();
  const j = f.i32();
  f.get(hb).c(16).op(OP.i32Sub).set(last);
  f.op(OP.loop, 0x40);
  f.c(0).set(j);
  f.op(OP.loop, 0x40);
  // jb = j <= last ? j : last
  f.get(j).get(last).get(j).get(last).op(OP.i32LeS, OP.select).set(jb);
  body();
  f.addConst(j, 16);
  f.get(j).get(hb).op(OP.i32LtU, OP.brIf, 0, OP.end);
  nextRow();
  f.countDown(N);
}

/** Pushes the address local base + local jb + q * local hb. */
function gateAddr(f: Fn, base: number, jb: number, hb: number, q: number): void {
  f.get(base).get(jb).op(OP.i32Add);
  if (q === 1) f.get(hb).op(OP.i32Add);
  else if (q > 1) f.get(hb).c(q).op(OP.i32Mul, OP.i32Add);
}

function lstmForwardBody(): number[] {
  const f = new Fn(12, 5, 40);
  const [N, H, HW, HWLD, BIAS, CP, GATES, CELLS, TANH, Y, HN, HNLD] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const jb = f.i32();
  const hb = f.i32();
  const gb = f.i32();
  const [ai, af, ag, ao, vi, vf, vg, vo, c, tc] = [f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v()];
  const xs = [f.v(), f.v(), f.v(), f.v()];
  const ks = [vi, vf, vg, vo];
  const ps = [f.v(), f.v(), f.v(), f.v()];
  const t: TanhTemps = { x: xs[0], k: ks[0], p: ps[0] };
  f.get(H).c(2).op(OP.i32Shl).set(hb);
  f.get(H).c(4).op(OP.i32Shl).set(gb);
  rowsAndGroups(f, N, hb, jb, () => {
    // pre-activation of gate q: hw[row, q*H + j] + bias[q*H + j]
    for (const [q, dst] of [[0, ai], [1, af], [2, ag], [3, ao]]) {
      gateAddr(f, HW, jb, hb, q);
      f.simd(V.load, 0, 0);
      gateAddr(f, BIAS, jb, hb, q);
      f.simd(V.load, 0, 0).simd(V.fAdd).set(dst);
    }
    // expm1 of -a (sigmoids) and -2|a| (tanh) for the four gates at once
    for (const [q, a] of [[0, ai], [1, af], [3, ao]]) f.k4(0).get(a).simd(V.fSub).set(xs[q]);
    f.get(ag).simd(V.fAbs).k4(-2).simd(V.fMul).set(xs[2]);
    expm1Many(f, xs, ks, ps);
    // sigmoid = 1 / (2 + e); tanh = -e / (2 + e) with the sign of a
    for (const [q, v] of [[0, vi], [1, vf], [3, vo]]) f.k4(1).k4(2).get(xs[q]).simd(V.fAdd).simd(V.fDiv).set(v);
    f.k4(0).get(xs[2]).simd(V.fSub).k4(2).get(xs[2]).simd(V.fAdd).simd(V.fDiv);
    f.get(ag).u4(0x80000000).simd(V.and).simd(V.xor).set(vg);
    for (const [q, v] of [[0, vi], [1, vf], [2, vg], [3, vo]]) {
      gateAddr(f, GATES, jb, hb, q);
      f.get(v).simd(V.store, 0, 0);
    }
    // c = f cPrev + i g
    f.get(vf).load(CP, jb).simd(V.fMul).get(vi).get(vg).simd(V.fMul).simd(V.fAdd).set(c);
    f.store(CELLS, jb, c);
    tanh(f, c, t);
    f.set(tc);
    f.store(TANH, jb, tc);
    f.get(vo).get(tc).simd(V.fMul).set(c);
    f.store(Y, jb, c);
    f.store(HN, jb, c);
  }, () => {
    f.addTo(HW, HWLD);
    f.addTo(GATES, gb);
    f.addTo(CP, hb);
    f.addTo(CELLS, hb);
    f.addTo(TANH, hb);
    f.addTo(Y, hb);
    f.addTo(HN, HNLD);
  });
  return f.encode();
}

function lstmBackwardBody(): number[] {
  const f = new Fn(11, 5, 12);
  const [N, H, DH, DHLD, DY, GATES, CP, TANH, DCIN, DCOUT, DG] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const jb = f.i32();
  const hb = f.i32();
  const gb = f.i32();
  const [dh, vi, vf, vg, vo, tc, dc, tmp] = [f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v()];
  f.get(H).c(2).op(OP.i32Shl).set(hb);
  f.get(H).c(4).op(OP.i32Shl).set(gb);
  const one = () => f.f4(1);
  rowsAndGroups(f, N, hb, jb, () => {
    f.load(DH, jb).load(DY, jb).simd(V.fAdd).set(dh);
    for (const [q, dst] of [[0, vi], [1, vf], [2, vg], [3, vo]]) {
      gateAddr(f, GATES, jb, hb, q);
      f.simd(V.load, 0, 0).set(dst);
    }
    f.load(TANH, jb).set(tc);
    // dcTot = dc + dh o (1 - tc^2)
    f.load(DCIN, jb).get(dh).get(vo).simd(V.fMul);
    one().get(tc).get(tc).simd(V.fMul).simd(V.fSub).simd(V.fMul).simd(V.fAdd).set(dc);
    // di = dcTot g i (1 - i)
    gateAddr(f, DG, jb, hb, 0);
    f.get(dc).get(vg).simd(V.fMul).get(vi).simd(V.fMul);
    one().get(vi).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // df = dcTot cPrev f (1 - f)
    gateAddr(f, DG, jb, hb, 1);
    f.get(dc).load(CP, jb).simd(V.fMul).get(vf).simd(V.fMul);
    one().get(vf).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // dg = dcTot i (1 - g^2)
    gateAddr(f, DG, jb, hb, 2);
    f.get(dc).get(vi).simd(V.fMul);
    one().get(vg).get(vg).simd(V.fMul).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // do = dh tc o (1 - o)
    gateAddr(f, DG, jb, hb, 3);
    f.get(dh).get(tc).simd(V.fMul).get(vo).simd(V.fMul);
    one().get(vo).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // dc for the step before: dcTot f
    f.get(dc).get(vf).simd(V.fMul).set(tmp);
    f.store(DCOUT, jb, tmp);
  }, () => {
    f.addTo(DH, DHLD);
    f.addTo(DY, hb);
    f.addTo(GATES, gb);
    f.addTo(CP, hb);
    f.addTo(TANH, hb);
    f.addTo(DCIN, hb);
    f.addTo(DCOUT, hb);
    f.addTo(DG, gb);
  });
  return f.encode();
}

function copyRowsBody(): number[] {
  const f = new Fn(6, 4, 1);
  const [SRC, SLD, DST, DLD, ROWS, NN] = [0, 1, 2, 3, 4, 5];
  const jb = f.i32();
  const hb = f.i32();
  const v = f.v();
  f.get(NN).c(2).op(OP.i32Shl).set(hb);
  rowsAndGroups(f, ROWS, hb, jb, () => {
    f.load(SRC, jb).set(v);
    f.store(DST, jb, v);
  }, () => {
    f.addTo(SRC, SLD);
    f.addTo(DST, DLD);
  });
  return f.encode();
}

function colSumsBody(): number[] {
  const f = new Fn(4, 3, 1);
  const [SRC, ROWS, N4, DST] = [0, 1, 2, 3];
  const s = f.i32();
  const d = f.i32();
  const j = f.i32();
  const v = f.v();
  f.op(OP.loop, 0x40);
  f.get(SRC).set(s).get(DST).set(d).get(N4).set(j);
  f.op(OP.loop, 0x40);
  f.load(s).set(v);
  f.get(d).get(d).simd(V.load, 0, 0).get(v).simd(V.promoteLow).simd(V.dAdd, 1).simd(V.store, 0, 0);
  f.get(d).get(d).simd(V.load, 0, 16).get(v).get(v).simd(V.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)
    .simd(V.promoteLow).simd(V.dAdd, 1).simd(V.store, 0, 16);
  f.addConst(s, 16).addConst(d, 32);
  f.countDown(j);
  f.get(SRC).set(s);
  f.get(N4).c(4).op(OP.i32Shl).get(s).op(OP.i32Add).set(SRC);
  f.countDown(ROWS);
  return f.encode();
}

/** The module's bytes: imported memory "env"."mem" and the four functions of RnnWasm. */
export function rnnWasmModuleBytes(): Uint8Array {
  const i32s = (n: number) => new Array<number>(n).fill(0x7f);
  const funcs: [string, number, number[]][] = [
    ['lstmForward', 0, lstmForwardBody()],
    ['lstmBackward', 1, lstmBackwardBody()],
    ['copyRows', 2, copyRowsBody()],
    ['colSums', 3, colSumsBody()],
  ];
  const exports = funcs.flatMap(([name], i) => [name.length, ...ascii(name), 0, i]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [4, 0x60, 12, ...i32s(12), 0, 0x60, 11, ...i32s(11), 0, 0x60, 6, ...i32s(6), 0, 0x60, 4, ...i32s(4), 0]),
    ...section(2, [1, 3, ...ascii('env'), 3, ...ascii('mem'), 2, 0, 1]), // memory import, at least 1 page
    ...section(3, [funcs.length, ...funcs.map(([, type]) => type)]),
    ...section(7, [funcs.length, ...exports]),
    ...section(10, [funcs.length, ...funcs.flatMap(([, , body]) => body)]),
  ]);
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

interface WasmMemory {
  buffer: ArrayBuffer;
}

/** Instantiates the kernels on the memory of a GEMM kernel instance of their own; null without WebAssembly SIMD. */
export function createRnnWasm(): RnnWasm | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return null;
  try {
    const bytes = rnnWasmModuleBytes();
    if (!wasm.validate(bytes)) return null;
    const gemm = createWasmGemmKernel(1 << 14);
    if (!gemm) return null;
    const memory = gemm.memory as WasmMemory;
    const { exports } = new wasm.Instance(new wasm.Module(bytes), { env: { mem: memory } });
    const kernel: RnnWasm = {
      gemm,
      lstmForward: exports.lstmForward as RnnWasm['lstmForward'],
      lstmBackward: exports.lstmBackward as RnnWasm['lstmBackward'],
      copyRows: exports.copyRows as RnnWasm['copyRows'],
      colSums: exports.colSums as RnnWasm['colSums'],
      f32: new Float32Array(memory.buffer),
      f64: new Float64Array(memory.buffer),
      ensure(n: number): boolean {
        if (kernel.f32.length >= n) return true;
        try {
          gemm.ensure(n);
        } catch {
          return false; // past the 4 GiB of a 32-bit memory, or the engine's limit
        }
        kernel.f32 = new Float32Array(memory.buffer);
        kernel.f64 = new Float64Array(memory.buffer);
        return kernel.f32.length >= n;
      },
    };
    return kernel;
  } catch {
    return null;
  }
}
