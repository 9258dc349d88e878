/** Elementwise CPU kernels: unary maps and broadcasting binary ops. */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { broadcastShapes, type Shape, sizeOf, stridesOf } from '../../core/shape.ts';
import { anyValues, f32, out } from './cpu-backend.ts';

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

function binaryLoop(a: TensorInfo, b: TensorInfo, fn: Binary, name: string, outInt = false): TensorInfo {
  const av = anyValues(a);
  const bv = anyValues(b);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const n = sizeOf(shape);
  const res = outInt ? new Int32Array(n) : new Float32Array(n);
  if (av.length === n && bv.length === n) {
    for (let i = 0; i < n; i++) res[i] = fn(av[i], bv[i]);
  } else if (bv.length === 1) {
    const y = bv[0];
    for (let i = 0; i < n; i++) res[i] = fn(av[i], y);
  } else if (av.length === 1) {
    const x = av[0];
    for (let i = 0; i < n; i++) res[i] = fn(x, bv[i]);
  } else if (av.length === n && isSuffix(b.shape, shape)) {
    const m = bv.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) res[i + j] = fn(av[i + j], bv[j]);
  } else {
    const rank = shape.length;
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const idx = new Array<number>(rank).fill(0);
    const inner = shape[rank - 1];
    const saIn = sa[rank - 1];
    const sbIn = sb[rank - 1];
    let ia = 0;
    let ib = 0;
    for (let o = 0; o < n; o += inner) {
      for (let j = 0; j < inner; j++) res[o + j] = fn(av[ia + j * saIn], bv[ib + j * sbIn]);
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

/** True when `s` equals the trailing dimensions of `target` (leading 1s allowed). */
function isSuffix(s: Shape, target: Shape): boolean {
  let i = s.length - 1;
  let j = target.length - 1;
  for (; i >= 0; i--, j--) if (s[i] !== target[j]) break;
  for (; i >= 0; i--) if (s[i] !== 1) return false;
  return true;
}

function registerBinary(name: string, fn: Binary, outInt = false): void {
  registerKernel(name, 'cpu', ([a, b]) => binaryLoop(a, b, fn, name, outInt));
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

registerUnary('Neg', (x) => -x);
registerUnary('Exp', Math.exp);
registerUnary('Log', Math.log);
registerUnary('Sqrt', Math.sqrt);
registerUnary('Abs', Math.abs);
registerUnary('Sign', Math.sign);
registerUnary('Step', (x) => (x > 0 ? 1 : 0));
registerUnary('Square', (x) => x * x);
registerUnary('Reciprocal', (x) => 1 / x);
registerUnary('Relu', (x) => (x > 0 ? x : 0));
registerUnary('Sigmoid', (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))));
registerUnary('Tanh', Math.tanh);
registerUnary('Sin', Math.sin);
registerUnary('Cos', Math.cos);
registerUnary('Erf', erf);

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
