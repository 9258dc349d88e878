/**
 * WebAssembly SIMD kernels for the memory-bound steps of a conv net's training step: ReLU and
 * its gradient, 2x2 stride-2 max pooling with argmax and its gradient (from that argmax),
 * and row sums (bias gradients and other reductions over contiguous rows). Each wrapper streams its
 * arrays through a small module memory a cache-sized chunk at a time and returns false where
 * WebAssembly SIMD is missing, so the caller runs its plain loop instead. Results are
 * bit-identical to the plain loops, except that row sums add in float64 in another order.
 */
import { sleb } from './simd-asm.ts';
import { ascii, KernelModule, leb, section } from '../../core/wasm-host.ts';

const OP = {
  loop: 0x03, if: 0x04, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f64Store: 0x39, i32Const: 0x41, f64Add: 0xa0, i32Add: 0x6a, i32Sub: 0x6b, i32Shl: 0x74, i32ShrU: 0x76, simd: 0xfd,
};
const SIMD = {
  load: 0x00, store: 0x0b, const: 0x0c, shuffle: 0x0d, i32x4Splat: 0x11, f64x2ExtractLane: 0x21,
  i32x4Eq: 0x37, f32x4Ne: 0x42, f32x4Gt: 0x44, and: 0x4e, or: 0x50, bitselect: 0x52, f32x4Add: 0xe4,
  f64x2PromoteLow: 0x5f, i32x4Add: 0xae, i32x4Sub: 0xb1, f64x2Add: 0xf0,
};

