/**
 * Stride-1 convolutions on the CPU without an im2col matrix, on the WebAssembly kernels of
 * conv-wasm.ts: each sample's input planes are copied once into a zero-padded buffer in
 * the module's memory and the kernels read every receptive-field row from it in place
 * (see conv-wasm.ts). Forward and input gradient are one routine (the input gradient of a
 * stride-1 convolution is a stride-1 convolution of the output gradient with the flipped,
 * transposed weight); the weight gradient accumulates over the batch in the module's
 * memory. The bias is written into the output tiles before the product.
 */
import { CONV_MR as MR, CONV_NR as NR, type ConvWasm, convWasm } from './conv-wasm.ts';

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

/** Depth per kernel call: the A panels of one row block stay in cache across column panels. */
const KC = 320;
/** Rows (output channels) per kernel call of the forward routine. */
const MC = 96;
/** Pixels per kernel call of the weight gradient. */
const QC = 512;

/**
 * Rows per tile for `rows` rows: 4 unless 6 pads fewer (the 4-row kernels run a little
 * faster per multiply, the 6-row ones waste less on 6, 18 or 30 rows, say).
 */
function tileRows(rows: number): number {
  return Math.ceil(rows / 4) * 4 <= Math.ceil(rows / MR) * MR ? 4 : MR;
}

/** Region allocator over the module's memory, in floats, each region 64-byte aligned. */
function layout(sizes: number[]): { at: number[]; total: number } {
  const at: number[] = [];
  let p = 0;
  for (const s of sizes) {
    at.push(p);
    p += Math.ceil(s / 16) * 16;
  }
  return { at, total: p };
}

/** A zero-padded copy of input planes: Hp x Wp each, the input at row pt, column pl (either may be negative: cropped). */
interface Padded {
  H: number;
  W: number;
  Hp: number;
  Wp: number;
  pt: number;
  pl: number;
}

/**
 * Copies `planes` planes of src (from element srcOff) into the padded buffer at f32[xp...]
 * through the staging area f32[stage...]: one block copy into the module's memory, then
 * the module's strided row copy. The buffer's borders stay zero.
 */
function copyPadded(k: ConvWasm, xp: number, stage: number, src: Float32Array, srcOff: number, planes: number, p: Padded): void {
  const { H, W, Hp, Wp, pt, pl } = p;
  const r0 = Math.max(0, pt);
  const r1 = Math.min(Hp, H + pt);
  const s0 = Math.max(0, pl);
  const s1 = Math.min(Wp, W + pl);
  if (r0 >= r1 || s0 >= s1) return;
  k.f32.set(src.subarray(srcOff, srcOff + planes * H * W), stage);
  const from = stage + (r0 - pt) * W + s0 - pl;
  k.copy2d(4 * from, 4 * W, 4 * H * W, 4 * (xp + r0 * Wp + s0), 4 * Wp, 4 * Hp * Wp, s1 - s0, r1 - r0, planes);
}

