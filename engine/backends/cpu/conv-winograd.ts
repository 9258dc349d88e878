/**
 * 3x3, stride-1 convolutions by the Winograd minimal filtering algorithm F(2x2, 3x3)
 * (Lavin and Gray, 2015) on the WebAssembly kernels of conv-wasm.ts: 16 multiplies per
 * 2x2 output tile and channel pair instead of 36.
 *
 * Forward (and the input gradient, a stride-1 3x3 convolution of the padded output
 * gradient with the flipped, transposed weight): per sample, the zero-padded input planes
 * are cut into overlapping 4x4 tiles (stride 2) and transformed, V = B^T d B; for each of
 * the 16 transform entries xi, M[xi] = U[xi] V[xi] is a matrix product (output channels x
 * input channels times input channels x tiles, on the shifted-read GEMM kernel) with the
 * transformed weight U = G g G^T; the output transform A^T M A gives each 2x2 output tile.
 *
 * Weight gradient: dW = G^T [sum over tiles (A dy A^T) (.) (B^T d B)] G, where dy is the
 * 2x2 tile of the output gradient at the same place; the sum over tiles (and samples) is,
 * for each xi, a product of the transformed output gradient with the transformed input
 * (the shiftedT kernel), and the 3x3 result is transformed once at the end.
 *
 * Output sizes are rounded up to whole tiles (four tiles per SIMD step along a row); the
 * extra outputs are computed on zero padding and dropped.
 *
 * Threads: a round of samples is copied into the module's memory at once and its work is
 * written as lists of kernel calls (transforms, products and copies; see conv-wasm.ts's
 * `block`), one list per part. Forward and input gradient: each part takes an even share of
 * the samples (their transforms and products), and each output has the same bits on any
 * number of threads (a product's columns do not depend on each other). Weight gradient: the samples are split into PARTIALS ranges, each summed into its
 * own buffer, and the buffers are added in order; the ranges do not depend on the threads,
 * so neither do the bits. Where helpers run (conv-shifted.ts's `helpers`, the batch setting)
 * and a call is large enough, the parts run at once on the calling thread and the helpers.
 */
import { helpers, layout, type Padded, runParts, type ShiftedConv, type ShiftedFilterGrad, shiftedConvEnabled, tileRows } from './conv-shifted.ts';
import {
  BLOCK_COPY2D, BLOCK_SHIFTED_T, BLOCK_SHIFTED_T4, BLOCK_SHIFTED_Z, BLOCK_SHIFTED4_Z, BLOCK_WINO_DY, BLOCK_WINO_IN, BLOCK_WINO_OUT, CONV_NR as NR, type ConvWasm,
  convWasm,
} from './conv-wasm.ts';

const kernel = convWasm();

let enabled = kernel !== null;

/** Turns the Winograd path on or off (for tests and comparisons); returns whether it is now on. */
export function setWinogradConv(on: boolean): boolean {
  enabled = on && kernel !== null;
  return enabled === on;
}

/**
 * Tiles per matrix product of the forward pass (several samples where theirs are fewer),
 * at most COLUMNS and at most V_FLOATS / channels (the product reads one row of V per
 * channel: they stay in the L1 cache).
 */
const COLUMNS = 256;
const V_FLOATS = 4096;

/**
 * Floats of the module's memory (256 MB) beyond which a call leaves the convolution to the
 * direct path, which needs about a quarter of that (the transformed planes are 4x the input).
 */
const MAX_FLOATS = 1 << 26;

/**
 * Input channels (of the source: dy's channels for the input gradient) from which the
 * transforms pay off: with 1 or 3 channels into 32 the direct path measured 1.3x faster,
 * with 4 to 16 channels this one 1.1-1.3x.
 */
const MIN_CHANNELS = 4;

/** Whether a convolution with these attributes runs here. */
export function winogradApplies(a: { kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; groups: number; cs: number }): boolean {
  return (
    enabled && shiftedConvEnabled() && a.kh === 3 && a.kw === 3 && a.sh === 1 && a.sw === 1 && a.dh === 1 && a.dw === 1 && a.groups === 1 && a.cs >= MIN_CHANNELS
  );
}