/** A function body: i32 locals (params first), then v128 locals. */
class Fn {
  readonly code: number[] = [];
  get(...ls: number[]): this {
    for (const l of ls) this.code.push(OP.localGet, ...leb(l));
    return this;
  }
  set(l: number): this {
    this.code.push(OP.localSet, ...leb(l));
    return this;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  simd(op: number, ...imm: number[]): this {
    this.code.push(OP.simd, ...leb(op), ...imm);
    return this;
  }
  /** Pushes v128.load from the address on the stack, byte offset `off`. */
  load(off = 0): this {
    return this.simd(SIMD.load, 4, ...leb(off));
  }
  /** v128.store of (address, value) on the stack at byte offset `off`. */
  store(off = 0): this {
    return this.simd(SIMD.store, 4, ...leb(off));
  }
  /** l += v */
  addConst(l: number, v: number): this {
    return this.get(l).op(OP.i32Const, ...sleb(v), OP.i32Add).set(l);
  }
  /** l += m */
  addLocal(l: number, m: number): this {
    return this.get(l, m).op(OP.i32Add).set(l);
  }
  loop(): this {
    return this.op(OP.loop, 0x40);
  }
  /** Opens a block that runs only when local l is non-zero. */
  ifNonZero(l: number): this {
    return this.get(l).op(OP.if, 0x40);
  }
  end(): this {
    return this.op(OP.end);
  }
  /** l -= 1; loops again while l != 0; closes the loop. */
  countDown(l: number): this {
    return this.get(l).op(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(l), OP.brIf, 0, OP.end);
  }
  encode(i32s: number, v128s: number): number[] {
    const body = [2, ...leb(i32s), 0x7f, ...leb(v128s), 0x7b, ...this.code, OP.end];
    return [...leb(body.length), ...body];
  }
}

/** relu(src, dst, n4): dst = src where src > 0 or src is NaN, else +0, over n4 groups of 4 floats. */
function reluBody(): number[] {
  const [SRC, DST, N, ZERO, V] = [0, 1, 2, 3, 4];
  const f = new Fn();
  f.loop();
  f.get(SRC).load().set(V);
  f.get(DST, V, V, ZERO).simd(SIMD.f32x4Gt).get(V, V).simd(SIMD.f32x4Ne).simd(SIMD.or).simd(SIMD.and).store();
  f.addConst(SRC, 16).addConst(DST, 16).countDown(N);
  return f.encode(0, 2);
}

/** reluGrad(dy, x, dst, n4): dst = dy where x > 0, else +0 (dy's bits under the comparison mask). */
function reluGradBody(): number[] {
  const [DY, X, DST, N, ZERO] = [0, 1, 2, 3, 4];
  const f = new Fn();
  f.loop();
  f.get(DST, DY).load().get(X).load().get(ZERO).simd(SIMD.f32x4Gt).simd(SIMD.and).store();
  f.addConst(DY, 16).addConst(X, 16).addConst(DST, 16).countDown(N);
  return f.encode(0, 1);
}

/** Float32 binary ops of the elementwise kernels: f32x4 add, sub, mul, div. */
const BINARY_OPS = { add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 } as const;
export type BinarySimdOp = keyof typeof BINARY_OPS;

/** {add,sub,mul,div}(a, b, dst, n4): dst = a OP b over n4 groups of 4 floats. */
function binaryBody(op: number): number[] {
  const [A, B, DST, N] = [0, 1, 2, 3];
  const f = new Fn();
  f.loop();
  f.get(DST, A).load().get(B).load().simd(op).store();
  f.addConst(A, 16).addConst(B, 16).addConst(DST, 16).countDown(N);
  return f.encode(0, 0);
}

/**
 * maxPool2Grad(dy, idx, dst, W, outH, groups, planes, dyRow, dstPlane, tail): for each
 * plane and output row, every group of 4 outputs writes its 2x2 windows of dst (rows 2oh
 * and 2oh+1, 8 floats each): dy at the window position the index names, +0 at the other
 * three. dyRow and dstPlane are byte strides. With `tail` set, a last partial group (past
 * `groups` full ones) is written first, so that what its 8-float stores write past the row
 * (into the next row, which the following stores rewrite) does no harm; only an odd last
 * column or row, and 8 floats past the last row, are left to the caller. A -0 in dy gives
 * +0, as adding it to zeros does.
 */
function maxPool2GradBody(): number[] {
  const [DY, IDX, DST, W, OH, G, PL, DYR, DSTP, TAIL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [WB, IT, JT, ROW, PDY, PIDX, PD, PDB, G16] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const [IV, K1, KW, KW1, K8, LANES, D, K, A, B, ZERO] = [19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
  const f = new Fn();
  const lo = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const hi = lo.map((b) => b + 8);
  const splatConst = (dst: number, v: number) => f.op(OP.i32Const, ...sleb(v)).simd(SIMD.i32x4Splat).set(dst);
  /** A = D where K == ka, B = D where K == kb (else 0); stores them interleaved, 8 floats at addr. */
  const pair = (ka: number, kb: number, addr: number) => {
    f.get(D, K, ka).simd(SIMD.i32x4Eq).simd(SIMD.and).set(A);
    f.get(D, K, kb).simd(SIMD.i32x4Eq).simd(SIMD.and).set(B);
    f.get(addr, A, B).simd(SIMD.shuffle, ...lo).store(0);
    f.get(addr, A, B).simd(SIMD.shuffle, ...hi).store(16);
  };
  /** One group of 4 outputs at PDY, PIDX (window indices IV) into PD; advances them. */
  const group = () => {
    f.get(PDY).load().get(ZERO).simd(SIMD.f32x4Add).set(D); // + 0 turns -0 into +0
    f.get(PIDX).load().get(IV).simd(SIMD.i32x4Sub).set(K);
    pair(ZERO, K1, PD);
    f.get(PD, WB).op(OP.i32Add).set(PDB);
    pair(KW, KW1, PDB);
    f.addConst(PDY, 16).addConst(PIDX, 16).addConst(PD, 32);
    f.get(IV, K8).simd(SIMD.i32x4Add).set(IV);
  };
  /** PDY, PIDX, PD and IV at the current row's first output, or its first after the full groups. */
  const start = (afterGroups: boolean) => {
    f.get(DY);
    if (afterGroups) f.get(G16).op(OP.i32Add);
    f.set(PDY);
    f.get(IDX);
    if (afterGroups) f.get(G16).op(OP.i32Add);
    f.set(PIDX);
    f.get(DST, ROW).op(OP.i32Const, 2, OP.i32Shl, OP.i32Add);
    if (afterGroups) f.get(G16).op(OP.i32Const, 1, OP.i32Shl, OP.i32Add); // + 32 G bytes
    f.set(PD);
    f.get(ROW);
    if (afterGroups) f.get(G16).op(OP.i32Const, 1, OP.i32ShrU, OP.i32Add); // + 8 G columns
    f.simd(SIMD.i32x4Splat).get(LANES).simd(SIMD.i32x4Add).set(IV);
  };
  f.get(W).op(OP.i32Const, 2, OP.i32Shl).set(WB);
  f.get(G).op(OP.i32Const, 4, OP.i32Shl).set(G16);
  splatConst(K1, 1);
  splatConst(K8, 8);
  f.get(W).simd(SIMD.i32x4Splat).set(KW);
  f.get(KW, K1).simd(SIMD.i32x4Add).set(KW1);
  f.simd(SIMD.const, ...[0, 2, 4, 6].flatMap((v) => [v, 0, 0, 0])).set(LANES);
  f.loop(); // planes
  f.op(OP.i32Const, 0).set(ROW);
  f.get(OH).set(IT);
  f.loop(); // output rows; ROW = 2 oh W
  f.ifNonZero(TAIL);
  start(true);
  group();
  f.end();
  f.ifNonZero(G);
  start(false);
  f.get(G).set(JT);
  f.loop(); // 4 outputs
  group();
  f.countDown(JT);
  f.end(); // if
  f.addLocal(DY, DYR).addLocal(IDX, DYR);
  f.get(ROW, W).op(OP.i32Const, 1, OP.i32Shl, OP.i32Add).set(ROW);
  f.countDown(IT);
  f.addLocal(DST, DSTP);
  f.countDown(PL);
  return f.encode(9, 11);
}

/**
 * maxPool2(src, W, planeBytes, outH, groups, planes, dv, di, rowBytes): 2x2, stride-2 max
 * pooling of `planes` planes (W wide, planeBytes apart from src) into values dv and int32
 * indices di (h W + w in the plane), output rows rowBytes apart, 4 outputs a step and
 * `groups` steps a row: a row's last step may write up to 3 entries into the next row,
 * which that row then rewrites (and reads up to 8 floats past the window). In each window
 * (top-left, top-right, bottom-left, bottom-right) a candidate replaces the best when
 * greater or NaN, as the plain loop: the first maximum wins, the last NaN propagates.
 */
function maxPool2Body(): number[] {
  const [SRC, W, SP, OH, G, PL, DV, DI, DR] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [WB, IT, JT, P, BOT, QV, QI, ROW] = [9, 10, 11, 12, 13, 14, 15, 16];
  const [V0, V1, A, B, BEST, AT, M, IV, K1, KW, KW1, K8, LANES, CI] = [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];
  const f = new Fn();
  const even = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const odd = even.map((b) => b + 4);
  const splatConst = (dst: number, v: number) => f.op(OP.i32Const, ...sleb(v)).simd(SIMD.i32x4Splat).set(dst);
  /** best, at = candidate c (index IV + kIdx) where c > best or c is NaN. */
  const take = (c: number, kIdx: number) => {
    f.get(c, BEST).simd(SIMD.f32x4Gt).get(c, c).simd(SIMD.f32x4Ne).simd(SIMD.or).set(M);
    f.get(c, BEST, M).simd(SIMD.bitselect).set(BEST);
    f.get(IV, kIdx).simd(SIMD.i32x4Add).set(CI);
    f.get(CI, AT, M).simd(SIMD.bitselect).set(AT);
  };
  /** A, B = the even and odd columns of the 8 floats at addr. */
  const pair = (addr: number) => {
    f.get(addr).load(0).set(V0);
    f.get(addr).load(16).set(V1);
    f.get(V0, V1).simd(SIMD.shuffle, ...even).set(A);
    f.get(V0, V1).simd(SIMD.shuffle, ...odd).set(B);
  };
  f.get(W).op(OP.i32Const, 2, OP.i32Shl).set(WB);
  splatConst(K1, 1);
  splatConst(K8, 8);
  f.get(W).simd(SIMD.i32x4Splat).set(KW);
  f.get(KW, K1).simd(SIMD.i32x4Add).set(KW1);
  f.simd(SIMD.const, ...[0, 2, 4, 6].flatMap((v) => [v, 0, 0, 0])).set(LANES);
  f.loop(); // planes
  f.op(OP.i32Const, 0).set(ROW);
  f.get(OH).set(IT);
  f.loop(); // output rows; ROW = 2 oh W
  f.get(SRC, ROW).op(OP.i32Const, 2, OP.i32Shl, OP.i32Add).set(P);
  f.get(ROW).simd(SIMD.i32x4Splat).get(LANES).simd(SIMD.i32x4Add).set(IV);
  f.get(DV).set(QV);
  f.get(DI).set(QI);
  f.get(G).set(JT);
  f.loop(); // 4 outputs
  pair(P);
  f.get(A).set(BEST);
  f.get(IV).set(AT);
  take(B, K1);
  f.get(P, WB).op(OP.i32Add).set(BOT);
  pair(BOT);
  take(A, KW);
  take(B, KW1);
  f.get(QV, BEST).store();
  f.get(QI, AT).store();
  f.addConst(P, 32).addConst(QV, 16).addConst(QI, 16);
  f.get(IV, K8).simd(SIMD.i32x4Add).set(IV);
  f.countDown(JT);
  f.addLocal(DV, DR).addLocal(DI, DR);
  f.get(ROW, W).op(OP.i32Const, 1, OP.i32Shl, OP.i32Add).set(ROW);
  f.countDown(IT);
  f.addLocal(SRC, SP);
  f.countDown(PL);
  return f.encode(8, 14);
}

/**
 * rowSums(src, n4, rows, rowBytes, dst): for each of `rows` rows (rowBytes apart) the
 * float64 sum of its first 4*n4 floats, stored as float64 at dst (n4 may be 0).
 */
function rowSumsBody(): number[] {
  const [SRC, N4, ROWS, RB, DST] = [0, 1, 2, 3, 4];
  const [P, J] = [5, 6];
  const [ACC0, ACC1, V, ZERO] = [7, 8, 9, 10];
  const f = new Fn();
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  f.loop();
  f.get(ZERO).set(ACC0).get(ZERO).set(ACC1);
  f.get(SRC).set(P);
  f.get(N4).set(J);
  f.ifNonZero(J);
  f.loop();
  f.get(P).load().set(V);
  f.get(ACC0, V).simd(SIMD.f64x2PromoteLow).simd(SIMD.f64x2Add).set(ACC0);
  f.get(ACC1, V, V).simd(SIMD.shuffle, ...high).simd(SIMD.f64x2PromoteLow).simd(SIMD.f64x2Add).set(ACC1);
  f.addConst(P, 16);
  f.countDown(J);
  f.end();
  f.get(DST, ACC0, ACC1).simd(SIMD.f64x2Add).set(V);
  f.get(V).simd(SIMD.f64x2ExtractLane, 0).get(V).simd(SIMD.f64x2ExtractLane, 1).op(OP.f64Add);
  f.op(OP.f64Store, 3, 0);
  f.addLocal(SRC, RB).addConst(DST, 8);
  f.countDown(ROWS);
  return f.encode(2, 4);
}

const EXPORTS = ['relu', 'reluGrad', 'maxPool2Grad', 'rowSums', 'maxPool2', 'add', 'sub', 'mul', 'div'] as const;

/** The module: one memory and the kernels above. */
export function poolSimdModuleBytes(): Uint8Array {
  const i32 = 0x7f;
  const type = (n: number) => [0x60, n, ...Array<number>(n).fill(i32), 0];
  const types = [type(3), type(4), type(10), type(5), type(9)];
  const binaries = Object.values(BINARY_OPS).map(binaryBody);
  const bodies = [reluBody(), reluGradBody(), maxPool2GradBody(), rowSumsBody(), maxPool2Body(), ...binaries];
  const exports = [
    ...EXPORTS.flatMap((name, i) => [...leb(name.length), ...ascii(name), 0, i]),
    3, ...ascii('mem'), 2, 0,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [types.length, ...types.flat()]),
    ...section(3, [bodies.length, 0, 1, 2, 3, 4, ...binaries.map(() => 1)]),
    ...section(5, [1, 0, 2]),
    ...section(7, [EXPORTS.length + 1, ...exports]),
    ...section(10, [bodies.length, ...bodies.flat()]),
  ]);
}

interface PoolFunctions {
  relu(src: number, dst: number, n4: number): void;
  reluGrad(dy: number, x: number, dst: number, n4: number): void;
  maxPool2Grad(dy: number, idx: number, dst: number, W: number, outH: number, groups: number, planes: number, dyRow: number, dstPlane: number, tail: number): void;
  rowSums(src: number, n4: number, rows: number, rowBytes: number, dst: number): void;
  maxPool2(src: number, W: number, planeBytes: number, outH: number, groups: number, planes: number, dv: number, di: number, rowBytes: number): void;
  add(a: number, b: number, dst: number, n4: number): void;
  sub(a: number, b: number, dst: number, n4: number): void;
  mul(a: number, b: number, dst: number, n4: number): void;
  div(a: number, b: number, dst: number, n4: number): void;
}

const kernels = new KernelModule<PoolFunctions>(poolSimdModuleBytes);

/** Turns the SIMD kernels on or off (for tests and A/B timing); returns the previous setting. */
export function setPoolSimd(on: boolean): boolean {
  return kernels.setEnabled(on);
}

/** The module with at least `bytes` of memory, or null when SIMD is off or missing or the memory cannot grow. */
const module = (bytes: number) => kernels.get(bytes);

/** Floats per chunk of the streaming kernels (64 KiB per array: stays in the L2 cache). */
const CHUNK = 1 << 14;
/** Below this many values the plain loops win (the copies and the call cost more). */
const MIN_VALUES = 256;

/** ReLU of x into r (same length), bit-identical to the plain loop; false when SIMD is unavailable. */
export function reluSimd(x: Float32Array, r: Float32Array): boolean {
  const n = x.length;
  const k = n >= MIN_VALUES ? module(8 * CHUNK + 64) : null;
  if (!k) return false;
  const { f32 } = k;
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    f32.set(x.subarray(i, i + len), 0);
    k.fn.relu(0, 4 * CHUNK, (len + 3) >> 2);
    r.set(f32.subarray(CHUNK, CHUNK + len), i);
  }
  return true;
}

