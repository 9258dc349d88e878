/** Data-movement CPU kernels: copy, permute, concat, slice, pad, gather, broadcast. */
import { registerKernel } from '../../core/backend.ts';
import { normDim, type Shape, shapeStr, sizeOf, stridesOf } from '../../core/shape.ts';
import { anyValues, i32, out } from './cpu-backend.ts';

function like(src: ArrayLike<number>, n: number): Float32Array | Int32Array {
  return src instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
}

/**
 * The same values under a new shape of the same size: the output shares the input's
 * storage (tensors are contiguous, so no element moves). Kernels never write into their
 * inputs except the optimiser updates, which write only parameters and their state.
 */
registerKernel('Reshape', 'cpu', ([x], attrs) => {
  const shape = attrs.shape as Shape;
  if (sizeOf(shape) !== sizeOf(x.shape)) throw new Error(`reshape: cannot view ${shapeStr(x.shape)} as ${shapeStr(shape)}`);
  return out(anyValues(x), shape, x.dtype);
});

registerKernel('Transpose', 'cpu', ([x], attrs) => {
  const perm = attrs.perm as number[];
  const xv = anyValues(x);
  const rank = x.shape.length;
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = stridesOf(x.shape);
  const permStrides = perm.map((p) => inStrides[p]);
  const n = xv.length;
  const res = like(xv, n);
  if (rank === 0 || n === 0) return out(res, shape, x.dtype);
  const idx = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1];
  const sIn = permStrides[rank - 1];
  let src = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) res[o + j] = xv[src + j * sIn];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      src += permStrides[d];
      if (idx[d] < shape[d]) break;
      src -= permStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out(res, shape, x.dtype);
});

registerKernel('Concat', 'cpu', (inputs, attrs) => {
  const rank = inputs[0].shape.length;
  const axis = normDim(attrs.axis as number, rank, 'cat');
  const shape = [...inputs[0].shape];
  shape[axis] = 0;
  for (const t of inputs) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
      throw new Error(`cat: shapes ${inputs.map((u) => shapeStr(u.shape)).join(', ')} differ outside dimension ${axis}`);
    }
    shape[axis] += t.shape[axis];
  }
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < rank; i++) inner *= shape[i];
  const res = like(anyValues(inputs[0]), sizeOf(shape));
  const rowOut = shape[axis] * inner;
  let offset = 0;
  for (const t of inputs) {
    const tv = anyValues(t);
    const row = t.shape[axis] * inner;
    for (let o = 0; o < outer; o++) res.set(tv.subarray(o * row, (o + 1) * row), o * rowOut + offset);
    offset += row;
  }
  return out(res, shape, inputs[0].dtype);
});

/** Slice with per-dim begin, size and step (step >= 1): one strided run per innermost row. */
registerKernel('Slice', 'cpu', ([x], attrs) => {
  const begin = attrs.begin as number[];
  const size = attrs.size as number[];
  const step = (attrs.step as number[] | undefined) ?? size.map(() => 1);
  const xv = anyValues(x);
  const rank = x.shape.length;
  const n = sizeOf(size);
  const res = like(xv, n);
  if (n === 0) return out(res, size, x.dtype);
  if (rank === 0) {
    res[0] = xv[0];
    return out(res, size, x.dtype);
  }
  const strides = stridesOf(x.shape);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let d = 0; d < rank; d++) src += begin[d] * strides[d];
  const inner = size[rank - 1];
  const sIn = step[rank - 1];
  for (let o = 0; o < n; o += inner) {
    if (sIn === 1) res.set(xv.subarray(src, src + inner), o);
    else for (let j = 0; j < inner; j++) res[o + j] = xv[src + j * sIn];
    for (let d = rank - 2; d >= 0; d--) {
      src += step[d] * strides[d];
      if (++idx[d] < size[d]) break;
      src -= size[d] * step[d] * strides[d];
      idx[d] = 0;
    }
  }
  return out(res, size, x.dtype);
});

