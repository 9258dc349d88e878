/**
 * WebAssembly SIMD kernels for stride-1 convolutions without an im2col matrix.
 *
 * With stride 1, once a plane is stored with zero padding (Hp x Wp, row-major), the
 * receptive-field entry (c, i, j) of the output pixel at padded index q = oh*Wp + ow is
 * the padded input at q + off(c, i, j), off = c*Hp*Wp + i*dh*Wp + j*dw. So im2col's row k
 * is the padded input shifted by off(k): the kernels read it in place through a table of
 * offsets, and compute every padded column (the Wp - Wo extra columns of each row are
 * dropped by the caller). The module is assembled here from bytes, like gemm-wasm.ts, and
 * has a memory of its own (shared, where that is available, with helper threads that call
 * its `block` entry on their parts of a product; see conv-shifted.ts). Its two functions keep 6 x 8 tiles of C in f32x4 registers (and
 * their variants `shifted4` and `shiftedT4` 4 x 8 tiles, for row counts that 4 divides):
 *
 * - `shifted(kc, pa, offs, xb, c, ldc, mTiles, nTiles)`: C[r, q] += sum_k A[r, k] X[xb + off(k) + q]
 *   with A packed as 6-row panels (k-major, `mTiles` panels one after another) and C
 *   row-major with row stride `ldc` bytes: the forward pass, and (with the flipped,
 *   transposed weight on the padded output gradient) the input gradient.
 * - `shiftedT(len, pb, pbs, xb, offs, c, ldc, kTiles, oTiles)`: C[k, o] += sum_q X[xb + off(k) + q] D[q, o]
 *   with D stored as 8-column panels (q-major, one every `pbs` bytes) and `offs` holding
 *   6 offsets per k tile: the weight gradient (D = the output gradient, transposed).
 * - `shiftedZ` and `shifted4Z`: `shifted` and `shifted4` that set C to the product (its
 *   old values are not read).
 *
 * The same product kernels serve Winograd's F(2x2, 3x3) (conv-winograd.ts), with three
 * transforms here: `winoIn` (input tiles), `winoOut` (output tiles and bias) and `winoDy`
 * (output-gradient tiles, for the weight gradient), four tiles per SIMD step.
 *
 * Two helpers share the memory: `maxPool2` (2x2, stride-2 max pooling with argmax, four
 * windows per step, branch-free) and `copy2d` (strided copies of rows, for the padded
 * planes and the compacted outputs).
 *
 * Every address and offset is in bytes. Where WebAssembly SIMD is missing,
 * `createConvWasm` returns null and the callers take their JS paths.
 */

import { CTRL_BYTES } from './parallel.ts';
import { sleb } from './simd-asm.ts';
import { ascii, leb, section, wasmApi, type WasmMemory } from '../../core/wasm-host.ts';

/** The shared memory's maximum size in 64 KiB pages (1 GiB). */
const MAX_PAGES = 16384;

/**
 * Floats at the start of the memory that the kernels' callers leave alone: the control
 * words of the helper threads (parallel.ts) live there.
 */
export const CONV_MEM_BASE = CTRL_BYTES / 4;

/** Rows per tile of both kernels' C (output channels, or weight rows for `shiftedT`). */
export const CONV_MR = 6;
/** Columns per tile (padded pixels, or output channels for `shiftedT`). */
export const CONV_NR = 8;

export interface ConvWasm {
  shifted(kc: number, pa: number, offs: number, xb: number, c: number, ldc: number, mTiles: number, nTiles: number): void;
  /** `shifted` that sets C to the product (C's old values are not read). */
  shiftedZ(kc: number, pa: number, offs: number, xb: number, c: number, ldc: number, mTiles: number, nTiles: number): void;
  /** `shifted4` that sets C to the product. */
  shifted4Z(kc: number, pa: number, offs: number, xb: number, c: number, ldc: number, mTiles: number, nTiles: number): void;
  /** `shifted` with 4-row panels (A packed 4 rows per panel). */
  shifted4(kc: number, pa: number, offs: number, xb: number, c: number, ldc: number, mTiles: number, nTiles: number): void;
  shiftedT(len: number, pb: number, pbs: number, xb: number, offs: number, c: number, ldc: number, kTiles: number, oTiles: number): void;
  /** `shiftedT` with 4-row tiles (4 offsets per tile). */
  shiftedT4(len: number, pb: number, pbs: number, xb: number, offs: number, c: number, ldc: number, kTiles: number, oTiles: number): void;
  /** One of the kernels by id (BLOCK_*), or a list of such calls: the entry that helper threads run. */
  block(id: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number, a8: number): void;
  /** Writes `rows` planes as 8-row panels of padded pixels (the weight gradient's transposed output gradient). */
  toPanels(src: number, dst: number, rows: number, outH: number, outW: number, Wp: number, panelBytes: number, zeros: number): void;
  maxPool2(src: number, W: number, planeBytes: number, outH: number, blocks: number, planes: number, dv: number, di: number, rowBytes: number): void;
  copy2d(src: number, srcRow: number, srcPlane: number, dst: number, dstRow: number, dstPlane: number, len: number, rows: number, planes: number): void;
  /** Winograd F(2x2, 3x3) input transform of one padded plane (see winoInBody). */
  winoIn(src: number, srcRow: number, dst: number, dstXi: number, TH: number, G4: number, dstRow: number, unused: number): void;
  /** Winograd F(2x2, 3x3) output transform and bias of one output channel (see winoOutBody). */
  winoOut(src: number, srcXi: number, dst: number, dstRow: number, TH: number, G4: number, bias: number, srcRow: number): void;
  /** Winograd transform of the 2x2 output-gradient tiles of one plane, for the weight gradient (see winoDyBody). */
  winoDy(src: number, srcRow: number, dst: number, dstXi: number, TH: number, G4: number, dstT: number, dstRow: number): void;
  /** Float32 view of the memory; replaced when `ensure` grows it. */
  f32: Float32Array;
  /** Int32 view of the same memory. */
  i32: Int32Array;
  /** Grows the memory to hold at least `floats` float32s; false where it cannot grow that far. */
  ensure(floats: number): boolean;
  /** The compiled module and its memory, where the memory is shared (helper threads instantiate the module on it); null otherwise. */
  threads: { module: object; memory: object } | null;
}

