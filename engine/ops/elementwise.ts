/**
 * Elementwise arithmetic with broadcasting, and the unary maths functions. Each op sits
 * next to its derivative.
 */
import '../backends/cpu/register.ts';
import { setGradHelpers } from '../core/autograd.ts';
import { apply } from '../core/engine.ts';
import { broadcastedDims } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { onesLike, scalar, zerosLike } from './creation.ts';
import { reshape } from './layout.ts';
import { sum } from './reduce.ts';

export type TensorLike = Tensor | number;

function asTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? scalar(x) : x;
}

/** Sums a broadcast gradient back down to `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const dims = broadcastedDims(shape, g.shape);
  const s = dims.length > 0 ? sum(g, dims, true) : g;
  return reshape(s, shape);
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  return apply('Add', [x, y], {}, (dy) => [sumTo(dy, x.shape), sumTo(dy, y.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  return apply('Sub', [x, y], {}, (dy) => [sumTo(dy, x.shape), y.requiresGrad ? sumTo(neg(dy), y.shape) : null]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  return apply('Mul', [x, y], {}, (dy) => [x.requiresGrad ? sumTo(mul(dy, y), x.shape) : null, y.requiresGrad ? sumTo(mul(dy, x), y.shape) : null]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  // d(x/y)/dy = -x / y^2
  return apply('Div', [x, y], {}, (dy) => [
    x.requiresGrad ? sumTo(div(dy, y), x.shape) : null,
    y.requiresGrad ? sumTo(neg(div(mul(dy, x), square(y))), y.shape) : null,
  ]);
}

/** x ** p. For a tensor exponent the gradient w.r.t. p is dy * x^p * log(x). */
export function pow(a: TensorLike, p: TensorLike): Tensor {
  const x = asTensor(a);
  const e = asTensor(p);
  const y = apply('Pow', [x, e], {}, (dy) => [
    x.requiresGrad ? sumTo(mul(dy, mul(e, apply('Pow', [x, sub(e, 1)], {}))), x.shape) : null,
    e.requiresGrad ? sumTo(mul(dy, mul(y, log(x))), e.shape) : null,
  ]);
  return y;
}

export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  // Ties send the gradient to the first operand.
  return apply('Maximum', [x, y], {}, (dy) => {
    const m = ge(x, y);
    return [sumTo(mul(dy, m), x.shape), sumTo(mul(dy, sub(1, m)), y.shape)];
  });
}

export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  return apply('Minimum', [x, y], {}, (dy) => {
    const m = le(x, y);
    return [sumTo(mul(dy, m), x.shape), sumTo(mul(dy, sub(1, m)), y.shape)];
  });
}

// Comparisons return float32 0/1 masks and carry no gradient.
export const gt = (a: TensorLike, b: TensorLike): Tensor => apply('Greater', [asTensor(a), asTensor(b)], {});
export const ge = (a: TensorLike, b: TensorLike): Tensor => apply('GreaterEqual', [asTensor(a), asTensor(b)], {});
export const lt = (a: TensorLike, b: TensorLike): Tensor => apply('Less', [asTensor(a), asTensor(b)], {});
export const le = (a: TensorLike, b: TensorLike): Tensor => apply('LessEqual', [asTensor(a), asTensor(b)], {});
export const eq = (a: TensorLike, b: TensorLike): Tensor => apply('Equal', [asTensor(a), asTensor(b)], {});
export const ne = (a: TensorLike, b: TensorLike): Tensor => sub(1, eq(a, b));

export function neg(x: Tensor): Tensor {
  return apply('Neg', [x], {}, (dy) => [neg(dy)]);
}

export function exp(x: Tensor): Tensor {
  const y = apply('Exp', [x], {}, (dy) => [mul(dy, y)]);
  return y;
}

export function log(x: Tensor): Tensor {
  return apply('Log', [x], {}, (dy) => [div(dy, x)]);
}

export function sqrt(x: Tensor): Tensor {
  // d sqrt(x) = 1 / (2 sqrt(x))
  const y = apply('Sqrt', [x], {}, (dy) => [div(dy, mul(y, 2))]);
  return y;
}

export function square(x: Tensor): Tensor {
  return apply('Square', [x], {}, (dy) => [mul(dy, mul(x, 2))]);
}

export function abs(x: Tensor): Tensor {
  return apply('Abs', [x], {}, (dy) => [mul(dy, apply('Sign', [x], {}))]);
}

export function sin(x: Tensor): Tensor {
  return apply('Sin', [x], {}, (dy) => [mul(dy, apply('Cos', [x], {}))]);
}

export function cos(x: Tensor): Tensor {
  return apply('Cos', [x], {}, (dy) => [neg(mul(dy, apply('Sin', [x], {})))]);
}

/** sign(x) in {-1, 0, 1}; its gradient is zero everywhere (as torch.sign). */
export function sign(x: Tensor): Tensor {
  return apply('Sign', [x], {}, () => [zerosLike(x)]);
}

/**
 * Heaviside step, 1 where x > 0 else 0. Its true gradient is zero; with
 * `straightThrough` the gradient passes through unchanged (the straight-through estimator).
 */
export function step(x: Tensor, opts: { straightThrough?: boolean } = {}): Tensor {
  return apply('Step', [x], {}, (dy) => [opts.straightThrough ? dy : zerosLike(x)]);
}

export function clamp(x: Tensor, min: number | null, max: number | null = null): Tensor {
  return apply('Clamp', [x], { min, max }, (dy) => {
    let mask = dy;
    if (min !== null) mask = mul(mask, ge(x, min));
    if (max !== null) mask = mul(mask, le(x, max));
    return [mask];
  });
}

/** where(cond, a, b): a where cond is non-zero, else b. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  return apply('Where', [cond, x, y], {}, (dy) => [
    null,
    x.requiresGrad ? sumTo(apply('Where', [cond, dy, scalar(0)], {}), x.shape) : null,
    y.requiresGrad ? sumTo(apply('Where', [cond, scalar(0), dy], {}), y.shape) : null,
  ]);
}

export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  return apply('Cast', [x], { dtype });
}

setGradHelpers({ onesLike, zerosLike, add: (a, b) => add(a, b) });
