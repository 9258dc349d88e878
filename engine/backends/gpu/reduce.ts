/** Reductions on the gpu: 'Sum' over any set of dims, one thread per output element. */
import { registerKernel } from '../../core/backend.ts';
import { normDim, sizeOf, stridesOf } from '../../core/shape.ts';
import { coordinates, dot, mergeDims } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

registerKernel('Sum', 'gpu', ([x], attrs) => {
  const rank = x.shape.length;
  const dims = new Set((attrs.dims as number[]).map((d) => normDim(d, rank, 'sum')));
  const keepdim = attrs.keepdim as boolean;
  const outShape = x.shape.flatMap((d, i) => (dims.has(i) ? (keepdim ? [1] : []) : [d]));
  const strides = stridesOf(x.shape);
  const kept = mergeDims(x.shape.filter((_, i) => !dims.has(i)), [strides.filter((_, i) => !dims.has(i))]);
  const reduced = mergeDims(x.shape.filter((_, i) => dims.has(i)), [strides.filter((_, i) => dims.has(i))]);
  const out = coordinates('i', kept.shape, 'c');
  const red = coordinates('r', reduced.shape, 'k');
  const count = sizeOf(reduced.shape);
  const source = `function(a0) {
const i = this.thread.x;
${out.code}
const base = ${dot(out.coords, kept.strides[0])};
let s = 0.0;
for (let r = 0; r < ${count}; r++) {
${red.code}
s += a0[base + ${dot(red.coords, reduced.strides[0])}];
}
return s;
}`;
  return gpuBackend.run(source, [x], outShape);
});
