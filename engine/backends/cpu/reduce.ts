/** Reduction CPU kernels. A reduction over a set of dims is done as outer x reduced x inner loops. */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim, type Shape } from '../../core/shape.ts';
import { f32, out } from './cpu-backend.ts';

function reducedShape(shape: Shape, dims: readonly number[], keepdim: boolean): number[] {
  const res: number[] = [];
  shape.forEach((d, i) => {
    if (dims.includes(i)) {
      if (keepdim) res.push(1);
    } else res.push(d);
  });
  return res;
}

/** Sums over `dims`; permutes so the reduced dims are innermost when they are not contiguous. */
registerKernel('Sum', 'cpu', ([x], attrs) => {
  const rank = x.shape.length;
  const dims = [...new Set((attrs.dims as number[]).map((d) => normDim(d, rank, 'sum')))].sort((a, b) => a - b);
  const keepdim = attrs.keepdim as boolean;
  const xv = f32(x);
  const shape = reducedShape(x.shape, dims, keepdim);
  let n = 1;
  for (const d of shape) n *= d;
  const res = new Float32Array(n);
  if (dims.length === 0) {
    res.set(xv);
    return out(res, shape);
  }
  // Iterate over the input once, mapping each element to its output slot.
  const keptStrides: number[] = new Array(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!dims.includes(i)) {
      keptStrides[i] = s;
      s *= x.shape[i];
    }
  }
  // Fast path: reduce a contiguous trailing block or a leading block.
  const contiguous = dims.every((d, i) => d === dims[0] + i);
  if (contiguous) {
    let outer = 1;
    for (let i = 0; i < dims[0]; i++) outer *= x.shape[i];
    let red = 1;
    for (const d of dims) red *= x.shape[d];
    let inner = 1;
    for (let i = dims[dims.length - 1] + 1; i < rank; i++) inner *= x.shape[i];
    for (let o = 0; o < outer; o++) {
      const base = o * red * inner;
      const ob = o * inner;
      if (inner === 1) {
        let acc = 0;
        for (let r = 0; r < red; r++) acc += xv[base + r];
        res[ob] = acc;
      } else {
        for (let r = 0; r < red; r++) {
          const rb = base + r * inner;
          for (let i = 0; i < inner; i++) res[ob + i] += xv[rb + i];
        }
      }
    }
    return out(res, shape);
  }
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < xv.length; i++) {
    res[o] += xv[i];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += keptStrides[d];
      if (idx[d] < x.shape[d]) break;
      o -= keptStrides[d] * x.shape[d];
      idx[d] = 0;
    }
  }
  return out(res, shape);
});

/** Max or min along one dim: returns values and int32 indices (as torch.max(x, dim)). */
function extremum(x: TensorInfo, dimAttr: number, keepdim: boolean, isMax: boolean): TensorInfo[] {
  const rank = x.shape.length;
  const dim = normDim(dimAttr, rank, isMax ? 'max' : 'min');
  const xv = f32(x);
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= x.shape[i];
  const red = x.shape[dim];
  let inner = 1;
  for (let i = dim + 1; i < rank; i++) inner *= x.shape[i];
  const vals = new Float32Array(outer * inner);
  const idxs = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = xv[o * red * inner + i];
      let bi = 0;
      for (let r = 1; r < red; r++) {
        const v = xv[(o * red + r) * inner + i];
        if (Number.isNaN(best)) break;
        if (isMax ? v > best || Number.isNaN(v) : v < best || Number.isNaN(v)) {
          best = v;
          bi = r;
        }
      }
      vals[o * inner + i] = best;
      idxs[o * inner + i] = bi;
    }
  }
  const shape = reducedShape(x.shape, [dim], keepdim);
  return [out(vals, shape), out(idxs, shape, 'int32')];
}

registerKernel('Max', 'cpu', ([x], attrs) => extremum(x, attrs.dim as number, attrs.keepdim as boolean, true));
registerKernel('Min', 'cpu', ([x], attrs) => extremum(x, attrs.dim as number, attrs.keepdim as boolean, false));
