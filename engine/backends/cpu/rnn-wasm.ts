/**
 * WebAssembly SIMD kernels for the LSTM gate passes (rnn.ts), assembled here from bytes
 * with simd-asm.ts, like gemm-wasm.ts (no build step, no file to load). They import the memory of a GEMM kernel
 * instance of their own (createWasmGemmKernel), which holds a layer's whole sequence while
 * its kernel runs, so that the step products and the gate passes work on the same data.
 * Four functions, all addresses and strides
 * in bytes, float32 rows with H values each (H >= 4; 4 lanes at a time, the last group
 * of a row overlapping the one before it when 4 does not divide H, which is harmless
 * because every output is a pure function of inputs that no call overwrites):
 *
 * - `lstmForward(N, H, hw, hwLd, bias, cPrev, gates, cells, tanhCells, y, hNext, hNextLd)`:
 *   one step's gates from the step's product hw (rows hwLd apart, columns i, f, g, o of H
 *   each) plus bias: i, f, o = sigmoid, g = tanh, c = f cPrev + i g, h = o tanh(c). Writes
 *   the activations (rows of 4H), c, tanh(c), h (rows of H) and h again at hNext (rows
 *   hNextLd apart: the next step's GEMM operand [x_t, h]).
 * - `lstmBackward(N, H, dh, dhLd, dy, gates, cPrev, tanhCells, dcIn, dcOut, dGates)`: the
 *   gate gradients of one step from dh (rows dhLd apart) + dy and the cell gradient dcIn;
 *   dcOut = the cell gradient passed to the step before.
 * - `copyRows(src, srcLd, dst, dstLd, rows, n)`: copies `rows` rows of n >= 4 floats.
 * - `colSums(src, rows, n4, dst)`: adds the columns of a row-major [rows, 4 n4] float32
 *   matrix to the float64 row dst (the bias gradient, summed in float64).
 *
 * sigmoid(a) = 1 / (2 + expm1(-a)) and tanh(a) = -e / (2 + e), e = expm1(-2|a|), with the
 * sign of a, as in fast-math.ts but in float32: expm1(x) = s p + (s - 1), s = 2^k,
 * k = round(x / ln 2), p the degree-7 Taylor polynomial of e^r - 1 at r = x - k ln 2
 * (ln 2 in two parts so that r is exact), x clamped to [-88, 88]; a few float32 ulps from
 * the float64 functions, and NaN stays NaN. The forward evaluates the four gates'
 * exponentials side by side.
 *
 * Where WebAssembly SIMD is missing, `createRnnWasm` returns null and rnn.ts runs its JS passes.
 */
import { createWasmGemmKernel, type WasmGemmKernel } from './gemm-wasm.ts';
import { expSteps, Fn, OP, V } from './simd-asm.ts';
import { ascii, instantiateWasm, section, type WasmMemory } from '../../core/wasm-host.ts';

export interface RnnWasm {
  lstmForward(N: number, H: number, hw: number, hwLd: number, bias: number, cPrev: number, gates: number, cells: number, tanhCells: number, y: number, hNext: number, hNextLd: number): void;
  lstmBackward(N: number, H: number, dh: number, dhLd: number, dy: number, gates: number, cPrev: number, tanhCells: number, dcIn: number, dcOut: number, dGates: number): void;
  copyRows(src: number, srcLd: number, dst: number, dstLd: number, rows: number, n: number): void;
  colSums(src: number, rows: number, n4: number, dst: number): void;
  /**
   * A GEMM kernel instance of its own (gemm-wasm.ts) on the same memory: its `block` and
   * panel packers work on the data the gate passes read and write.
   */
  gemm: WasmGemmKernel;
  /** Float32 view of the memory; replaced when `ensure` grows it. */
  f32: Float32Array;
  /** Float64 view of the same memory. */
  f64: Float64Array;
  /** Grows the memory to hold at least `floats` float32s; false where it cannot grow that far. */
  ensure(floats: number): boolean;
}

/** Temporaries of tanh. */
interface TanhTemps {
  x: number;
  k: number;
  p: number;
}

