/**
 * WebAssembly SIMD kernels for norm.ts: layer norm over rows of D floats (LayerNorm,
 * LayerNormGrad, AddLayerNorm, AddLayerNormGrad) and batch norm over the spatial rows of
 * each channel (BatchNorm, BatchNormGrad), assembled at run time with simd-asm.ts's builder.
 * Every value is widened to float64 and goes through the plain loops' float64 operations in
 * the same order, two lanes at a time (f64x2), and is narrowed only when stored; the sums
 * (mean, variance, the backward's sum(g) and sum(g xhat)) add the even and odd elements in
 * separate lanes, in two accumulators, so they differ from the plain loops' running sums by
 * float64 rounding only (the float32 results almost always agree bit for bit). The layer-norm
 * weight and bias gradients add row after row into float64 columns as the plain loops do,
 * so they agree bit for bit given the same xhat. NaN and infinities propagate as in the
 * plain loops.
 *
 * Rows are processed 4 elements a step (two pairs, each loaded as two float32s and widened),
 * then a last pair and a last single element (its second lane masked out of the sums and
 * never stored). The wrappers stream their arrays through the module's memory a chunk of
 * rows (or channels) at a time and return false where WebAssembly SIMD is missing or
 * switched off, there are no rows, a row or channel is too long, batch norm's spatial rows
 * are shorter than 4, or the memory cannot grow: the caller then runs its plain loop.
 */
import { Fn, OP, V } from './simd-asm.ts';
import { ascii, KernelModule, leb, type ModuleViews, section } from '../../core/wasm-host.ts';

const I32 = 0x7f;
const F64 = 0x7c;

/** Float64 and lane opcodes beyond simd-asm.ts's tables: plain ones (P) and SIMD ones (D2, after 0xfd). */
const P = {
  i32And: 0x71, f64Load: 0x2b, f32Store: 0x38, f64Store: 0x39, f64Const: 0x44,
  f64Add: 0xa0, f64Div: 0xa3, f64Sqrt: 0x9f, f32Demote: 0xb6, f64ConvertI32U: 0xb8, f64Promote: 0xbb,
};
const D2 = {
  splat: 0x14, extractLane: 0x21, store32Lane: 0x5a, store64Lane: 0x5b, load32Zero: 0x5c, load64Zero: 0x5d,
  demote: 0x5e, promote: 0x5f, add: 0xf0, sub: 0xf1, mul: 0xf2,
};

/** simd-asm.ts's body builder with the block and float64 steps these kernels share. */
class Body extends Fn {
  constructor(params: number) {
    super(params, 16, 24);
  }

  /** Opens a block that runs only when local l is non-zero. */
  ifNonZero(l: number): this {
    return this.get(l).op(OP.if, 0x40);
  }

  loop(): this {
    return this.op(OP.loop, 0x40);
  }

  end(): this {
    return this.op(OP.end);
  }

  /** Sets a v128 local to +0 in every lane. */
  zero(l: number): this {
    return this.simd(V.const, ...new Array<number>(16).fill(0)).set(l);
  }

  /** Pushes local l (i32) as a float64. */
  f64Of(l: number): this {
    return this.get(l).op(P.f64ConvertI32U);
  }

  /** Pushes lane 0 + lane 1 of (local a + local b) as a float64; t is a temporary. */
  lanesSum(a: number, b: number, t: number): this {
    this.get(a).get(b).simd(D2.add).tee(t).simd(D2.extractLane, 0);
    return this.get(t).simd(D2.extractLane, 1).op(P.f64Add);
  }
}

/** One step inside a row: a pair of elements, or the single last element (lane 1 masked). */
interface Unit {
  /** Byte offsets of the step from the row position, in float32 and in float64 arrays. */
  off4: number;
  off8: number;
  /** Which of the two accumulators of each sum the step adds into. */
  acc: 0 | 1;
  single: boolean;
}

/**
 * Per-row loops of a kernel over D elements: locals for the row position (O4, O8: byte
 * offsets into float32 and float64 rows) and the step counts, and helpers to load, store and
 * accumulate one Unit.
 */
class Rows {
  readonly o4: number;
  readonly o8: number;
  private readonly n4: number;
  private readonly pair: number;
  private readonly one: number;
  private readonly j: number;
  private readonly lane0: number;

  constructor(readonly f: Body, d: number) {
    this.o4 = f.i32();
    this.o8 = f.i32();
    this.n4 = f.i32();
    this.pair = f.i32();
    this.one = f.i32();
    this.j = f.i32();
    this.lane0 = f.v();
    f.get(d).c(2).op(OP.i32ShrU).set(this.n4);
    f.get(d).c(1).op(OP.i32ShrU).c(1).op(P.i32And).set(this.pair);
    f.get(d).c(1).op(P.i32And).set(this.one);
    f.simd(V.const, ...new Array<number>(8).fill(0xff), ...new Array<number>(8).fill(0)).set(this.lane0);
  }

