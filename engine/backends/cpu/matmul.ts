/**
 * Batched matrix multiply on the CPU: C[b] = op(A[b]) @ op(B[b]) with broadcasting over
 * the batch dimensions.
 *
 * The product is computed as in BLIS: B is packed into KC x NR column panels and A into
 * MR x KC row panels, and a register-blocked micro-kernel multiplies one panel pair. Where
 * WebAssembly SIMD is available the micro-kernel is the 6x8 f32x4 one from gemm-wasm.ts
 * (panels packed as float32 into its memory); otherwise a 4x8 JS kernel keeps its 32
 * accumulators in locals (panels packed as float64, which V8 reads without a conversion).
 * Packing reads the operands through element strides, so transposed operands need no copy;
 * on the WebAssembly path, rows are copied into the module in bulk and packed there.
 * Large products split their tiles between the calling thread and helper threads that
 * run the same kernel on a shared memory (parallel.ts), with results bit-identical to one
 * thread. Scratch buffers are module-level and reused; nothing is allocated per call.
 */
import { registerKernel } from '../../core/backend.ts';
import { broadcastShapes, shapeStr, sizeOf } from '../../core/shape.ts';
import { f32, out } from './cpu-backend.ts';
import { createWasmGemmKernel, WASM_MR, WASM_NR, type WasmGemmKernel } from './gemm-wasm.ts';
import { CTRL_BYTES, GemmTeam, type GemmThreadHost, gemmThreadHost, gemmThreads, ThreadBackoff } from './parallel.ts';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 1024;

const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(KC * NC);
const edgeTile = new Float64Array(MR * NR);

/** Copies B[p, j] (p < kc, j < nc) into NR-wide panels, each stored k-major, zero-padded. */
function packB(b: Float32Array, off: number, rs: number, cs: number, kc: number, nc: number): void {
  let d = 0;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = Math.min(NR, nc - j0);
    for (let p = 0; p < kc; p++) {
      const s = off + p * rs + j0 * cs;
      let j = 0;
      if (cs === 1) for (; j < w; j++) packedB[d + j] = b[s + j];
      else for (; j < w; j++) packedB[d + j] = b[s + j * cs];
      for (; j < NR; j++) packedB[d + j] = 0;
      d += NR;
    }
  }
}

/** Copies A[i, p] (i < mc, p < kc) into MR-tall panels, each stored k-major, zero-padded. */
function packA(a: Float32Array, off: number, rs: number, cs: number, mc: number, kc: number): void {
  let d = 0;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const h = Math.min(MR, mc - i0);
    for (let p = 0; p < kc; p++) {
      const s = off + i0 * rs + p * cs;
      let i = 0;
      for (; i < h; i++) packedA[d + i] = a[s + i * rs];
      for (; i < MR; i++) packedA[d + i] = 0;
      d += MR;
    }
  }
}

