/**
 * Softmax and log-softmax on the gpu along one dim, stable as the CPU reference: a first
 * kernel computes each row's log-sum-exp (max subtracted), a second maps the elements.
 */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim } from '../../core/shape.ts';
import { lit } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

function softmaxKernel(x: TensorInfo, dimAttr: number, log: boolean): TensorInfo {
  const rank = x.shape.length;
  const dim = normDim(dimAttr, rank, log ? 'log_softmax' : 'softmax');
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= x.shape[i];
  const n = x.shape[dim];
  let inner = 1;
  for (let i = dim + 1; i < rank; i++) inner *= x.shape[i];
  // Row r = o * inner + j covers elements o * n * inner + k * inner + j, k < n.
  const lse = gpuBackend.run(
    `function(a0) {
const r = this.thread.x;
const o = Math.floor((r + 0.5) / ${lit(inner)});
const base = o * ${lit(n * inner)} + r - o * ${lit(inner)};
let mx = a0[base];
for (let k = 1; k < ${n}; k++) { mx = Math.max(mx, a0[base + k * ${lit(inner)}]); }
let s = 0.0;
for (let k = 0; k < ${n}; k++) { s += Math.exp(a0[base + k * ${lit(inner)}] - mx); }
return mx + Math.log(s);
}`,
    [x],
    [outer * inner],
  );
  const y = gpuBackend.run(
    `function(a0, a1) {
const i = this.thread.x;
const o = Math.floor((i + 0.5) / ${lit(n * inner)});
const j = i - Math.floor((i + 0.5) / ${lit(inner)}) * ${lit(inner)};
const v = a0[i] - a1[o * ${lit(inner)} + j];
return ${log ? 'v' : 'Math.exp(v)'};
}`,
    [x, lse],
    x.shape,
  );
  gpuBackend.dispose(lse.dataId);
  return y;
}

registerKernel('Softmax', 'gpu', ([x], attrs) => softmaxKernel(x, attrs.dim as number, false));
registerKernel('LogSoftmax', 'gpu', ([x], attrs) => softmaxKernel(x, attrs.dim as number, true));