const OP = {
  if: 0x04, else: 0x05, call: 0x10, i32Eq: 0x46, loop: 0x03, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f32Load: 0x2a, f32Store: 0x38, i32Const: 0x41, f32Const: 0x43, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c,
  i32And: 0x71, i32Shl: 0x74, i32ShrU: 0x76, simd: 0xfd,
};
const SIMD = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, shuffle: 0x0d, i32x4Splat: 0x11,
  f32x4Ne: 0x42, f32x4Gt: 0x44, or: 0x50, bitselect: 0x52, i32x4Add: 0xae, f32x4Add: 0xe4, f32x4Mul: 0xe6,
  f32x4ExtractLane: 0x1f, f32x4Neg: 0xe1, f32x4Sub: 0xe5,
};

/** A function body under construction: i32 locals first (params included), then v128 locals. */
class Body {
  readonly code: number[] = [];
  get(l: number): void {
    this.code.push(OP.localGet, ...leb(l));
  }
  set(l: number): void {
    this.code.push(OP.localSet, ...leb(l));
  }
  /** dst = src */
  mov(dst: number, src: number): void {
    this.get(src);
    this.set(dst);
  }
  /** l += v */
  addConst(l: number, v: number): void {
    this.get(l);
    this.code.push(OP.i32Const, ...sleb(v), OP.i32Add);
    this.set(l);
  }
  /** l += m */
  addLocal(l: number, m: number): void {
    this.get(l);
    this.get(m);
    this.code.push(OP.i32Add);
    this.set(l);
  }
  /** dst = a + i32.load(p + off) */
  addLoaded(dst: number, a: number, p: number, off: number): void {
    this.get(a);
    this.get(p);
    this.code.push(OP.i32Load, 2, ...leb(off), OP.i32Add);
    this.set(dst);
  }
  loadV(dst: number, addr: number, off: number): void {
    this.get(addr);
    this.code.push(OP.simd, ...leb(SIMD.load), 2, ...leb(off));
    this.set(dst);
  }
  splat(dst: number, addr: number, off: number): void {
    this.get(addr);
    this.code.push(OP.simd, ...leb(SIMD.load32Splat), 2, ...leb(off));
    this.set(dst);
  }
  storeV(addr: number, off: number, v: number): void {
    this.get(addr);
    this.get(v);
    this.code.push(OP.simd, ...leb(SIMD.store), 2, ...leb(off));
  }
  /** acc += a * b (f32x4) */
  fma(acc: number, a: number, b: number): void {
    this.get(acc);
    this.get(a);
    this.get(b);
    this.code.push(OP.simd, ...leb(SIMD.f32x4Mul), OP.simd, ...leb(SIMD.f32x4Add));
    this.set(acc);
  }
  loop(): void {
    this.code.push(OP.loop, 0x40);
  }
  /** Opens a block that runs only when local l is non-zero (close with `end`). */
  ifNonZero(l: number): void {
    this.get(l);
    this.code.push(OP.if, 0x40);
  }
  end(): void {
    this.code.push(OP.end);
  }
  /** dst = a (op) b for i32 locals, with op an i32 binary opcode. */
  i32op(dst: number, a: number, op: number, b: number): void {
    this.get(a);
    this.get(b);
    this.code.push(op);
    this.set(dst);
  }
  /** dst = a (op) constant. */
  i32opConst(dst: number, a: number, op: number, v: number): void {
    this.get(a);
    this.code.push(OP.i32Const, ...sleb(v), op);
    this.set(dst);
  }
  /** Pushes the simd opcode (with its immediates); operands must already be on the stack. */
  simd(op: number, ...imm: number[]): void {
    this.code.push(OP.simd, ...leb(op), ...imm);
  }
  /** dst = simd op applied to the given locals. */
  v(dst: number, op: number, ...args: number[]): void {
    for (const a of args) this.get(a);
    this.simd(op);
    this.set(dst);
  }
  /** l -= 1; loop again while l != 0; end the loop. */
  countDownEnd(l: number): void {
    this.get(l);
    this.code.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(l), OP.brIf, 0, OP.end);
  }
  /** The encoded body with `i32s` i32 locals beyond the params and `v128s` v128 locals. */
  encode(i32s: number, v128s: number): number[] {
    const body = [2, ...leb(i32s), 0x7f, ...leb(v128s), 0x7b, ...this.code, OP.end];
    return [...leb(body.length), ...body];
  }
}

