/**
 * An optional WebAssembly SIMD kernel for the packed GEMM in matmul.ts. The module is
 * assembled here from a few bytes (no build step, no file to load). Its one function,
 * `block(kc, pa, pb, c, ldc, mTiles, nTiles, pbStride, first)`, multiplies a block of packed A
 * panels (MR rows each, k-major) by a block of packed B panels (NR columns each, k-major,
 * `pbStride` bytes apart) and accumulates every MR x NR tile into C, a row-major float32
 * matrix in the module's memory with row stride `ldc` bytes. The memory is imported, so
 * that it can be a shared WebAssembly.Memory that worker threads run the same kernel on
 * (parallel.ts). Each tile stays in f32x4 registers (2*MR
 * accumulators) for the whole depth, so the only per-tile memory traffic is one load and
 * one store of C. Where WebAssembly SIMD is missing, `createWasmGemmKernel` returns null
 * and the JS kernel runs.
 */

import { ascii, leb, section, wasmApi } from '../../core/wasm-host.ts';

export const WASM_MR = 6;
export const WASM_NR = 8;

export interface WasmGemmKernel {
  /**
   * C[i, j] += sum_p A[i, p] B[p, j] for mTiles x nTiles tiles of MR x NR. pa, pb, c are
   * byte offsets into the memory; ldc is C's row stride in bytes; column panel t of B
   * starts at pb + t*pbStride; kc, mTiles, nTiles >= 1. With `first` nonzero the tiles
   * start from zero instead of C's contents (C = A B, nothing read).
   */
  block(kc: number, pa: number, pb: number, c: number, ldc: number, mTiles: number, nTiles: number, pbStride: number, first: number): void;
  /**
   * Panel packers over data already in the memory (byte offsets and strides; nPanels, k
   * >= 1). copyPanels{w}: panel t, depth p = the w float32s at src + t*4w + p*ld.
   * transposePanels{w}: panel t, depth p = element p of rows src + (t*w + j)*ld, j < w.
   * Each panel is stored k-major (w floats per depth step) at dst + t*pStride.
   */
  copyPanels8(src: number, ld: number, k: number, nPanels: number, dst: number, pStride: number): void;
  copyPanels6(src: number, ld: number, k: number, nPanels: number, dst: number, pStride: number): void;
  transposePanels8(src: number, ld: number, k: number, nPanels: number, dst: number, pStride: number): void;
  transposePanels6(src: number, ld: number, k: number, nPanels: number, dst: number, pStride: number): void;
  /** Adds the n4*4 float32s at v to each of `rows` rows at c, c + ldc, ... (bytes; last argument unused). */
  addRows(c: number, ldc: number, rows: number, n4: number, v: number, unused: number): void;
  /** Adds row i of the block at v (row stride ldv) to row i at c (row stride ldc), i < rows; n4 groups of 4 per row (bytes). */
  addBlock(c: number, ldc: number, rows: number, n4: number, v: number, ldv: number): void;
  /** Float32 view of the module's memory; replaced when `ensure` grows it. */
  view: Float32Array;
  /** Grows the memory to hold at least `floats` float32s and returns the (new) view. */
  ensure(floats: number): Float32Array;
  /** The compiled module and its memory (a WebAssembly.Module and WebAssembly.Memory). */
  module: object;
  memory: object;
  /** Whether the memory is shared (can be handed to worker threads). */
  shared: boolean;
}

/** Upper bound of a shared memory, in 64 KiB pages (1 GiB; only address space is reserved). */
export const WASM_MAX_PAGES = 16384;

const OP = {
  loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, simd: 0xfd,
  i32Load: 0x28, i64Load: 0x29, i32Store: 0x36, i64Store: 0x37,
};
const SIMD = { v128Load: 0x00, v128Load32Splat: 0x09, v128Store: 0x0b, v128Const: 0x0c, f32x4Add: 0xe4, f32x4Mul: 0xe6 };

/**
 * The module's bytes: imported memory "env"."mem" (shared when `shared`, then with at most
 * WASM_MAX_PAGES pages) and function "block" (see WasmGemmKernel.block).
 */