/** C[ci.., MR x NR tile] += Apanel @ Bpanel; only the top-left mr x nr part is written. */
function microKernel4x8(
  kc: number, pa: Float64Array, ia: number, pb: Float64Array, ib: number,
  c: Float32Array, ci: number, cRs: number, mr: number, nr: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ia + 0], a1 = pa[ia + 1], a2 = pa[ia + 2], a3 = pa[ia + 3];
    let b = pb[ib + 0];
    c00 += a0 * b; c10 += a1 * b; c20 += a2 * b; c30 += a3 * b;
    b = pb[ib + 1];
    c01 += a0 * b; c11 += a1 * b; c21 += a2 * b; c31 += a3 * b;
    b = pb[ib + 2];
    c02 += a0 * b; c12 += a1 * b; c22 += a2 * b; c32 += a3 * b;
    b = pb[ib + 3];
    c03 += a0 * b; c13 += a1 * b; c23 += a2 * b; c33 += a3 * b;
    b = pb[ib + 4];
    c04 += a0 * b; c14 += a1 * b; c24 += a2 * b; c34 += a3 * b;
    b = pb[ib + 5];
    c05 += a0 * b; c15 += a1 * b; c25 += a2 * b; c35 += a3 * b;
    b = pb[ib + 6];
    c06 += a0 * b; c16 += a1 * b; c26 += a2 * b; c36 += a3 * b;
    b = pb[ib + 7];
    c07 += a0 * b; c17 += a1 * b; c27 += a2 * b; c37 += a3 * b;
    ia += 4;
    ib += 8;
  }
  if (mr === 4 && nr === 8) {
    let r = ci;
    c[r + 0] += c00; c[r + 1] += c01; c[r + 2] += c02; c[r + 3] += c03; c[r + 4] += c04; c[r + 5] += c05; c[r + 6] += c06; c[r + 7] += c07;
    r = ci + cRs;
    c[r + 0] += c10; c[r + 1] += c11; c[r + 2] += c12; c[r + 3] += c13; c[r + 4] += c14; c[r + 5] += c15; c[r + 6] += c16; c[r + 7] += c17;
    r = ci + 2 * cRs;
    c[r + 0] += c20; c[r + 1] += c21; c[r + 2] += c22; c[r + 3] += c23; c[r + 4] += c24; c[r + 5] += c25; c[r + 6] += c26; c[r + 7] += c27;
    r = ci + 3 * cRs;
    c[r + 0] += c30; c[r + 1] += c31; c[r + 2] += c32; c[r + 3] += c33; c[r + 4] += c34; c[r + 5] += c35; c[r + 6] += c36; c[r + 7] += c37;
    return;
  }
  edgeTile[0] = c00; edgeTile[1] = c01; edgeTile[2] = c02; edgeTile[3] = c03; edgeTile[4] = c04; edgeTile[5] = c05; edgeTile[6] = c06; edgeTile[7] = c07; edgeTile[8] = c10; edgeTile[9] = c11; edgeTile[10] = c12; edgeTile[11] = c13; edgeTile[12] = c14; edgeTile[13] = c15; edgeTile[14] = c16; edgeTile[15] = c17; edgeTile[16] = c20; edgeTile[17] = c21; edgeTile[18] = c22; edgeTile[19] = c23; edgeTile[20] = c24; edgeTile[21] = c25; edgeTile[22] = c26; edgeTile[23] = c27; edgeTile[24] = c30; edgeTile[25] = c31; edgeTile[26] = c32; edgeTile[27] = c33; edgeTile[28] = c34; edgeTile[29] = c35; edgeTile[30] = c36; edgeTile[31] = c37;
  for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) c[ci + i * cRs + j] += edgeTile[i * 8 + j];
}


/** The JS path of `gemmStrided`. */
function gemmJs(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRs: number, aCs: number,
  b: Float32Array, bOff: number, bRs: number, bCs: number,
  c: Float32Array, cOff: number, cRs: number,
): void {
  if (m === 0 || n === 0 || k === 0) return;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            microKernel4x8(kc, packedA, ir * kc, packedB, jr * kc, c, cOff + (ic + ir) * cRs + jc + jr, cRs, Math.min(MR, mc - ir), nr);
          }
        }
      }
    }
  }
}

let W_MC = 96;
// Depth blocks are split evenly (at most W_KC deep) so that no thin remainder block pays
// the tile load and store for little work.
let W_KC = 384;
/** Widest column block of C. */
const W_NC = 1024;
/**
 * Bytes of packed B (the whole depth of one column block) that should stay in the L2 cache
 * while every row block of A streams past it.
 */
let W_B_BYTES = 3 << 19;
/**
 * Memory layout (float32 offsets): control words (parallel.ts), packed A, A's rows staged
 * for packing, C's block, packed B (then B's staged rows).
 */
const W_PA = CTRL_BYTES / 4;
let W_SA = W_PA + W_MC * W_KC;
let W_C = W_SA + W_MC * W_KC;
let W_PB = W_C + W_MC * W_NC;
let wasm = createWasmGemmKernel(W_PB + W_KC * W_NC);
let useWasm = wasm !== null;
// Module-level copies: imported bindings may be read through accessors in some loaders.
const WMR = WASM_MR;
const WNR = WASM_NR;