/**
 * r = a OP b elementwise for float32 arrays of one length, OP one of + - * /. Each result is
 * the float32 operation correctly rounded, which is what the plain loop stores (the float64
 * result of two float32 operands rounded to float32 is the same for these four operations);
 * only NaN payloads may differ. False when SIMD is unavailable or the arrays are short.
 */
export function binarySimd(op: BinarySimdOp, a: Float32Array, b: Float32Array, r: Float32Array): boolean {
  const n = a.length;
  const k = n >= MIN_VALUES ? module(12 * CHUNK + 64) : null;
  if (!k) return false;
  const { f32 } = k;
  const run = k.fn[op];
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    f32.set(a.subarray(i, i + len), 0);
    f32.set(b.subarray(i, i + len), CHUNK);
    run(0, 4 * CHUNK, 8 * CHUNK, (len + 3) >> 2);
    r.set(f32.subarray(2 * CHUNK, 2 * CHUNK + len), i);
  }
  return true;
}

/** dy where x > 0, else +0, into r; false when SIMD is unavailable. */
export function reluGradSimd(dy: Float32Array, x: Float32Array, r: Float32Array): boolean {
  const n = dy.length;
  const k = n >= MIN_VALUES ? module(12 * CHUNK + 64) : null;
  if (!k) return false;
  const { f32 } = k;
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    f32.set(dy.subarray(i, i + len), 0);
    f32.set(x.subarray(i, i + len), CHUNK);
    k.fn.reluGrad(0, 4 * CHUNK, 8 * CHUNK, (len + 3) >> 2);
    r.set(f32.subarray(2 * CHUNK, 2 * CHUNK + len), i);
  }
  return true;
}

