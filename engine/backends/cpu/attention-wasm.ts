/**
 * The products of the fused attention kernels (attention.ts) on a WebAssembly SIMD GEMM
 * module of their own (gemm-wasm.ts's kernel, a separate instance and memory). Each call
 * copies the source tensors (and the output gradient) into the module once; every
 * (batch, head) block then packs its operands inside the module with the module's panel
 * copies and transposes, straight from the sources' rows, and multiplies them with one
 * `block` call, instead of going through matmul.ts's general path per block (JS packing of
 * the partial panels, closures and staging copies, which cost more than the products at
 * these sizes). Tiles are padded to 6 x 8: the padding rows and columns read whatever lies
 * past a block (the next rows, or zeroed slack after each copied array) and only ever land
 * in the padding of the result, which is not read. Each product sums its depth in the same
 * order as matmul.ts's WebAssembly path, so results are the same bit for bit.
 */
import { type AttentionRows, createAttentionRows } from './attention-rows-wasm.ts';
import { createWasmGemmKernel, WASM_MR as MR, WASM_NR as NR, type WasmGemmKernel } from './gemm-wasm.ts';

let kernel: WasmGemmKernel | null | undefined;
let rowPasses: AttentionRows | null | undefined;
let enabled = true;
let rowsEnabled = true;

/** Turns the module path on or off (off: matmul.ts's products); returns whether it can run. */
export function setAttentionWasm(on: boolean): boolean {
  enabled = on;
  return on && module() !== null;
}

/**
 * Turns the module's softmax row passes (attention-rows-wasm.ts) on or off (off: attention.ts's
 * JS rows, writing into the module); returns whether they can run.
 */
export function setAttentionRowsWasm(on: boolean): boolean {
  rowsEnabled = on;
  return on && rowModule() !== null;
}

function module(): WasmGemmKernel | null {
  if (kernel === undefined) kernel = createWasmGemmKernel(1 << 16);
  return kernel;
}

function rowModule(): AttentionRows | null {
  if (rowPasses === undefined) {
    const k = module();
    rowPasses = k ? createAttentionRows(k) : null;
  }
  return rowPasses;
}

const up = (n: number, m: number) => Math.ceil(n / m) * m;

/** Calls whose arrays total more float32s than this (1 GiB) take matmul.ts's path instead. */
const MAX_FLOATS = 1 << 28;

/**
 * The arrays of one kernel call in the module's memory: `arrays` copied in order, each
 * followed by zeroed slack, zeroed sums, areas left as they are (each with 16 floats of
 * slack), then the panel, product and scratch areas for blocks of L queries, S keys,
 * depth E and Ev value features.
 */
export class AttentionBlocks {
  readonly k: WasmGemmKernel;
  /** The softmax row passes on this memory, or null where they are off (attention.ts's JS rows then). */
  readonly rows: AttentionRows | null;
  /** Float offsets of the copied arrays, then of the sums, then of the areas. */
  readonly at: number[] = [];
  private readonly pa: number;
  private readonly pb: number;
  private readonly c: number;
  /** Float offset of an L x S scratch matrix (row stride S) used as an operand. */
  readonly w: number;

  private constructor(k: WasmGemmKernel, arrays: readonly Float32Array[], sums: readonly number[], areas: readonly number[], slack: number, readonly L: number, readonly S: number, E: number, Ev: number) {
    this.k = k;
    this.rows = rowsEnabled ? rowModule() : null;
    let n = 16;
    for (const a of arrays) {
      this.at.push(n);
      n += up(a.length + slack, 16);
    }
    for (const len of sums) {
      this.at.push(n);
      n += up(len, 16);
    }
    const sumsFrom = this.at[arrays.length] ?? n;
    const sumsTo = n;
    for (const len of areas) {
      this.at.push(n);
      n += up(len + 16, 16);
    }
    const rows = up(Math.max(L, S), MR) + NR;
    const depth = Math.max(L, S, E, Ev);
    const cols = up(Math.max(L, S, E, Ev), NR);
    this.pa = n;
    n += up(rows * depth, 16);
    this.pb = n;
    n += up(cols * depth, 16);
    this.c = n;
    n += up(rows * cols, 16);
    this.w = n;
    n += up((L + NR) * S + NR, 16);
    const view = k.ensure(n);
    arrays.forEach((a, i) => {
      view.set(a, this.at[i]);
      view.fill(0, this.at[i] + a.length, this.at[i] + a.length + slack);
    });
    view.fill(0, this.w, n);
    view.fill(0, sumsFrom, sumsTo);
  }