const MR = CONV_MR;

/** Loads (or stores) the mr x 8 tile at `row` with row stride `ld` bytes into (from) accumulators acc..acc+2*mr-1; `r` is a scratch local. */
function tile(f: Body, store: boolean, row: number, ld: number, r: number, acc: number, mr = MR): void {
  f.mov(r, row);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < 2; j++) {
      if (store) f.storeV(r, 16 * j, acc + 2 * i + j);
      else f.loadV(acc + 2 * i + j, r, 16 * j);
    }
    if (i < mr - 1) f.addLocal(r, ld);
  }
}

/**
 * `shifted` with row panels of mr rows (6, or 4 where that pads fewer rows); with
 * `overwrite`, C is set to the product instead of added to (its old values are not read).
 */
function shiftedBody(mr: number, overwrite = false): number[] {
  const [KC, PA, OFFS, XB, C, LDC, MT, NT] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [IT, K, A, O, CI, R, ADDR] = [8, 9, 10, 11, 12, 13, 14];
  const [B0, B1, AV, ACC] = [15, 16, 17, 18];
  const f = new Body();
  f.loop(); // column panels
  f.mov(CI, C);
  f.mov(A, PA);
  f.mov(IT, MT);
  f.loop(); // row panels
  if (overwrite) {
    for (let i = 0; i < 2 * mr; i++) {
      f.simd(SIMD.const, ...Array<number>(16).fill(0));
      f.set(ACC + i);
    }
  } else tile(f, false, CI, LDC, R, ACC, mr);
  f.mov(O, OFFS);
  f.mov(K, KC);
  f.loop(); // depth
  f.addLoaded(ADDR, XB, O, 0);
  f.loadV(B0, ADDR, 0);
  f.loadV(B1, ADDR, 16);
  for (let i = 0; i < mr; i++) {
    f.splat(AV, A, 4 * i);
    f.fma(ACC + 2 * i, AV, B0);
    f.fma(ACC + 2 * i + 1, AV, B1);
  }
  f.addConst(A, 4 * mr);
  f.addConst(O, 4);
  f.countDownEnd(K);
  tile(f, true, CI, LDC, R, ACC, mr);
  // A now starts the next row panel; C's next row panel is MR rows down.
  f.addLocal(R, LDC);
  f.mov(CI, R);
  f.countDownEnd(IT);
  f.addConst(XB, 4 * CONV_NR);
  f.addConst(C, 4 * CONV_NR);
  f.countDownEnd(NT);
  return f.encode(7, 3 + 2 * mr);
}

/** `shiftedT` with tiles of mr weight rows (6, or 4 where that pads fewer rows). */
function shiftedTBody(mr: number): number[] {
  const [LEN, PB, PBS, XB, OFFS, C, LDC, KT, OT] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [IT, Q, B, CI, R, OF] = [9, 10, 11, 12, 13, 14];
  const P = 15; // mr row pointers
  const [B0, B1, AV, ACC] = [P + mr, P + mr + 1, P + mr + 2, P + mr + 3];
  const f = new Body();
  f.loop(); // output-channel panels
  f.mov(CI, C);
  f.mov(OF, OFFS);
  f.mov(IT, KT);
  f.loop(); // weight-row tiles
  tile(f, false, CI, LDC, R, ACC, mr);
  for (let i = 0; i < mr; i++) f.addLoaded(P + i, XB, OF, 4 * i);
  f.mov(B, PB);
  f.mov(Q, LEN);
  f.loop(); // pixels
  f.loadV(B0, B, 0);
  f.loadV(B1, B, 16);
  for (let i = 0; i < mr; i++) {
    f.splat(AV, P + i, 0);
    f.fma(ACC + 2 * i, AV, B0);
    f.fma(ACC + 2 * i + 1, AV, B1);
    f.addConst(P + i, 4);
  }
  f.addConst(B, 4 * CONV_NR);
  f.countDownEnd(Q);
  tile(f, true, CI, LDC, R, ACC, mr);
  f.addLocal(R, LDC);
  f.mov(CI, R);
  f.addConst(OF, 4 * mr);
  f.countDownEnd(IT);
  f.addLocal(PB, PBS);
  f.addConst(C, 4 * CONV_NR);
  f.countDownEnd(OT);
  return f.encode(6 + mr, 3 + 2 * mr);
}

/**
 * maxPool2(src, W, planeBytes, outH, blocks, planes, dv, di, rowBytes): 2x2, stride-2 max
 * pooling of `planes` planes (W wide, one every planeBytes from src) into values dv and
 * int32 indices di (h*W + w in the plane), rows of rowBytes, 4 outputs per step
 * (`blocks` steps per row: a row's last step may write up to 3 entries into the next
 * row, which that row then overwrites). Ties keep the first maximum; NaN is taken, as torch.
 */
