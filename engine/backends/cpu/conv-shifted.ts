/**
 * Convolutions on the CPU without an im2col matrix, on the WebAssembly kernels of
 * conv-wasm.ts: each sample's input planes are copied once into a zero-padded buffer in
 * the module's memory (for strides over 1, split into phase planes) and the kernels read
 * every receptive-field row from it in place (see conv-wasm.ts). Forward and the stride-1
 * input gradient are one routine (the input gradient of a
 * stride-1 convolution is a stride-1 convolution of the output gradient with the flipped,
 * transposed weight); the weight gradient accumulates over the batch in the module's
 * memory. The bias is the first depth entry of the product (its weight the bias, its input a
 * row of ones), so each tile starts from it and the first kernel call sets the output.
 */
import {
  BLOCK_LIST, BLOCK_SHIFTED, BLOCK_SHIFTED4, BLOCK_SHIFTED4_Z, BLOCK_SHIFTED_T, BLOCK_SHIFTED_T4, BLOCK_SHIFTED_Z, CONV_MEM_BASE, CONV_MR as MR, CONV_NR as NR, type ConvWasm,
  convWasm,
} from './conv-wasm.ts';
import { GemmTeam, type GemmThreadHost, gemmThreadHost, gemmThreads, MAX_THREADS, ThreadBackoff } from './parallel.ts';

const kernel = convWasm();
let enabled = kernel !== null;

/** Turns the stride-1 WebAssembly path on or off (for tests); returns whether it is now on. */
export function setShiftedConv(on: boolean): boolean {
  enabled = on && kernel !== null;
  return enabled === on;
}

/** Whether the stride-1 WebAssembly path is available and on. */
export function shiftedConvEnabled(): boolean {
  return enabled;
}

/**
 * Whether the direct (shifted-read) kernels split their kernel calls between helper threads
 * (parallel.ts's thread setting then says how many). Off by default: on the shared 2-core machine where this was measured, two
 * threads trained the 3-conv CNN at 0.66-0.87x of one thread (the helpers' parts came back
 * late), while the GEMM's threads were neutral there.
 */
let threadsOn = false;

/** Turns the direct kernels' helper threads on or off; returns the previous setting. */
export function setShiftedConvThreads(on: boolean): boolean {
  const was = threadsOn;
  threadsOn = on;
  return was;
}

/**
 * Whether the Winograd convolutions split large batches between the calling thread and the
 * helpers (each thread runs whole samples: transforms and products; see conv-winograd.ts).
 * On by default where threads are available (parallel.ts's thread setting says how many).
 */
let batchThreadsOn = true;

/** Turns the batch split of the Winograd convolutions on or off; returns the previous setting. */
export function setConvBatchThreads(on: boolean): boolean {
  const was = batchThreadsOn;
  batchThreadsOn = on;
  return was;
}

/** Multiply-adds below which a kernel call is not split between threads. */
const MIN_PART_MACS = 1 << 18;

let team: GemmTeam | null = null;
let teamHost: GemmThreadHost | null = null;
/** Helpers started so far (slots 1..started); they are kept for later calls. */
let started = 0;

/** Helper threads the convolution kernels have started (kept for later calls). */
export function shiftedConvHelpers(): number {
  return started;
}

/**
 * The helper threads for this call (threads - 1 of them, from parallel.ts's setting), or
 * null for one thread: where threads are on (`batch`: the batch split's setting), a
 * thread host that can start a second team is installed, the module's memory is shared and the cores were not found busy lately.
 * Helpers are started on first need and kept (for the first host installed).
 */
export function helpers(k: ConvWasm, batch = false): { team: GemmTeam; count: number } | null {
  const threads = Math.min(gemmThreads(), MAX_THREADS);
  const host = gemmThreadHost();
  if (!(batch ? batchThreadsOn : threadsOn) || threads < 2 || !host?.startTeam || !k.threads) return null;
  if (backoff.skip()) return null;
  // Helpers serve the first host's team for good: a later host (rare) gets one thread,
  // since two helpers on one control slot would both run its calls.
  if (teamHost && teamHost !== host) return null;
  if (!team) {
    team = new GemmTeam(k.f32.buffer, MAX_THREADS - 1);
    teamHost = host;
  }
  if (started < threads - 1) {
    host.startTeam(k.threads.module, k.threads.memory, Array.from({ length: threads - 1 - started }, (_, i) => started + 1 + i));
    started = threads - 1;
  }
  return { team: team!, count: threads - 1 };
}

const clock = (globalThis as { performance?: { now(): number } }).performance;

/** The convolutions run on one thread for a while when the helpers keep coming back late, as the GEMM does. */
const backoff = new ThreadBackoff();