export function wasmGemmModuleBytes(shared = false, mr = WASM_MR): Uint8Array {
  // params
  const [KC, PA, PB, C, LDC, MT, NT, PBS, FIRST] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const [IT, K, A, B, R, CI] = [9, 10, 11, 12, 13, 14];
  const I32_LOCALS = 6;
  // v128 locals
  const [B0, B1, AV, ACC] = [15, 16, 17, 18];
  const code: number[] = [];
  const get = (l: number) => code.push(OP.localGet, ...leb(l));
  const set = (l: number) => code.push(OP.localSet, ...leb(l));
  const simd = (op: number, ...imm: number[]) => code.push(OP.simd, ...leb(op), ...imm);
  const addConst = (l: number, v: number) => {
    get(l);
    code.push(OP.i32Const, ...leb(v), OP.i32Add);
    set(l);
  };
  const addLocal = (l: number, v: number) => {
    get(l);
    get(v);
    code.push(OP.i32Add);
    set(l);
  };
  /** l -= 1; loop again while l != 0. */
  const countDown = (l: number) => {
    get(l);
    code.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(l), OP.brIf, 0);
  };
  const acc = (i: number, j: number) => ACC + 2 * i + j;

  code.push(OP.loop, 0x40); // over column panels (NT)
  get(C);
  set(CI);
  get(PA);
  set(A);
  get(MT);
  set(IT);
  code.push(OP.loop, 0x40); // over row panels (MT)
  // Start from zero (first) or load the C tile.
  get(FIRST);
  code.push(OP.if, 0x40);
  for (let i = 0; i < 2 * mr; i++) {
    simd(SIMD.v128Const, ...new Array(16).fill(0));
    set(ACC + i);
  }
  code.push(OP.else);
  get(CI);
  set(R);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < 2; j++) {
      get(R);
      simd(SIMD.v128Load, 2, ...leb(16 * j));
      set(acc(i, j));
    }
    addLocal(R, LDC);
  }
  code.push(OP.end);
  get(PB);
  set(B);
  get(KC);
  set(K);
  code.push(OP.loop, 0x40); // over the depth
  get(B);
  simd(SIMD.v128Load, 2, 0);
  set(B0);
  get(B);
  simd(SIMD.v128Load, 2, 16);
  set(B1);
  for (let i = 0; i < mr; i++) {
    get(A);
    simd(SIMD.v128Load32Splat, 2, ...leb(4 * i));
    set(AV);
    for (let j = 0; j < 2; j++) {
      // acc[i][j] += a_i * b_j
      get(acc(i, j));
      get(AV);
      get(j === 0 ? B0 : B1);
      simd(SIMD.f32x4Mul);
      simd(SIMD.f32x4Add);
      set(acc(i, j));
    }
  }
  addConst(A, 4 * mr);
  addConst(B, 4 * WASM_NR);
  countDown(K);
  code.push(OP.end);
  // Store the C tile; A now points at the next row panel.
  get(CI);
  set(R);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < 2; j++) {
      get(R);
      get(acc(i, j));
      simd(SIMD.v128Store, 2, ...leb(16 * j));
    }
    addLocal(R, LDC);
  }
  get(R);
  set(CI);
  countDown(IT);
  code.push(OP.end);
  // The next column panel of B; C moves NR columns right.
  addLocal(PB, PBS);
  addConst(C, 4 * WASM_NR);
  countDown(NT);
  code.push(OP.end, OP.end);
  const block = [2, ...leb(I32_LOCALS), 0x7f, ...leb(3 + 2 * mr), 0x7b, ...code];
  const funcs: [string, number[]][] = [
    ['block', block],
    ['copyPanels8', copyPanelsBody(8)],
    ['copyPanels6', copyPanelsBody(6)],
    ['transposePanels8', transposePanelsBody(8)],
    ['transposePanels6', transposePanelsBody(6)],
    ['addRows', addRowsBody(false)],
    ['addBlock', addRowsBody(true)],
  ];
  const i32s = (n: number) => new Array<number>(n).fill(0x7f);
  const limits = shared ? [3, 1, ...leb(WASM_MAX_PAGES)] : [0, 1];
  const exports = funcs.flatMap(([name], i) => [name.length, ...ascii(name), 0, i]);
  const bodies = funcs.flatMap(([, body]) => [...leb(body.length), ...body]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    // type 0: (i32 x9) -> () for block; type 1: (i32 x6) -> () for the packers and addRows
    ...section(1, [2, 0x60, 9, ...i32s(9), 0, 0x60, 6, ...i32s(6), 0]),
    ...section(2, [1, 3, ...ascii('env'), 3, ...ascii('mem'), 2, ...limits]), // memory import
    ...section(3, [funcs.length, 0, ...funcs.slice(1).map(() => 1)]),
    ...section(7, [funcs.length, ...exports]),
    ...section(10, [funcs.length, ...bodies]),
  ]);
}