  /** Emits `body` over one row: groups of 4 (two pairs), then a pair, then a single element. */
  each(body: (u: Unit) => void): void {
    const f = this.f;
    f.c(0).set(this.o4).c(0).set(this.o8);
    f.ifNonZero(this.n4);
    f.get(this.n4).set(this.j);
    f.loop();
    body({ off4: 0, off8: 0, acc: 0, single: false });
    body({ off4: 8, off8: 16, acc: 1, single: false });
    f.addConst(this.o4, 16).addConst(this.o8, 32);
    f.countDown(this.j);
    f.end();
    f.ifNonZero(this.pair);
    body({ off4: 0, off8: 0, acc: 0, single: false });
    f.addConst(this.o4, 8).addConst(this.o8, 16);
    f.end();
    f.ifNonZero(this.one);
    body({ off4: 0, off8: 0, acc: 0, single: true });
    f.end();
  }

  /** Pushes the step's float32s at row `base`, widened to f64x2. */
  ld32(base: number, u: Unit): Body {
    return this.f.get(base).get(this.o4).op(OP.i32Add).simd(u.single ? D2.load32Zero : D2.load64Zero, 0, ...leb(u.off4)).simd(D2.promote);
  }

  /** Pushes the step's float64s at row `base`. */
  ld64(base: number, u: Unit): Body {
    return this.f.get(base).get(this.o8).op(OP.i32Add).simd(u.single ? D2.load64Zero : V.load, 0, ...leb(u.off8));
  }

  /** Stores the f64x2 that `value` pushes, narrowed to float32, at row `base`. */
  st32(base: number, u: Unit, value: () => void): void {
    this.f.get(base).get(this.o4).op(OP.i32Add);
    value();
    this.f.simd(D2.demote).simd(u.single ? D2.store32Lane : D2.store64Lane, 0, ...leb(u.off4), 0);
  }

  /** Stores the f64x2 that `value` pushes at row `base`. */
  st64(base: number, u: Unit, value: () => void): void {
    this.f.get(base).get(this.o8).op(OP.i32Add);
    value();
    if (u.single) this.f.simd(D2.store64Lane, 0, ...leb(u.off8), 0);
    else this.f.simd(V.store, 0, ...leb(u.off8));
  }

  /** accs[u.acc] += the f64x2 that `value` pushes (its lane 1 zeroed for a single element). */
  accumulate(accs: readonly [number, number], u: Unit, value: () => void): void {
    const acc = accs[u.acc];
    this.f.get(acc);
    value();
    if (u.single) this.f.get(this.lane0).simd(V.and);
    this.f.simd(D2.add).set(acc);
  }
}

interface ForwardVariant {
  /** AddLayerNorm: rows of x + r (times the dropout mask with `dropout`) instead of x. */
  add: boolean;
  dropout: boolean;
  affine: boolean;
}

/**
 * forward(x, r, mask, y, xhat, mean, rstd, rows, D, eps, w, b, scr): byte offsets; w, b and
 * scr are float64 rows of D. Per row, with v = x (plain) or x + r [* mask] (add, kept in scr
 * in float64): m = sum(v) / D, rstd = 1 / sqrt(sum((v - m)^2) / D + eps), h = (v - m) rstd,
 * y = h w + b (h without affine). Writes y and rstd, and mean (plain) or xhat = h (add).
 */