/** Turns the busy-core back-off on or off (tests that must exercise the helpers turn it off). */
export function setShiftedConvBackoff(enabled: boolean): void {
  backoff.setEnabled(enabled);
}

/**
 * Runs lists of kernel calls (BLOCK_LIST entries, 9 int32s each): part 0 on this thread,
 * part q on helper q, all at once, and returns when every part is done. `before(q)` runs
 * on this thread just before part q starts (the helpers' parts first, so that it can copy
 * a part's inputs in while earlier parts run), `after(q)` once part q is done (this
 * thread's part first, while the helpers may still run theirs).
 */
export function runParts(
  k: ConvWasm,
  h: { team: GemmTeam } | null,
  parts: { at: number; count: number }[],
  before?: (q: number) => void,
  after?: (q: number) => void,
): void {
  const live = parts.map((p, q) => ({ ...p, q })).filter((p) => p.count > 0);
  if (!h || live.length < 2) {
    for (const p of live) {
      before?.(p.q);
      k.block(BLOCK_LIST, 4 * p.at, p.count, 0, 0, 0, 0, 0, 0);
      after?.(p.q);
    }
    return;
  }
  const s0 = clock ? clock.now() : 0;
  h.team.begin();
  for (let w = 1; w < live.length; w++) {
    before?.(live[w].q);
    h.team.post(w, [BLOCK_LIST, 4 * live[w].at, live[w].count, 0, 0, 0, 0, 0, 0]);
  }
  before?.(live[0].q);
  k.block(BLOCK_LIST, 4 * live[0].at, live[0].count, 0, 0, 0, 0, 0, 0);
  after?.(live[0].q);
  const s1 = clock ? clock.now() : 0;
  for (let w = 1; w < live.length; w++) h.team.wait(w);
  if (clock) backoff.note(s1 - s0, clock.now() - s1);
  for (let w = 1; w < live.length; w++) after?.(live[w].q);
}

/** How many threads share `macs` multiply-adds of `units` independent units. */
export function partsFor(h: { count: number } | null, units: number, macs: number): number {
  return h ? Math.max(1, Math.min(h.count + 1, units, Math.floor(macs / MIN_PART_MACS))) : 1;
}

/** Floats of padded inputs and outputs that one round of samples may take in the module's memory (64 MB). */
const ROUND_FLOATS = 1 << 24;

const round16 = (n: number) => Math.ceil(n / 16) * 16;

/** Depth per kernel call: the A panels of one row block stay in cache across column panels. */
const KC = 320;
/** Rows (output channels) per kernel call of the forward routine. */
const MC = 96;
/** Pixels per kernel call of the weight gradient. */
const QC = 512;

/**
 * Rows per tile for `rows` rows: 4 unless 6 pads over 10% fewer (the 4-row kernels ran
 * about 13% faster per multiply; the 6-row ones waste less on 6 or 18 rows, say).
 */
export function tileRows(rows: number): number {
  return Math.ceil(rows / 4) * 4 <= 1.1 * Math.ceil(rows / MR) * MR ? 4 : MR;
}

/** Region allocator over the module's memory (after its reserved start), in floats, each region 64-byte aligned. */
export function layout(sizes: number[]): { at: number[]; total: number } {
  const at: number[] = [];
  let p = CONV_MEM_BASE;
  for (const s of sizes) {
    at.push(p);
    p += Math.ceil(s / 16) * 16;
  }
  return { at, total: p };
}

/** A zero-padded copy of input planes: Hp x Wp each, the input at row pt, column pl (either may be negative: cropped). */
export interface Padded {
  H: number;
  W: number;
  Hp: number;
  Wp: number;
  pt: number;
  pl: number;
}

/**
 * Writes `planes` planes of src (from element srcOff) into the padded buffer at f32[xp...]:
 * one block copy into the staging area f32[stage...], then the module's strided row copy
 * for the interior and the same copy from the zero row at f32[zero...] (at least Wp
 * floats) for the borders; without padding, one block copy straight into place.
 */