/**
 * A GEMM below this many multiply-adds (8M, about 200^3) stays on the calling thread: for
 * the MLP benchmark's products (6.4M at most) two threads measured no better on average
 * than one, while 384^3 and larger products gain 1.4-1.6x (both on two shared cores).
 */
let MIN_PARALLEL_MACS = 1 << 23;
/** A split kernel call is cut into about this many chunks per thread. */
const CHUNKS_PER_THREAD = 4;
/** Each thread's share of one kernel call is at least this many multiply-adds. */
let MIN_PART_MACS = 1 << 18;

const clock = (globalThis as { performance?: { now(): number } }).performance;
/** Products run on one thread for a while when the helpers keep coming back late. */
const backoff = new ThreadBackoff();

/** Products large enough for threads, and how many of them the back-off kept on one thread. */
const threadStats = { large: 0, backedOff: 0 };

/**
 * Since the last call (or start): products large enough to be split between threads, and
 * how many of those ran on one thread because the cores were busy.
 */
export function takeGemmThreadStats(): { large: number; backedOff: number } {
  const res = { ...threadStats };
  threadStats.large = 0;
  threadStats.backedOff = 0;
  return res;
}

/** Turns the busy-core back-off on or off (tests that must exercise the helpers turn it off). */
export function setGemmThreadBackoff(enabled: boolean): void {
  backoff.setEnabled(enabled);
}

let team: GemmTeam | null = null;
let teamHost: GemmThreadHost | null = null;
/** Helpers taking part now (gemmThreads() - 1, at most team.helpers). */
let helpersNow = 0;

/**
 * The helper team for the current thread setting, or null for one thread. Helpers are
 * started on first use (on a fresh shared memory, which the kernel then uses) and kept;
 * a new team replaces them only for a new host or when more threads are wanted.
 */
function currentTeam(): GemmTeam | null {
  const threads = gemmThreads();
  if (threads < 2 || !wasm) return null;
  const host = gemmThreadHost()!;
  helpersNow = threads - 1;
  if (team && teamHost === host && team.helpers >= helpersNow) return team;
  if (team && teamHost === host) host.stop();
  team = null;
  const shared = createWasmGemmKernel(wasm.view.length, true);
  if (!shared) return null;
  wasm = shared;
  team = new GemmTeam(shared.view.buffer, helpersNow);
  teamHost = host;
  host.start(shared.module, shared.memory, team.slots());
  return team;
}

/**
 * kernel.block over mTiles x nTiles tiles, cut into chunks of column panels (or of row
 * panels, when there are fewer column panels than threads) that the calling thread and
 * the helpers claim one at a time.
 */
function runBlock(
  kernel: WasmGemmKernel, t: GemmTeam | null,
  kc: number, pa: number, pb: number, c: number, ldc: number, mTiles: number, nTiles: number, pbStride: number, first: number,
): void {
  const macs = kc * mTiles * nTiles * WMR * WNR;
  const threads = t ? helpersNow + 1 : 1;
  const byCols = nTiles >= mTiles || nTiles >= threads;
  const tiles = byCols ? nTiles : mTiles;
  const parts = Math.min(threads, tiles, Math.floor(macs / Math.max(1, MIN_PART_MACS)));
  if (parts < 2) {
    kernel.block(kc, pa, pb, c, ldc, mTiles, nTiles, pbStride, first);
    return;
  }
  const team = t!;
  const s0 = clock ? clock.now() : 0;
  // Several chunks per thread, each claimed by whichever thread is free first.
  const chunk = Math.max(1, Math.ceil(tiles / (CHUNKS_PER_THREAD * parts)));
  const nChunks = Math.ceil(tiles / chunk);
  team.begin();
  team.shareTiles();
  const args = [kc, pa, pb, c, ldc, mTiles, nTiles, pbStride, first, byCols ? 1 : 0, chunk, nChunks];
  for (let q = 1; q < parts; q++) team.postChunks(q, args);
  for (let i = team.nextChunk(); i < nChunks; i = team.nextChunk()) {
    const t0 = i * chunk;
    const n = Math.min(chunk, tiles - t0);
    if (byCols) kernel.block(kc, pa, pb + t0 * pbStride, c + t0 * WNR * 4, ldc, mTiles, n, pbStride, first);
    else kernel.block(kc, pa + t0 * WMR * kc * 4, pb, c + t0 * WMR * ldc, ldc, n, nTiles, pbStride, first);
  }
  const s1 = clock ? clock.now() : 0;
  for (let q = 1; q < parts; q++) team.wait(q);
  if (clock) backoff.note(s1 - s0, clock.now() - s1);
}