function forwardBody(v: ForwardVariant): number[] {
  const [X, R, MASK, Y, XHAT, MEAN, RSTD, ROWS, D, EPS, W, B, SCR] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const f = new Body(13);
  const rows = new Rows(f, D);
  const rowBytes = f.i32();
  const [A0, A1, M, IS, T] = [f.v(), f.v(), f.v(), f.v(), f.v()];
  const accs: [number, number] = [A0, A1];
  f.get(D).c(2).op(OP.i32Shl).set(rowBytes);
  /** Pushes the step's v: x, or the sum kept in scr. */
  const value = (u: Unit) => (v.add ? rows.ld64(SCR, u) : rows.ld32(X, u));
  f.loop();
  f.zero(A0).zero(A1);
  if (v.add) {
    // scr = x + r [* mask]; sum(scr)
    rows.each((u) => {
      rows.st64(SCR, u, () => {
        rows.ld32(X, u);
        rows.ld32(R, u);
        if (v.dropout) rows.ld32(MASK, u).simd(D2.mul);
        f.simd(D2.add).tee(T);
      });
      rows.accumulate(accs, u, () => f.get(T));
    });
  } else {
    rows.each((u) => rows.accumulate(accs, u, () => value(u)));
  }
  f.lanesSum(A0, A1, T).f64Of(D).op(P.f64Div).simd(D2.splat).set(M);
  f.zero(A0).zero(A1);
  rows.each((u) => rows.accumulate(accs, u, () => value(u).get(M).simd(D2.sub).tee(T).get(T).simd(D2.mul)));
  // rstd = 1 / sqrt(ss / D + eps)
  f.op(P.f64Const, ...new Uint8Array(new Float64Array([1]).buffer));
  f.lanesSum(A0, A1, T).f64Of(D).op(P.f64Div).get(EPS).op(P.f64Add, P.f64Sqrt, P.f64Div).simd(D2.splat).set(IS);
  f.get(RSTD).get(IS).simd(D2.extractLane, 0).op(P.f32Demote, P.f32Store, 2, 0);
  f.addConst(RSTD, 4);
  if (!v.add) {
    f.get(MEAN).get(M).simd(D2.extractLane, 0).op(P.f32Demote, P.f32Store, 2, 0);
    f.addConst(MEAN, 4);
  }
  rows.each((u) => {
    value(u).get(M).simd(D2.sub).get(IS).simd(D2.mul).set(T);
    if (v.add) rows.st32(XHAT, u, () => f.get(T));
    rows.st32(Y, u, () => {
      f.get(T);
      if (v.affine) {
        rows.ld64(W, u).simd(D2.mul);
        rows.ld64(B, u).simd(D2.add);
      }
    });
  });
  for (const p of v.add ? [X, R, Y, XHAT] : [X, Y]) f.addTo(p, rowBytes);
  if (v.dropout) f.addTo(MASK, rowBytes);
  f.countDown(ROWS);
  return f.encode();
}

interface BackwardVariant {
  /** LayerNormGrad: xhat = (x - mean) rstd from x and the row's mean; else xhat is given. */
  fromX: boolean;
  affine: boolean;
  /** AddLayerNormGrad with dropout: also dr = dx * mask. */
  dropout: boolean;
}

/**
 * backward(dy, src, mask, dx, dr, mean, rstd, rows, D, w, dw, db): byte offsets; w, dw and db
 * are float64 rows of D. Per row, with h = xhat (src, or (src - mean) rstd) and g = dy w (dy
 * without affine): dw += dy h, db += dy, dx = rstd (g - sum(g) / D - h sum(g h) / D), and
 * with dropout dr = dx mask (from the float64 dx).
 */
