/** Activation functions (torch.nn.functional names), each with its derivative. */
import { noGrad } from '../core/autograd.ts';
import { hasKernel } from '../core/backend.ts';
import { apply, recordGrad } from '../core/engine.ts';
import type { Tensor } from '../core/tensor.ts';
import { abs, add, div, exp, gt, log, mul, neg, sub, where } from './elementwise.ts';
import { reshape } from './layout.ts';
import { sum } from './reduce.ts';

export function relu(x: Tensor): Tensor {
  return apply('Relu', [x], {}, (dy) => [reluGrad(dy, x)]);
}

/** Whether the backend holding `t` runs the fused gradient kernel `name` itself. */
function fusedOn(name: string, t: Tensor): boolean {
  return hasKernel(name, t.backend.name);
}

/** dy * (x > 0), fused ('ReluGrad'); linear in dy, so its own gradient is reluGrad(ddy, x). */
export function reluGrad(dy: Tensor, x: Tensor): Tensor {
  if (!fusedOn('ReluGrad', x)) return mul(dy, gt(x, 0));
  return apply('ReluGrad', [dy, x], {}, (ddy) => [reluGrad(ddy, x), null]);
}

export function sigmoid(x: Tensor): Tensor {
  // sigma' = sigma (1 - sigma)
  const y = apply('Sigmoid', [x], {}, (dy) => [sigmoidGrad(dy, y)]);
  return y;
}

/** dy * y (1 - y) for y = sigmoid(x), fused ('SigmoidGrad'). */
export function sigmoidGrad(dy: Tensor, y: Tensor): Tensor {
  if (!fusedOn('SigmoidGrad', y)) return mul(dy, mul(y, sub(1, y)));
  return apply('SigmoidGrad', [dy, y], {}, (g) => [sigmoidGrad(g, y), mul(g, mul(dy, sub(1, mul(y, 2))))]);
}

export function tanh(x: Tensor): Tensor {
  // tanh' = 1 - tanh^2
  const y = apply('Tanh', [x], {}, (dy) => [tanhGrad(dy, y)]);
  return y;
}

/** dy * (1 - y^2) for y = tanh(x), fused ('TanhGrad'). */
export function tanhGrad(dy: Tensor, y: Tensor): Tensor {
  if (!fusedOn('TanhGrad', y)) return mul(dy, sub(1, mul(y, y)));
  return apply('TanhGrad', [dy, y], {}, (g) => [tanhGrad(g, y), mul(g, mul(dy, mul(y, -2)))]);
}

export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return apply('LeakyRelu', [x], { negativeSlope }, (dy) => [mul(dy, where(gt(x, 0), 1, negativeSlope))]);
}

/**
 * PReLU: max(0, x) + a * min(0, x), with `weight` of 1 element or one per channel
 * (dim 1 of the input, as torch).
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const shape = x.shape.map((d, i) => (i === 1 && weight.size > 1 ? d : 1));
  if (weight.size > 1 && (x.shape.length < 2 || x.shape[1] !== weight.size)) {
    throw new Error(`prelu: ${weight.size} weights need an input with ${weight.size} channels in dimension 1, got shape [${x.shape.join(', ')}]`);
  }
  const a = reshape(weight, shape.length > 0 ? shape : [1]);
  const pos = gt(x, 0);
  return add(mul(x, pos), mul(mul(x, sub(1, pos)), a));
}

/** SiLU (swish): x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * Softplus: (1/beta) log(1 + exp(beta x)), reverting to x where beta x > threshold (as torch).
 * Its derivative is sigmoid(beta x) (1 past the threshold), also at x = 0.
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const y = noGrad(() => {
    const bx = mul(x, beta);
    // log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), stable for large |z|.
    const stable = div(add(relu(bx), log(add(exp(neg(abs(bx))), 1))), beta);
    return where(gt(bx, threshold), x, stable);
  });
  recordGrad('Softplus', [x], [y], ([dy]) => {
    const bx = mul(x, beta);
    return [mul(dy, where(gt(bx, threshold), 1, sigmoid(bx)))];
  });
  return y;
}

/** erf with its derivative 2/sqrt(pi) exp(-x^2). */
export function erf(x: Tensor): Tensor {
  return apply('Erf', [x], {}, (dy) => [mul(dy, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))]);
}

/** GELU, exact form x * Phi(x) (torch's default approximate='none'), or the tanh form. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'tanh') {
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(x, 0.5), add(erf(div(x, Math.SQRT2)), 1));
}


export function softmax(x: Tensor, dim = -1): Tensor {
  // dx = y * (dy - sum(dy * y))
  const y = apply('Softmax', [x], { dim }, (dy) => [mul(y, sub(dy, sum(mul(dy, y), dim, true)))]);
  return y;
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  // dx = dy - softmax(x) * sum(dy)
  const y = apply('LogSoftmax', [x], { dim }, (dy) => [sub(dy, mul(exp(y), sum(dy, dim, true)))]);
  return y;
}