/** Leaves tanh(local a) on the stack: -e / (2 + e), e = expm1(-2|a|), with the sign of a. */
function tanh(f: Fn, a: number, t: TanhTemps): void {
  f.get(a).simd(V.fAbs).k4(-2).simd(V.fMul).set(t.x);
  expSteps(f, [t.x], [t.k], [t.p], true);
  f.k4(0).get(t.x).simd(V.fSub).k4(2).get(t.x).simd(V.fAdd).simd(V.fDiv);
  f.get(a).u4(0x80000000).simd(V.and).simd(V.xor);
}

/**
 * Emits the loops over rows (local N, counted down) and groups of 4 columns: local `jb` is
 * the group's byte offset inside a row of local `hb` bytes (>= 16), the last group pulled
 * back to end at the row's end; `body` emits one group, `nextRow` advances the row pointers.
 */
function rowsAndGroups(f: Fn, N: number, hb: number, jb: number, body: () => void, nextRow: () => void): void {
  const last = f.i32();
  const j = f.i32();
  f.get(hb).c(16).op(OP.i32Sub).set(last);
  f.op(OP.loop, 0x40);
  f.c(0).set(j);
  f.op(OP.loop, 0x40);
  // jb = j <= last ? j : last
  f.get(j).get(last).get(j).get(last).op(OP.i32LeS, OP.select).set(jb);
  body();
  f.addConst(j, 16);
  f.get(j).get(hb).op(OP.i32LtU, OP.brIf, 0, OP.end);
  nextRow();
  f.countDown(N);
}

/** Pushes the address local base + local jb + q * local hb. */
function gateAddr(f: Fn, base: number, jb: number, hb: number, q: number): void {
  f.get(base).get(jb).op(OP.i32Add);
  if (q === 1) f.get(hb).op(OP.i32Add);
  else if (q > 1) f.get(hb).c(q).op(OP.i32Mul, OP.i32Add);
}

function lstmForwardBody(): number[] {
  const f = new Fn(12, 5, 40);
  const [N, H, HW, HWLD, BIAS, CP, GATES, CELLS, TANH, Y, HN, HNLD] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const jb = f.i32();
  const hb = f.i32();
  const gb = f.i32();
  const [ai, af, ag, ao, vi, vf, vg, vo, c, tc] = [f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v()];
  const xs = [f.v(), f.v(), f.v(), f.v()];
  const ks = [vi, vf, vg, vo];
  const ps = [f.v(), f.v(), f.v(), f.v()];
  const t: TanhTemps = { x: xs[0], k: ks[0], p: ps[0] };
  f.get(H).c(2).op(OP.i32Shl).set(hb);
  f.get(H).c(4).op(OP.i32Shl).set(gb);
  rowsAndGroups(f, N, hb, jb, () => {
    // pre-activation of gate q: hw[row, q*H + j] + bias[q*H + j]
    for (const [q, dst] of [[0, ai], [1, af], [2, ag], [3, ao]]) {
      gateAddr(f, HW, jb, hb, q);
      f.simd(V.load, 0, 0);
      gateAddr(f, BIAS, jb, hb, q);
      f.simd(V.load, 0, 0).simd(V.fAdd).set(dst);
    }
    // expm1 of -a (sigmoids) and -2|a| (tanh) for the four gates at once
    for (const [q, a] of [[0, ai], [1, af], [3, ao]]) f.k4(0).get(a).simd(V.fSub).set(xs[q]);
    f.get(ag).simd(V.fAbs).k4(-2).simd(V.fMul).set(xs[2]);
    expSteps(f, xs, ks, ps, true);
    // sigmoid = 1 / (2 + e); tanh = -e / (2 + e) with the sign of a
    for (const [q, v] of [[0, vi], [1, vf], [3, vo]]) f.k4(1).k4(2).get(xs[q]).simd(V.fAdd).simd(V.fDiv).set(v);
    f.k4(0).get(xs[2]).simd(V.fSub).k4(2).get(xs[2]).simd(V.fAdd).simd(V.fDiv);
    f.get(ag).u4(0x80000000).simd(V.and).simd(V.xor).set(vg);
    for (const [q, v] of [[0, vi], [1, vf], [2, vg], [3, vo]]) {
      gateAddr(f, GATES, jb, hb, q);
      f.get(v).simd(V.store, 0, 0);
    }
    // c = f cPrev + i g
    f.get(vf).load(CP, jb).simd(V.fMul).get(vi).get(vg).simd(V.fMul).simd(V.fAdd).set(c);
    f.store(CELLS, jb, c);
    tanh(f, c, t);
    f.set(tc);
    f.store(TANH, jb, tc);
    f.get(vo).get(tc).simd(V.fMul).set(c);
    f.store(Y, jb, c);
    f.store(HN, jb, c);
  }, () => {
    f.addTo(HW, HWLD);
    f.addTo(GATES, gb);
    f.addTo(CP, hb);
    f.addTo(CELLS, hb);
    f.addTo(TANH, hb);
    f.addTo(Y, hb);
    f.addTo(HN, HNLD);
  });
  return f.encode();
}