/** Constant padding: pads[d] = [before, after] for every dim (negative values crop). */
registerKernel('Pad', 'cpu', ([x], attrs) => {
  const pads = attrs.pads as [number, number][];
  const value = (attrs.value as number | undefined) ?? 0;
  const xv = anyValues(x);
  const rank = x.shape.length;
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const n = sizeOf(shape);
  const res = like(xv, n);
  if (value !== 0) res.fill(value);
  const outStrides = stridesOf(shape);
  const idx = new Array<number>(rank).fill(0);
  if (rank > 0 && xv.length > 0 && pads.every(([a, b]) => a >= 0 && b >= 0)) {
    // Growing pads only: each innermost input row lands whole in one output row.
    const inner = x.shape[rank - 1];
    let dst = 0;
    for (let d = 0; d < rank; d++) dst += pads[d][0] * outStrides[d];
    for (let i = 0; i < xv.length; i += inner) {
      res.set(xv.subarray(i, i + inner), dst);
      for (let d = rank - 2; d >= 0; d--) {
        dst += outStrides[d];
        if (++idx[d] < x.shape[d]) break;
        dst -= x.shape[d] * outStrides[d];
        idx[d] = 0;
      }
    }
    return out(res, shape, x.dtype);
  }
  for (let i = 0; i < xv.length; i++) {
    let dst = 0;
    let inside = true;
    for (let d = 0; d < rank; d++) {
      const p = idx[d] + pads[d][0];
      if (p < 0 || p >= shape[d]) {
        inside = false;
        break;
      }
      dst += p * outStrides[d];
    }
    if (inside) res[dst] = xv[i];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out(res, shape, x.dtype);
});

/** index_select(x, dim, index): picks whole slices along `dim`. */
registerKernel('IndexSelect', 'cpu', ([x, index], attrs) => {
  const rank = x.shape.length;
  const dim = normDim(attrs.dim as number, rank, 'index_select');
  const xv = anyValues(x);
  const iv = i32(index);
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= x.shape[i];
  let inner = 1;
  for (let i = dim + 1; i < rank; i++) inner *= x.shape[i];
  const d = x.shape[dim];
  const shape = [...x.shape];
  shape[dim] = iv.length;
  const res = like(xv, sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < iv.length; k++) {
      const j = iv[k];
      if (j < 0 || j >= d) throw new Error(`index_select: index ${j} is out of range for dimension ${dim} of size ${d}`);
      res.set(xv.subarray((o * d + j) * inner, (o * d + j + 1) * inner), (o * iv.length + k) * inner);
    }
  }
  return out(res, shape, x.dtype);
});

/** gather(x, dim, index): out[..i..] = x[..index[..i..]..] along dim; index has x's rank. */
registerKernel('Gather', 'cpu', ([x, index], attrs) => {
  const rank = x.shape.length;
  const dim = normDim(attrs.dim as number, rank, 'gather');
  const xv = anyValues(x);
  const iv = i32(index);
  const shape = index.shape;
  const xs = stridesOf(x.shape);
  const n = iv.length;
  const res = like(xv, n);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    const j = iv[o];
    if (j < 0 || j >= x.shape[dim]) throw new Error(`gather: index ${j} is out of range for dimension ${dim} of size ${x.shape[dim]}`);
    let src = 0;
    for (let d = 0; d < rank; d++) src += (d === dim ? j : idx[d]) * xs[d];
    res[o] = xv[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out(res, shape, x.dtype);
});

/** scatter_add into zeros of `shape` along dim (the backward of gather). */
registerKernel('ScatterAdd', 'cpu', ([src, index], attrs) => {
  const shape = attrs.shape as number[];
  const rank = shape.length;
  const dim = normDim(attrs.dim as number, rank, 'scatter_add');
  const sv = anyValues(src);
  const iv = i32(index);
  const os = stridesOf(shape);
  const res = new Float32Array(sizeOf(shape));
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < iv.length; o++) {
    let dst = 0;
    for (let d = 0; d < rank; d++) dst += (d === dim ? iv[o] : idx[d]) * os[d];
    res[dst] += sv[o];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < index.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out(res, shape);
});

/** index_add into zeros of `shape` along dim (the backward of index_select and embedding). */
registerKernel('IndexAdd', 'cpu', ([src, index], attrs) => {
  const shape = attrs.shape as number[];
  const rank = shape.length;
  const dim = normDim(attrs.dim as number, rank, 'index_add');
  const sv = anyValues(src);
  const iv = i32(index);
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  let inner = 1;
  for (let i = dim + 1; i < rank; i++) inner *= shape[i];
  const d = shape[dim];
  const res = new Float32Array(sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < iv.length; k++) {
      const dst = (o * d + iv[k]) * inner;
      const s = (o * iv.length + k) * inner;
      for (let i = 0; i < inner; i++) res[dst + i] += sv[s + i];
    }
  }
  return out(res, shape);
});

registerKernel('BroadcastTo', 'cpu', ([x], attrs) => {
  const shape = attrs.shape as number[];
  const xv = anyValues(x);
  const rank = shape.length;
  const offset = rank - x.shape.length;
  const xs = stridesOf(x.shape);
  const bs = new Array<number>(rank).fill(0);
  for (let i = 0; i < x.shape.length; i++) {
    if (x.shape[i] !== 1 && x.shape[i] !== shape[i + offset]) throw new Error(`expand: cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    bs[i + offset] = x.shape[i] === 1 ? 0 : xs[i];
  }
  const n = sizeOf(shape);
  const res = like(xv, n);
  // The trailing dimensions taken whole from x are copied as one contiguous block per step;
  // where the last dimension is broadcast instead, the trailing broadcast dimensions are one
  // fill of a single value. An odometer walks the dimensions before them.
  let outerRank = rank;
  let block = 1;
  while (outerRank > 0 && bs[outerRank - 1] !== 0) block *= shape[--outerRank];
  const copy = outerRank < rank;
  if (!copy) while (outerRank > 0 && bs[outerRank - 1] === 0) block *= shape[--outerRank];
  const idx = new Array<number>(outerRank).fill(0);
  let src = 0;
  for (let o = 0; o < n; o += block) {
    if (copy) res.set(xv.subarray(src, src + block), o);
    else res.fill(xv[src], o, o + block);
    for (let d = outerRank - 1; d >= 0; d--) {
      idx[d]++;
      src += bs[d];
      if (idx[d] < shape[d]) break;
      src -= bs[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out(res, shape, x.dtype);
});