  /**
   * The module with `arrays` copied in (at at[0..]), zeroed sums of `sums` floats each
   * (at at[arrays.length..]) and areas of `areas` floats each, not cleared (after the sums),
   * or null where WebAssembly SIMD is unavailable or switched off.
   */
  static open(arrays: readonly Float32Array[], sums: readonly number[], areas: readonly number[], maxRowStride: number, L: number, S: number, E: number, Ev: number): AttentionBlocks | null {
    const k = enabled ? module() : null;
    if (!k) return null;
    let floats = 0;
    for (const a of arrays) floats += a.length;
    for (const len of sums) floats += len;
    for (const len of areas) floats += len;
    if (floats > MAX_FLOATS) return null;
    try {
      return new AttentionBlocks(k, arrays, sums, areas, (NR + MR) * (maxRowStride + 1) + 16, L, S, E, Ev);
    } catch {
      // The memory could not grow that far: the caller takes matmul.ts's path.
      return null;
    }
  }

  /**
   * Adds the m x n product at c (row stride ldc) into the module at dst + i*rs + j, with the
   * module's SIMD adds when n is a multiple of 4 (float32 sums either way, the same values).
   */
  accumulate(c: number, ldc: number, m: number, n: number, dst: number, rs: number): void {
    if (n % 4 === 0) {
      this.k.addBlock(dst * 4, rs * 4, m, n / 4, c * 4, ldc * 4);
      return;
    }
    const view = this.k.view;
    for (let i = 0; i < m; i++) {
      const d = dst + i * rs;
      const t = c + i * ldc;
      for (let j = 0; j < n; j++) view[d + j] += view[t + j];
    }
  }

  /** A copy of the `len` floats at `at` in the module. */
  read(at: number, len: number): Float32Array<ArrayBuffer> {
    const res = new Float32Array(len);
    res.set(this.k.view.subarray(at, at + len));
    return res;
  }

  /**
   * C = A B for A m x k and B k x n, both given by where their rows live in the module:
   * aT: A's rows are contiguous runs of depth (A[i, p] at a + i*lda + p), else A is stored
   * depth-major (A[i, p] at a + p*lda + i); bT: B's columns are contiguous runs of depth
   * (B[p, j] at b + j*ldb + p), else B[p, j] at b + p*ldb + j. Returns the float offset of
   * C in the module, row stride `ldc(n)`.
   */
  product(m: number, n: number, kd: number, a: number, lda: number, aT: boolean, b: number, ldb: number, bT: boolean): number {
    const k = this.k;
    const mTiles = Math.ceil(m / MR);
    const nTiles = Math.ceil(n / NR);
    if (aT) k.transposePanels6(a * 4, lda * 4, kd, mTiles, this.pa * 4, kd * MR * 4);
    else k.copyPanels6(a * 4, lda * 4, kd, mTiles, this.pa * 4, kd * MR * 4);
    if (bT) k.transposePanels8(b * 4, ldb * 4, kd, nTiles, this.pb * 4, kd * NR * 4);
    else k.copyPanels8(b * 4, ldb * 4, kd, nTiles, this.pb * 4, kd * NR * 4);
    k.block(kd, this.pa * 4, this.pb * 4, this.c * 4, nTiles * NR * 4, mTiles, nTiles, kd * NR * 4, 1);
    return this.c;
  }

  /** Row stride (floats) of a product with n columns. */
  ldc(n: number): number {
    return Math.ceil(n / NR) * NR;
  }
}

/**
 * Sums the rows of x [rows, n] into res[0..4*floor(n/4)) in float32, row after row (the
 * module's SIMD row adds onto one running row); returns how many leading columns it summed
 * (0 where the module is unavailable, switched off, or its memory cannot grow that far).
 */
export function columnSumsSimd(x: Float32Array, rows: number, n: number, res: Float32Array): number {
  const n4 = n >> 2;
  const k = enabled && rows > 0 && n4 > 0 ? module() : null;
  if (!k) return 0;
  // Rows in chunks of about 1 MiB: the running sum at 16, the chunk after it.
  const chunk = Math.max(1, Math.floor((1 << 18) / n));
  const at = 16 + up(n, 16);
  let view: Float32Array;
  try {
    view = k.ensure(at + chunk * n + 16);
  } catch {
    return 0; // the module's memory cannot grow that far: the caller's plain loop sums it all
  }
  view.fill(0, 16, 16 + n);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const m = Math.min(chunk, rows - r0);
    view.set(x.subarray(r0 * n, (r0 + m) * n), at);
    k.addBlock(16 * 4, 0, m, n4, at * 4, n * 4);
  }
  res.set(view.subarray(16, 16 + n4 * 4));
  return n4 * 4;
}