/**
 * 2x2, stride-2 max pooling of windows inside the input (2 outH <= H, 2 outW <= W) into
 * values y and indices idx (h W + w in the plane), as the plain loop; false when SIMD is
 * unavailable.
 */
export function maxPool2Simd(
  x: Float32Array, planes: number, H: number, W: number, outH: number, outW: number, y: Float32Array, idx: Int32Array,
): boolean {
  const HW = H * W;
  const P = outH * outW;
  if (planes * HW < MIN_VALUES || 2 * outH > H || 2 * outW > W) return false;
  const chunk = Math.max(1, Math.floor((2 * CHUNK) / HW));
  const SRC = 0;
  const DV = SRC + chunk * HW + 2 * W + 16;
  const DI = DV + chunk * P + 4;
  const k = module(4 * (DI + chunk * P + 4));
  if (!k) return false;
  const { f32, i32 } = k;
  for (let p0 = 0; p0 < planes; p0 += chunk) {
    const n = Math.min(chunk, planes - p0);
    f32.set(x.subarray(p0 * HW, (p0 + n) * HW), SRC);
    k.fn.maxPool2(4 * SRC, W, 4 * HW, outH, (outW + 3) >> 2, n, 4 * DV, 4 * DI, 4 * outW);
    y.set(f32.subarray(DV, DV + n * P), p0 * P);
    idx.set(i32.subarray(DI, DI + n * P), p0 * P);
  }
  return true;
}