/**
 * Sets the sizes (multiply-adds) from which a GEMM, and each thread's share of one kernel
 * call, is split between threads; returns the previous pair. For tuning and for tests that
 * exercise the split on small shapes.
 */
export function setGemmParallelThresholds(minGemmMacs: number, minPartMacs: number): [number, number] {
  const previous: [number, number] = [MIN_PARALLEL_MACS, MIN_PART_MACS];
  MIN_PARALLEL_MACS = minGemmMacs;
  MIN_PART_MACS = minPartMacs;
  return previous;
}

/** Tuning hook for the benchmark: row block, depth block and packed-B bytes. */
export function setGemmBlocking(mc: number, kc: number, bBytes: number): void {
  W_MC = Math.ceil(mc / WMR) * WMR;
  W_KC = kc;
  W_B_BYTES = bBytes;
  W_SA = W_PA + W_MC * W_KC;
  W_C = W_SA + W_MC * W_KC;
  W_PB = W_C + W_MC * W_NC;
}

/** Selects the micro-kernel ('wasm' needs WebAssembly SIMD); returns whether it is now active. */
export function setGemmKernel(name: 'wasm' | 'js'): boolean {
  useWasm = name === 'wasm' && wasm !== null;
  return useWasm === (name === 'wasm');
}

/** The micro-kernel in use: 'wasm' (WebAssembly SIMD) or 'js'. */
export function gemmKernel(): 'wasm' | 'js' {
  return useWasm ? 'wasm' : 'js';
}

/** Packs B[p, j] (p < kc, j < nc) into NR-wide float32 panels at view[d...], k-major, zero-padded. */
function packBWasm(view: Float32Array, d: number, b: Float32Array, off: number, rs: number, cs: number, kc: number, nc: number): void {
  for (let j0 = 0; j0 < nc; j0 += WNR) {
    const w = Math.min(WNR, nc - j0);
    let src = off + j0 * cs;
    if (w === WNR && cs === 1) {
      for (let p = 0; p < kc; p++, src += rs, d += WNR) {
        view[d] = b[src]; view[d + 1] = b[src + 1]; view[d + 2] = b[src + 2]; view[d + 3] = b[src + 3];
        view[d + 4] = b[src + 4]; view[d + 5] = b[src + 5]; view[d + 6] = b[src + 6]; view[d + 7] = b[src + 7];
      }
    } else if (w === WNR && rs === 1) {
      // Transposed B: the panel's columns are contiguous runs of depth.
      for (let j = 0; j < WNR; j++) {
        const s = src + j * cs;
        for (let p = 0; p < kc; p++) view[d + p * WNR + j] = b[s + p];
      }
      d += kc * WNR;
    } else {
      for (let p = 0; p < kc; p++, src += rs, d += WNR) {
        let j = 0;
        for (; j < w; j++) view[d + j] = b[src + j * cs];
        for (; j < WNR; j++) view[d + j] = 0;
      }
    }
  }
}