function maxPool2Body(): number[] {
  const [SRC, W, SP, OH, OWB, PL, DV, DI, DR] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [WB, IT, JT, P, BOT, QV, QI, ROW] = [9, 10, 11, 12, 13, 14, 15, 16];
  const [V0, V1, A, B, BEST, AT, M, IV, K1, KW, KW1, K8, LANES, CI] = [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];
  const f = new Body();
  const even = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const odd = even.map((b) => b + 4);
  const splatConst = (dst: number, v: number) => {
    f.code.push(OP.i32Const, ...sleb(v));
    f.simd(SIMD.i32x4Splat);
    f.set(dst);
  };
  /** best/at take candidate c (indices IV + kIdx) where c > best or c is NaN. */
  const take = (c: number, kIdx: number) => {
    f.get(c);
    f.get(BEST);
    f.simd(SIMD.f32x4Gt);
    f.get(c);
    f.get(c);
    f.simd(SIMD.f32x4Ne);
    f.simd(SIMD.or);
    f.set(M);
    f.v(BEST, SIMD.bitselect, c, BEST, M);
    f.v(CI, SIMD.i32x4Add, IV, kIdx);
    f.v(AT, SIMD.bitselect, CI, AT, M);
  };
  /** A, B = the even and odd columns of the 8 floats at addr. */
  const pair = (addr: number) => {
    f.loadV(V0, addr, 0);
    f.loadV(V1, addr, 16);
    f.get(V0);
    f.get(V1);
    f.simd(SIMD.shuffle, ...even);
    f.set(A);
    f.get(V0);
    f.get(V1);
    f.simd(SIMD.shuffle, ...odd);
    f.set(B);
  };
  f.i32opConst(WB, W, OP.i32Shl, 2);
  splatConst(K1, 1);
  splatConst(K8, 8);
  f.v(KW, SIMD.i32x4Splat, W);
  f.v(KW1, SIMD.i32x4Add, KW, K1);
  f.simd(SIMD.const, ...[0, 2, 4, 6].flatMap((v) => [v, 0, 0, 0]));
  f.set(LANES);
  f.loop(); // planes
  f.code.push(OP.i32Const, 0);
  f.set(ROW);
  f.mov(IT, OH);
  f.loop(); // output rows; ROW = 2*oh*W
  f.get(SRC);
  f.get(ROW);
  f.code.push(OP.i32Const, 2, OP.i32Shl, OP.i32Add);
  f.set(P);
  f.v(IV, SIMD.i32x4Splat, ROW);
  f.v(IV, SIMD.i32x4Add, IV, LANES);
  f.mov(QV, DV);
  f.mov(QI, DI);
  f.mov(JT, OWB);
  f.loop(); // 4 outputs
  pair(P);
  f.mov(BEST, A);
  f.mov(AT, IV);
  take(B, K1);
  f.i32op(BOT, P, OP.i32Add, WB);
  pair(BOT);
  take(A, KW);
  take(B, KW1);
  f.storeV(QV, 0, BEST);
  f.storeV(QI, 0, AT);
  f.addConst(P, 32);
  f.addConst(QV, 16);
  f.addConst(QI, 16);
  f.v(IV, SIMD.i32x4Add, IV, K8);
  f.countDownEnd(JT);
  f.addLocal(DV, DR);
  f.addLocal(DI, DR);
  f.get(ROW);
  f.get(W);
  f.code.push(OP.i32Const, 1, OP.i32Shl, OP.i32Add);
  f.set(ROW);
  f.countDownEnd(IT);
  f.addLocal(SRC, SP);
  f.countDownEnd(PL);
  return f.encode(8, 14);
}

/**
 * copy2d(src, srcRow, srcPlane, dst, dstRow, dstPlane, len, rows, planes): copies `planes`
 * x `rows` rows of `len` floats (strides in bytes), 4 floats per step and the rest one by one.
 */
function copy2dBody(): number[] {
  const [S, SR, SP, D, DR, DP, LEN, ROWS, PL] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [N4, TAIL, IT, JT, PS, PD, RS, RD] = [9, 10, 11, 12, 13, 14, 15, 16];
  const V = 17;
  const f = new Body();
  f.i32opConst(N4, LEN, OP.i32ShrU, 2);
  f.i32opConst(TAIL, LEN, OP.i32And, 3);
  f.loop(); // planes
  f.mov(RS, S);
  f.mov(RD, D);
  f.mov(IT, ROWS);
  f.loop(); // rows
  f.mov(PS, RS);
  f.mov(PD, RD);
  f.ifNonZero(N4);
  f.mov(JT, N4);
  f.loop();
  f.loadV(V, PS, 0);
  f.storeV(PD, 0, V);
  f.addConst(PS, 16);
  f.addConst(PD, 16);
  f.countDownEnd(JT);
  f.end();
  f.ifNonZero(TAIL);
  f.mov(JT, TAIL);
  f.loop();
  f.get(PD);
  f.get(PS);
  f.code.push(OP.f32Load, 2, 0, OP.f32Store, 2, 0);
  f.addConst(PS, 4);
  f.addConst(PD, 4);
  f.countDownEnd(JT);
  f.end();
  f.addLocal(RS, SR);
  f.addLocal(RD, DR);
  f.countDownEnd(IT);
  f.addLocal(S, SP);
  f.addLocal(D, DP);
  f.countDownEnd(PL);
  return f.encode(8, 1);
}

/**
 * toPanels(src, dst, rows, outH, outW, Wp, panelBytes, zeros): writes `rows` planes of
 * outH x outW floats (contiguous at src) as 8-row panels of padded pixels: entry
 * (r, oh, ow) goes to dst + (r >> 3)*panelBytes + ((oh*Wp + ow)*8 + (r & 7))*4, and the
 * `zeros` = Wp - outW padded pixels of each row get 0.
 */