/**
 * Gradient of 2x2, stride-2 max pooling whose windows lie inside the input (2 outH <= H,
 * 2 outW <= W): dx [planes, H, W] gets each dy at the position its index (h W + w in the
 * plane, from MaxPool2D on the same windows) names and +0 elsewhere: what adding each dy
 * into zeros gives when the windows do not overlap. False when SIMD is unavailable.
 */
export function maxPool2GradSimd(
  dy: Float32Array, idx: Int32Array, dx: Float32Array, planes: number, H: number, W: number, outH: number, outW: number,
): boolean {
  const HW = H * W;
  const P = outH * outW;
  if (planes * HW < MIN_VALUES || 2 * outH > H || 2 * outW > W) return false;
  const chunk = Math.max(1, Math.floor((2 * CHUNK) / HW));
  const DY = 0;
  const IDX = DY + chunk * P + 4;
  const DST = IDX + chunk * P + 4;
  const k = module(4 * (DST + chunk * HW + 16));
  if (!k) return false;
  const groups = outW >> 2;
  const tail = outW & 3 ? 1 : 0;
  const { f32, i32 } = k;
  for (let p0 = 0; p0 < planes; p0 += chunk) {
    const n = Math.min(chunk, planes - p0);
    f32.set(dy.subarray(p0 * P, (p0 + n) * P), DY);
    i32.set(idx.subarray(p0 * P, (p0 + n) * P), IDX);
    k.fn.maxPool2Grad(4 * DY, 4 * IDX, 4 * DST, W, outH, groups, n, 4 * outW, 4 * HW, tail);
    // An odd last column and row get no window.
    if (2 * outW < W || 2 * outH < H) {
      for (let q = 0; q < n; q++) {
        const plane = DST + q * HW;
        if (2 * outW < W) for (let r = 0; r < 2 * outH; r++) f32.fill(0, plane + r * W + 2 * outW, plane + (r + 1) * W);
        f32.fill(0, plane + 2 * outH * W, plane + HW);
      }
    }
    dx.set(f32.subarray(DST, DST + n * HW), p0 * HW);
  }
  return true;
}