/**
 * Multiply-adds per thread from which a call's samples are split between threads (each
 * thread runs whole samples: transforms and products, on its own buffers): about 1 ms of
 * one thread's work. On the shared 2-core machine, calls of about 1 ms split in two measured
 * 0.84-1.3x, of 2 ms 0.92-1.65x, the CNN's layers at batch 64 (8-25 ms) 1.4-1.8x.
 */
const MIN_PART_MACS = 1 << 22;

let minPartMacs = MIN_PART_MACS;

/** Sets MIN_PART_MACS (for tests that must exercise the split on small calls); null restores it. Returns the previous value. */
export function setWinogradSplitMin(macs: number | null): number {
  const was = minPartMacs;
  minPartMacs = macs ?? MIN_PART_MACS;
  return was;
}

/**
 * Floats of staged inputs and outputs per round of samples (64 MB): a round's samples are
 * copied into the module's memory at once, so that every thread reads its own from there.
 */
const ROUND_FLOATS = 1 << 24;

/**
 * Partial sums of the weight gradient: the samples of each round are split into this many
 * ranges, each summed into its own buffer (on its own thread where helpers run), and the
 * partials are added in order at the end. The split does not depend on threads, so the
 * weight gradient has the same bits on one thread or more.
 */
const PARTIALS = 2;

/** Kernel calls (BLOCK_LIST entries, 9 int32s each) written from int32 index e on. */
class Calls {
  constructor(
    private readonly i32: Int32Array,
    public e: number,
  ) {}

  add(id: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number, a8: number): void {
    const i32 = this.i32;
    const e = this.e;
    i32[e] = id;
    i32[e + 1] = a1;
    i32[e + 2] = a2;
    i32[e + 3] = a3;
    i32[e + 4] = a4;
    i32[e + 5] = a5;
    i32[e + 6] = a6;
    i32[e + 7] = a7;
    i32[e + 8] = a8;
    this.e = e + 9;
  }

  /** copy2d as a list entry (rows and planes under 65536). */
  copy(src: number, srcRow: number, srcPlane: number, dst: number, dstRow: number, dstPlane: number, len: number, rows: number, planes: number): void {
    this.add(BLOCK_COPY2D, src, srcRow, srcPlane, dst, dstRow, dstPlane, len, rows | (planes << 16));
  }
}

/**
 * copyPadded (conv-shifted.ts) as list entries, from planes already in the module's memory at
 * f32[src...] into f32[xp...]; returns where the padded planes are (src itself where nothing is padded).
 */
function padCalls(c: Calls, xp: number, zero: number, src: number, planes: number, p: Padded): number {
  const { H, W, Hp, Wp, pt, pl } = p;
  if (Hp === H && Wp === W && pt === 0 && pl === 0) return src;
  const r0 = Math.min(Hp, Math.max(0, pt));
  const r1 = Math.max(r0, Math.min(Hp, H + pt));
  const s0 = Math.min(Wp, Math.max(0, pl));
  const s1 = Math.max(s0, Math.min(Wp, W + pl));
  const plane = 4 * Hp * Wp;
  const zeros = (at: number, len: number, rows: number) => {
    if (len > 0 && rows > 0) c.copy(4 * zero, 0, 0, 4 * at, 4 * Wp, plane, len, rows, planes);
  };
  zeros(xp, Wp, r0);
  zeros(xp + r1 * Wp, Wp, Hp - r1);
  zeros(xp + r0 * Wp, s0, r1 - r0);
  zeros(xp + r0 * Wp + s1, Wp - s1, r1 - r0);
  if (r0 >= r1 || s0 >= s1) return xp;
  const from = src + (r0 - pt) * W + s0 - pl;
  c.copy(4 * from, 4 * W, 4 * H * W, 4 * (xp + r0 * Wp + s0), 4 * Wp, plane, s1 - s0, r1 - r0, planes);
  return xp;
}

