/** Reduction CPU kernels. A reduction over a set of dims is done as outer x reduced x inner loops. */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim, type Shape } from '../../core/shape.ts';
import { columnSumsSimd } from './attention-wasm.ts';
import { f32, out } from './cpu-backend.ts';
import { rowSumsSimd } from './pool-simd.ts';

/** Below this many values a sum over leading rows stays on the plain loop (the module call costs more). */
const MIN_SIMD_SUM = 1024;

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
  // Fast path: reduce a contiguous trailing block or a leading block.
  const contiguous = dims.every((d, i) => d === dims[0] + i);
  if (contiguous) {
    let outer = 1;
    for (let i = 0; i < dims[0]; i++) outer *= x.shape[i];
    let red = 1;
    for (const d of dims) red *= x.shape[d];
    let inner = 1;
    for (let i = dims[dims.length - 1] + 1; i < rank; i++) inner *= x.shape[i];
    if (inner === 1 && outer > 0) {
      const sums = new Float64Array(outer);
      if (rowSumsSimd(xv, 0, outer, red, sums)) {
        res.set(sums);
        return out(res, shape);
      }
    }
    for (let o = 0; o < outer; o++) {
      const base = o * red * inner;
      const ob = o * inner;
      if (inner === 1) {
        let acc = 0;
        for (let r = 0; r < red; r++) acc += xv[base + r];
        res[ob] = acc;
      } else {
        // Rows added one after another in float32; the SIMD row adds give the same sums.
        const done = red * inner >= MIN_SIMD_SUM ? columnSumsSimd(xv.subarray(base, base + red * inner), red, inner, res.subarray(ob, ob + inner)) : 0;
        for (let r = 0; r < red; r++) {
          const rb = base + r * inner;
          for (let i = done; i < inner; i++) res[ob + i] += xv[rb + i];
        }
      }
    }
    return out(res, shape);
  }
  // General case: merge neighbouring dims that are both kept or both reduced, then walk
  // the input one innermost row at a time (a row sums into one slot, or adds to a row).
  const dimsM: number[] = [];
  const red: boolean[] = [];
  for (let i = 0; i < rank; i++) {
    const r = dims.includes(i);
    if (x.shape[i] === 1) continue;
    if (red.length > 0 && red[red.length - 1] === r) dimsM[dimsM.length - 1] *= x.shape[i];
    else {
      dimsM.push(x.shape[i]);
      red.push(r);
    }
  }
  const m = dimsM.length;
  const strideM = new Array<number>(m).fill(0);
  for (let i = m - 1, st = 1; i >= 0; i--) {
    if (!red[i]) {
      strideM[i] = st;
      st *= dimsM[i];
    }
  }
  if (m === 0) {
    res[0] = xv[0];
    return out(res, shape);
  }
  const inner = dimsM[m - 1];
  const innerReduced = red[m - 1];
  const idx = new Array<number>(m).fill(0);
  let o = 0;
  if (innerReduced) {
    // Rows summed in float64 (SIMD), then added into float64 slots rounded once at the end.
    const rows = xv.length / inner;
    const sums = new Float64Array(rows);
    if (rowSumsSimd(xv, 0, rows, inner, sums)) {
      const acc = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        acc[o] += sums[r];
        for (let d = m - 2; d >= 0; d--) {
          idx[d]++;
          o += strideM[d];
          if (idx[d] < dimsM[d]) break;
          o -= strideM[d] * dimsM[d];
          idx[d] = 0;
        }
      }
      res.set(acc);
      return out(res, shape);
    }
  }
  for (let i = 0; i < xv.length; i += inner) {
    if (innerReduced) {
      let acc = 0;
      for (let j = 0; j < inner; j++) acc += xv[i + j];
      res[o] += acc;
    } else {
      for (let j = 0; j < inner; j++) res[o + j] += xv[i + j];
    }
    for (let d = m - 2; d >= 0; d--) {
      idx[d]++;
      o += strideM[d];
      if (idx[d] < dimsM[d]) break;
      o -= strideM[d] * dimsM[d];
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
