/** Activation layers (torch.nn.ReLU, LeakyReLU, PReLU, Sigmoid, Tanh, SiLU, Softplus, GELU, Softmax, LogSoftmax). Each keeps the input's shape. */
import type { Tensor } from '../core/tensor.ts';
import { gelu, leakyRelu, logSoftmax, prelu, relu, sigmoid, silu, softmax, softplus, tanh } from '../ops/activation.ts';
import { Module, parameter } from './module.ts';

/** ReLU: max(0, x). Input [*] -> output [*]. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** LeakyReLU: x if x > 0 else negativeSlope * x (default 0.01). Input [*] -> output [*]. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

/**
 * PReLU: max(0, x) + a * min(0, x) with a learned slope `weight` [numParameters], one
 * shared (default) or one per channel (dim 1), initialised to `init` (0.25).
 * Input [N, C, *] or [*] -> output of the same shape.
 */
export class PReLU extends Module {
  readonly weight: Tensor;

  constructor(numParameters = 1, init = 0.25) {
    super();
    if (!Number.isInteger(numParameters) || numParameters < 1) throw new Error(`PReLU: num_parameters must be a positive integer, got ${numParameters}`);
    this.weight = parameter(new Float32Array(numParameters).fill(init), [numParameters]);
    this.registerParameter('weight', this.weight);
  }

  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }
}

/** Sigmoid: 1 / (1 + e^-x). Input [*] -> output [*]. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Tanh. Input [*] -> output [*]. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** SiLU (swish): x * sigmoid(x). Input [*] -> output [*]. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Softplus: (1/beta) log(1 + e^(beta x)), linear where beta x > threshold. Input [*] -> output [*]. */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }
}

/** GELU: x * Phi(x) (exact), or its tanh approximation. Input [*] -> output [*]. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** Softmax along `dim`. Input [*] -> output [*], summing to 1 along `dim`. */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** LogSoftmax along `dim`. Input [*] -> output [*]. */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
