/**
 * Data-movement gpu kernels that are pure index maps: Slice (narrow, strided slices, the
 * split of attention heads), Pad (slice's backward, padding) and Concat (cat, stack). Each
 * output element reads one input element or a constant. Attribute contracts follow the CPU
 * reference (backends/cpu/layout.ts).
 */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim, shapeStr, sizeOf, stridesOf } from '../../core/shape.ts';
import { coordinates, dot, lit, params } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

/** WebGL guarantees 16 texture units per shader; concatenations of more inputs go in rounds. */
const MAX_CONCAT_INPUTS = 8;

registerKernel('Slice', 'gpu', ([x], attrs) => {
  const begin = attrs.begin as number[];
  const size = attrs.size as number[];
  const step = (attrs.step as number[] | undefined) ?? size.map(() => 1);
  const rank = x.shape.length;
  if (begin.length !== rank || size.length !== rank || step.length !== rank) {
    throw new Error(`slice: begin [${begin.join(', ')}], size [${size.join(', ')}] and step [${step.join(', ')}] must each have one entry per dimension of ${shapeStr(x.shape)}`);
  }
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((s, b, d) => s + b * strides[d], 0);
  const { code, coords } = coordinates('i', size, 'c');
  const source = `function(a0) {
const i = this.thread.x;
${code}
return a0[${lit(offset)} + ${dot(coords, strides.map((s, d) => s * step[d]))}];
}`;
  return gpuBackend.run(source, [x], [...size], x.dtype);
});

/** Constant padding: pads[d] = [before, after] for every dim (negative values crop). */
registerKernel('Pad', 'gpu', ([x], attrs) => {
  const pads = attrs.pads as [number, number][];
  const value = (attrs.value as number | undefined) ?? 0;
  const rank = x.shape.length;
  if (pads.length !== rank) throw new Error(`pad: ${pads.length} [before, after] pairs for the ${rank} dimensions of ${shapeStr(x.shape)}`);
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const { code, coords } = coordinates('i', shape, 'c');
  // Input coordinate along d: c_d - before_d; outside [0, size_d) reads the constant.
  const src = coords.map((c, d) => (pads[d][0] === 0 ? c : `(${c} - ${lit(pads[d][0])})`));
  const outside = src.flatMap((s, d) => {
    const checks: string[] = [];
    if (pads[d][0] > 0) checks.push(`${s} < 0.0`);
    if (pads[d][1] > 0) checks.push(`${s} > ${lit(x.shape[d] - 1)}`);
    return checks;
  });
  const source = `function(a0) {
const i = this.thread.x;
${code}
${outside.length ? `if (${outside.join(' || ')}) { return ${lit(value)}; }` : ''}
return a0[${dot(src, stridesOf(x.shape))}];
}`;
  return gpuBackend.run(source, [x], shape, x.dtype);
});

function concat(inputs: readonly TensorInfo[], axis: number): TensorInfo {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  const { code, coords } = coordinates('i', shape, 'c');
  const branches: string[] = [];
  let offset = 0;
  inputs.forEach((t, j) => {
    const local = coords.map((c, d) => (d === axis && offset > 0 ? `(${c} - ${lit(offset)})` : c));
    const read = `return a${j}[${dot(local, stridesOf(t.shape))}];`;
    offset += t.shape[axis];
    branches.push(j === inputs.length - 1 ? read : `if (${coords[axis]} < ${lit(offset)}) { ${read} }`);
  });
  const source = `function(${params(inputs.length)}) {
const i = this.thread.x;
${code}
${branches.join('\n')}
}`;
  return gpuBackend.run(source, inputs, shape, inputs[0].dtype);
}

registerKernel('Concat', 'gpu', (inputs, attrs) => {
  const rank = inputs[0].shape.length;
  if (rank === 0) throw new Error('cat: cannot concatenate scalars');
  const axis = normDim(attrs.axis as number, rank, 'cat');
  for (const t of inputs) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
      throw new Error(`cat: shapes ${inputs.map((u) => shapeStr(u.shape)).join(', ')} differ outside dimension ${axis}`);
    }
  }
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  if (sizeOf(shape) === 0) return gpuBackend.run('function() { return 0.0; }', [], shape, inputs[0].dtype);
  // Empty inputs add nothing along the axis.
  let parts = inputs.filter((t) => sizeOf(t.shape) > 0);
  const temporary: TensorInfo[] = [];
  while (parts.length > MAX_CONCAT_INPUTS) {
    const next: TensorInfo[] = [];
    for (let k = 0; k < parts.length; k += MAX_CONCAT_INPUTS) {
      const group = parts.slice(k, k + MAX_CONCAT_INPUTS);
      if (group.length === 1) next.push(group[0]);
      else {
        const joined = concat(group, axis);
        temporary.push(joined);
        next.push(joined);
      }
    }
    parts = next;
  }
  const res = concat(parts, axis);
  for (const t of temporary) gpuBackend.dispose(t.dataId);
  return res;
});
