/** Reductions over dimensions (torch.sum, mean, max, min, argmax, var). */
import { apply, applyMulti, recordGrad } from '../core/engine.ts';
import { normDim } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { div, mul, sub, square } from './elementwise.ts';
import { expand, reshape } from './layout.ts';

function resolveDims(x: Tensor, dims?: number | readonly number[]): number[] {
  if (dims === undefined) return x.shape.map((_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  return list.map((d) => normDim(d, x.shape.length, 'reduce'));
}

function keptShape(x: Tensor, dims: number[]): number[] {
  return x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/** Sum over `dims` (all when omitted). */
export function sum(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = resolveDims(x, dims);
  // The gradient of a sum copies dy to every summed position.
  return apply('Sum', [x], { dims: ds, keepdim }, (dy) => [expand(reshape(dy, keptShape(x, ds)), x.shape)]);
}

export function mean(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = resolveDims(x, dims);
  let n = 1;
  for (const d of ds) n *= x.shape[d];
  return div(sum(x, ds, keepdim), n);
}

/** Variance over `dims`, biased (divide by N) unless `unbiased`. */
export function variance(x: Tensor, dims?: number | readonly number[], keepdim = false, unbiased = false): Tensor {
  const ds = resolveDims(x, dims);
  let n = 1;
  for (const d of ds) n *= x.shape[d];
  const centred = sub(x, mean(x, ds, true));
  return div(sum(square(centred), ds, keepdim), unbiased ? n - 1 : n);
}

function extremum(kernel: 'Max' | 'Min', x: Tensor, dim: number, keepdim: boolean): { values: Tensor; indices: Tensor } {
  const d = normDim(dim, x.shape.length, kernel.toLowerCase());
  const [values, indices] = applyMulti(kernel, [x], { dim: d, keepdim }, ([dy]) => {
    // The gradient goes to the selected element only (as torch.max(x, dim)).
    const kept = keptShape(x, [d]);
    return [apply('ScatterAdd', [reshape(dy, kept), reshape(indices, kept)], { dim: d, shape: [...x.shape] })];
  });
  return { values, indices };
}

/** Largest value along `dim` and its index (torch.max(x, dim)). */
export function max(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return extremum('Max', x, dim, keepdim);
}

export function min(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return extremum('Min', x, dim, keepdim);
}

/** Largest value over all elements; ties share the gradient equally (as torch.max(x)). */
export function maxAll(x: Tensor): Tensor {
  const flat = reshape(x, [x.size]);
  const values = applyMulti('Max', [flat], { dim: 0, keepdim: false })[0];
  recordGrad('max', [x], [values], ([dy]) => {
    const mask = apply('Equal', [x, values], {});
    return [mul(div(mask, sum(mask)), dy)];
  });
  return values;
}

export function argmax(x: Tensor, dim: number, keepdim = false): Tensor {
  return applyMulti('Max', [x], { dim: normDim(dim, x.shape.length, 'argmax'), keepdim })[1];
}

export function argmin(x: Tensor, dim: number, keepdim = false): Tensor {
  return applyMulti('Min', [x], { dim: normDim(dim, x.shape.length, 'argmin'), keepdim })[1];
}