function backwardBody(v: BackwardVariant): number[] {
  const [DY, SRC, MASK, DX, DR, MEAN, RSTD, ROWS, D, W, DW, DB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const f = new Body(12);
  const rows = new Rows(f, D);
  const rowBytes = f.i32();
  const [S0, S1, Q0, Q1, M, IS, H, DV, G, T, MG, MGX] = Array.from({ length: 12 }, () => f.v());
  f.get(D).c(2).op(OP.i32Shl).set(rowBytes);
  /** H = the step's xhat, DV = dy, G = dy w (or dy). */
  const load = (u: Unit) => {
    if (v.fromX) rows.ld32(SRC, u).get(M).simd(D2.sub).get(IS).simd(D2.mul).set(H);
    else rows.ld32(SRC, u).set(H);
    rows.ld32(DY, u).set(DV);
    if (v.affine) rows.ld64(W, u).get(DV).simd(D2.mul).set(G);
  };
  const g = v.affine ? G : DV;
  const splat32 = (p: number) => f.get(p).op(OP.f32Load, 2, 0, P.f64Promote).simd(D2.splat);
  f.loop();
  if (v.fromX) {
    splat32(MEAN).set(M);
    f.addConst(MEAN, 4);
  }
  splat32(RSTD).set(IS);
  f.addConst(RSTD, 4);
  f.zero(S0).zero(S1).zero(Q0).zero(Q1);
  rows.each((u) => {
    load(u);
    rows.accumulate([S0, S1], u, () => f.get(g));
    rows.accumulate([Q0, Q1], u, () => f.get(g).get(H).simd(D2.mul));
    rows.st64(DW, u, () => rows.ld64(DW, u).get(DV).get(H).simd(D2.mul).simd(D2.add));
    rows.st64(DB, u, () => rows.ld64(DB, u).get(DV).simd(D2.add));
  });
  f.lanesSum(S0, S1, T).f64Of(D).op(P.f64Div).simd(D2.splat).set(MG);
  f.lanesSum(Q0, Q1, T).f64Of(D).op(P.f64Div).simd(D2.splat).set(MGX);
  rows.each((u) => {
    load(u);
    // rstd ((g - mg) - h mgx)
    f.get(IS).get(g).get(MG).simd(D2.sub).get(H).get(MGX).simd(D2.mul).simd(D2.sub).simd(D2.mul).set(T);
    rows.st32(DX, u, () => f.get(T));
    if (v.dropout) rows.st32(DR, u, () => rows.ld32(MASK, u).get(T).simd(D2.mul));
  });
  for (const p of [DY, SRC, DX]) f.addTo(p, rowBytes);
  if (v.dropout) f.addTo(MASK, rowBytes).addTo(DR, rowBytes);
  f.countDown(ROWS);
  return f.encode();
}

/**
 * Batch-norm kernels over a chunk of cc channels of an [n, cc, L] block (byte offsets; the
 * per-channel values are float64 arrays, 8 bytes a channel). All take (a, b, out, n, cc, L,
 * p0, p1, p2, p3, p4):
 *
 * - bnStats(x, -, -, n, cc, L, mean, ss): mean = sum(x) / (n L), ss = sum((x - mean)^2).
 * - bnApply(x, -, y, n, cc, L, scale, shift): y = x scale + shift.
 * - bnGradSums(dy, x, -, n, cc, L, mean, invstd, sdy, sdyx): sdy = sum(dy), sdyx =
 *   sum(dy (x - mean) invstd).
 * - bnGradApply(dy, x, dx, n, cc, L, mean, invstd, k, meanDy, meanDyx): dx = k (dy - meanDy
 *   - xhat meanDyx), xhat = (x - mean) invstd.
 * - bnGradScale(dy, -, dx, n, cc, L, -, -, k): dx = k dy (eval).
 */
type BatchNormKind = 'bnStats' | 'bnApply' | 'bnGradSums' | 'bnGradApply' | 'bnGradScale';

function batchNormBody(kind: BatchNormKind): number[] {
  const [A, B, OUT, N, CC, L, P0, P1, P2, P3, P4] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const f = new Body(11);
  const rows = new Rows(f, L);
  const rowBytes = f.i32();
  const stride = f.i32();
  const count = f.i32();
  const [PA, PB, PO, SEG] = [f.i32(), f.i32(), f.i32(), f.i32()];
  const [S0, S1, Q0, Q1, M, IS, K, MD, MDX, T, G] = Array.from({ length: 11 }, () => f.v());
  f.get(L).c(2).op(OP.i32Shl).set(rowBytes);
  f.get(CC).get(L).op(OP.i32Mul).c(2).op(OP.i32Shl).set(stride);
  f.get(N).get(L).op(OP.i32Mul).set(count);
  /** Pushes the float64 at local p, splatted. */
  const splat64 = (p: number) => f.get(p).op(P.f64Load, 3, 0).simd(D2.splat);
  /** Stores lane 0 + lane 1 of a + b at local p as a float64. */
  const store64 = (p: number, a: number, b: number) => f.get(p).lanesSum(a, b, T).op(P.f64Store, 3, 0);
  /** The n segments of the current channel, each a row of L; pointers PA, PB, PO from A, B, OUT. */
  const segments = (body: (u: Unit) => void) => {
    f.get(A).set(PA).get(B).set(PB).get(OUT).set(PO).get(N).set(SEG);
    f.loop();
    rows.each(body);
    f.addTo(PA, stride).addTo(PB, stride).addTo(PO, stride);
    f.countDown(SEG);
  };
  f.loop(); // channels
  switch (kind) {
    case 'bnStats':
      f.zero(S0).zero(S1);
      segments((u) => rows.accumulate([S0, S1], u, () => rows.ld32(PA, u)));
      f.get(P0).lanesSum(S0, S1, T).f64Of(count).op(P.f64Div).simd(D2.splat).tee(M).simd(D2.extractLane, 0).op(P.f64Store, 3, 0);
      f.zero(S0).zero(S1);
      segments((u) => rows.accumulate([S0, S1], u, () => rows.ld32(PA, u).get(M).simd(D2.sub).tee(G).get(G).simd(D2.mul)));
      store64(P1, S0, S1);
      break;
    case 'bnApply':
      splat64(P0).set(K);
      splat64(P1).set(MD);
      segments((u) => rows.st32(PO, u, () => rows.ld32(PA, u).get(K).simd(D2.mul).get(MD).simd(D2.add)));
      break;
    case 'bnGradSums':
      splat64(P0).set(M);
      splat64(P1).set(IS);
      f.zero(S0).zero(S1).zero(Q0).zero(Q1);
      segments((u) => {
        rows.ld32(PA, u).set(G);
        rows.accumulate([S0, S1], u, () => f.get(G));
        // (dy (x - mean)) invstd
        rows.accumulate([Q0, Q1], u, () => rows.ld32(PB, u).get(M).simd(D2.sub).get(G).simd(D2.mul).get(IS).simd(D2.mul));
      });
      store64(P2, S0, S1);
      store64(P3, Q0, Q1);
      break;
    case 'bnGradApply':
      splat64(P0).set(M);
      splat64(P1).set(IS);
      splat64(P2).set(K);
      splat64(P3).set(MD);
      splat64(P4).set(MDX);
      // k ((dy - meanDy) - xhat meanDyx)
      segments((u) => rows.st32(PO, u, () => {
        f.get(K);
        rows.ld32(PA, u).get(MD).simd(D2.sub);
        rows.ld32(PB, u).get(M).simd(D2.sub).get(IS).simd(D2.mul).get(MDX).simd(D2.mul).simd(D2.sub).simd(D2.mul);
      }));
      break;
    case 'bnGradScale':
      splat64(P2).set(K);
      segments((u) => rows.st32(PO, u, () => {
        f.get(K);
        rows.ld32(PA, u).simd(D2.mul);
      }));
      break;
  }
  f.addTo(A, rowBytes).addTo(B, rowBytes).addTo(OUT, rowBytes);
  for (const p of [P0, P1, P2, P3, P4]) f.addConst(p, 8);
  f.countDown(CC);
  return f.encode();
}

const BATCH_NORMS: BatchNormKind[] = ['bnStats', 'bnApply', 'bnGradSums', 'bnGradApply', 'bnGradScale'];

const FORWARDS: [string, ForwardVariant][] = [
  ['layerNorm', { add: false, dropout: false, affine: false }],
  ['layerNormAffine', { add: false, dropout: false, affine: true }],
  ['addLayerNorm', { add: true, dropout: false, affine: false }],
  ['addLayerNormAffine', { add: true, dropout: false, affine: true }],
  ['addLayerNormDropout', { add: true, dropout: true, affine: false }],
  ['addLayerNormDropoutAffine', { add: true, dropout: true, affine: true }],
];
const BACKWARDS: [string, BackwardVariant][] = [
  ['layerNormGrad', { fromX: true, affine: false, dropout: false }],
  ['layerNormGradAffine', { fromX: true, affine: true, dropout: false }],
  ['addLayerNormGrad', { fromX: false, affine: false, dropout: false }],
  ['addLayerNormGradAffine', { fromX: false, affine: true, dropout: false }],
  ['addLayerNormGradDropout', { fromX: false, affine: false, dropout: true }],
  ['addLayerNormGradDropoutAffine', { fromX: false, affine: true, dropout: true }],
];

/**
 * The module: one exported memory, the layer-norm forward kernels (type 0), their backward
 * kernels (type 1) and the batch-norm kernels (type 2).
 */
export function normSimdModuleBytes(): Uint8Array {
  const fwdType = [0x60, 13, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, I32, I32, I32, 0];
  const bwdType = [0x60, 12, ...new Array<number>(12).fill(I32), 0];
  const bnType = [0x60, 11, ...new Array<number>(11).fill(I32), 0];
  const names = [...FORWARDS.map(([name]) => name), ...BACKWARDS.map(([name]) => name), ...BATCH_NORMS];
  const bodies = [...FORWARDS.map(([, v]) => forwardBody(v)), ...BACKWARDS.map(([, v]) => backwardBody(v)), ...BATCH_NORMS.map(batchNormBody)];
  const exports = [...names.flatMap((name, i) => [...leb(name.length), ...ascii(name), 0, i]), 3, ...ascii('mem'), 2, 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [3, ...fwdType, ...bwdType, ...bnType]),
    ...section(3, [names.length, ...FORWARDS.map(() => 0), ...BACKWARDS.map(() => 1), ...BATCH_NORMS.map(() => 2)]),
    ...section(5, [1, 0, 1]),
    ...section(7, [names.length + 1, ...exports]),
    ...section(10, [bodies.length, ...bodies.flat()]),
  ]);
}

