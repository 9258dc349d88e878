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
 */
import { copyPadded, helpers, layout, partsFor, runParts, type ShiftedConv, type ShiftedFilterGrad, shiftedConvEnabled, tileRows } from './conv-shifted.ts';
import { BLOCK_SHIFTED_T, BLOCK_SHIFTED_T4, BLOCK_SHIFTED_Z, BLOCK_SHIFTED4_Z, CONV_NR as NR, type ConvWasm, convWasm } from './conv-wasm.ts';

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
 * Runs the 16 products listed at i32[list...] (BLOCK_LIST entries), each of `macs`
 * multiply-adds: on this thread, or split by entries between helper threads where
 * convolution threads are on (each product writes its own output: the same results).
 */
function products(k: ConvWasm, h: ReturnType<typeof helpers>, list: number, macs: number): void {
  const parts = partsFor(h, 16, 16 * macs);
  runParts(k, h, Array.from({ length: parts }, (_, q) => {
    const x0 = Math.floor((q * 16) / parts);
    const x1 = Math.floor(((q + 1) * 16) / parts);
    return { at: list + 9 * x0, count: x1 - x0 };
  }));
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
  const { at, total } = layout([16 * mPad * cs, cs, Math.max(cs * H * W, rows * P), Wp + 16, cs * Hp * Wp, 16 * cs * Ts, 16 * mPad * Ts, rows * yPlane, rows, 16 * 9]);
  const [UA, OFFS, STAGE, ZERO, XP, V, M, Y, BIAS, LIST] = at;
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
  // The columns past the tiles in each row of V (read by the last 8-tile column) must be finite.
  f32.fill(0, V, V + 16 * cs * Ts);
  for (let r = 0; r < rows; r++) f32[BIAS + r] = bias ? bias[r] : 0;
  const product = mr === 4 ? BLOCK_SHIFTED4_Z : BLOCK_SHIFTED_Z;
  const h = helpers(k);
  const padded = { H, W, Hp, Wp, pt, pl };
  const compact = outW === 2 * TW && outH === 2 * TH;
  for (let n0 = 0; n0 < N; n0 += B) {
    const b = Math.min(B, N - n0);
    // Samples in order: each one's overflow tiles are overwritten by the next.
    for (let s = 0; s < b; s++) {
      copyPadded(k, XP, STAGE, ZERO, src, (n0 + s) * cs * H * W, cs, padded);
      for (let c = 0; c < cs; c++) k.winoIn(4 * (XP + c * Hp * Wp), 4 * Wp, 4 * (V + c * Ts + s * T), 4 * cs * Ts, TH, G4, 4 * TR, 0);
    }
    const nTiles = Math.ceil((b * T) / NR);
    for (let x = 0; x < 16; x++) {
      i32.set([product, cs, 4 * (UA + x * mPad * cs), 4 * OFFS, 4 * (V + x * cs * Ts), 4 * (M + x * mPad * Ts), 4 * Ts, mTiles, nTiles], LIST + 9 * x);
    }
    products(k, h, LIST, mPad * cs * nTiles * NR);
    for (let s = 0; s < b; s++) {
      for (let r = 0; r < rows; r++) k.winoOut(4 * (M + r * Ts + s * T), 4 * mPad * Ts, 4 * (Y + r * yPlane), 8 * TW, TH, G4, 4 * (BIAS + r), 4 * TR);
      const at = (n0 + s) * rows * P;
      if (compact) dst.set(f32.subarray(Y, Y + rows * P), at);
      else {
        k.copy2d(4 * Y, 8 * TW, 4 * yPlane, 4 * STAGE, 4 * outW, 4 * P, outW, outH, rows);
        dst.set(f32.subarray(STAGE, STAGE + rows * P), at);
      }
    }
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
  const { at, total } = layout([kPad, Math.max(C * H * W, O * P), Wp + 16, C * Hp * Wp, O * dyPlane, 16 * C * Ts, 16 * dPanels, 16 * kPad * ldc, 16 * 9]);
  const [OFFS, STAGE, ZERO, XP, DYP, V, D, S, LIST] = at;
  if (total > MAX_FLOATS || !k.ensure(total)) return false;
  const f32 = k.f32;
  const i32 = k.i32;
  // Row tiles past C read row 0 into rows of S that are dropped.
  for (let c = 0; c < kPad; c++) i32[OFFS + c] = c < C ? 4 * c * Ts : 0;
  f32.fill(0, ZERO, ZERO + Wp + 16);
  // Channels past O in the last panel stay zero.
  f32.fill(0, D, D + 16 * dPanels);
  f32.fill(0, S, S + 16 * kPad * ldc);
  const product = mr === 4 ? BLOCK_SHIFTED_T4 : BLOCK_SHIFTED_T;
  const h = helpers(k);
  for (let xi = 0; xi < 16; xi++) {
    i32.set([product, T, 4 * (D + xi * dPanels), 4 * Ts * NR, 4 * (V + xi * C * Ts), 4 * OFFS, 4 * (S + xi * kPad * ldc), 4 * ldc, kTiles | (oTiles << 16)], LIST + 9 * xi);
  }
  const padded = { H, W, Hp, Wp, pt, pl };
  const dyPadded = { H: outH, W: outW, Hp: 2 * TH, Wp: 2 * TW, pt: 0, pl: 0 };
  for (let n = 0; n < N; n++) {
    copyPadded(k, XP, STAGE, ZERO, x, n * C * H * W, C, padded);
    for (let c = 0; c < C; c++) k.winoIn(4 * (XP + c * Hp * Wp), 4 * Wp, 4 * (V + c * Ts), 4 * C * Ts, TH, G4, 4 * TR, 0);
    copyPadded(k, DYP, STAGE, ZERO, dy, n * O * P, O, dyPadded);
    for (let o = 0; o < O; o++) {
      k.winoDy(4 * (DYP + o * dyPlane), 8 * TW, 4 * (D + (o >> 3) * Ts * NR + (o & 7)), 4 * dPanels, TH, G4, 4 * NR, 4 * NR * TR);
    }
    products(k, h, LIST, T * kPad * ldc);
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
