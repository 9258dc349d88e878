/**
 * Index kernels on the gpu: Gather / ScatterAdd (cross-entropy's pick of the target class and
 * its backward, max/min's backward) and IndexSelect / IndexAdd (embeddings), so that these
 * steps of a training step stay on the device. Indices are int32 tensors passed as exact
 * floats. Formulas follow the CPU reference (backends/cpu/layout.ts).
 *
 * The CPU throws on an out-of-range index; a kernel cannot, so indices the host wrote are
 * checked here before the kernel runs (indices computed on the device come from argmax-like
 * kernels and are in range by construction).
 */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim, shapeStr, sizeOf, stridesOf } from '../../core/shape.ts';
import { coordinates, dot, lit } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

function checkIndices(index: TensorInfo, size: number, op: string, dim: number): void {
  const iv = gpuBackend.hostValues(index);
  if (!iv) return;
  for (let i = 0; i < iv.length; i++) {
    if (!(iv[i] >= 0 && iv[i] < size)) throw new Error(`${op}: index ${iv[i]} is out of range for dimension ${dim} of size ${size}`);
  }
}

function checkRank(x: TensorInfo, index: TensorInfo, op: string): void {
  if (index.shape.length !== x.shape.length) {
    throw new Error(`${op}: index ${shapeStr(index.shape)} must have the rank of the input ${shapeStr(x.shape)}`);
  }
}

/** gather(x, dim, index): out[..i..] = x[..index[..i..]..] along dim; out has index's shape. */
registerKernel('Gather', 'gpu', ([x, index], attrs) => {
  const rank = x.shape.length;
  const dim = normDim(attrs.dim as number, rank, 'gather');
  checkRank(x, index, 'gather');
  checkIndices(index, x.shape[dim], 'gather', dim);
  const xs = stridesOf(x.shape);
  const { code, coords } = coordinates('i', index.shape, 'c');
  const src = dot(coords.map((c, d) => (d === dim ? 'j' : c)), xs);
  const source = `function(a0, a1) {
const i = this.thread.x;
${code}
const j = a1[i];
return a0[${src}];
}`;
  return gpuBackend.run(source, [x, index], index.shape, x.dtype);
});

/**
 * scatter_add into zeros of `shape` along dim (gather's backward): each output element sums
 * the sources whose index, at its position, names it.
 */
registerKernel('ScatterAdd', 'gpu', ([src, index], attrs) => {
  const shape = attrs.shape as number[];
  const rank = shape.length;
  const dim = normDim(attrs.dim as number, rank, 'scatter_add');
  if (index.shape.length !== rank || sizeOf(src.shape) !== sizeOf(index.shape)) {
    throw new Error(`scatter_add: source ${shapeStr(src.shape)} and index ${shapeStr(index.shape)} must match, with the rank of ${shapeStr(shape)}`);
  }
  checkIndices(index, shape[dim], 'scatter_add', dim);
  const is = stridesOf(index.shape);
  const { code, coords } = coordinates('i', shape, 'c');
  // Output coordinates outside the index's extent (dims other than `dim`) receive nothing.
  const outside = coords.flatMap((c, d) => (d === dim || index.shape[d] >= shape[d] ? [] : [`${c} >= ${lit(index.shape[d])}`]));
  const base = dot(coords.map((c, d) => (d === dim ? '0.0' : c)), is);
  const source = `function(a0, a1) {
const i = this.thread.x;
${code}
${outside.length ? `if (${outside.join(' || ')}) { return 0.0; }` : ''}
const base = ${base};
let s = 0.0;
for (let p = 0; p < ${index.shape[dim]}; p++) {
const o = base + p * ${lit(is[dim])};
if (a1[o] === c${dim}) { s += a0[o]; }
}
return s;
}`;
  return gpuBackend.run(source, [src, index], shape);
});

/** Sizes before, along and after `dim`. */
function split(shape: readonly number[], dim: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[dim], inner];
}

/** index_select(x, dim, index): the slices of x along dim that a 1-D index names, in order. */
registerKernel('IndexSelect', 'gpu', ([x, index], attrs) => {
  const dim = normDim(attrs.dim as number, x.shape.length, 'index_select');
  if (index.shape.length > 1) throw new Error(`index_select: index must be 1-D, got ${shapeStr(index.shape)}`);
  checkIndices(index, x.shape[dim], 'index_select', dim);
  const n = sizeOf(index.shape);
  const [, d, inner] = split(x.shape, dim);
  const shape = [...x.shape];
  shape[dim] = n;
  const source = `function(a0, a1) {
const i = this.thread.x;
const o = Math.floor((i + 0.5) / ${lit(n * inner)});
const rem = i - o * ${lit(n * inner)};
const k = Math.floor((rem + 0.5) / ${lit(inner)});
const e = rem - k * ${lit(inner)};
return a0[(o * ${lit(d)} + a1[k]) * ${lit(inner)} + e];
}`;
  return gpuBackend.run(source, [x, index], shape, x.dtype);
});

/** index_add into zeros of `shape` along dim (index_select's and embedding's backward). */
registerKernel('IndexAdd', 'gpu', ([src, index], attrs) => {
  const shape = attrs.shape as number[];
  const dim = normDim(attrs.dim as number, shape.length, 'index_add');
  const n = sizeOf(index.shape);
  if (index.shape.length > 1 || src.shape[dim] !== n) {
    throw new Error(`index_add: index ${shapeStr(index.shape)} must be 1-D with one entry per slice of the source ${shapeStr(src.shape)} along dim ${dim}`);
  }
  checkIndices(index, shape[dim], 'index_add', dim);
  const [, d, inner] = split(shape, dim);
  const source = `function(a0, a1) {
const i = this.thread.x;
const o = Math.floor((i + 0.5) / ${lit(d * inner)});
const rem = i - o * ${lit(d * inner)};
const j = Math.floor((rem + 0.5) / ${lit(inner)});
const e = rem - j * ${lit(inner)};
let s = 0.0;
for (let k = 0; k < ${n}; k++) {
if (a1[k] === j) { s += a0[(o * ${lit(n)} + k) * ${lit(inner)} + e]; }
}
return s;
}`;
  return gpuBackend.run(source, [src, index], shape);
});