/** Ranges [from, to) of `count` units for `parts` parts, in order. */
function ranges(count: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, q) => [Math.floor((q * count) / parts), Math.floor(((q + 1) * count) / parts)]);
}

/** Threads (parts) for `units` independent units of `macs` multiply-adds in all. */
function threadParts(h: ReturnType<typeof helpers>, units: number, macs: number): number {
  return h ? Math.max(1, Math.min(h.count + 1, units, Math.floor(macs / minPartMacs))) : 1;
}

/**
 * Tile grid of an outH x outW output: TH rows of TR tiles (T in all), stored TR apart; the
 * transforms take G4 steps of four tiles per row (TW = 4*G4 tiles, the last step's extra
 * ones written into the next row or past T: up to 3, see winoIn).
 */
function tiles(outH: number, outW: number): { TH: number; TR: number; G4: number; TW: number; T: number } {
  const TH = Math.ceil(outH / 2);
  const TR = Math.ceil(outW / 2);
  const G4 = Math.ceil(TR / 4);
  return { TH, TR, G4, TW: 4 * G4, T: TH * TR };
}

/** U = G g G^T (4x4, row-major into u) of the 3x3 g (row-major, at g[at...] with step `step` between taps: -1 flips). */
function transformWeight(g: Float32Array, at: number, step: number, u: Float64Array): void {
  const t = new Float64Array(12); // G g: 4x3
  for (let j = 0; j < 3; j++) {
    const g0 = g[at + step * j];
    const g1 = g[at + step * (3 + j)];
    const g2 = g[at + step * (6 + j)];
    t[j] = g0;
    t[3 + j] = 0.5 * (g0 + g1 + g2);
    t[6 + j] = 0.5 * (g0 - g1 + g2);
    t[9 + j] = g2;
  }
  for (let i = 0; i < 4; i++) {
    const r0 = t[3 * i];
    const r1 = t[3 * i + 1];
    const r2 = t[3 * i + 2];
    u[4 * i] = r0;
    u[4 * i + 1] = 0.5 * (r0 + r1 + r2);
    u[4 * i + 2] = 0.5 * (r0 - r1 + r2);
    u[4 * i + 3] = r2;
  }
}

/**
 * The forward pass (or, flipped, the input gradient) of a 3x3, stride-1, dilation-1,
 * one-group convolution: the same contract as shiftedConv2d. Returns false, doing
 * nothing, when it does not apply (winogradApplies) or the memory cannot grow.
 */
