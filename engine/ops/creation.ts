/** Tensor creation (torch.zeros, ones, full, rand, randn, arange, *_like). */
import type { DType } from '../core/backend.ts';
import { apply, fromValues, tensor } from '../core/engine.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import { type Shape, sizeOf } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';

export { tensor, fromValues };

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  return apply('Fill', [], { shape: [...shape], value, dtype });
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

export function scalar(value: number): Tensor {
  return full([], value);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, t.dtype);
}

export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, t.dtype);
}

/** Uniform samples in [low, high). */
export function rand(shape: Shape, low = 0, high = 1, gen: Generator = defaultGenerator): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = gen.uniform(low, high);
  return fromValues(v, shape);
}

/** Normal samples with the given mean and standard deviation. */
export function randn(shape: Shape, mean = 0, std = 1, gen: Generator = defaultGenerator): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = gen.normal(mean, std);
  return fromValues(v, shape);
}

export function arange(start: number, end?: number, step = 1, dtype: DType = 'float32'): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const v = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + i * step;
  return fromValues(v, [n], dtype);
}

export function int32(values: ArrayLike<number>, shape: Shape = [values.length]): Tensor {
  return tensor(values, shape, 'int32');
}
