/** Shape and data-movement ops (reshape, permute, cat, split, slice, pad, gather, ...). */
import { apply } from '../core/engine.ts';
import { normDim, type Shape, shapeStr, sizeOf } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { sumTo } from './elementwise.ts';
import { int32 } from './creation.ts';

/** Reshape; one dimension may be -1 and is inferred. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (infer >= 0) {
    const known = target.reduce((p, d, i) => (i === infer ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot view ${shapeStr(x.shape)} as ${shapeStr(shape)}`);
    target[infer] = x.size / known;
  }
  if (sizeOf(target) !== x.size) throw new Error(`reshape: cannot view ${shapeStr(x.shape)} (${x.size} elements) as ${shapeStr(shape)}`);
  if (target.length === x.shape.length && target.every((d, i) => d === x.shape[i])) return x;
  return apply('Reshape', [x], { shape: target }, (dy) => [reshape(dy, x.shape)]);
}

/** Flattens dims start..end into one (torch.flatten). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.shape.length === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.shape.length, 'flatten');
  const e = normDim(endDim, x.shape.length, 'flatten');
  const mid = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((d) => normDim(d, x.shape.length, 'permute'));
  if (p.length !== x.shape.length || new Set(p).size !== p.length) throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${x.shape.length} dimensions`);
  if (p.every((d, i) => d === i)) return x;
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => {
    inverse[d] = i;
  });
  return apply('Transpose', [x], { perm: p }, (dy) => [permute(dy, inverse)]);
}

/** Swaps two dimensions (torch.transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normDim(dim0, x.shape.length, 'transpose');
  const b = normDim(dim1, x.shape.length, 'transpose');
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** Broadcasts to `shape` (torch.expand, materialised). */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return apply('BroadcastTo', [x], { shape: [...shape] }, (dy) => [sumTo(dy, x.shape)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.shape.length + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normDim(dim, x.shape.length, 'squeeze');
  if (x.shape[d] !== 1) return x;
  return reshape(x, [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]);
}

/** Concatenates along `dim` (torch.cat). */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('cat: needs at least one tensor');
  if (xs.length === 1) return xs[0];
  const d = normDim(dim, xs[0].shape.length, 'cat');
  return apply('Concat', xs, { axis: d }, (dy) => {
    let offset = 0;
    return xs.map((x) => {
      const g = narrow(dy, d, offset, x.shape[d]);
      offset += x.shape[d];
      return g;
    });
  });
}

export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  return cat(
    xs.map((x) => unsqueeze(x, dim)),
    dim,
  );
}

/** The slice [start, start+length) of `dim` (torch.narrow). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.shape.length, 'narrow');
  if (start < 0 || length < 0 || start + length > x.shape[d]) {
    throw new Error(`narrow: [${start}, ${start + length}) is outside dimension ${d} of size ${x.shape[d]} (shape ${shapeStr(x.shape)})`);
  }
  if (start === 0 && length === x.shape[d]) return x;
  return slice(x, x.shape.map((_, i) => (i === d ? start : 0)), x.shape.map((s, i) => (i === d ? length : s)));
}

/** General slice with begin, size and optional step per dimension. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[], step?: readonly number[]): Tensor {
  const st = step ?? size.map(() => 1);
  return apply('Slice', [x], { begin: [...begin], size: [...size], step: [...st] }, (dy) => {
    if (st.every((s) => s === 1)) {
      return [pad(dy, x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]))];
    }
    // Strided: scatter through a flat index list.
    const idx = stridedIndices(x.shape, begin, size, st);
    return [reshape(apply('IndexAdd', [reshape(dy, [dy.size]), int32(idx)], { dim: 0, shape: [x.size] }), x.shape)];
  });
}

function stridedIndices(shape: Shape, begin: readonly number[], size: readonly number[], step: readonly number[]): Int32Array {
  const n = sizeOf(size);
  const res = new Int32Array(n);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (begin[d] + idx[d] * step[d]) * strides[d];
    res[o] = src;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return res;
}

/** Splits into chunks of `sizes` along `dim` (torch.split with a list of sizes, or one size). */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.shape.length, 'split');
  const total = x.shape[d];
  const list: number[] = [];
  if (typeof sizes === 'number') {
    for (let s = 0; s < total; s += sizes) list.push(Math.min(sizes, total - s));
  } else {
    if (sizes.reduce((a, b) => a + b, 0) !== total) throw new Error(`split: sizes [${sizes.join(', ')}] do not add up to dimension ${d} of size ${total}`);
    list.push(...sizes);
  }
  let offset = 0;
  return list.map((len) => {
    const part = narrow(x, d, offset, len);
    offset += len;
    return part;
  });
}

/**
 * Constant padding in PyTorch's F.pad order when given a flat list (last dim first:
 * [left, right, top, bottom, ...]), or per-dim pairs for every dim.
 */
export function pad(x: Tensor, padding: readonly number[] | readonly (readonly [number, number])[], value = 0): Tensor {
  let pairs: [number, number][];
  if (padding.length > 0 && Array.isArray(padding[0])) {
    pairs = (padding as readonly (readonly [number, number])[]).map(([a, b]) => [a, b]);
  } else {
    const flat = padding as readonly number[];
    if (flat.length % 2 !== 0 || flat.length / 2 > x.shape.length) throw new Error(`pad: padding of length ${flat.length} does not fit a tensor of rank ${x.shape.length}`);
    pairs = x.shape.map(() => [0, 0] as [number, number]);
    for (let i = 0; i < flat.length / 2; i++) pairs[x.shape.length - 1 - i] = [flat[2 * i], flat[2 * i + 1]];
  }
  if (pairs.every(([a, b]) => a === 0 && b === 0)) return x;
  return apply('Pad', [x], { pads: pairs, value }, (dy) => [apply('Pad', [dy], { pads: pairs.map(([a, b]) => [-a, -b]), value: 0 })]);
}

/** index_select(x, dim, index) with an int32 index vector. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.shape.length, 'index_select');
  return apply('IndexSelect', [x, index], { dim: d }, (dy) => [apply('IndexAdd', [dy, index], { dim: d, shape: [...x.shape] }), null]);
}

/** gather(x, dim, index) with an int32 index of x's rank. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.shape.length, 'gather');
  return apply('Gather', [x, index], { dim: d }, (dy) => [apply('ScatterAdd', [dy, index], { dim: d, shape: [...x.shape] }), null]);
}
