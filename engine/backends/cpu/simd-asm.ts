/**
 * A small assembler for WebAssembly SIMD function bodies, shared by the modules that are
 * assembled from bytes at run time (rnn-wasm.ts, attention-rows-wasm.ts, norm-simd.ts; the
 * older conv and pooling modules take only its signed LEB128): opcodes, a body builder with
 * named locals and hoisted f32x4 constants, and the float32 exponential.
 */
import { leb } from '../../core/wasm-host.ts';

export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, i32Const: 0x41, f32Const: 0x43, i32Eqz: 0x45, i32LtS: 0x48, i32LtU: 0x49, i32LeS: 0x4c,
  f32Eq: 0x5b, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74, i32ShrU: 0x76,
  simd: 0xfd,
};
export const V = {
  load: 0x00, store: 0x0b, const: 0x0c, shuffle: 0x0d, i32Splat: 0x11, fSplat: 0x13,
  fExtractLane: 0x1f, fReplaceLane: 0x20, i32LtS: 0x39,
  and: 0x4e, xor: 0x51, bitselect: 0x52, promoteLow: 0x5f, i32Shl: 0xab, i32Add: 0xae,
  fAbs: 0xe0, fAdd: 0xe4, fSub: 0xe5, fMul: 0xe6, fDiv: 0xe7, fPmin: 0xea, fPmax: 0xeb,
  dAdd: 0xf0,
};

/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): number[] {
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

/** A function body under construction: params (any types), then i32 and v128 locals. */
export class Fn {
  readonly code: number[] = [];
  private nextI32: number;
  private nextV: number;

  constructor(readonly params: number, private readonly i32Locals: number, private readonly vLocals: number) {
    this.nextI32 = params;
    this.nextV = params + i32Locals;
  }

  i32(): number {
    if (this.nextI32 >= this.params + this.i32Locals) throw new Error('simd-asm: out of i32 locals');
    return this.nextI32++;
  }

  v(): number {
    if (this.nextV >= this.params + this.i32Locals + this.vLocals) throw new Error('simd-asm: out of v128 locals');
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

  /** v128.const of four int32s. */
  i4(a: number, b: number, c: number, d: number): this {
    const bytes = new Uint8Array(new Int32Array([a, b, c, d]).buffer);
    return this.simd(V.const, ...bytes);
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

/** 1.5 * 2^23: adding it rounds a float32 of magnitude below 2^22 to an integer, held in the low mantissa bits. */
const ROUND = 12582912;

/**
 * expm1 (or, with `minusOne` false, exp) of each local in xs, in place, the steps of all of
 * them interleaved (independent dependency chains side by side); k[q], p[q] are temporaries
 * for xs[q]. e^x = s (1 + p), s = 2^k, k = round(x / ln 2), p the degree-7 Taylor polynomial
 * of e^r - 1 at r = x - k ln 2 (ln 2 in two parts so that r is exact); expm1 = s p + (s - 1),
 * exp = s p + s. x is clamped to [-88, 88] first: a few float32 ulps from the float64
 * functions, NaN stays NaN, and exp gives exactly 0 for x <= -88 (s is 2^-127, whose bits
 * wrap to +0). The clamp uses pmin/pmax with x first, which give x when it is NaN;
 * k = round(x / ln 2) and 2^k come from the bits of x / ln 2 + 1.5 * 2^23 (k in the low
 * mantissa bits, shifted into the exponent field).
 */
export function expSteps(f: Fn, xs: number[], k: number[], p: number[], minusOne: boolean): void {
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
  if (minusOne) {
    // s p + (s - 1)
    each((q) => f.get(k[q]).get(p[q]).simd(V.fMul).get(k[q]).k4(1).simd(V.fSub).simd(V.fAdd).set(xs[q]));
  } else {
    // s p + s
    each((q) => f.get(k[q]).get(p[q]).simd(V.fMul).get(k[q]).simd(V.fAdd).set(xs[q]));
  }
}
