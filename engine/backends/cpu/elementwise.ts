/** Elementwise CPU kernels: unary maps and broadcasting binary ops. */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { broadcastShapes, type Shape, shapeStr, sizeOf, stridesOf } from '../../core/shape.ts';
import { anyValues, f32, out } from './cpu-backend.ts';
import { type BinarySimdOp, binarySimd, reluGradSimd, reluSimd } from './pool-simd.ts';

type Binary = (x: number, y: number) => number;
type Unary = (x: number) => number;

/** Strides of `shape` aligned to `target`, zero along broadcast dimensions. */
function broadcastStrides(shape: Shape, target: Shape): number[] {
  const s = stridesOf(shape);
  const offset = target.length - shape.length;
  const res = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) res[i + offset] = shape[i] === 1 ? 0 : s[i];
  return res;
}

/**
 * The common binary ops, each a plain loop over strided runs (no call per element). The
 * op code selects the loop once per run.
 */
const OPS = { Add: 0, Sub: 1, Mul: 2, Div: 3, Maximum: 4, Minimum: 5, Greater: 6, GreaterEqual: 7, Less: 8, LessEqual: 9, Equal: 10 } as const;
type OpCode = (typeof OPS)[keyof typeof OPS];

/** res[o + j] = av[ia + j*sa] OP bv[ib + j*sb] for j < len. */
function run(op: OpCode, av: ArrayLike<number>, ia: number, sa: number, bv: ArrayLike<number>, ib: number, sb: number, res: Float32Array | Int32Array, o: number, len: number): void {
  const end = o + len;
  switch (op) {
    case 0:
      if (sa === 1 && sb === 1) for (; o < end; o++, ia++, ib++) res[o] = av[ia] + bv[ib];
      else if (sa === 1 && sb === 0) for (const y = bv[ib]; o < end; o++, ia++) res[o] = av[ia] + y;
      else for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] + bv[ib];
      return;
    case 1:
      if (sa === 1 && sb === 1) for (; o < end; o++, ia++, ib++) res[o] = av[ia] - bv[ib];
      else if (sa === 1 && sb === 0) for (const y = bv[ib]; o < end; o++, ia++) res[o] = av[ia] - y;
      else for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] - bv[ib];
      return;
    case 2:
      if (sa === 1 && sb === 1) for (; o < end; o++, ia++, ib++) res[o] = av[ia] * bv[ib];
      else if (sa === 1 && sb === 0) for (const y = bv[ib]; o < end; o++, ia++) res[o] = av[ia] * y;
      else for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] * bv[ib];
      return;
    case 3:
      if (sa === 1 && sb === 1) for (; o < end; o++, ia++, ib++) res[o] = av[ia] / bv[ib];
      else for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] / bv[ib];
      return;
    case 4:
      for (; o < end; o++, ia += sa, ib += sb) {
        const x = av[ia];
        const y = bv[ib];
        res[o] = x >= y || Number.isNaN(x) ? x : y;
      }
      return;
    case 5:
      for (; o < end; o++, ia += sa, ib += sb) {
        const x = av[ia];
        const y = bv[ib];
        res[o] = x <= y || Number.isNaN(x) ? x : y;
      }
      return;
    case 6:
      for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] > bv[ib] ? 1 : 0;
      return;
    case 7:
      for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] >= bv[ib] ? 1 : 0;
      return;
    case 8:
      for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] < bv[ib] ? 1 : 0;
      return;
    case 9:
      for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] <= bv[ib] ? 1 : 0;
      return;
    default:
      for (; o < end; o++, ia += sa, ib += sb) res[o] = av[ia] === bv[ib] ? 1 : 0;
  }
}

/** Op codes with a float32 SIMD kernel for arrays of one length (same results as `run`). */
const SIMD_OPS: (BinarySimdOp | undefined)[] = ['add', 'sub', 'mul', 'div'];