type Forward = (x: number, r: number, mask: number, y: number, xhat: number, mean: number, rstd: number, rows: number, D: number, eps: number, w: number, b: number, scr: number) => void;
type Backward = (dy: number, src: number, mask: number, dx: number, dr: number, mean: number, rstd: number, rows: number, D: number, w: number, dw: number, db: number) => void;
type BatchNormFn = (a: number, b: number, out: number, n: number, cc: number, L: number, p0: number, p1: number, p2?: number, p3?: number, p4?: number) => void;

type Kernels = ModuleViews<Record<string, Forward & Backward> & Record<BatchNormKind, BatchNormFn>>;

const kernels = new KernelModule<Kernels['fn']>(normSimdModuleBytes);

/** Turns the SIMD kernels on or off (for tests and A/B timing); returns the previous setting. */
export function setNormSimd(on: boolean): boolean {
  return kernels.setEnabled(on);
}

/** The module with at least `bytes` of memory, or null when SIMD is off or missing or the memory cannot grow. */
const module = (bytes: number) => kernels.get(bytes);

/** Floats per streamed array per chunk (64 KiB: a chunk's arrays stay in the L2 cache). */
const CHUNK = 1 << 14;
/** Longer rows take the plain loops (a row's arrays would take over 32 MiB of module memory). */
const MAX_ROW = 1 << 20;