/** Packs A[i, p] (i < mc, p < kc) into MR-tall float32 panels at view[d...], k-major, zero-padded. */
function packAWasm(view: Float32Array, d: number, a: Float32Array, off: number, rs: number, cs: number, mc: number, kc: number): void {
  for (let i0 = 0; i0 < mc; i0 += WMR) {
    const h = Math.min(WMR, mc - i0);
    const src = off + i0 * rs;
    if (h === WMR && cs === 1) {
      // Row-major A: each panel row is a contiguous run of depth.
      for (let i = 0; i < WMR; i++) {
        const s = src + i * rs;
        for (let p = 0; p < kc; p++) view[d + p * WMR + i] = a[s + p];
      }
      d += kc * WMR;
    } else if (h === WMR && rs === 1) {
      for (let p = 0, s = src; p < kc; p++, s += cs, d += WMR) {
        view[d] = a[s]; view[d + 1] = a[s + 1]; view[d + 2] = a[s + 2];
        view[d + 3] = a[s + 3]; view[d + 4] = a[s + 4]; view[d + 5] = a[s + 5];
      }
    } else {
      for (let p = 0; p < kc; p++, d += WMR) {
        const s = src + p * cs;
        let i = 0;
        for (; i < h; i++) view[d + i] = a[s + i * rs];
        for (; i < WMR; i++) view[d + i] = 0;
      }
    }
  }
}

/**
 * Writes B's columns [j0, j0 + nc) of depth rows [p0, p0 + kc) as NR-wide float32 panels
 * at view[d...], each k-major (panel t holds columns j0 + 8t.. at view[d + t*kc*NR + p*NR + j]),
 * zero-padded to a multiple of NR columns. The memory after the panels, as much again, is
 * free scratch for the packer (packStrided stages the operand's rows there).
 */
export type PackPanels = (view: Float32Array, d: number, p0: number, kc: number, j0: number, nc: number) => void;

/**
 * Consumes a finished block of C: rows [i0, i0 + mc) and columns [j0, j0 + nc) of the
 * product live at view[base + i*ldc + j] (i, j relative to the block).
 */
export type StoreBlock = (view: Float32Array, base: number, ldc: number, i0: number, mc: number, j0: number, nc: number) => void;

/**
 * The WebAssembly path: float32 panels and an MC x NC block of C in the module's memory.
 * B's panels for one column block are packed once over the whole depth (the block is
 * narrowed so that they fit the L2 cache); each C block starts from zero, is accumulated over the
 * depth in blocks of at most W_KC inside the module and handed to `store` once. The depth
 * blocking depends on k alone, so every element of C sums its products in the same order
 * whatever the row and column blocking or the split between threads.
 */
function gemmWasmWith(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRs: number, aCs: number,
  packB: PackPanels, store: StoreBlock,
): void {
  let t: GemmTeam | null = null;
  if (m * n * k >= MIN_PARALLEL_MACS) {
    t = currentTeam();
    if (t) threadStats.large++;
    if (t && backoff.skip()) {
      threadStats.backedOff++;
      t = null;
    }
  }
  t?.wake(helpersNow);
  const kernel = wasm!;
  const kStep = Math.ceil(k / Math.ceil(k / W_KC));
  const ncMax = Math.min(W_NC, Math.max(WNR, Math.floor(W_B_BYTES / (4 * k * WNR)) * WNR));
  // Packed B, then as much again for its staged rows (packStrided).
  const view = kernel.ensure(W_PB + 2 * Math.min(ncMax, Math.ceil(n / WNR) * WNR) * k);
  const pbStride = k * WNR * 4;
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = Math.min(ncMax, n - jc);
    const ldc = Math.ceil(nc / WNR) * WNR;
    const nTiles = ldc / WNR;
    packB(view, W_PB, 0, k, jc, nc);
    for (let ic = 0; ic < m; ic += W_MC) {
      const mc = Math.min(W_MC, m - ic);
      const mTiles = Math.ceil(mc / WMR);
      for (let pc = 0; pc < k; pc += kStep) {
        const kc = Math.min(kStep, k - pc);
        packAFast(kernel, view, a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc);
        runBlock(kernel, t, kc, W_PA * 4, (W_PB + pc * WNR) * 4, W_C * 4, ldc * 4, mTiles, nTiles, pbStride, pc === 0 ? 1 : 0);
      }
      store(view, W_C, ldc, ic, mc, jc, nc);
    }
  }
}