function lstmBackwardBody(): number[] {
  const f = new Fn(11, 5, 12);
  const [N, H, DH, DHLD, DY, GATES, CP, TANH, DCIN, DCOUT, DG] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const jb = f.i32();
  const hb = f.i32();
  const gb = f.i32();
  const [dh, vi, vf, vg, vo, tc, dc, tmp] = [f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v(), f.v()];
  f.get(H).c(2).op(OP.i32Shl).set(hb);
  f.get(H).c(4).op(OP.i32Shl).set(gb);
  const one = () => f.f4(1);
  rowsAndGroups(f, N, hb, jb, () => {
    f.load(DH, jb).load(DY, jb).simd(V.fAdd).set(dh);
    for (const [q, dst] of [[0, vi], [1, vf], [2, vg], [3, vo]]) {
      gateAddr(f, GATES, jb, hb, q);
      f.simd(V.load, 0, 0).set(dst);
    }
    f.load(TANH, jb).set(tc);
    // dcTot = dc + dh o (1 - tc^2)
    f.load(DCIN, jb).get(dh).get(vo).simd(V.fMul);
    one().get(tc).get(tc).simd(V.fMul).simd(V.fSub).simd(V.fMul).simd(V.fAdd).set(dc);
    // di = dcTot g i (1 - i)
    gateAddr(f, DG, jb, hb, 0);
    f.get(dc).get(vg).simd(V.fMul).get(vi).simd(V.fMul);
    one().get(vi).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // df = dcTot cPrev f (1 - f)
    gateAddr(f, DG, jb, hb, 1);
    f.get(dc).load(CP, jb).simd(V.fMul).get(vf).simd(V.fMul);
    one().get(vf).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // dg = dcTot i (1 - g^2)
    gateAddr(f, DG, jb, hb, 2);
    f.get(dc).get(vi).simd(V.fMul);
    one().get(vg).get(vg).simd(V.fMul).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // do = dh tc o (1 - o)
    gateAddr(f, DG, jb, hb, 3);
    f.get(dh).get(tc).simd(V.fMul).get(vo).simd(V.fMul);
    one().get(vo).simd(V.fSub).simd(V.fMul).simd(V.store, 0, 0);
    // dc for the step before: dcTot f
    f.get(dc).get(vf).simd(V.fMul).set(tmp);
    f.store(DCOUT, jb, tmp);
  }, () => {
    f.addTo(DH, DHLD);
    f.addTo(DY, hb);
    f.addTo(GATES, gb);
    f.addTo(CP, hb);
    f.addTo(TANH, hb);
    f.addTo(DCIN, hb);
    f.addTo(DCOUT, hb);
    f.addTo(DG, gb);
  });
  return f.encode();
}