function toPanelsBody(): number[] {
  const [S, D, ROWS, OH, OW, WP, PB, WZ] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [R, IT, JT, PD, RD, RS] = [8, 9, 10, 11, 12, 13];
  const f = new Body();
  f.code.push(OP.i32Const, 0);
  f.set(R);
  f.loop(); // rows
  // RD = D + (R >> 3)*PB + (R & 7)*4
  f.get(D);
  f.get(R);
  f.code.push(OP.i32Const, 3, OP.i32ShrU);
  f.get(PB);
  f.code.push(OP.i32Mul, OP.i32Add);
  f.get(R);
  f.code.push(OP.i32Const, 7, OP.i32And, OP.i32Const, 2, OP.i32Shl, OP.i32Add);
  f.set(RD);
  f.mov(IT, OH);
  f.loop(); // output rows
  f.mov(PD, RD);
  f.mov(JT, OW);
  f.loop(); // pixels
  f.get(PD);
  f.get(S);
  f.code.push(OP.f32Load, 2, 0, OP.f32Store, 2, 0);
  f.addConst(S, 4);
  f.addConst(PD, 32);
  f.countDownEnd(JT);
  f.ifNonZero(WZ);
  f.mov(JT, WZ);
  f.loop(); // padded pixels
  f.get(PD);
  f.code.push(OP.f32Const, 0, 0, 0, 0, OP.f32Store, 2, 0);
  f.addConst(PD, 32);
  f.countDownEnd(JT);
  f.end();
  // RD += Wp * 32
  f.get(RD);
  f.get(WP);
  f.code.push(OP.i32Const, 5, OP.i32Shl, OP.i32Add);
  f.set(RD);
  f.countDownEnd(IT);
  f.addConst(R, 1);
  f.get(R);
  f.get(ROWS);
  f.code.push(OP.i32Sub);
  f.set(RS);
  f.get(RS);
  f.code.push(OP.brIf, 0, OP.end);
  return f.encode(6, 0);
}

/** Byte lanes of i8x16.shuffle that pick the given f32 lanes (0-3 of the first operand, 4-7 of the second). */
const floatLanes = (lanes: number[]) => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
const EVEN = floatLanes([0, 2, 4, 6]);
const ODD = floatLanes([1, 3, 5, 7]);
const INTERLEAVE_LO = floatLanes([0, 4, 1, 5]);
const INTERLEAVE_HI = floatLanes([2, 6, 3, 7]);

function shuffle(f: Body, dst: number, a: number, b: number, lanes: number[]): void {
  f.get(a);
  f.get(b);
  f.simd(SIMD.shuffle, ...lanes);
  f.set(dst);
}

/**
 * winoIn(src, srcRow, dst, dstXi, TH, G4, dstRow): the Winograd F(2x2, 3x3) input
 * transform B^T d B of one zero-padded plane (rows srcRow bytes apart, at least 2*TH + 2
 * rows of 8*G4 + 2 floats): tile (th, tw) is the 4x4 block at row 2*th, column 2*tw, and
 * entry xi = 4a + b of its transform goes to dst + xi*dstXi + th*dstRow + 4*tw. Four tiles
 * per step, 4*G4 per tile row: where dstRow is less than 16*G4 the last step of a row
 * writes up to 3 tiles into the next row, which that row then overwrites (and past the
 * last row). B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
 */
function winoInBody(): number[] {
  const [SRC, SROW, DST, DXI, TH, G4, DTR] = [0, 1, 2, 3, 4, 5, 6];
  const [IT, JT, RS, R, Q, QA, PG, QR] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [V0, V1, W0, W1, E, T] = [16, 17, 18, 19, 20, 36];
  const e = (r: number, j: number) => E + 4 * r + j;
  const f = new Body();
  f.mov(RS, SRC);
  f.mov(QR, DST);
  f.mov(IT, TH);
  f.loop(); // tile rows
  f.mov(PG, RS);
  f.mov(Q, QR);
  f.mov(JT, G4);
  f.loop(); // four tiles
  f.mov(R, PG);
  for (let r = 0; r < 4; r++) {
    f.loadV(V0, R, 0);
    f.loadV(V1, R, 16);
    f.loadV(W0, R, 8);
    f.loadV(W1, R, 24);
    // Columns 2tw .. 2tw+3 of the four tiles.
    shuffle(f, e(r, 0), V0, V1, EVEN);
    shuffle(f, e(r, 1), V0, V1, ODD);
    shuffle(f, e(r, 2), W0, W1, EVEN);
    shuffle(f, e(r, 3), W0, W1, ODD);
    // d B, in place: (c0 - c2, c1 + c2, c2 - c1, c1 - c3).
    f.v(e(r, 0), SIMD.f32x4Sub, e(r, 0), e(r, 2));
    f.v(e(r, 3), SIMD.f32x4Sub, e(r, 1), e(r, 3));
    f.v(T, SIMD.f32x4Sub, e(r, 2), e(r, 1));
    f.v(e(r, 1), SIMD.f32x4Add, e(r, 1), e(r, 2));
    f.mov(e(r, 2), T);
    if (r < 3) f.addLocal(R, SROW);
  }
  f.mov(QA, Q);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      if (a === 0) f.v(T, SIMD.f32x4Sub, e(0, b), e(2, b));
      else if (a === 1) f.v(T, SIMD.f32x4Add, e(1, b), e(2, b));
      else if (a === 2) f.v(T, SIMD.f32x4Sub, e(2, b), e(1, b));
      else f.v(T, SIMD.f32x4Sub, e(1, b), e(3, b));
      f.storeV(QA, 0, T);
      if (a < 3 || b < 3) f.addLocal(QA, DXI);
    }
  }
  f.addConst(Q, 16);
  f.addConst(PG, 32);
  f.countDownEnd(JT);
  f.addLocal(RS, SROW);
  f.addLocal(RS, SROW);
  f.addLocal(QR, DTR);
  f.countDownEnd(IT);
  return f.encode(8, 21);
}