/**
 * packAWasm into W_PA, with the full MR-row panels packed inside the module: A's rows are
 * first copied into the memory (W_SA) in bulk, then transposed or copied into panels there.
 */
function packAFast(kernel: WasmGemmKernel, view: Float32Array, a: Float32Array, off: number, rs: number, cs: number, mc: number, kc: number): void {
  const full = Math.floor(mc / WMR);
  const rows = full * WMR;
  if (full > 0 && cs === 1) {
    // Row-major A: rows of kc contiguous values, transposed into k-major panels.
    if (rs === kc) view.set(a.subarray(off, off + rows * kc), W_SA);
    else for (let i = 0; i < rows; i++) view.set(a.subarray(off + i * rs, off + i * rs + kc), W_SA + i * kc);
    kernel.transposePanels6(W_SA * 4, kc * 4, kc, full, W_PA * 4, kc * WMR * 4);
  } else if (full > 0 && rs === 1) {
    // Column-major A: each depth step holds the panel's rows contiguously.
    if (cs === rows) view.set(a.subarray(off, off + kc * rows), W_SA);
    else for (let p = 0; p < kc; p++) view.set(a.subarray(off + p * cs, off + p * cs + rows), W_SA + p * rows);
    kernel.copyPanels6(W_SA * 4, rows * 4, kc, full, W_PA * 4, kc * WMR * 4);
  } else {
    packAWasm(view, W_PA, a, off, rs, cs, mc, kc);
    return;
  }
  if (rows < mc) packAWasm(view, W_PA + rows * kc, a, off + rows * rs, rs, cs, mc - rows, kc);
}

/**
 * packBWasm with the full NR-column panels packed inside the module: B's rows (or, for a
 * transposed B, its columns) are first copied in bulk just past the packed panels, then
 * copied or transposed into panels there. The memory must hold twice the packed size.
 */
function packBFast(view: Float32Array, d: number, b: Float32Array, off: number, rs: number, cs: number, kc: number, nc: number): void {
  const kernel = wasm;
  const full = Math.floor(nc / WNR);
  const cols = full * WNR;
  const stage = d + kc * Math.ceil(nc / WNR) * WNR;
  if (!kernel || kernel.view !== view || full === 0 || (cs !== 1 && rs !== 1)) {
    packBWasm(view, d, b, off, rs, cs, kc, nc);
    return;
  }
  if (cs === 1) {
    if (rs === cols) view.set(b.subarray(off, off + kc * cols), stage);
    else for (let p = 0; p < kc; p++) view.set(b.subarray(off + p * rs, off + p * rs + cols), stage + p * cols);
    kernel.copyPanels8(stage * 4, cols * 4, kc, full, d * 4, kc * WNR * 4);
  } else {
    if (cs === kc) view.set(b.subarray(off, off + cols * kc), stage);
    else for (let j = 0; j < cols; j++) view.set(b.subarray(off + j * cs, off + j * cs + kc), stage + j * kc);
    kernel.transposePanels8(stage * 4, kc * 4, kc, full, d * 4, kc * WNR * 4);
  }
  if (cols < nc) packBWasm(view, d + full * kc * WNR, b, off + cols * cs, rs, cs, kc, nc - cols);
}

/** Rows of at least this many values are added inside the module (shorter ones by a plain loop). */
const ADD_IN_MODULE_MIN = 48;

/**
 * c[off + i*rs + j] += view[base + i*ldc + j] (i < mc, j < nc). Wide rows are copied into
 * the module (where A's rows are staged), added there with SIMD and copied back.
 */