export function copyPadded(k: ConvWasm, xp: number, stage: number, zero: number, src: Float32Array, srcOff: number, planes: number, p: Padded): void {
  const { H, W, Hp, Wp, pt, pl } = p;
  if (Hp === H && Wp === W && pt === 0 && pl === 0) {
    // No padding: the planes as they are.
    k.f32.set(src.subarray(srcOff, srcOff + planes * H * W), xp);
    return;
  }
  const r0 = Math.min(Hp, Math.max(0, pt));
  const r1 = Math.max(r0, Math.min(Hp, H + pt));
  const s0 = Math.min(Wp, Math.max(0, pl));
  const s1 = Math.max(s0, Math.min(Wp, W + pl));
  const plane = 4 * Hp * Wp;
  const zeros = (at: number, len: number, rows: number) => {
    if (len > 0 && rows > 0) k.copy2d(4 * zero, 0, 0, 4 * at, 4 * Wp, plane, len, rows, planes);
  };
  zeros(xp, Wp, r0);
  zeros(xp + r1 * Wp, Wp, Hp - r1);
  zeros(xp + r0 * Wp, s0, r1 - r0);
  zeros(xp + r0 * Wp + s1, Wp - s1, r1 - r0);
  if (r0 >= r1 || s0 >= s1) return;
  k.f32.set(src.subarray(srcOff, srcOff + planes * H * W), stage);
  const from = stage + (r0 - pt) * W + s0 - pl;
  k.copy2d(4 * from, 4 * W, 4 * H * W, 4 * (xp + r0 * Wp + s0), 4 * Wp, plane, s1 - s0, r1 - r0, planes);
}

/**
 * Where the kernels read a convolution's input. Stride (sh, sw) splits each input plane
 * into sh*sw phase planes (rows a, a + sh, ...; columns b, b + sw, ...), each zero-padded
 * to Hq x Wq, so that tap (i, j) of output pixel (oh, ow) is phase (a_i, b_j) at row
 * oh + u_i - uMin, column ow + v_j - vMin: a stride-1 shifted read again. With stride 1
 * there is one phase, the zero-padded plane (top padding -uMin, left -vMin).
 */
interface Lowering {
  H: number;
  W: number;
  sh: number;
  sw: number;
  /**
   * Phase and shift of each kernel row (a, u) and column (b, v): input row
   * oh*sh + i*dh - pt = sh*(oh + u) + a. `slot` numbers the phases that some tap reads
   * (only those are stored); rowPhases / colPhases list them.
   */
  rows: { phase: number; shift: number; slot: number }[];
  cols: { phase: number; shift: number; slot: number }[];
  rowPhases: number[];
  colPhases: number[];
  uMin: number;
  vMin: number;
  Hq: number;
  Wq: number;
  /** Floats of the phase planes of one sample and group, and with the slack that the kernels may read past them. */
  data: number;
  planeSize: number;
}

function taps(k: number, s: number, d: number, p: number): { taps: { phase: number; shift: number; slot: number }[]; phases: number[] } {
  const raw = Array.from({ length: k }, (_, i) => {
    const r = i * d - p;
    const phase = ((r % s) + s) % s;
    return { phase, shift: (r - phase) / s };
  });
  const phases = [...new Set(raw.map((t) => t.phase))].sort((a, b) => a - b);
  return { taps: raw.map((t) => ({ ...t, slot: phases.indexOf(t.phase) })), phases };
}

function lowering(H: number, W: number, cs: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, outH: number, outW: number): Lowering {
  const { taps: rows, phases: rowPhases } = taps(kh, sh, dh, pt);
  const { taps: cols, phases: colPhases } = taps(kw, sw, dw, pl);
  const uMin = Math.min(...rows.map((t) => t.shift));
  const vMin = Math.min(...cols.map((t) => t.shift));
  const Hq = outH + Math.max(...rows.map((t) => t.shift)) - uMin;
  const Wq = outW + Math.max(...cols.map((t) => t.shift)) - vMin;
  const data = rowPhases.length * colPhases.length * cs * Hq * Wq;
  return { H, W, sh, sw, rows, cols, rowPhases, colPhases, uMin, vMin, Hq, Wq, data, planeSize: data + Wq + 2 * NR };
}

/** Byte offsets of the receptive-field entries (c, i, j), c < cs, in the phase planes. */
function writeOffsets(i32: Int32Array, at: number, cs: number, L: Lowering): void {
  const { rows, cols, colPhases, uMin, vMin, Hq, Wq } = L;
  const nb = colPhases.length;
  let k = at;
  for (let c = 0; c < cs; c++) {
    for (const r of rows) {
      for (const q of cols) i32[k++] = 4 * (((r.slot * nb + q.slot) * cs + c) * Hq * Wq + (r.shift - uMin) * Wq + q.shift - vMin);
    }
  }
}

/**
 * Writes the phase planes (those that some tap reads) of `planes` source planes (from
 * element srcOff) at f32[xp...], then zeroes the slack after them. Stride 1 goes through block copies (copyPadded);
 * other strides gather in JS, a linear pass over the input.
 */