/**
 * Float offsets of one call's areas: float64 rows of D (w, b or dw, db, scratch) at the
 * start, then `streams` float32 arrays of a chunk of rows each and two per-row arrays.
 */
class Layout {
  readonly rowsPerChunk: number;
  readonly w: number;
  readonly b: number;
  readonly scr: number;
  readonly streams: number[] = [];
  readonly perRow: [number, number];
  readonly floats: number;

  constructor(readonly D: number, streams: number) {
    const up16 = (n: number) => Math.ceil(n / 16) * 16;
    this.rowsPerChunk = Math.max(1, Math.floor(CHUNK / D));
    let n = 0;
    this.w = n;
    n += up16(2 * D);
    this.b = n;
    n += up16(2 * D);
    this.scr = n;
    n += up16(2 * D);
    for (let i = 0; i < streams; i++) {
      this.streams.push(n);
      n += up16(this.rowsPerChunk * D);
    }
    this.perRow = [n, n + up16(this.rowsPerChunk)];
    this.floats = n + 2 * up16(this.rowsPerChunk);
  }
}

function open(D: number, total: number, streams: number): [Kernels, Layout] | null {
  // Even a few rows take the module: a call costs about as much as the plain loops on 60
  // values and less on more.
  if (D < 1 || D > MAX_ROW || total < D) return null;
  const layout = new Layout(D, streams);
  const k = module(4 * layout.floats);
  return k ? [k, layout] : null;
}

/** Copies weight and bias (float32) into the module's float64 rows at w and b. */
function setAffine(k: Kernels, L: Layout, w: Float32Array | null, b: Float32Array | null): void {
  if (w) k.f64.set(w, L.w / 2);
  if (b) k.f64.set(b, L.b / 2);
}

/**
 * LayerNorm forward of the rows of x (D each) into y, mean and rstd, as norm.ts's plain
 * loop; w and b null without affine. False when the module cannot run it.
 */
export function layerNormSimd(
  x: Float32Array, D: number, eps: number, w: Float32Array | null, b: Float32Array | null, y: Float32Array, mean: Float32Array, rstd: Float32Array,
): boolean {
  const opened = open(D, x.length, 2);
  if (!opened) return false;
  const [k, L] = opened;
  const run = k.fn[w && b ? 'layerNormAffine' : 'layerNorm'];
  setAffine(k, L, w, b);
  const [X, Y] = L.streams;
  const [MEAN, RSTD] = L.perRow;
  const rows = x.length / D;
  for (let r0 = 0; r0 < rows; r0 += L.rowsPerChunk) {
    const n = Math.min(L.rowsPerChunk, rows - r0);
    const from = r0 * D;
    const len = n * D;
    const { f32 } = k;
    f32.set(x.subarray(from, from + len), X);
    run(4 * X, 0, 0, 4 * Y, 0, 4 * MEAN, 4 * RSTD, n, D, eps, 4 * L.w, 4 * L.b, 4 * L.scr);
    y.set(f32.subarray(Y, Y + len), from);
    mean.set(f32.subarray(MEAN, MEAN + n), r0);
    rstd.set(f32.subarray(RSTD, RSTD + n), r0);
  }
  return true;
}

/**
 * AddLayerNorm forward: rows of x + r (times mask when given) normalised into y, xhat and
 * rstd, as norm.ts's plain loop. False when the module cannot run it.
 */
export function addLayerNormSimd(
  x: Float32Array, r: Float32Array, mask: Float32Array | null, D: number, eps: number, w: Float32Array | null, b: Float32Array | null,
  y: Float32Array, xhat: Float32Array, rstd: Float32Array,
): boolean {
  const opened = open(D, x.length, 5);
  if (!opened) return false;
  const [k, L] = opened;
  const run = k.fn[`addLayerNorm${mask ? 'Dropout' : ''}${w && b ? 'Affine' : ''}`];
  setAffine(k, L, w, b);
  const [X, R, MASK, Y, XHAT] = L.streams;
  const RSTD = L.perRow[1];
  const rows = x.length / D;
  for (let r0 = 0; r0 < rows; r0 += L.rowsPerChunk) {
    const n = Math.min(L.rowsPerChunk, rows - r0);
    const from = r0 * D;
    const len = n * D;
    const { f32 } = k;
    f32.set(x.subarray(from, from + len), X);
    f32.set(r.subarray(from, from + len), R);
    if (mask) f32.set(mask.subarray(from, from + len), MASK);
    run(4 * X, 4 * R, 4 * MASK, 4 * Y, 4 * XHAT, 0, 4 * RSTD, n, D, eps, 4 * L.w, 4 * L.b, 4 * L.scr);
    y.set(f32.subarray(Y, Y + len), from);
    xhat.set(f32.subarray(XHAT, XHAT + len), from);
    rstd.set(f32.subarray(RSTD, RSTD + n), r0);
  }
  return true;
}