/** Broadcasting binary op: whole-array, scalar and trailing-block cases as single runs, else one run per innermost row. */
function binaryOp(a: TensorInfo, b: TensorInfo, op: OpCode, name: string, outInt: boolean): TensorInfo {
  const av = anyValues(a);
  const bv = anyValues(b);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const n = sizeOf(shape);
  const res = outInt ? new Int32Array(n) : new Float32Array(n);
  if (n === 0) return out(res, shape);
  const simdOp = SIMD_OPS[op];
  if (simdOp && av.length === n && bv.length === n && av instanceof Float32Array && bv instanceof Float32Array && res instanceof Float32Array
    && binarySimd(simdOp, av, bv, res)) return out(res, shape);
  if (av.length === n && bv.length === n) run(op, av, 0, 1, bv, 0, 1, res, 0, n);
  else if (bv.length === 1) run(op, av, 0, 1, bv, 0, 0, res, 0, n);
  else if (av.length === 1) run(op, av, 0, 0, bv, 0, 1, res, 0, n);
  else if (av.length === n && isSuffix(b.shape, shape)) {
    const m = bv.length;
    for (let i = 0; i < n; i += m) run(op, av, i, 1, bv, 0, 1, res, i, m);
  } else if (bv.length === n && isSuffix(a.shape, shape)) {
    const m = av.length;
    for (let i = 0; i < n; i += m) run(op, av, 0, 1, bv, i, 1, res, i, m);
  } else {
    const rank = shape.length;
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const idx = new Array<number>(rank).fill(0);
    const inner = shape[rank - 1];
    let ia = 0;
    let ib = 0;
    for (let o = 0; o < n; o += inner) {
      run(op, av, ia, sa[rank - 1], bv, ib, sb[rank - 1], res, o, inner);
      // odometer over the outer dimensions
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]++;
        ia += sa[d];
        ib += sb[d];
        if (idx[d] < shape[d]) break;
        ia -= sa[d] * shape[d];
        ib -= sb[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  return out(res, shape);
}

/** The same broadcasting for ops given as a function per element. */
function binaryLoop(a: TensorInfo, b: TensorInfo, fn: Binary, name: string, outInt = false): TensorInfo {
  const av = anyValues(a);
  const bv = anyValues(b);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const n = sizeOf(shape);
  const res = outInt ? new Int32Array(n) : new Float32Array(n);
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const strides = stridesOf(shape);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(rem / strides[d]);
      rem -= q * strides[d];
      ia += q * sa[d];
      ib += q * sb[d];
    }
    res[i] = fn(av[ia], bv[ib]);
  }
  return out(res, shape);
}

/** True when `s` equals the trailing dimensions of `target` (leading 1s allowed). */
function isSuffix(s: Shape, target: Shape): boolean {
  let i = s.length - 1;
  let j = target.length - 1;
  for (; i >= 0; i--, j--) if (s[i] !== target[j]) break;
  for (; i >= 0; i--) if (s[i] !== 1) return false;
  return true;
}

function registerBinary(name: string, fn: Binary, outInt = false): void {
  const op = (OPS as Record<string, OpCode | undefined>)[name];
  if (op !== undefined) registerKernel(name, 'cpu', ([a, b]) => binaryOp(a, b, op, name, outInt));
  else registerKernel(name, 'cpu', ([a, b]) => binaryLoop(a, b, fn, name, outInt));
}

function registerUnary(name: string, fn: Unary): void {
  registerKernel(name, 'cpu', ([x]) => {
    const xv = f32(x);
    const res = new Float32Array(xv.length);
    for (let i = 0; i < xv.length; i++) res[i] = fn(xv[i]);
    return out(res, x.shape);
  });
}

registerBinary('Add', (x, y) => x + y);
registerBinary('Sub', (x, y) => x - y);
registerBinary('Mul', (x, y) => x * y);
registerBinary('Div', (x, y) => x / y);
registerBinary('Pow', (x, y) => Math.pow(x, y));
registerBinary('Maximum', (x, y) => (x >= y || Number.isNaN(x) ? x : y));
registerBinary('Minimum', (x, y) => (x <= y || Number.isNaN(x) ? x : y));
registerBinary('Greater', (x, y) => (x > y ? 1 : 0));
registerBinary('GreaterEqual', (x, y) => (x >= y ? 1 : 0));
registerBinary('Less', (x, y) => (x < y ? 1 : 0));
registerBinary('LessEqual', (x, y) => (x <= y ? 1 : 0));
registerBinary('Equal', (x, y) => (x === y ? 1 : 0));

/** Registers a unary kernel whose loop is written out (no call per element). */
function registerMap(name: string, loop: (x: Float32Array, res: Float32Array) => void): void {
  registerKernel(name, 'cpu', ([x]) => {
    const xv = f32(x);
    const res = new Float32Array(xv.length);
    loop(xv, res);
    return out(res, x.shape);
  });
}

registerMap('Neg', (x, r) => {
  for (let i = 0; i < x.length; i++) r[i] = -x[i];
});
/**
 * ReLU on the float bits, without a branch (a data-dependent branch mispredicts on about
 * half of the activations): a set sign bit clears the value, so negatives and -0 become
 * +0; NaN stays NaN whatever its sign, as torch.relu. WebAssembly SIMD does the same with a
 * comparison mask where it is available.
 */