export function winogradConv2d(a: ShiftedConv, dst: Float32Array): boolean {
  if (!winogradApplies(a)) return false;
  const k = kernel as ConvWasm;
  const { src, N, H, W, cs, rows, pt, pl, outH, outW, weight, flipped, bias } = a;
  const { TH, TR, G4, TW, T } = tiles(outH, outW);
  // B samples per product: their tiles side by side (sample s from column s*T), with room
  // for the 3 tiles that the last step may write past them; whole 8-tile columns.
  const B = Math.max(1, Math.min(N, Math.floor(Math.min(COLUMNS, V_FLOATS / cs) / T)));
  // An odd number of 8-tile columns per row: row strides at multiples of 64 bytes measured
  // up to 1.3x slower (rows of V competing for the same cache sets).
  const Ts = (Math.ceil((B * T + 3) / NR) | 1) * NR;
  const Hp = 2 * TH + 2;
  const Wp = 2 * TW + 2;
  const mr = tileRows(rows);
  const mTiles = Math.ceil(rows / mr);
  const mPad = mTiles * mr;
  const P = outH * outW;
  const yPlane = 4 * TH * TW;
  const compact = outW === 2 * TW && outH === 2 * TH;
  if (Math.max(Hp, H, outH, cs, rows) >= 0x10000) return false;
  // A round: samples staged in and out together (whole products of B samples where it is less than N).
  const inSize = cs * H * W;
  const outSize = rows * P;
  const perRound = Math.min(N, Math.max(B, Math.floor(ROUND_FLOATS / (inSize + outSize) / B) * B));
  const productsPerRound = Math.ceil(perRound / B);
  // Threads take whole samples (their transforms and products).
  const h = helpers(k, true);
  const macs = 16 * mPad * cs * Math.ceil((B * T) / NR) * NR * productsPerRound;
  const maxParts = threadParts(h, perRound, macs);
  // Entries per part: per sample at most 5 copies, cs input and rows output transforms and
  // 1 copy out; 16 per product (at most one more than productsPerRound in a part's share).
  const listInts = 9 * (perRound * (6 + cs + rows) + 16 * (productsPerRound + 1));
  const own = [cs * Hp * Wp, 16 * cs * Ts, 16 * mPad * Ts, compact ? 0 : rows * yPlane, listInts];
  const sizes = [16 * mPad * cs, cs, Wp + 16, rows, perRound * inSize, perRound * outSize];
  for (let q = 0; q < maxParts; q++) sizes.push(...own);
  const { at, total } = layout(sizes);
  const [UA, OFFS, ZERO, BIAS, SRC, DST] = at;
  const part = (q: number) => at.slice(6 + 5 * q, 11 + 5 * q);
  if (total > MAX_FLOATS || !k.ensure(total)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  // U[xi] as mr-row panels: [xi][row tile][c][mr]; rows past `rows` are zero.
  f32.fill(0, UA, UA + 16 * mPad * cs);
  const u = new Float64Array(16);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cs; c++) {
      if (flipped) transformWeight(weight, (c * rows + r) * 9 + 8, -1, u);
      else transformWeight(weight, (r * cs + c) * 9, 1, u);
      const d = UA + Math.floor(r / mr) * cs * mr + c * mr + (r % mr);
      for (let x = 0; x < 16; x++) f32[d + x * mPad * cs] = u[x];
    }
  }
  for (let c = 0; c < cs; c++) i32[OFFS + c] = 4 * c * Ts;
  f32.fill(0, ZERO, ZERO + Wp + 16);
  for (let r = 0; r < rows; r++) f32[BIAS + r] = bias ? bias[r] : 0;
  // The columns past the tiles in each row of V (read by the last 8-tile column) must be finite.
  for (let q = 0; q < maxParts; q++) f32.fill(0, part(q)[1], part(q)[1] + 16 * cs * Ts);
  const product = mr === 4 ? BLOCK_SHIFTED4_Z : BLOCK_SHIFTED_Z;
  const padded = { H, W, Hp, Wp, pt, pl };
  for (let r0 = 0; r0 < N; r0 += perRound) {
    const count = Math.min(perRound, N - r0);
    // Each part takes an even share of the samples, in products of up to B samples (each
    // tile's output does not depend on the other columns of its product).
    const parts = Math.min(maxParts, count);
    const shares = ranges(count, parts);
    const lists = shares.map(([n0, n1], q) => {
      const [XP, V, M, Y, LIST] = part(q);
      const c = new Calls(i32, LIST);
      for (let s0 = n0; s0 < n1; s0 += B) {
        const b = Math.min(B, n1 - s0);
        // Samples in order: each one's overflow tiles are overwritten by the next.
        for (let s = 0; s < b; s++) {
          const xp = padCalls(c, XP, ZERO, SRC + (s0 + s) * inSize, cs, padded);
          for (let ch = 0; ch < cs; ch++) c.add(BLOCK_WINO_IN, 4 * (xp + ch * Hp * Wp), 4 * Wp, 4 * (V + ch * Ts + s * T), 4 * cs * Ts, TH, G4, 4 * TR, 0);
        }
        const nTiles = Math.ceil((b * T) / NR);
        for (let x = 0; x < 16; x++) c.add(product, cs, 4 * (UA + x * mPad * cs), 4 * OFFS, 4 * (V + x * cs * Ts), 4 * (M + x * mPad * Ts), 4 * Ts, mTiles, nTiles);
        for (let s = 0; s < b; s++) {
          const out = DST + (s0 + s) * outSize;
          const y = compact ? out : Y;
          for (let r = 0; r < rows; r++) c.add(BLOCK_WINO_OUT, 4 * (M + r * Ts + s * T), 4 * mPad * Ts, 4 * (y + r * yPlane), 8 * TW, TH, G4, 4 * (BIAS + r), 4 * TR);
          if (!compact) c.copy(4 * Y, 8 * TW, 4 * yPlane, 4 * out, 4 * outW, 4 * P, outW, outH, rows);
        }
      }
      return { at: LIST, count: (c.e - LIST) / 9 };
    });
    // Each part's samples are copied in just before it starts and out as soon as it is done.
    runParts(
      k,
      parts > 1 ? h : null,
      lists,
      (q) => {
        const [s0, s1] = shares[q];
        k.f32.set(src.subarray((r0 + s0) * inSize, (r0 + s1) * inSize), SRC + s0 * inSize);
      },
      (q) => {
        const [s0, s1] = shares[q];
        dst.set(k.f32.subarray(DST + s0 * outSize, DST + s1 * outSize), (r0 + s0) * outSize);
      },
    );
  }
  return true;
}

