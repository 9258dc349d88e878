/**
 * WebAssembly SIMD row passes of the fused attention kernels (attention.ts): the softmax of
 * each block of scores and its backward, on the memory of the attention module's GEMM
 * kernel (attention-wasm.ts), so that scores, weights and score gradients never leave it.
 * Assembled here from bytes (simd-asm.ts). All addresses and strides are in bytes; a block
 * has L rows of S keys, row l seeing its first J keys (J = S, or min(S, l + 1) when causal).
 *
 * - `forward*(L, S, src, ld, scale, causal, mask, mRow, mCol, drop, probs, weights)`: for
 *   each row of scores (src, rows ld apart; overwritten) x = score * scale (+ mask, row l
 *   at mask + l*mRow, key j at + j*mCol), p = softmax over the first J keys, 0 past them,
 *   written as rows of S at probs and, with dropout, p * drop at weights. A row with every
 *   key at -Infinity is NaN throughout; a NaN score makes its row's first J values NaN.
 * - `backward*(L, S, src, ld, scale, causal, P, dW, drop, dst)`: for each row, with
 *   g = (src + dW) * drop (each term where the variant has it), writes
 *   P (g - sum_j g P) * scale over the first J keys and 0 past them as rows of S at dst;
 *   src is overwritten.
 *
 * Work goes 4 keys at a time: the lanes of a row's last group past J are excluded from its
 * max and sums, rows are written whole (S values), and the last group's lanes past S land
 * in the first values of the next row, which that row then writes, or in up to 3 floats
 * past the last row (slack the caller provides). Sums are float32, 4 lanes then across
 * them; exp is simd-asm.ts's, a few float32 ulps from the float64 one and exactly 0 below
 * -88. Reads of src go up to S rounded up to 4 in each row, within ld.
 */
import { type WasmGemmKernel } from './gemm-wasm.ts';
import { expSteps, Fn, OP, V } from './simd-asm.ts';
import { ascii, instantiateWasm, leb, section } from '../../core/wasm-host.ts';

/** How the forward adds the mask: none, a contiguous row (mCol = 4 bytes), or any column stride. */
export type MaskKind = 'none' | 'rows' | 'strided';

export interface AttentionRows {
  forward(maskKind: MaskKind, dropout: boolean, L: number, S: number, src: number, ld: number, scale: number, causal: number, mask: number, mRow: number, mCol: number, drop: number, probs: number, weights: number): void;
  backward(weightsGrad: boolean, dropout: boolean, L: number, S: number, src: number, ld: number, scale: number, causal: number, P: number, dW: number, drop: number, dst: number): void;
}

const SWAP_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const SWAP_PAIRS = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];

/** v = reduce(v, lanes of v swapped) twice: every lane holds the reduction of all four. */
function across(f: Fn, v: number, reduce: number): void {
  for (const lanes of [SWAP_HALVES, SWAP_PAIRS]) f.get(v).get(v).get(v).simd(V.shuffle, ...lanes).simd(reduce).set(v);
}

/** Pushes the lanes of the group at byte offset local j that lie before local limit (bytes): i32x4 (j + 4q < limit). */
function before(f: Fn, j: number, limit: number): void {
  f.get(j).simd(V.i32Splat).i4(0, 4, 8, 12).simd(V.i32Add).get(limit).simd(V.i32Splat).simd(V.i32LtS);
}

/** J4 = the row's visible keys in bytes: S*4, or min(S, l + 1)*4 with CAUSAL. */
function visible(f: Fn, l: number, sb: number, causal: number, j4: number, t: number): void {
  f.get(l).c(1).op(OP.i32Add).c(2).op(OP.i32Shl).set(t);
  f.get(t).get(sb).get(t).get(sb).op(OP.i32LtS, OP.select);
  f.get(sb).get(causal).op(OP.select).set(j4);
}

/** A loop over groups of 4 at byte offset local j from 0 while j < local end; `body` emits one group. */
function groups(f: Fn, j: number, end: number, body: () => void): void {
  f.c(0).set(j);
  f.op(OP.loop, 0x40);
  body();
  f.addConst(j, 16);
  f.get(j).get(end).op(OP.i32LtS, OP.brIf, 0, OP.end);
}