function copyRowsBody(): number[] {
  const f = new Fn(6, 4, 1);
  const [SRC, SLD, DST, DLD, ROWS, NN] = [0, 1, 2, 3, 4, 5];
  const jb = f.i32();
  const hb = f.i32();
  const v = f.v();
  f.get(NN).c(2).op(OP.i32Shl).set(hb);
  rowsAndGroups(f, ROWS, hb, jb, () => {
    f.load(SRC, jb).set(v);
    f.store(DST, jb, v);
  }, () => {
    f.addTo(SRC, SLD);
    f.addTo(DST, DLD);
  });
  return f.encode();
}

function colSumsBody(): number[] {
  const f = new Fn(4, 3, 1);
  const [SRC, ROWS, N4, DST] = [0, 1, 2, 3];
  const s = f.i32();
  const d = f.i32();
  const j = f.i32();
  const v = f.v();
  f.op(OP.loop, 0x40);
  f.get(SRC).set(s).get(DST).set(d).get(N4).set(j);
  f.op(OP.loop, 0x40);
  f.load(s).set(v);
  f.get(d).get(d).simd(V.load, 0, 0).get(v).simd(V.promoteLow).simd(V.dAdd, 1).simd(V.store, 0, 0);
  f.get(d).get(d).simd(V.load, 0, 16).get(v).get(v).simd(V.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)
    .simd(V.promoteLow).simd(V.dAdd, 1).simd(V.store, 0, 16);
  f.addConst(s, 16).addConst(d, 32);
  f.countDown(j);
  f.get(SRC).set(s);
  f.get(N4).c(4).op(OP.i32Shl).get(s).op(OP.i32Add).set(SRC);
  f.countDown(ROWS);
  return f.encode();
}

/** The module's bytes: imported memory "env"."mem" and the four functions of RnnWasm. */
export function rnnWasmModuleBytes(): Uint8Array {
  const i32s = (n: number) => new Array<number>(n).fill(0x7f);
  const funcs: [string, number, number[]][] = [
    ['lstmForward', 0, lstmForwardBody()],
    ['lstmBackward', 1, lstmBackwardBody()],
    ['copyRows', 2, copyRowsBody()],
    ['colSums', 3, colSumsBody()],
  ];
  const exports = funcs.flatMap(([name], i) => [name.length, ...ascii(name), 0, i]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [4, 0x60, 12, ...i32s(12), 0, 0x60, 11, ...i32s(11), 0, 0x60, 6, ...i32s(6), 0, 0x60, 4, ...i32s(4), 0]),
    ...section(2, [1, 3, ...ascii('env'), 3, ...ascii('mem'), 2, 0, 1]), // memory import, at least 1 page
    ...section(3, [funcs.length, ...funcs.map(([, type]) => type)]),
    ...section(7, [funcs.length, ...exports]),
    ...section(10, [funcs.length, ...funcs.flatMap(([, , body]) => body)]),
  ]);
}

/** Instantiates the kernels on the memory of a GEMM kernel instance of their own; null without WebAssembly SIMD. */
export function createRnnWasm(): RnnWasm | null {
  const gemm = createWasmGemmKernel(1 << 14);
  if (!gemm) return null;
  const memory = gemm.memory as WasmMemory;
  const exports = instantiateWasm(rnnWasmModuleBytes(), { env: { mem: memory } });
  if (!exports) return null;
  const kernel: RnnWasm = {
    gemm,
    lstmForward: exports.lstmForward as RnnWasm['lstmForward'],
    lstmBackward: exports.lstmBackward as RnnWasm['lstmBackward'],
    copyRows: exports.copyRows as RnnWasm['copyRows'],
    colSums: exports.colSums as RnnWasm['colSums'],
    f32: new Float32Array(memory.buffer),
    f64: new Float64Array(memory.buffer),
    ensure(n: number): boolean {
      if (kernel.f32.length >= n) return true;
      try {
        gemm.ensure(n);
      } catch {
        return false; // past the 4 GiB of a 32-bit memory, or the engine's limit
      }
      kernel.f32 = new Float32Array(memory.buffer);
      kernel.f64 = new Float64Array(memory.buffer);
      return kernel.f32.length >= n;
    },
  };
  return kernel;
}