/**
 * The weight gradient of a 3x3, stride-1, dilation-1, one-group convolution: the same
 * contract as shiftedConv2dFilter. Returns false, doing nothing, when it does not apply
 * (winogradApplies with cs = the input channels) or the memory cannot grow.
 */
export function winogradConv2dFilter(a: ShiftedFilterGrad, dwOut: Float32Array): boolean {
  if (!winogradApplies({ ...a, cs: a.cg })) return false;
  const k = kernel as ConvWasm;
  const { x, dy, N, H, W, cg: C, og: O, pt, pl, outH, outW } = a;
  const { TH, TR, G4, TW, T } = tiles(outH, outW);
  // Rows of V and the panels of the output gradient have room for the 3 tiles written past T.
  const Ts = T + 4;
  const Hp = 2 * TH + 2;
  const Wp = 2 * TW + 2;
  const mr = tileRows(C);
  const kTiles = Math.ceil(C / mr);
  const kPad = kTiles * mr;
  const oTiles = Math.ceil(O / NR);
  const ldc = oTiles * NR;
  const P = outH * outW;
  const dyPlane = 4 * TH * TW;
  const dPanels = oTiles * Ts * NR;
  if (Math.max(Hp, H, 2 * TH, outH, C, O) >= 0x10000) return false;
  const inSize = C * H * W;
  const dySize = O * P;
  const perRound = Math.min(N, Math.max(PARTIALS, Math.floor(ROUND_FLOATS / (inSize + dySize))));
  const sSize = 16 * kPad * ldc;
  // Entries per partial: per sample at most 5 + 5 copies, C input and O gradient transforms, 16 products.
  const listInts = 9 * Math.ceil(perRound / PARTIALS) * (10 + C + O + 16);
  const own = [C * Hp * Wp, O * dyPlane, 16 * C * Ts, 16 * dPanels, sSize, listInts];
  const sizes = [kPad, Wp + 16, perRound * inSize, perRound * dySize];
  for (let q = 0; q < PARTIALS; q++) sizes.push(...own);
  const { at, total } = layout(sizes);
  const [OFFS, ZERO, SRC, DYS] = at;
  const part = (q: number) => at.slice(4 + 6 * q, 10 + 6 * q);
  if (total > MAX_FLOATS || !k.ensure(total)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  // Row tiles past C read row 0 into rows of S that are dropped.
  for (let c = 0; c < kPad; c++) i32[OFFS + c] = c < C ? 4 * c * Ts : 0;
  f32.fill(0, ZERO, ZERO + Wp + 16);
  for (let q = 0; q < PARTIALS; q++) {
    const [, , , D, S] = part(q);
    // Channels past O in the last panel stay zero.
    f32.fill(0, D, D + 16 * dPanels);
    f32.fill(0, S, S + sSize);
  }
  const product = mr === 4 ? BLOCK_SHIFTED_T4 : BLOCK_SHIFTED_T;
  const h = helpers(k, true);
  const padded = { H, W, Hp, Wp, pt, pl };
  const dyPadded = { H: outH, W: outW, Hp: 2 * TH, Wp: 2 * TW, pt: 0, pl: 0 };
  for (let r0 = 0; r0 < N; r0 += perRound) {
    const count = Math.min(perRound, N - r0);
    // Each partial sums its own range of samples (the same ranges whichever thread runs it).
    const samples = ranges(count, PARTIALS);
    const lists = samples.map(([n0, n1], q) => {
      const [XP, DYP, V, D, S, LIST] = part(q);
      const c = new Calls(i32, LIST);
      for (let n = n0; n < n1; n++) {
        const xp = padCalls(c, XP, ZERO, SRC + n * inSize, C, padded);
        for (let ch = 0; ch < C; ch++) c.add(BLOCK_WINO_IN, 4 * (xp + ch * Hp * Wp), 4 * Wp, 4 * (V + ch * Ts), 4 * C * Ts, TH, G4, 4 * TR, 0);
        const dyp = padCalls(c, DYP, ZERO, DYS + n * dySize, O, dyPadded);
        for (let o = 0; o < O; o++) {
          c.add(BLOCK_WINO_DY, 4 * (dyp + o * dyPlane), 8 * TW, 4 * (D + (o >> 3) * Ts * NR + (o & 7)), 4 * dPanels, TH, G4, 4 * NR, 4 * NR * TR);
        }
        for (let xi = 0; xi < 16; xi++) {
          c.add(product, T, 4 * (D + xi * dPanels), 4 * Ts * NR, 4 * (V + xi * C * Ts), 4 * OFFS, 4 * (S + xi * kPad * ldc), 4 * ldc, kTiles | (oTiles << 16));
        }
      }
      return { at: LIST, count: (c.e - LIST) / 9, macs: (n1 - n0) * 16 * T * kPad * ldc };
    });
    const parts = threadParts(h, PARTIALS, lists.reduce((m, l) => m + l.macs, 0));
    // Each part's samples are copied in just before it starts.
    runParts(k, parts > 1 ? h : null, lists, (q) => {
      const [n0, n1] = samples[q];
      k.f32.set(x.subarray((r0 + n0) * inSize, (r0 + n1) * inSize), SRC + n0 * inSize);
      k.f32.set(dy.subarray((r0 + n0) * dySize, (r0 + n1) * dySize), DYS + n0 * dySize);
    });
  }
  // The partials in order: S = S_0 + S_1 + ...
  const S = part(0)[4];
  for (let q = 1; q < PARTIALS; q++) {
    const Sq = part(q)[4];
    for (let i = 0; i < sSize; i++) f32[S + i] += f32[Sq + i];
  }
  // dW = G^T S G for each (o, c); S[xi][c][o].
  const s = new Float64Array(16);
  const t = new Float64Array(12);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let xi = 0; xi < 16; xi++) s[xi] = f32[S + xi * kPad * ldc + c * ldc + o];
      // G^T s: 3x4, G^T = [[1, .5, .5, 0], [0, .5, -.5, 0], [0, .5, .5, 1]].
      for (let j = 0; j < 4; j++) {
        t[j] = s[j] + 0.5 * (s[4 + j] + s[8 + j]);
        t[4 + j] = 0.5 * (s[4 + j] - s[8 + j]);
        t[8 + j] = 0.5 * (s[4 + j] + s[8 + j]) + s[12 + j];
      }
      const d = (o * C + c) * 9;
      for (let i = 0; i < 3; i++) {
        const r = 4 * i;
        dwOut[d + 3 * i] = t[r] + 0.5 * (t[r + 1] + t[r + 2]);
        dwOut[d + 3 * i + 1] = 0.5 * (t[r + 1] - t[r + 2]);
        dwOut[d + 3 * i + 2] = 0.5 * (t[r + 1] + t[r + 2]) + t[r + 3];
      }
    }
  }
  return true;
}