/**
 * winoOut(src, srcXi, dst, dstRow, TH, G4, bias, srcRow): the Winograd F(2x2, 3x3) output
 * transform A^T m A + bias of one output channel: m's entry xi of tile (th, tw) is at
 * src + xi*srcXi + th*srcRow + 4*tw and the 2x2 result goes to rows 2*th, 2*th + 1,
 * columns 2*tw, 2*tw + 1 of the plane at dst (rows dstRow bytes apart, 8*G4 floats
 * written per row); the bias is the float at byte address `bias`.
 * A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]; four tiles per step.
 */
function winoOutBody(): number[] {
  const [SRC, SXI, DST, DROW, TH, G4, BIAS, STR] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [IT, JT, S, SA, D, RD, SR] = [8, 9, 10, 11, 12, 13, 14];
  const [M, BV, Y00, Y01, Y10, Y11, T] = [15, 31, 32, 33, 34, 35, 36];
  const m = (a: number, b: number) => M + 4 * a + b;
  const f = new Body();
  f.splat(BV, BIAS, 0);
  f.mov(SR, SRC);
  f.mov(RD, DST);
  f.mov(IT, TH);
  f.loop(); // tile rows
  f.mov(D, RD);
  f.mov(S, SR);
  f.mov(JT, G4);
  f.loop(); // four tiles
  f.mov(SA, S);
  for (let x = 0; x < 16; x++) {
    f.loadV(M + x, SA, 0);
    if (x < 15) f.addLocal(SA, SXI);
  }
  for (let b = 0; b < 4; b++) {
    // A^T m: rows (m0 + m1 + m2, m1 - m2 - m3).
    f.v(m(0, b), SIMD.f32x4Add, m(0, b), m(1, b));
    f.v(m(0, b), SIMD.f32x4Add, m(0, b), m(2, b));
    f.v(m(1, b), SIMD.f32x4Sub, m(1, b), m(2, b));
    f.v(m(1, b), SIMD.f32x4Sub, m(1, b), m(3, b));
  }
  for (const [y, a] of [[Y00, 0], [Y10, 1]]) {
    f.v(y, SIMD.f32x4Add, m(a, 0), m(a, 1));
    f.v(y, SIMD.f32x4Add, y, m(a, 2));
    f.v(y, SIMD.f32x4Add, y, BV);
  }
  for (const [y, a] of [[Y01, 0], [Y11, 1]]) {
    f.v(y, SIMD.f32x4Sub, m(a, 1), m(a, 2));
    f.v(y, SIMD.f32x4Sub, y, m(a, 3));
    f.v(y, SIMD.f32x4Add, y, BV);
  }
  shuffle(f, T, Y00, Y01, INTERLEAVE_LO);
  f.storeV(D, 0, T);
  shuffle(f, T, Y00, Y01, INTERLEAVE_HI);
  f.storeV(D, 16, T);
  f.i32op(SA, D, OP.i32Add, DROW);
  shuffle(f, T, Y10, Y11, INTERLEAVE_LO);
  f.storeV(SA, 0, T);
  shuffle(f, T, Y10, Y11, INTERLEAVE_HI);
  f.storeV(SA, 16, T);
  f.addConst(S, 16);
  f.addConst(D, 32);
  f.countDownEnd(JT);
  f.addLocal(RD, DROW);
  f.addLocal(RD, DROW);
  f.addLocal(SR, STR);
  f.countDownEnd(IT);
  return f.encode(7, 22);
}

/**
 * winoDy(src, srcRow, dst, dstXi, TH, G4, dstT, dstRow): the transform A dy A^T of the
 * 2x2 output-gradient tiles of one zero-padded plane (2*TH rows of 8*G4 floats, srcRow
 * bytes apart), for the weight gradient: entry xi = 4a + b of tile (th, tw) goes to
 * dst + xi*dstXi + th*dstRow + tw*dstT (one float each, so that several channels can
 * share 8-float panels). Four tiles per step; as in winoIn, a row's last step may write
 * up to 3 tiles into the next row. A = [[1, 0], [1, 1], [1, -1], [0, -1]].
 */