function forwardBody(maskKind: MaskKind, dropout: boolean): number[] {
  const f = new Fn(12, 7, 24);
  const [L, S, SRC, LD, SCALE, CAUSAL, MASK, MROW, MCOL, DROP, PROBS, WEIGHTS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [l, sb, j4, lim, j, t, a] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const [x, mx, sum, scale, inv, k, p] = [f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v()];
  f.get(SCALE).simd(V.fSplat).set(scale);
  f.get(S).c(2).op(OP.i32Shl).set(sb);
  f.c(0).set(l);
  f.op(OP.loop, 0x40);
  visible(f, l, sb, CAUSAL, j4, t);
  // x = score * scale (+ mask), -Infinity past J; running max (pmax skips NaN, as `x > max` does)
  f.k4(-Infinity).set(mx);
  groups(f, j, j4, () => {
    f.load(SRC, j).get(scale).simd(V.fMul);
    if (maskKind === 'rows') {
      f.load(MASK, j).simd(V.fAdd);
    } else if (maskKind === 'strided') {
      // lane q: the mask at key min(j/4 + q, J - 1), so that no read goes past the row's last visible key
      for (let q = 0; q < 4; q++) {
        if (q > 0) f.get(k);
        f.get(j).c(4 * q).op(OP.i32Add).tee(t).get(j4).c(4).op(OP.i32Sub).tee(a).get(t).get(a).op(OP.i32LtS, OP.select);
        f.c(2).op(OP.i32ShrU).get(MCOL).op(OP.i32Mul).get(MASK).op(OP.i32Add).op(OP.f32Load, 2, 0);
        if (q === 0) f.simd(V.fSplat).set(k);
        else f.simd(V.fReplaceLane, q).set(k);
      }
      f.get(k).simd(V.fAdd);
    }
    f.k4(-Infinity);
    before(f, j, j4);
    f.simd(V.bitselect).set(x);
    f.store(SRC, j, x);
    f.get(mx).get(x).simd(V.fPmax).set(mx);
  });
  across(f, mx, V.fPmax);
  // lim = S*4 when every key is blocked (the row is NaN), else J4
  f.get(sb).get(j4).get(mx).simd(V.fExtractLane, 0).op(OP.f32Const, 0, 0, 0x80, 0xff, OP.f32Eq, OP.select).set(lim);
  // e = exp(x - max), in place; sum
  f.k4(0).set(sum);
  groups(f, j, j4, () => {
    f.load(SRC, j).get(mx).simd(V.fSub).set(x);
    expSteps(f, [x], [k], [p], false);
    f.store(SRC, j, x);
    f.get(sum).get(x).simd(V.fAdd).set(sum);
  });
  across(f, sum, V.fAdd);
  f.k4(1).get(sum).simd(V.fDiv).set(inv);
  // probs = e / sum before lim, 0 after; weights = probs * drop
  groups(f, j, sb, () => {
    f.load(SRC, j).get(inv).simd(V.fMul).k4(0);
    before(f, j, lim);
    f.simd(V.bitselect).set(x);
    f.store(PROBS, j, x);
    if (dropout) {
      f.get(x).load(DROP, j).simd(V.fMul).set(x);
      f.store(WEIGHTS, j, x);
    }
  });
  f.addTo(SRC, LD).addTo(PROBS, sb).addTo(MASK, MROW);
  if (dropout) f.addTo(WEIGHTS, sb).addTo(DROP, sb);
  f.addConst(l, 1);
  f.get(l).get(L).op(OP.i32LtS, OP.brIf, 0, OP.end);
  return f.encode();
}

function backwardBody(weightsGrad: boolean, dropout: boolean): number[] {
  const f = new Fn(10, 5, 6);
  const [L, S, SRC, LD, SCALE, CAUSAL, P, DW, DROP, DST] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [l, sb, j4, j, t] = [f.i32(), f.i32(), f.i32(), f.i32(), f.i32()];
  const [g, r, scale] = [f.v(), f.v(), f.v()];
  f.get(SCALE).simd(V.fSplat).set(scale);
  f.get(S).c(2).op(OP.i32Shl).set(sb);
  f.c(0).set(l);
  f.op(OP.loop, 0x40);
  visible(f, l, sb, CAUSAL, j4, t);
  // g = (dW' + weights' gradient) * drop, in place; r = sum over the visible keys of g P
  f.k4(0).set(r);
  groups(f, j, j4, () => {
    f.load(SRC, j);
    if (weightsGrad) f.load(DW, j).simd(V.fAdd);
    if (dropout) f.load(DROP, j).simd(V.fMul);
    f.set(g);
    f.store(SRC, j, g);
    f.get(r).get(g).load(P, j).simd(V.fMul).k4(0);
    before(f, j, j4);
    f.simd(V.bitselect).simd(V.fAdd).set(r);
  });
  across(f, r, V.fAdd);
  // dScore = P (g - r) * scale before J, 0 after
  groups(f, j, sb, () => {
    f.load(P, j).load(SRC, j).get(r).simd(V.fSub).simd(V.fMul).get(scale).simd(V.fMul).k4(0);
    before(f, j, j4);
    f.simd(V.bitselect).set(g);
    f.store(DST, j, g);
  });
  f.addTo(SRC, LD).addTo(P, sb).addTo(DST, sb);
  if (weightsGrad) f.addTo(DW, sb);
  if (dropout) f.addTo(DROP, sb);
  f.addConst(l, 1);
  f.get(l).get(L).op(OP.i32LtS, OP.brIf, 0, OP.end);
  return f.encode();
}

const MASK_KINDS: MaskKind[] = ['none', 'rows', 'strided'];
const forwardName = (m: MaskKind, d: boolean) => `forward_${m}_${d ? 'drop' : 'keep'}`;
const backwardName = (w: boolean, d: boolean) => `backward_${w ? 'dw' : 'nodw'}_${d ? 'drop' : 'keep'}`;

/** The module's bytes: imported memory "env"."mem" and the forward and backward variants. */
export function attentionRowsModuleBytes(): Uint8Array {
  const I32 = 0x7f;
  const F32 = 0x7d;
  const funcs: [string, number, number[]][] = [];
  for (const m of MASK_KINDS) for (const d of [false, true]) funcs.push([forwardName(m, d), 0, forwardBody(m, d)]);
  for (const w of [false, true]) for (const d of [false, true]) funcs.push([backwardName(w, d), 1, backwardBody(w, d)]);
  const exports = funcs.flatMap(([name], i) => [name.length, ...ascii(name), 0, i]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    // type 0: forward (i32 x4, f32, i32 x7); type 1: backward (i32 x4, f32, i32 x5)
    ...section(1, [2, 0x60, 12, I32, I32, I32, I32, F32, I32, I32, I32, I32, I32, I32, I32, 0, 0x60, 10, I32, I32, I32, I32, F32, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, 3, ...ascii('env'), 3, ...ascii('mem'), 2, 0, 1]), // memory import, at least 1 page
    ...section(3, [...leb(funcs.length), ...funcs.map(([, type]) => type)]),
    ...section(7, [...leb(funcs.length), ...exports]),
    ...section(10, [...leb(funcs.length), ...funcs.flatMap(([, , body]) => body)]),
  ]);
}

type ForwardFn = (L: number, S: number, src: number, ld: number, scale: number, causal: number, mask: number, mRow: number, mCol: number, drop: number, probs: number, weights: number) => void;
type BackwardFn = (L: number, S: number, src: number, ld: number, scale: number, causal: number, P: number, dW: number, drop: number, dst: number) => void;

/** The row passes on the memory of `gemm` (a non-shared memory); null without WebAssembly SIMD. */
export function createAttentionRows(gemm: WasmGemmKernel): AttentionRows | null {
  const exports = instantiateWasm(attentionRowsModuleBytes(), { env: { mem: gemm.memory } });
  if (!exports) return null;
  const fwd = new Map(MASK_KINDS.map((m) => [m, [false, true].map((d) => exports[forwardName(m, d)] as ForwardFn)]));
  const bwd = [false, true].map((w) => [false, true].map((d) => exports[backwardName(w, d)] as BackwardFn));
  return {
    forward(maskKind, dropout, ...args) {
      fwd.get(maskKind)![dropout ? 1 : 0](...args);
    },
    backward(weightsGrad, dropout, ...args) {
      bwd[weightsGrad ? 1 : 0][dropout ? 1 : 0](...args);
    },
  };
}