function addBlockInto(view: Float32Array, base: number, ldc: number, mc: number, nc: number, c: Float32Array, off: number, rs: number): void {
  const kernel = wasm;
  if (!kernel || kernel.view !== view || nc < ADD_IN_MODULE_MIN) {
    for (let i = 0; i < mc; i++) {
      const row = off + i * rs;
      const t = base + i * ldc;
      for (let j = 0; j < nc; j++) c[row + j] += view[t + j];
    }
    return;
  }
  const ld = Math.ceil(nc / 4) * 4;
  const chunk = Math.max(1, Math.floor((W_MC * W_KC) / ld));
  for (let i0 = 0; i0 < mc; i0 += chunk) {
    const rows = Math.min(chunk, mc - i0);
    for (let i = 0; i < rows; i++) view.set(c.subarray(off + (i0 + i) * rs, off + (i0 + i) * rs + nc), W_SA + i * ld);
    kernel.addBlock(W_SA * 4, ld * 4, rows, ld / 4, (base + i0 * ldc) * 4, ldc * 4);
    for (let i = 0; i < rows; i++) c.set(view.subarray(W_SA + i * ld, W_SA + i * ld + nc), off + (i0 + i) * rs);
  }
}

/** The packer for a B given by element strides: element (p, j) at b[off + p*rs + j*cs]. */
export function packStrided(b: Float32Array, off: number, rs: number, cs: number): PackPanels {
  return (view, d, p0, kc, j0, nc) => packBFast(view, d, b, off + p0 * rs + j0 * cs, rs, cs, kc, nc);
}

/**
 * The WebAssembly path of gemmStrided; with `overwrite`, C = A B (C's old values are not
 * read), plus `bias` (n values) added to every row when given.
 */
function gemmWasm(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRs: number, aCs: number,
  b: Float32Array, bOff: number, bRs: number, bCs: number,
  c: Float32Array, cOff: number, cRs: number, overwrite = false, bias: Float32Array | null = null,
): void {
  gemmWasmWith(
    m, n, k, a, aOff, aRs, aCs,
    packStrided(b, bOff, bRs, bCs),
    (view, base, ldc, i0, mc, j0, nc) => {
      if (overwrite) {
        if (bias) {
          // The bias row (zero-padded to ldc) goes where A's rows were staged, then onto each row.
          view.set(bias.subarray(j0, j0 + nc), W_SA);
          view.fill(0, W_SA + nc, W_SA + ldc);
          wasm!.addRows(base * 4, ldc * 4, mc, ldc / 4, W_SA * 4, 0);
        }
        const row = cOff + i0 * cRs + j0;
        if (ldc === nc && cRs === nc) c.set(view.subarray(base, base + mc * nc), row);
        else for (let i = 0; i < mc; i++) c.set(view.subarray(base + i * ldc, base + i * ldc + nc), row + i * cRs);
        return;
      }
      addBlockInto(view, base, ldc, mc, nc, c, cOff + i0 * cRs + j0, cRs);
    },
  );
}

/**
 * C = A (m x k, element strides) @ B, where B is written straight into packed panels by
 * `packB` and each finished block of C goes to `store`: for operands that are gathered
 * (im2col) or results that are scattered (col2im) without an intermediate matrix.
 * Returns false, doing nothing, when the WebAssembly kernel is not in use; the caller
 * then takes its plain path.
 */
export function gemmPacked(m: number, n: number, k: number, a: Float32Array, aOff: number, aRs: number, aCs: number, packB: PackPanels, store: StoreBlock): boolean {
  if (!useWasm) return false;
  if (m > 0 && n > 0 && k > 0) gemmWasmWith(m, n, k, a, aOff, aRs, aCs, packB, store);
  return true;
}

/**
 * C (m x n, row stride cRs) += A (m x k) @ B (k x n), where element (i, p) of A lives at
 * aOff + i*aRs + p*aCs and element (p, j) of B at bOff + p*bRs + j*bCs.
 */
export function gemmStrided(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRs: number, aCs: number,
  b: Float32Array, bOff: number, bRs: number, bCs: number,
  c: Float32Array, cOff: number, cRs: number,
): void {
  if (m === 0 || n === 0 || k === 0) return;
  if (useWasm) gemmWasm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, cRs);
  else gemmJs(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, cRs);
}