function copyIn(k: ConvWasm, xp: number, stage: number, zero: number, src: Float32Array, srcOff: number, planes: number, L: Lowering): void {
  const { H, W, sh, sw, rowPhases, colPhases, uMin, vMin, Hq, Wq } = L;
  if (sh === 1 && sw === 1) copyPadded(k, xp, stage, zero, src, srcOff, planes, { H, W, Hp: Hq, Wp: Wq, pt: -uMin, pl: -vMin });
  else {
    const f32 = k.f32;
    for (let ra = 0; ra < rowPhases.length; ra++) {
      const a = rowPhases[ra];
      for (let cb = 0; cb < colPhases.length; cb++) {
        const b = colPhases[cb];
        for (let c = 0; c < planes; c++) {
          const d0 = xp + ((ra * colPhases.length + cb) * planes + c) * Hq * Wq;
          for (let pr = 0; pr < Hq; pr++) {
            const r = a + sh * (pr + uMin);
            const d = d0 + pr * Wq;
            if (r < 0 || r >= H) {
              f32.fill(0, d, d + Wq);
              continue;
            }
            const row = srcOff + (c * H + r) * W;
            for (let pc = 0, col = b + sw * vMin; pc < Wq; pc++, col += sw) f32[d + pc] = col >= 0 && col < W ? src[row + col] : 0;
          }
        }
      }
    }
  }
  k.f32.fill(0, xp + L.data, xp + L.planeSize);
}

export interface ShiftedConv {
  /** Source [N, S, H, W]: S = groups * cs channels. */
  src: Float32Array;
  N: number;
  H: number;
  W: number;
  groups: number;
  /** Source channels per group. */
  cs: number;
  /** Output channels per group. */
  rows: number;
  kh: number;
  kw: number;
  /** Stride (1 where flipped). */
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Top and left padding (negative: the source is cropped). */
  pt: number;
  pl: number;
  outH: number;
  outW: number;
  /**
   * The weight [O, cg, kh, kw]. Not flipped: row r of group g is weight row g*rows + r and
   * the depth is (c, i, j), as in the forward pass. Flipped: row r is input channel r of
   * the group and the depth is (o, kh-1-i, kw-1-j), as in the input gradient.
   */
  weight: Float32Array;
  flipped: boolean;
  bias: Float32Array | null;
}

/**
 * dst[n, g*rows + r, oh, ow] = bias + sum over (c, i, j) of A_g[r, (c, i, j)] *
 * src[n, g*cs + c, oh*sh - pt + i*dh, ow*sw - pl + j*dw] (zero outside src); flipped
 * (the input gradient) needs stride 1. Returns false, doing nothing, when the
 * WebAssembly kernels are unavailable or off.
 */