/**
 * Body of copyPanels{w}(src, ld, k, nPanels, dst, pStride): panel t (t < nPanels) gets,
 * for each p < k, the w consecutive float32s at src + t*4w + p*ld, stored contiguously
 * at dst + t*pStride + p*4w (all in bytes). Packs row-major B (w = NR) or column-major
 * A (w = MR) whose rows are already in the memory.
 */
function copyPanelsBody(w: number): number[] {
  const [SRC, LD, KK, NP, DST, PS] = [0, 1, 2, 3, 4, 5];
  const [S, D, K] = [6, 7, 8];
  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...leb(l));
  const set = (l: number) => c.push(OP.localSet, ...leb(l));
  c.push(OP.loop, 0x40);
  get(SRC); set(S); get(DST); set(D); get(KK); set(K);
  c.push(OP.loop, 0x40);
  // 16 bytes, then 16 (w = 8) or 8 (w = 6) more: bit copies, no float conversion.
  get(D); get(S); c.push(OP.simd, ...leb(SIMD.v128Load), 2, 0, OP.simd, ...leb(SIMD.v128Store), 2, 0);
  if (w === 8) {
    get(D); get(S); c.push(OP.simd, ...leb(SIMD.v128Load), 2, 16, OP.simd, ...leb(SIMD.v128Store), 2, 16);
  } else {
    get(D); get(S); c.push(OP.i64Load, 3, 16, OP.i64Store, 3, 16);
  }
  get(S); get(LD); c.push(OP.i32Add); set(S);
  get(D); c.push(OP.i32Const, ...leb(4 * w), OP.i32Add); set(D);
  get(K); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(K), OP.brIf, 0);
  c.push(OP.end);
  get(SRC); c.push(OP.i32Const, ...leb(4 * w), OP.i32Add); set(SRC);
  get(DST); get(PS); c.push(OP.i32Add); set(DST);
  get(NP); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(NP), OP.brIf, 0);
  c.push(OP.end, OP.end);
  return [1, 3, 0x7f, ...c];
}

/**
 * Body of addRows(c, ldc, rows, n4, v, _): adds the float32 vector at v (n4 groups of 4) to
 * each of `rows` rows at c, c + ldc, ... (bytes; rows, n4 >= 1). With `block`,
 * addBlock(c, ldc, rows, n4, v, ldv): row i of v starts at v + i*ldv instead.
 */
function addRowsBody(block: boolean): number[] {
  const [CC, LDC, ROWS, N4, V, LDV] = [0, 1, 2, 3, 4, 5];
  const [R, VV, J] = [6, 7, 8];
  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...leb(l));
  const set = (l: number) => c.push(OP.localSet, ...leb(l));
  c.push(OP.loop, 0x40);
  get(CC); set(R); get(V); set(VV); get(N4); set(J);
  c.push(OP.loop, 0x40);
  get(R);
  get(R); c.push(OP.simd, ...leb(SIMD.v128Load), 2, 0);
  get(VV); c.push(OP.simd, ...leb(SIMD.v128Load), 2, 0);
  c.push(OP.simd, ...leb(SIMD.f32x4Add));
  c.push(OP.simd, ...leb(SIMD.v128Store), 2, 0);
  get(R); c.push(OP.i32Const, 16, OP.i32Add); set(R);
  get(VV); c.push(OP.i32Const, 16, OP.i32Add); set(VV);
  get(J); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(J), OP.brIf, 0);
  c.push(OP.end);
  get(CC); get(LDC); c.push(OP.i32Add); set(CC);
  if (block) {
    get(V); get(LDV); c.push(OP.i32Add); set(V);
  }
  get(ROWS); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(ROWS), OP.brIf, 0);
  c.push(OP.end, OP.end);
  return [1, 3, 0x7f, ...c];
}

