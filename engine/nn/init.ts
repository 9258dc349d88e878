/** Weight initialisers with torch.nn.init's formulas, producing fresh value arrays. */
import { defaultGenerator, type Generator } from '../core/random.ts';

export function uniformValues(n: number, low: number, high: number, gen: Generator = defaultGenerator): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = gen.uniform(low, high);
  return v;
}

export function normalValues(n: number, mean: number, std: number, gen: Generator = defaultGenerator): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = gen.normal(mean, std);
  return v;
}

/** fan_in and fan_out of a weight shape (dims 0 and 1, times the receptive field), as torch. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error('fan in and fan out need a weight with at least 2 dimensions');
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export function calculateGain(nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu', param = 0.01): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    default:
      return 1;
  }
}

/** kaiming_uniform_(w, a, mode='fan_in', nonlinearity='leaky_relu'): bound = gain * sqrt(3 / fan). */
export function kaimingUniform(shape: readonly number[], a = 0, mode: 'fan_in' | 'fan_out' = 'fan_in', gen: Generator = defaultGenerator): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  const gain = calculateGain('leaky_relu', a);
  const bound = gain * Math.sqrt(3 / (mode === 'fan_in' ? fanIn : fanOut));
  return uniformValues(shape.reduce((x, y) => x * y, 1), -bound, bound, gen);
}

/** xavier_uniform_: bound = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(shape: readonly number[], gain = 1, gen: Generator = defaultGenerator): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformValues(shape.reduce((x, y) => x * y, 1), -bound, bound, gen);
}

/**
 * The default init of Linear and Conv layers in torch: kaiming_uniform_(a=sqrt(5)) for the
 * weight (bound 1/sqrt(fan_in)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
 */
export function torchDefaultWeight(shape: readonly number[], gen: Generator = defaultGenerator): Float32Array {
  return kaimingUniform(shape, Math.sqrt(5), 'fan_in', gen);
}

export function torchDefaultBias(n: number, fanIn: number, gen: Generator = defaultGenerator): Float32Array {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniformValues(n, -bound, bound, gen);
}