/**
 * C (m x n, row stride n) += A (m x k) @ B (k x n), with A given by element strides and B
 * row-major with row stride bRow.
 */
export function gemm(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRow: number, aCol: number,
  b: Float32Array, bOff: number, bRow: number,
  c: Float32Array, cOff: number,
): void {
  gemmStrided(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, 1, c, cOff, n);
}

/**
 * F.linear with a bias, y = x W^T + b (x [m, k], W [n, k], b [n]), the bias added as each
 * block of the product is written out: bit-identical to the product followed by Add.
 */
registerKernel('Linear', 'cpu', ([x, w, b]) => {
  if (x.shape.length !== 2 || w.shape.length !== 2 || b.shape.length !== 1 || x.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0]) {
    throw new Error(`linear: expected x [m, k], weight [n, k] and bias [n], got ${shapeStr(x.shape)}, ${shapeStr(w.shape)} and ${shapeStr(b.shape)}`);
  }
  const [m, k] = x.shape;
  const n = w.shape[0];
  const xv = f32(x);
  const wv = f32(w);
  const bv = f32(b);
  const res = new Float32Array(m * n);
  if (useWasm && m > 0 && n > 0 && k > 0) {
    gemmWasm(m, n, k, xv, 0, k, 1, wv, 0, 1, k, res, 0, n, true, bv);
  } else {
    if (m > 0 && n > 0 && k > 0) gemmJs(m, n, k, xv, 0, k, 1, wv, 0, 1, k, res, 0, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) res[i * n + j] += bv[j];
  }
  return out(res, [m, n]);
});

registerKernel('BatchMatMul', 'cpu', ([a, b], attrs) => {
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) throw new Error(`matmul: operands need at least 2 dimensions, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (ka !== kb) {
    throw new Error(`matmul: inner dimensions differ: ${shapeStr(a.shape)}${transposeA ? 'ᵀ' : ''} @ ${shapeStr(b.shape)}${transposeB ? 'ᵀ' : ''} (${ka} vs ${kb})`);
  }
  const batchA = a.shape.slice(0, ar - 2);
  const batchB = b.shape.slice(0, br - 2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  const nb = sizeOf(batch);
  const av = f32(a);
  const bv = f32(b);
  const res = new Float32Array(nb * m * n);
  const aMat = m * ka;
  const bMat = kb * n;
  // Batch index -> operand offsets, honouring broadcast (size-1) batch dims.
  const offsets = (sub: readonly number[], mat: number, idx: number) => {
    let off = 0;
    let stride = mat;
    let rem = idx;
    const pad = batch.length - sub.length;
    const coords: number[] = new Array(batch.length);
    for (let d = batch.length - 1; d >= 0; d--) {
      coords[d] = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
    }
    for (let d = sub.length - 1; d >= 0; d--) {
      if (sub[d] !== 1) off += coords[d + pad] * stride;
      stride *= sub[d];
    }
    return off;
  };
  for (let bi = 0; bi < nb; bi++) {
    const aOff = offsets(batchA, aMat, bi);
    const bOff = offsets(batchB, bMat, bi);
    // A element (i, p) lives at aOff + i*aRs + p*aCs; B element (p, j) at bOff + p*bRs + j*bCs.
    const aRs = transposeA ? 1 : ka;
    const aCs = transposeA ? m : 1;
    const bRs = transposeB ? 1 : n;
    const bCs = transposeB ? kb : 1;
    if (m === 0 || n === 0 || ka === 0) continue; // res is already zero
    if (useWasm) gemmWasm(m, n, ka, av, aOff, aRs, aCs, bv, bOff, bRs, bCs, res, bi * m * n, n, true);
    else gemmJs(m, n, ka, av, aOff, aRs, aCs, bv, bOff, bRs, bCs, res, bi * m * n, n);
  }
  return out(res, [...batch, m, n]);
});