/**
 * Body of transposePanels{w}(src, ld, k, nPanels, dst, pStride): panel t gets, for each
 * p < k, element p of the w rows src + (t*w + j)*ld (j < w), stored contiguously at
 * dst + t*pStride + p*4w (all in bytes). Packs B given as its transpose (w = NR) or
 * row-major A (w = MR) whose rows are already in the memory.
 */
function transposePanelsBody(w: number): number[] {
  const [SRC, LD, KK, NP, DST, PS] = [0, 1, 2, 3, 4, 5];
  const [R, D, K, WLD] = [6, 7, 8, 9];
  const OFF = 10; // OFF + j: j*ld
  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...leb(l));
  const set = (l: number) => c.push(OP.localSet, ...leb(l));
  for (let j = 0; j < w; j++) {
    get(LD); c.push(OP.i32Const, ...leb(j), OP.i32Mul); set(OFF + j);
  }
  get(LD); c.push(OP.i32Const, ...leb(w), OP.i32Mul); set(WLD);
  c.push(OP.loop, 0x40);
  get(SRC); set(R); get(DST); set(D); get(KK); set(K);
  c.push(OP.loop, 0x40);
  for (let j = 0; j < w; j++) {
    get(D); get(R); get(OFF + j); c.push(OP.i32Add, OP.i32Load, 2, 0, OP.i32Store, 2, ...leb(4 * j));
  }
  get(R); c.push(OP.i32Const, 4, OP.i32Add); set(R);
  get(D); c.push(OP.i32Const, ...leb(4 * w), OP.i32Add); set(D);
  get(K); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(K), OP.brIf, 0);
  c.push(OP.end);
  get(SRC); get(WLD); c.push(OP.i32Add); set(SRC);
  get(DST); get(PS); c.push(OP.i32Add); set(DST);
  get(NP); c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(NP), OP.brIf, 0);
  c.push(OP.end, OP.end);
  return [1, ...leb(4 + w), 0x7f, ...c];
}

/**
 * Instantiates the kernel with at least `floats` float32s of memory (a shared memory when
 * `shared`); null without WebAssembly SIMD (or without shared memory, when asked for).
 */
export function createWasmGemmKernel(floats: number, shared = false): WasmGemmKernel | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  try {
    const bytes = wasmGemmModuleBytes(shared);
    if (!wasm.validate(bytes)) return null;
    const module = new wasm.Module(bytes);
    const memory = new wasm.Memory(shared ? { initial: 1, maximum: WASM_MAX_PAGES, shared: true } : { initial: 1 });
    const { exports } = new wasm.Instance(module, { env: { mem: memory } });
    const kernel: WasmGemmKernel = {
      block: exports.block as WasmGemmKernel['block'],
      copyPanels8: exports.copyPanels8 as WasmGemmKernel['copyPanels8'],
      copyPanels6: exports.copyPanels6 as WasmGemmKernel['copyPanels6'],
      transposePanels8: exports.transposePanels8 as WasmGemmKernel['transposePanels8'],
      transposePanels6: exports.transposePanels6 as WasmGemmKernel['transposePanels6'],
      addRows: exports.addRows as WasmGemmKernel['addRows'],
      addBlock: exports.addBlock as WasmGemmKernel['addBlock'],
      module,
      memory,
      shared,
      view: new Float32Array(memory.buffer),
      ensure(n: number): Float32Array {
        const pages = Math.ceil((n * 4) / 65536);
        const have = memory.buffer.byteLength / 65536;
        if (pages > have) {
          memory.grow(pages - have);
          kernel.view = new Float32Array(memory.buffer);
        }
        return kernel.view;
      },
    };
    kernel.ensure(floats);
    return kernel;
  } catch {
    return null;
  }
}