/**
 * Sums of `rows` consecutive rows of `len` floats of x from `start`, each in float64, into
 * sums[0..rows); false when SIMD is unavailable or the rows are too short to gain.
 */
export function rowSumsSimd(x: Float32Array, start: number, rows: number, len: number, sums: Float64Array): boolean {
  if (len < 16 || rows * len < MIN_VALUES) return false;
  const k = module(4 * (2 * CHUNK + 16) + 8 * Math.max(1, Math.floor(CHUNK / len)) + 64);
  if (!k) return false;
  const n4 = len >> 2;
  const tail = len - 4 * n4;
  const { f32, f64 } = k;
  const OUT = 2 * CHUNK + 16;
  if (len > CHUNK) {
    // Long rows: sum chunk-sized pieces of each row.
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < len; i += CHUNK) {
        const seg = Math.min(CHUNK, len - i);
        const from = start + r * len + i;
        f32.set(x.subarray(from, from + seg), 0);
        k.fn.rowSums(0, seg >> 2, 1, 0, 4 * OUT);
        s += f64[OUT >> 1];
        for (let j = seg & ~3; j < seg; j++) s += x[from + j];
      }
      sums[r] = s;
    }
    return true;
  }
  const per = Math.floor(CHUNK / len);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const from = start + r0 * len;
    f32.set(x.subarray(from, from + n * len), 0);
    k.fn.rowSums(0, n4, n, 4 * len, 4 * OUT);
    for (let r = 0; r < n; r++) {
      let s = f64[(OUT >> 1) + r];
      for (let j = from + r * len + 4 * n4, end = j + tail; j < end; j++) s += x[j];
      sums[r0 + r] = s;
    }
  }
  return true;
}