export function shiftedConv2d(a: ShiftedConv, dst: Float32Array): boolean {
  if (!enabled) return false;
  const k = kernel as ConvWasm;
  const { src, N, H, W, groups, cs, rows, kh, kw, sh, sw, dh, dw, pt, pl, outH, outW, weight, flipped, bias } = a;
  if (flipped && (sh !== 1 || sw !== 1)) return false;
  const khw = kh * kw;
  // Depth 0 is the bias: its weight entry is the bias and it reads a row of ones, so that
  // the first kernel call of each tile starts from the bias and sets C (no fill, no load).
  const K = cs * khw + 1;
  const L = lowering(H, W, cs, kh, kw, sh, sw, dh, dw, pt, pl, outH, outW);
  const Wp = L.Wq;
  const len = outH * Wp;
  const nTiles = Math.ceil(len / NR);
  const ldc = nTiles * NR;
  const R = sh === 1 && sw === 1 ? rowGroups(a, Wp) : 0;
  if (R > 0) return shiftedRows(a, L, R, dst);
  const mr = tileRows(rows);
  const id = mr === 4 ? BLOCK_SHIFTED4 : BLOCK_SHIFTED;
  const idFirst = mr === 4 ? BLOCK_SHIFTED4_Z : BLOCK_SHIFTED_Z;
  const mTiles = Math.ceil(rows / mr);
  const mPad = mTiles * mr;
  const planeSize = L.planeSize;
  const P = outH * outW;
  const kSteps = Math.ceil(K / KC);
  const kStep = Math.ceil(K / kSteps);
  // One item is one sample and group: its padded planes, a row of ones, then its output rows.
  const items = N * groups;
  const ones = round16(planeSize);
  const itemFloats = ones + round16(ldc) + round16(mPad * ldc);
  const perRound = Math.max(1, Math.min(items, Math.floor(ROUND_FLOATS / itemFloats)));
  const callsPerItem = Math.ceil(mTiles / (MC / mr)) * kSteps;
  const { at, total } = layout([groups * mPad * K, K, Math.max(cs * H * W, rows * P), perRound * callsPerItem * 9, Wp + 16, perRound * itemFloats]);
  const [PA, OFFS, STAGE, LIST, ZERO, ITEMS] = at;
  if (!k.ensure(total)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  // The weight as mr-row panels: [depth block][row tile][depth in block][mr], one set per group.
  const og = flipped ? cs : rows;
  const cg = flipped ? rows : cs;
  for (let g = 0; g < groups; g++) {
    const base = PA + g * mPad * K;
    for (let kb = 0; kb < K; kb += kStep) {
      const kc = Math.min(kStep, K - kb);
      for (let r = 0; r < mPad; r++) {
        let d = base + kb * mPad + Math.floor(r / mr) * kc * mr + (r % mr);
        for (let p = kb; p < kb + kc; p++, d += mr) {
          if (r >= rows) f32[d] = 0;
          else if (p === 0) f32[d] = bias ? bias[g * rows + r] : 0;
          else if (!flipped) f32[d] = weight[(g * rows + r) * (K - 1) + p - 1];
          else {
            const o = Math.floor((p - 1) / khw);
            f32[d] = weight[((g * og + o) * cg + r) * khw + khw - 1 - ((p - 1) % khw)];
          }
        }
      }
    }
  }
  i32[OFFS] = 4 * ones;
  writeOffsets(i32, OFFS + 1, cs, L);
  f32.fill(0, ZERO, ZERO + Wp + 16);
  for (let j = 0; j < perRound; j++) f32.fill(1, ITEMS + j * itemFloats + ones, ITEMS + j * itemFloats + ones + ldc);
  const S = groups * cs;
  const O = groups * rows;
  const h = helpers(k);
  for (let i0 = 0; i0 < items; i0 += perRound) {
    const count = Math.min(perRound, items - i0);
    let e = LIST;
    for (let j = 0; j < count; j++) {
      const n = Math.floor((i0 + j) / groups);
      const g = (i0 + j) % groups;
      const XP = ITEMS + j * itemFloats;
      const CM = XP + ones + round16(ldc);
      copyIn(k, XP, STAGE, ZERO, src, (n * S + g * cs) * H * W, cs, L);
      const base = PA + g * mPad * K;
      for (let t0 = 0; t0 < mTiles; t0 += MC / mr) {
        const t1 = Math.min(mTiles, t0 + MC / mr);
        for (let kb = 0; kb < K; kb += kStep, e += 9) {
          const kc = Math.min(kStep, K - kb);
          i32[e] = kb === 0 ? idFirst : id;
          i32[e + 1] = kc;
          i32[e + 2] = 4 * (base + kb * mPad + t0 * kc * mr);
          i32[e + 3] = 4 * (OFFS + kb);
          i32[e + 4] = 4 * XP;
          i32[e + 5] = 4 * (CM + t0 * mr * ldc);
          i32[e + 6] = 4 * ldc;
          i32[e + 7] = t1 - t0;
          i32[e + 8] = nTiles;
        }
      }
    }
    // Threads take whole items.
    const parts = partsFor(h, count, count * K * mPad * ldc);
    runParts(k, h, Array.from({ length: parts }, (_, q) => {
      const j0 = Math.floor((q * count) / parts);
      const j1 = Math.floor(((q + 1) * count) / parts);
      return { at: LIST + j0 * callsPerItem * 9, count: (j1 - j0) * callsPerItem };
    }));
    for (let j = 0; j < count; j++) {
      const n = Math.floor((i0 + j) / groups);
      const g = (i0 + j) % groups;
      const CM = ITEMS + j * itemFloats + ones + round16(ldc);
      // Drop the padded columns, then one block copy out.
      k.copy2d(4 * CM, 4 * Wp, 4 * ldc, 4 * STAGE, 4 * outW, 4 * P, outW, outH, rows);
      dst.set(f32.subarray(STAGE, STAGE + rows * P), (n * O + g * rows) * P);
    }
  }
  return true;
}

/** Kernel rows i < kh whose input row oh - pt + i*dh lies in [0, H), for output row oh: [i0, i1). */
function tapRows(oh: number, kh: number, dh: number, pt: number, H: number): [number, number] {
  const i0 = Math.min(kh, Math.max(0, Math.ceil((pt - oh) / dh)));
  const i1 = Math.max(i0, Math.min(kh, Math.floor((H - 1 + pt - oh) / dh) + 1));
  return [i0, i1];
}

/** Kernel rows that read input rows for some output row in [oh0, oh1): the union of tapRows. */
function groupTaps(oh0: number, oh1: number, kh: number, dh: number, pt: number, H: number): [number, number] {
  let lo = kh;
  let hi = 0;
  for (let oh = oh0; oh < oh1; oh++) {
    const [i0, i1] = tapRows(oh, kh, dh, pt, H);
    if (i1 > i0) {
      lo = Math.min(lo, i0);
      hi = Math.max(hi, i1);
    }
  }
  return lo < hi ? [lo, hi] : [kh, kh];
}

/**
 * Output rows per kernel call for a stride-1 convolution run by groups of output rows
 * (shiftedRows), or 0 to run the whole padded grid at once. A group of R rows computes
 * whole 8-pixel tiles over its (R - 1) padded rows and its last row's outW pixels, and
 * skips the kernel rows that read only padding for all its rows (the top and bottom rows
 * of a padded convolution, a large share for input gradients); one row per group skips
 * most padding, two or more waste fewer pixels where rows are short. Taken where the best
 * R does at most 85% of the grid's multiply-adds.
 */
function rowGroups(a: Pick<ShiftedConv, 'cs' | 'kh' | 'kw' | 'dh' | 'pt' | 'H' | 'outH' | 'outW'>, Wq: number): number {
  const { cs, kh, kw, dh, pt, H, outH, outW } = a;
  let best = 0;
  let bestCost = 0.85 * (1 + cs * kh * kw) * Math.ceil((outH * Wq) / NR) * NR;
  for (let R = 1; R <= Math.min(4, outH); R++) {
    let cost = 0;
    for (let oh = 0; oh < outH; oh += R) {
      const r = Math.min(R, outH - oh);
      const [i0, i1] = groupTaps(oh, oh + r, kh, dh, pt, H);
      cost += (1 + (i1 - i0) * cs * kw) * Math.ceil(((r - 1) * Wq + outW) / NR) * NR;
    }
    if (cost < bestCost) {
      best = R;
      bestCost = cost;
    }
  }
  return best;
}

/** Output rows per kernel call with which shiftedConv2d runs this stride-1 convolution, 0 for the whole padded grid (for tests). */
export function shiftedConvRowGroups(a: Pick<ShiftedConv, 'cs' | 'kh' | 'kw' | 'dh' | 'dw' | 'pt' | 'pl' | 'H' | 'W' | 'outH' | 'outW'>): number {
  const L = lowering(a.H, a.W, a.cs, a.kh, a.kw, 1, 1, a.dh, a.dw, a.pt, a.pl, a.outH, a.outW);
  return rowGroups(a, L.Wq);
}

/**
 * shiftedConv2d at stride 1, R output rows per kernel call (see rowGroups): the depth is
 * ordered (kernel row, channel, kernel column) after the bias, so that the kernel rows
 * that read input rows (not padding) are one range of it. Weight panels and offsets are
 * stored once per first kernel row i0 (the bias, then kernel rows i0..kh-1; i0 = kh: the
 * bias alone). The output keeps the padded grid's layout (rows Wq apart); a group's last
 * tile may run into the next group's first pixels, which that group then sets.
 */
function shiftedRows(a: ShiftedConv, L: Lowering, R: number, dst: Float32Array): boolean {
  const k = kernel as ConvWasm;
  const { src, N, H, W, groups, cs, rows, kh, kw, dh, pt, outH, outW, weight, flipped, bias } = a;
  const khw = kh * kw;
  const rowDepth = cs * kw;
  const Kfull = 1 + kh * rowDepth;
  const mr = tileRows(rows);
  const mTiles = Math.ceil(rows / mr);
  const mPad = mTiles * mr;
  const Wq = L.Wq;
  // Output rows Wq apart, with room for the last group's tiles.
  const ldc = round16(outH * Wq + NR);
  const P = outH * outW;
  // Depth of the panels for first kernel row i0: the bias and kernel rows i0..kh-1.
  const depthFrom = (i0: number) => 1 + (kh - i0) * rowDepth;
  const starts: number[] = [];
  let total = 0;
  // (i0 = kh: the bias alone, for output rows that read only padding.)
  for (let i0 = 0; i0 <= kh; i0++) {
    starts.push(total);
    total += depthFrom(i0);
  }
  // After the planes, ones for the bias entry: the group from row oh reads them from ones + oh*Wq.
  const ones = round16(L.planeSize);
  const onesLength = ldc;
  const { at, total: floats } = layout([groups * mPad * total, total, Math.max(cs * H * W, rows * P), L.Wq + 16, ones + onesLength + mPad * ldc]);
  const [PA, OFFS, STAGE, ZERO, XP] = at;
  if (!k.ensure(floats)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  const CM = XP + ones + onesLength;
  // Offsets in (i, c, j) order after the ones row, for each i0.
  const full = new Int32Array(Kfull);
  writeOffsets(full, 1, cs, L);
  const order = (i: number, c: number, j: number) => (c * kh + i) * kw + j; // index in writeOffsets' (c, i, j) order
  for (let i0 = 0; i0 <= kh; i0++) {
    let d = OFFS + starts[i0];
    i32[d++] = 4 * ones;
    for (let i = i0; i < kh; i++) for (let c = 0; c < cs; c++) for (let j = 0; j < kw; j++) i32[d++] = full[1 + order(i, c, j)];
  }
  const og = flipped ? cs : rows;
  const cg = flipped ? rows : cs;
  // Panels: [group][i0][row tile][depth][mr].
  for (let g = 0; g < groups; g++) {
    for (let i0 = 0; i0 <= kh; i0++) {
      const kd = depthFrom(i0);
      const base = PA + g * mPad * total + starts[i0] * mPad;
      for (let r = 0; r < mPad; r++) {
        let d = base + Math.floor(r / mr) * kd * mr + (r % mr);
        f32[d] = r < rows && bias ? bias[g * rows + r] : 0;
        d += mr;
        for (let i = i0; i < kh; i++) {
          for (let c = 0; c < cs; c++) {
            for (let j = 0; j < kw; j++, d += mr) {
              const tap = i * kw + j;
              if (r >= rows) f32[d] = 0;
              else if (!flipped) f32[d] = weight[((g * rows + r) * cs + c) * khw + tap];
              else f32[d] = weight[((g * og + c) * cg + r) * khw + khw - 1 - tap];
            }
          }
        }
      }
    }
  }
  f32.fill(0, ZERO, ZERO + L.Wq + 16);
  f32.fill(1, XP + ones, XP + ones + onesLength);
  const first = mr === 4 ? k.shifted4Z : k.shiftedZ;
  const rest = mr === 4 ? k.shifted4 : k.shifted;
  const S = groups * cs;
  const O = groups * rows;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      copyIn(k, XP, STAGE, ZERO, src, (n * S + g * cs) * H * W, cs, L);
      for (let oh = 0; oh < outH; oh += R) {
        const r = Math.min(R, outH - oh);
        const [i0, i1] = groupTaps(oh, oh + r, kh, dh, pt, H);
        const tiles = Math.ceil(((r - 1) * Wq + outW) / NR);
        const kd = depthFrom(i0);
        const used = 1 + (i1 - i0) * rowDepth;
        const base = PA + g * mPad * total + starts[i0] * mPad;
        for (let t = 0; t < mTiles; t++) {
          const c = 4 * (CM + t * mr * ldc + oh * Wq);
          for (let d0 = 0; d0 < used; d0 += KC) {
            const kc = Math.min(KC, used - d0);
            (d0 === 0 ? first : rest)(kc, 4 * (base + t * kd * mr + d0 * mr), 4 * (OFFS + starts[i0] + d0), 4 * (XP + oh * Wq), c, 4 * ldc, 1, tiles);
          }
        }
      }
      const out = (n * O + g * rows) * P;
      k.copy2d(4 * CM, 4 * Wq, 4 * ldc, 4 * STAGE, 4 * outW, 4 * P, outW, outH, rows);
      dst.set(f32.subarray(STAGE, STAGE + rows * P), out);
    }
  }
  return true;
}