registerMap('Relu', (x, r) => {
  if (reluSimd(x, r)) return;
  const xb = new Int32Array(x.buffer, x.byteOffset, x.length);
  const rb = new Int32Array(r.buffer, r.byteOffset, r.length);
  for (let i = 0; i < xb.length; i++) {
    const v = xb[i];
    const nan = (0x7f800000 - (v & 0x7fffffff)) >> 31;
    rb[i] = (v & ~(v >> 31)) | (v & nan);
  }
});
registerMap('Square', (x, r) => {
  for (let i = 0; i < x.length; i++) r[i] = x[i] * x[i];
});
registerMap('Exp', (x, r) => {
  for (let i = 0; i < x.length; i++) r[i] = Math.exp(x[i]);
});
registerMap('Sigmoid', (x, r) => {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v >= 0) r[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      r[i] = e / (1 + e);
    }
  }
});
registerMap('Tanh', (x, r) => {
  for (let i = 0; i < x.length; i++) r[i] = Math.tanh(x[i]);
});
registerUnary('Log', Math.log);
registerUnary('Sqrt', Math.sqrt);
registerUnary('Abs', Math.abs);
registerUnary('Sign', Math.sign);
registerUnary('Step', (x) => (x > 0 ? 1 : 0));
registerUnary('Reciprocal', (x) => 1 / x);
registerUnary('Sin', Math.sin);
registerUnary('Cos', Math.cos);
registerUnary('Erf', erf);

/**
 * Fused activation gradients, inputs [dy, t] of one shape: ReluGrad dy * (x > 0) with t = x;
 * SigmoidGrad dy * y (1 - y) and TanhGrad dy * (1 - y^2) with t = the forward output y.
 */
function registerGrad(name: string, loop: (dy: Float32Array, t: Float32Array, res: Float32Array) => void): void {
  registerKernel(name, 'cpu', ([dy, t]) => {
    const dv = f32(dy);
    const tv = f32(t);
    if (dv.length !== tv.length) throw new Error(`${name}: gradient ${shapeStr(dy.shape)} and saved tensor ${shapeStr(t.shape)} differ in size`);
    const res = new Float32Array(dv.length);
    loop(dv, tv, res);
    return out(res, t.shape);
  });
}

/** dy where x > 0, else +0: dy's bits masked by the comparison, without a branch. */
registerGrad('ReluGrad', (dy, x, r) => {
  if (reluGradSimd(dy, x, r)) return;
  const db = new Int32Array(dy.buffer, dy.byteOffset, dy.length);
  const rb = new Int32Array(r.buffer, r.byteOffset, r.length);
  for (let i = 0; i < rb.length; i++) rb[i] = db[i] & -(x[i] > 0);
});
registerGrad('SigmoidGrad', (dy, y, r) => {
  for (let i = 0; i < r.length; i++) r[i] = dy[i] * y[i] * (1 - y[i]);
});
registerGrad('TanhGrad', (dy, y, r) => {
  for (let i = 0; i < r.length; i++) r[i] = dy[i] * (1 - y[i] * y[i]);
});

registerKernel('Clamp', 'cpu', ([x], attrs) => {
  const lo = (attrs.min as number | null) ?? -Infinity;
  const hi = (attrs.max as number | null) ?? Infinity;
  const xv = f32(x);
  const res = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) res[i] = xv[i] < lo ? lo : xv[i] > hi ? hi : xv[i];
  return out(res, x.shape);
});

registerKernel('LeakyRelu', 'cpu', ([x], attrs) => {
  const slope = attrs.negativeSlope as number;
  const xv = f32(x);
  const res = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) res[i] = xv[i] > 0 ? xv[i] : slope * xv[i];
  return out(res, x.shape);
});

/** where(cond, a, b) with broadcasting of all three. */
registerKernel('Where', 'cpu', ([c, a, b]) => {
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
  const n = sizeOf(shape);
  const cv = anyValues(c);
  const av = anyValues(a);
  const bv = anyValues(b);
  const sc = broadcastStrides(c.shape, shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const strides = stridesOf(shape);
  const res = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let ic = 0;
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < shape.length; d++) {
      const q = Math.floor(rem / strides[d]);
      rem -= q * strides[d];
      ic += q * sc[d];
      ia += q * sa[d];
      ib += q * sb[d];
    }
    res[i] = cv[ic] !== 0 ? av[ia] : bv[ib];
  }
  return out(res, shape);
});

registerKernel('Cast', 'cpu', ([x], attrs) => {
  const v = anyValues(x);
  const res = attrs.dtype === 'int32' ? Int32Array.from(v, (e) => Math.trunc(e)) : Float32Array.from(v);
  return out(res, x.shape);
});

registerKernel('Fill', 'cpu', (_inputs, attrs) => {
  const shape = attrs.shape as Shape;
  const res = attrs.dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  res.fill(attrs.value as number);
  return out(res, shape);
});

/** erf via the Numerical Recipes erfc approximation (fractional error below 1.2e-7). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}