/** Byte offsets of the receptive-field entries (c, i, j), c < cs, in the padded planes. */
function writeOffsets(i32: Int32Array, at: number, cs: number, kh: number, kw: number, dh: number, dw: number, Hp: number, Wp: number): void {
  let k = at;
  for (let c = 0; c < cs; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) i32[k++] = 4 * (c * Hp * Wp + i * dh * Wp + j * dw);
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
 * src[n, g*cs + c, oh - pt + i*dh, ow - pl + j*dw] (zero outside src). Returns false,
 * doing nothing, when the WebAssembly kernels are unavailable or off.
 */
export function shiftedConv2d(a: ShiftedConv, dst: Float32Array): boolean {
  if (!enabled) return false;
  const k = kernel as ConvWasm;
  const { src, N, H, W, groups, cs, rows, kh, kw, dh, dw, pt, pl, outH, outW, weight, flipped, bias } = a;
  const khw = kh * kw;
  const K = cs * khw;
  const Hp = outH + dh * (kh - 1);
  const Wp = outW + dw * (kw - 1);
  const len = outH * Wp;
  const nTiles = Math.ceil(len / NR);
  const ldc = nTiles * NR;
  const mr = tileRows(rows);
  const mTiles = Math.ceil(rows / mr);
  const mPad = mTiles * mr;
  const planeSize = cs * Hp * Wp + dw * (kw - 1) + 2 * NR;
  const P = outH * outW;
  const { at, total } = layout([groups * mPad * K, K, planeSize, mPad * ldc, Math.max(cs * H * W, rows * P)]);
  const [PA, OFFS, XP, CM, STAGE] = at;
  k.ensure(total);
  const f32 = k.f32;
  // The weight as mr-row panels: [depth block][row tile][depth in block][mr], one set per group.
  const kSteps = Math.ceil(K / KC);
  const kStep = Math.ceil(K / kSteps);
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
          else if (!flipped) f32[d] = weight[(g * rows + r) * K + p];
          else {
            const o = Math.floor(p / khw);
            f32[d] = weight[((g * og + o) * cg + r) * khw + khw - 1 - (p % khw)];
          }
        }
      }
    }
  }
  writeOffsets(k.i32, OFFS, cs, kh, kw, dh, dw, Hp, Wp);
  f32.fill(0, XP, XP + planeSize);
  const pad: Padded = { H, W, Hp, Wp, pt, pl };
  const S = groups * cs;
  const O = groups * rows;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      copyPadded(k, XP, STAGE, src, (n * S + g * cs) * H * W, cs, pad);
      for (let r = 0; r < rows; r++) f32.fill(bias ? bias[g * rows + r] : 0, CM + r * ldc, CM + (r + 1) * ldc);
      const base = PA + g * mPad * K;
      for (let t0 = 0; t0 < mTiles; t0 += MC / mr) {
        const t1 = Math.min(mTiles, t0 + MC / mr);
        for (let kb = 0; kb < K; kb += kStep) {
          const kc = Math.min(kStep, K - kb);
          const args = [kc, 4 * (base + kb * mPad + t0 * kc * mr), 4 * (OFFS + kb), 4 * XP, 4 * (CM + t0 * mr * ldc), 4 * ldc, t1 - t0, nTiles] as const;
          if (mr === 4) k.shifted4(...args);
          else k.shifted(...args);
        }
      }
      // Drop the padded columns, then one block copy out.
      k.copy2d(4 * CM, 4 * Wp, 4 * ldc, 4 * STAGE, 4 * outW, 4 * P, outW, outH, rows);
      dst.set(f32.subarray(STAGE, STAGE + rows * P), (n * O + g * rows) * P);
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
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  outH: number;
  outW: number;
}

/**
 * The stride-1 weight gradient: dw[g*og + o, c, i, j] = sum over n, oh, ow of
 * dy[n, g*og + o, oh, ow] * x[n, g*cg + c, oh - pt + i*dh, ow - pl + j*dw]. Returns
 * false, doing nothing, when the WebAssembly kernels are unavailable or off.
 */
export function shiftedConv2dFilter(a: ShiftedFilterGrad, dwOut: Float32Array): boolean {
  if (!enabled) return false;
  const k = kernel as ConvWasm;
  const { x, dy, N, H, W, groups, cg, og, kh, kw, dh, dw, pt, pl, outH, outW } = a;
  const K = cg * kh * kw;
  const Hp = outH + dh * (kh - 1);
  const Wp = outW + dw * (kw - 1);
  const len = outH * Wp;
  const mr = tileRows(K);
  const kTiles = Math.ceil(K / mr);
  const oTiles = Math.ceil(og / NR);
  const ldc = oTiles * NR;
  const planeSize = cg * Hp * Wp + dw * (kw - 1) + 2 * NR;
  const cmSize = kTiles * mr * ldc;
  const P = outH * outW;
  const { at, total } = layout([kTiles * mr, planeSize, oTiles * len * NR, groups * cmSize, Math.max(cg * H * W, og * P)]);
  const [OFFS, XP, DT, CM, STAGE] = at;
  k.ensure(total);
  const f32 = k.f32;
  const i32 = k.i32;
  writeOffsets(i32, OFFS, cg, kh, kw, dh, dw, Hp, Wp);
  i32.fill(0, OFFS + K, OFFS + kTiles * mr);
  f32.fill(0, XP, XP + planeSize);
  f32.fill(0, DT, DT + oTiles * len * NR);
  f32.fill(0, CM, CM + groups * cmSize);
  const pad: Padded = { H, W, Hp, Wp, pt, pl };
  const C = groups * cg;
  const O = groups * og;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      copyPadded(k, XP, STAGE, x, (n * C + g * cg) * H * W, cg, pad);
      // dy of the group, transposed into 8-channel panels: DT[panel][q][o % 8], q = oh*Wp + ow.
      f32.set(dy.subarray((n * O + g * og) * P, (n * O + g * og + og) * P), STAGE);
      k.toPanels(4 * STAGE, 4 * DT, og, outH, outW, Wp, 4 * len * NR, 0);
      const cm = CM + g * cmSize;
      for (let q0 = 0; q0 < len; q0 += QC) {
        const args = [Math.min(QC, len - q0), 4 * (DT + q0 * NR), 4 * len * NR, 4 * (XP + q0), 4 * OFFS, 4 * cm, 4 * ldc, kTiles, oTiles] as const;
        if (mr === 4) k.shiftedT4(...args);
        else k.shiftedT(...args);
      }
    }
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