export interface ShiftedFilterGrad {
  /** Input [N, C, H, W], C = groups * cg. */
  x: Float32Array;
  /** Output gradient [N, O, outH, outW], O = groups * og. */
  dy: Float32Array;
  N: number;
  H: number;
  W: number;
  groups: number;
  cg: number;
  og: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  outH: number;
  outW: number;
}

/**
 * The weight gradient: dw[g*og + o, c, i, j] = sum over n, oh, ow of
 * dy[n, g*og + o, oh, ow] * x[n, g*cg + c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]. Returns
 * false, doing nothing, when the WebAssembly kernels are unavailable or off.
 */
export function shiftedConv2dFilter(a: ShiftedFilterGrad, dwOut: Float32Array): boolean {
  if (!enabled) return false;
  const k = kernel as ConvWasm;
  const { x, dy, N, H, W, groups, cg, og, kh, kw, sh, sw, dh, dw, pt, pl, outH, outW } = a;
  const K = cg * kh * kw;
  const L = lowering(H, W, cg, kh, kw, sh, sw, dh, dw, pt, pl, outH, outW);
  const Wp = L.Wq;
  const len = outH * Wp;
  const mr = tileRows(K);
  const id = mr === 4 ? BLOCK_SHIFTED_T4 : BLOCK_SHIFTED_T;
  const kTiles = Math.ceil(K / mr);
  if (kTiles > 0xffff || Math.ceil(og / NR) > 0xffff) return false;
  const oTiles = Math.ceil(og / NR);
  const ldc = oTiles * NR;
  const planeSize = L.planeSize;
  const cmSize = kTiles * mr * ldc;
  const P = outH * outW;
  // One item is one sample and group: its padded planes, then its output gradient as panels.
  const items = N * groups;
  const itemFloats = round16(planeSize) + round16(oTiles * len * NR);
  const perRound = Math.max(1, Math.min(items, Math.floor(ROUND_FLOATS / itemFloats)));
  // Pixel runs per kernel call: chunks of QC padded pixels, or where the padded columns are
  // a fifth of each row or more, each output row's own pixels (the padded ones, zero in dy, skipped).
  const runs: [number, number][] = [];
  const rowRuns = (Wp - outW) * 5 >= Wp && outW >= NR;
  for (let r0 = 0; r0 < (rowRuns ? outH : 1); r0++) {
    const from = rowRuns ? r0 * Wp : 0;
    const to = rowRuns ? from + outW : len;
    for (let q0 = from; q0 < to; q0 += QC) runs.push([q0, Math.min(QC, to - q0)]);
  }
  const qChunks = runs.length;
  const h = helpers(k);
  const maxParts = h ? h.count + 1 : 1;
  const { at, total } = layout([kTiles * mr, groups * cmSize, Math.max(cg * H * W, og * P), maxParts * perRound * qChunks * 9, Wp + 16, perRound * itemFloats]);
  const [OFFS, CM, STAGE, LIST, ZERO, ITEMS] = at;
  if (!k.ensure(total)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  writeOffsets(i32, OFFS, cg, L);
  i32.fill(0, OFFS + K, OFFS + kTiles * mr);
  f32.fill(0, ZERO, ZERO + Wp + 16);
  f32.fill(0, CM, CM + groups * cmSize);
  const C = groups * cg;
  const O = groups * og;
  for (let i0 = 0; i0 < items; i0 += perRound) {
    const count = Math.min(perRound, items - i0);
    for (let j = 0; j < count; j++) {
      const n = Math.floor((i0 + j) / groups);
      const g = (i0 + j) % groups;
      const XP = ITEMS + j * itemFloats;
      const DT = XP + round16(planeSize);
      // (The slack past the planes is read against zero gradients only: it must be finite.)
      copyIn(k, XP, STAGE, ZERO, x, (n * C + g * cg) * H * W, cg, L);
      // dy of the group, transposed into 8-channel panels: DT[panel][q][o % 8], q = oh*Wp + ow;
      // the padded pixels and channels are zero.
      if (og % NR !== 0) f32.fill(0, DT, DT + oTiles * len * NR);
      f32.set(dy.subarray((n * O + g * og) * P, (n * O + g * og + og) * P), STAGE);
      k.toPanels(4 * STAGE, 4 * DT, og, outH, outW, Wp, 4 * len * NR, Wp - outW);
    }
    // Threads take ranges of weight-row tiles, each over every item in order (the same
    // additions in the same order as one thread).
    const parts = partsFor(h, kTiles, count * len * kTiles * mr * ldc);
    const lists: { at: number; count: number }[] = [];
    for (let q = 0; q < parts; q++) {
      const t0 = Math.floor((q * kTiles) / parts);
      const t1 = Math.floor(((q + 1) * kTiles) / parts);
      const start = LIST + q * perRound * qChunks * 9;
      let e = start;
      for (let j = 0; j < count; j++) {
        const g = (i0 + j) % groups;
        const XP = ITEMS + j * itemFloats;
        const DT = XP + round16(planeSize);
        const cm = CM + g * cmSize;
        for (const [q0, ql] of runs) {
          i32[e] = id;
          i32[e + 1] = ql;
          i32[e + 2] = 4 * (DT + q0 * NR);
          i32[e + 3] = 4 * len * NR;
          i32[e + 4] = 4 * (XP + q0);
          i32[e + 5] = 4 * (OFFS + t0 * mr);
          i32[e + 6] = 4 * (cm + t0 * mr * ldc);
          i32[e + 7] = 4 * ldc;
          i32[e + 8] = (t1 - t0) | (oTiles << 16);
          e += 9;
        }
      }
      lists.push({ at: start, count: t1 > t0 ? (e - start) / 9 : 0 });
    }
    runParts(k, h, lists);
  }
  for (let g = 0; g < groups; g++) {
    const cm = CM + g * cmSize;
    for (let o = 0; o < og; o++) {
      const d = (g * og + o) * K;
      for (let p = 0; p < K; p++) dwOut[d + p] = f32[cm + p * ldc + o];
    }
  }
  return true;
}