/**
 * LayerNormGrad: dx from dy, x, mean and rstd; the float64 column sums of dy xhat and dy
 * into dw and db (zeroed here). w null without affine. False when the module cannot run it.
 */
export function layerNormGradSimd(
  dy: Float32Array, x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array, D: number,
  dx: Float32Array, dw: Float64Array, db: Float64Array,
): boolean {
  const opened = open(D, x.length, 3);
  if (!opened) return false;
  const [k, L] = opened;
  const run = k.fn[w ? 'layerNormGradAffine' : 'layerNormGrad'];
  return backward(k, L, run, dy, x, null, w, mean, rstd, dx, null, dw, db);
}

/**
 * AddLayerNormGrad: dx (and dr = dx mask with a mask) from dy, xhat and rstd; the float64
 * column sums of dy xhat and dy into dw and db (zeroed here). False when the module cannot
 * run it.
 */
export function addLayerNormGradSimd(
  dy: Float32Array, xhat: Float32Array, w: Float32Array | null, rstd: Float32Array, mask: Float32Array | null, D: number,
  dx: Float32Array, dr: Float32Array | null, dw: Float64Array, db: Float64Array,
): boolean {
  const opened = open(D, xhat.length, mask ? 5 : 3);
  if (!opened) return false;
  const [k, L] = opened;
  const run = k.fn[`addLayerNormGrad${mask ? 'Dropout' : ''}${w ? 'Affine' : ''}`];
  return backward(k, L, run, dy, xhat, mask, w, null, rstd, dx, mask ? dr : null, dw, db);
}

function backward(
  k: Kernels, L: Layout, run: Backward, dy: Float32Array, src: Float32Array, mask: Float32Array | null, w: Float32Array | null,
  mean: Float32Array | null, rstd: Float32Array, dx: Float32Array, dr: Float32Array | null, dw: Float64Array, db: Float64Array,
): boolean {
  const D = L.D;
  // float64 rows: w, dw (in the b area) and db (in the scratch area)
  const DW = L.b / 2;
  const DB = L.scr / 2;
  if (w) k.f64.set(w, L.w / 2);
  k.f64.fill(0, DW, DW + D);
  k.f64.fill(0, DB, DB + D);
  const [DY, SRC, DX, MASK, DR] = L.streams;
  const [MEAN, RSTD] = L.perRow;
  const rows = rstd.length;
  for (let r0 = 0; r0 < rows; r0 += L.rowsPerChunk) {
    const n = Math.min(L.rowsPerChunk, rows - r0);
    const from = r0 * D;
    const len = n * D;
    const { f32 } = k;
    f32.set(dy.subarray(from, from + len), DY);
    f32.set(src.subarray(from, from + len), SRC);
    if (mask) f32.set(mask.subarray(from, from + len), MASK);
    if (mean) f32.set(mean.subarray(r0, r0 + n), MEAN);
    f32.set(rstd.subarray(r0, r0 + n), RSTD);
    run(4 * DY, 4 * SRC, 4 * MASK, 4 * DX, 4 * DR, 4 * MEAN, 4 * RSTD, n, D, 4 * L.w, 4 * L.b, 4 * L.scr);
    dx.set(f32.subarray(DX, DX + len), from);
    if (dr) dr.set(f32.subarray(DR, DR + len), from);
  }
  dw.set(k.f64.subarray(DW, DW + D));
  db.set(k.f64.subarray(DB, DB + D));
  return true;
}

/** Floats per streamed array per chunk of channels (256 KiB). */
const BN_CHUNK = 1 << 16;
/** Channels with more values (n times L) take the plain loops (over 64 MiB per array). */
const BN_MAX_CHANNEL = 1 << 24;
/** Channels of shorter spatial rows take the plain loops (too short for the SIMD steps to gain). */
const BN_MIN_L = 4;

/** Float offsets of one batch-norm call's areas: `streams` arrays of a chunk of channels, then `perChannel` float64 arrays. */
function batchNormLayout(n: number, L: number, streams: number, perChannel: number): { cc: number; streams: number[]; f64: number[]; floats: number } | null {
  const seg = n * L;
  if (L < BN_MIN_L || seg > BN_MAX_CHANNEL) return null;
  const cc = Math.max(1, Math.floor(BN_CHUNK / seg));
  const up16 = (v: number) => Math.ceil(v / 16) * 16;
  const res = { cc, streams: [] as number[], f64: [] as number[], floats: 0 };
  let at = 0;
  for (let i = 0; i < streams; i++) {
    res.streams.push(at);
    at += up16(cc * seg);
  }
  for (let i = 0; i < perChannel; i++) {
    res.f64.push(at / 2);
    at += up16(2 * cc);
  }
  res.floats = at;
  return res;
}