function winoDyBody(): number[] {
  const [SRC, SROW, DST, DXI, TH, G4, DT, DTR] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [IT, JT, RS, PG, Q, QA, QL, QR] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [V0, V1, E, T] = [16, 17, 18, 26];
  const e = (r: number, j: number) => E + 4 * r + j;
  const f = new Body();
  f.mov(RS, SRC);
  f.mov(QR, DST);
  f.mov(IT, TH);
  f.loop(); // tile rows
  f.mov(PG, RS);
  f.mov(Q, QR);
  f.mov(JT, G4);
  f.loop(); // four tiles
  for (let r = 0; r < 2; r++) {
    f.mov(QA, PG);
    if (r === 1) f.addLocal(QA, SROW);
    f.loadV(V0, QA, 0);
    f.loadV(V1, QA, 16);
    shuffle(f, e(r, 0), V0, V1, EVEN);
    shuffle(f, e(r, 3), V0, V1, ODD);
    // (d0, d0 + d1, d0 - d1, -d1)
    f.v(e(r, 1), SIMD.f32x4Add, e(r, 0), e(r, 3));
    f.v(e(r, 2), SIMD.f32x4Sub, e(r, 0), e(r, 3));
    f.v(e(r, 3), SIMD.f32x4Neg, e(r, 3));
  }
  f.mov(QA, Q);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      if (a === 0) f.mov(T, e(0, b));
      else if (a === 1) f.v(T, SIMD.f32x4Add, e(0, b), e(1, b));
      else if (a === 2) f.v(T, SIMD.f32x4Sub, e(0, b), e(1, b));
      else f.v(T, SIMD.f32x4Neg, e(1, b));
      f.mov(QL, QA);
      for (let lane = 0; lane < 4; lane++) {
        f.get(QL);
        f.get(T);
        f.simd(SIMD.f32x4ExtractLane, lane);
        f.code.push(OP.f32Store, 2, 0);
        if (lane < 3) f.addLocal(QL, DT);
      }
      if (a < 3 || b < 3) f.addLocal(QA, DXI);
    }
  }
  for (let i = 0; i < 4; i++) f.addLocal(Q, DT);
  f.addConst(PG, 32);
  f.countDownEnd(JT);
  f.addLocal(RS, SROW);
  f.addLocal(RS, SROW);
  f.addLocal(QR, DTR);
  f.countDownEnd(IT);
  return f.encode(8, 11);
}

/** Kernel ids for `block`, the one entry that helper threads call. */
export const BLOCK_SHIFTED = 0;
export const BLOCK_SHIFTED4 = 1;
export const BLOCK_SHIFTED_T = 2;
export const BLOCK_SHIFTED_T4 = 3;
/** block(BLOCK_LIST, ptr, count): runs `count` block calls (id and 8 arguments, 9 int32s each) listed at byte ptr. */
export const BLOCK_LIST = 4;
/** shiftedZ and shifted4Z (C set to the product). */
export const BLOCK_SHIFTED_Z = 5;
export const BLOCK_SHIFTED4_Z = 6;
/**
 * The transforms and copies, so that a list can hold a whole sample's work (conv-winograd.ts's
 * batch split): copy2d with a7 = len, a8 = rows | planes << 16; winoIn, winoOut, winoDy and
 * toPanels with their eight arguments.
 */
export const BLOCK_COPY2D = 7;
export const BLOCK_WINO_IN = 8;
export const BLOCK_WINO_OUT = 9;
export const BLOCK_WINO_DY = 10;
export const BLOCK_TO_PANELS = 11;

/**
 * block(id, a1..a8): shifted / shifted4 / shiftedZ / shifted4Z (a1..a8), or shiftedT / shiftedT4 with
 * kTiles = a8 & 0xffff and oTiles = a8 >>> 16 (a1..a7 the others), copy2d likewise (rows and
 * planes in a8), the transforms (a1..a8), or a list of such calls.
 */
function blockBody(): number[] {
  const f = new Body();
  const args = (split: boolean) => {
    for (let a = 1; a <= (split ? 7 : 8); a++) f.get(a);
    if (split) {
      f.get(8);
      f.code.push(OP.i32Const, ...sleb(0xffff), OP.i32And);
      f.get(8);
      f.code.push(OP.i32Const, 16, OP.i32ShrU);
    }
  };
  const call = (fn: number, split: boolean) => {
    args(split);
    f.code.push(OP.call, fn);
  };
  const ifId = (id: number) => {
    f.get(0);
    f.code.push(OP.i32Const, id, OP.i32Eq, OP.if, 0x40);
  };
  ifId(BLOCK_SHIFTED);
  call(0, false);
  f.code.push(OP.else);
  ifId(BLOCK_SHIFTED4);
  call(4, false);
  f.code.push(OP.else);
  ifId(BLOCK_SHIFTED_T);
  call(1, true);
  f.code.push(OP.else);
  ifId(BLOCK_SHIFTED_T4);
  call(5, true);
  f.code.push(OP.else);
  ifId(BLOCK_SHIFTED_Z);
  call(11, false);
  f.code.push(OP.else);
  ifId(BLOCK_SHIFTED4_Z);
  call(12, false);
  f.code.push(OP.else);
  ifId(BLOCK_COPY2D);
  call(3, true);
  f.code.push(OP.else);
  ifId(BLOCK_WINO_IN);
  call(8, false);
  f.code.push(OP.else);
  ifId(BLOCK_WINO_OUT);
  call(9, false);
  f.code.push(OP.else);
  ifId(BLOCK_WINO_DY);
  call(10, false);
  f.code.push(OP.else);
  ifId(BLOCK_TO_PANELS);
  call(6, false);
  f.code.push(OP.else);
  // BLOCK_LIST: a1 = list address, a2 = entries.
  f.ifNonZero(2);
  f.loop();
  for (let j = 0; j < 9; j++) {
    f.get(1);
    f.code.push(OP.i32Load, 2, ...leb(4 * j));
  }
  f.code.push(OP.call, 7);
  f.addConst(1, 36);
  f.countDownEnd(2);
  f.end();
  for (let i = 0; i < 11; i++) f.code.push(OP.end);
  return f.encode(0, 0);
}