/** Copies channels [c0, c0 + cc) of an [n, c, L] array into the module at `at` as an [n, cc, L] block. */
function gather(f32: Float32Array, at: number, v: Float32Array, n: number, c: number, L: number, c0: number, cc: number): void {
  for (let b = 0; b < n; b++) f32.set(v.subarray((b * c + c0) * L, (b * c + c0 + cc) * L), at + b * cc * L);
}

/** Copies the [n, cc, L] block at `at` back into channels [c0, c0 + cc) of an [n, c, L] array. */
function scatter(f32: Float32Array, at: number, v: Float32Array, n: number, c: number, L: number, c0: number, cc: number): void {
  for (let b = 0; b < n; b++) v.set(f32.subarray(at + b * cc * L, at + (b + 1) * cc * L), (b * c + c0) * L);
}

/**
 * BatchNorm forward of x [n, c, L] into y: y = x scale[ch] + shift[ch]. With `stats`, each
 * channel's float64 mean and sum of squared deviations are handed to it first, and it sets
 * that channel's scale and shift. False when the module cannot run it (nothing is written).
 */
export function batchNormSimd(
  x: Float32Array, n: number, c: number, L: number, y: Float32Array, stats: ((ch: number, mean: number, ss: number) => void) | null,
  scale: Float64Array, shift: Float64Array,
): boolean {
  const lay = n > 0 && c > 0 ? batchNormLayout(n, L, 2, 2) : null;
  const k = lay ? module(4 * lay.floats) : null;
  if (!lay || !k) return false;
  const [X, Y] = lay.streams;
  const [P0, P1] = lay.f64;
  for (let c0 = 0; c0 < c; c0 += lay.cc) {
    const cc = Math.min(lay.cc, c - c0);
    gather(k.f32, X, x, n, c, L, c0, cc);
    if (stats) {
      k.fn.bnStats(4 * X, 0, 0, n, cc, L, 8 * P0, 8 * P1);
      for (let j = 0; j < cc; j++) stats(c0 + j, k.f64[P0 + j], k.f64[P1 + j]);
    }
    k.f64.set(scale.subarray(c0, c0 + cc), P0);
    k.f64.set(shift.subarray(c0, c0 + cc), P1);
    k.fn.bnApply(4 * X, 0, 4 * Y, n, cc, L, 8 * P0, 8 * P1);
    scatter(k.f32, Y, y, n, c, L, c0, cc);
  }
  return true;
}

/**
 * BatchNorm backward of dy, x [n, c, L] with the forward's mean and invstd: each channel's
 * float64 sum(dy) and sum(dy xhat) are handed to `sums`, which sets that channel's k,
 * meanDy and meanDyx; then dx = k (dy - meanDy - xhat meanDyx) (training) or k dy. False
 * when the module cannot run it (nothing is written).
 */
export function batchNormGradSimd(
  dy: Float32Array, x: Float32Array, n: number, c: number, L: number, mean: Float32Array, invstd: Float32Array, training: boolean,
  sums: (ch: number, sdy: number, sdyx: number) => void, kc: Float64Array, meanDy: Float64Array, meanDyx: Float64Array, dx: Float32Array,
): boolean {
  const lay = n > 0 && c > 0 ? batchNormLayout(n, L, 3, 5) : null;
  const k = lay ? module(4 * lay.floats) : null;
  if (!lay || !k) return false;
  const [DY, X, DX] = lay.streams;
  const [M, IS, K, MD, MDX] = lay.f64;
  for (let c0 = 0; c0 < c; c0 += lay.cc) {
    const cc = Math.min(lay.cc, c - c0);
    gather(k.f32, DY, dy, n, c, L, c0, cc);
    gather(k.f32, X, x, n, c, L, c0, cc);
    const { f64 } = k;
    for (let j = 0; j < cc; j++) {
      f64[M + j] = mean[c0 + j];
      f64[IS + j] = invstd[c0 + j];
    }
    // The sums land in the k and meanDy areas, read before they are overwritten.
    k.fn.bnGradSums(4 * DY, 4 * X, 0, n, cc, L, 8 * M, 8 * IS, 8 * K, 8 * MD);
    for (let j = 0; j < cc; j++) sums(c0 + j, f64[K + j], f64[MD + j]);
    f64.set(kc.subarray(c0, c0 + cc), K);
    f64.set(meanDy.subarray(c0, c0 + cc), MD);
    f64.set(meanDyx.subarray(c0, c0 + cc), MDX);
    if (training) k.fn.bnGradApply(4 * DY, 4 * X, 4 * DX, n, cc, L, 8 * M, 8 * IS, 8 * K, 8 * MD, 8 * MDX);
    else k.fn.bnGradScale(4 * DY, 0, 4 * DX, n, cc, L, 0, 0, 8 * K);
    scatter(k.f32, DX, dx, n, c, L, c0, cc);
  }
  return true;
}