/** The module's bytes: memory "mem", functions "shifted" and "shiftedT" (see ConvWasm). */
export function convWasmModuleBytes(sharedMemory = false): Uint8Array {
  const i32 = 0x7f;
  // Memory: its own (min 1 page), or imported as env.mem, shared, at most MAX_PAGES.
  const memory = sharedMemory
    ? section(2, [1, 3, ...ascii('env'), 3, ...ascii('mem'), 2, 3, 1, ...leb(MAX_PAGES)])
    : section(5, [1, 0, 1]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [2, 0x60, 8, ...Array<number>(8).fill(i32), 0, 0x60, 9, ...Array<number>(9).fill(i32), 0]),
    ...(sharedMemory ? memory : []),
    ...section(3, [13, 0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]),
    ...(sharedMemory ? [] : memory),
    ...section(7, [
      14, 7, ...ascii('shifted'), 0, 0, 8, ...ascii('shiftedT'), 0, 1, 8, ...ascii('maxPool2'), 0, 2, 6, ...ascii('copy2d'), 0, 3,
      8, ...ascii('shifted4'), 0, 4, 9, ...ascii('shiftedT4'), 0, 5,
      8, ...ascii('toPanels'), 0, 6, 5, ...ascii('block'), 0, 7, 3, ...ascii('mem'), 2, 0,
      6, ...ascii('winoIn'), 0, 8, 7, ...ascii('winoOut'), 0, 9, 6, ...ascii('winoDy'), 0, 10,
      8, ...ascii('shiftedZ'), 0, 11, 9, ...ascii('shifted4Z'), 0, 12,
    ]),
    ...section(10, [
      13, ...shiftedBody(MR), ...shiftedTBody(MR), ...maxPool2Body(), ...copy2dBody(), ...shiftedBody(4), ...shiftedTBody(4), ...toPanelsBody(), ...blockBody(),
      ...winoInBody(), ...winoOutBody(), ...winoDyBody(), ...shiftedBody(MR, true), ...shiftedBody(4, true),
    ]),
  ]);
}

let shared: ConvWasm | null | undefined;

/** The one instance that the convolution and pooling kernels share (created on first use); null without WebAssembly SIMD. */
export function convWasm(): ConvWasm | null {
  if (shared === undefined) shared = createConvWasm();
  return shared;
}

/**
 * Instantiates the kernels on a shared memory (so that helper threads can run them) where
 * shared WebAssembly memory is available, else on a memory of their own; null without
 * WebAssembly SIMD.
 */
export function createConvWasm(allowShared = true): ConvWasm | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  const instantiate = (sharedMemory: boolean): ConvWasm | null => {
    const bytes = convWasmModuleBytes(sharedMemory);
    if (!wasm.validate(bytes)) return null;
    const module = new wasm.Module(bytes);
    const imported = sharedMemory ? new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }) : null;
    const { exports } = new wasm.Instance(module, imported ? { env: { mem: imported } } : {});
    const memory = imported ?? (exports.mem as WasmMemory);
    const kernel: ConvWasm = {
      shifted: exports.shifted as ConvWasm['shifted'],
      shifted4: exports.shifted4 as ConvWasm['shifted4'],
      shiftedT: exports.shiftedT as ConvWasm['shiftedT'],
      shiftedT4: exports.shiftedT4 as ConvWasm['shiftedT4'],
      toPanels: exports.toPanels as ConvWasm['toPanels'],
      block: exports.block as ConvWasm['block'],
      maxPool2: exports.maxPool2 as ConvWasm['maxPool2'],
      copy2d: exports.copy2d as ConvWasm['copy2d'],
      shiftedZ: exports.shiftedZ as ConvWasm['shiftedZ'],
      shifted4Z: exports.shifted4Z as ConvWasm['shifted4Z'],
      winoIn: exports.winoIn as ConvWasm['winoIn'],
      winoOut: exports.winoOut as ConvWasm['winoOut'],
      winoDy: exports.winoDy as ConvWasm['winoDy'],
      f32: new Float32Array(memory.buffer),
      i32: new Int32Array(memory.buffer),
      ensure(n: number): boolean {
        const pages = Math.ceil((n * 4) / 65536);
        const have = memory.buffer.byteLength / 65536;
        if (pages <= have) return true;
        if (sharedMemory && pages > MAX_PAGES) return false;
        try {
          memory.grow(pages - have);
        } catch {
          return false;
        }
        kernel.f32 = new Float32Array(memory.buffer);
        kernel.i32 = new Int32Array(memory.buffer);
        return true;
      },
      threads: sharedMemory ? { module, memory } : null,
    };
    return kernel;
  };
  if (allowShared) {
    try {
      const k = instantiate(true);
      if (k) return k;
    } catch {
      // No shared WebAssembly memory here (a page without cross-origin isolation, say).
    }
  }
  try {
    return instantiate(false);
  } catch {
    return null;
  }
}
