/** Softmax and log-softmax along one dimension, computed stably (max subtracted). */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { normDim } from '../../core/shape.ts';
import { f32, out } from './cpu-backend.ts';

function softmaxKernel(x: TensorInfo, dimAttr: number, log: boolean): TensorInfo {
  const rank = x.shape.length;
  const dim = normDim(dimAttr, rank, log ? 'log_softmax' : 'softmax');
  const xv = f32(x);
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= x.shape[i];
  const n = x.shape[dim];
  let inner = 1;
  for (let i = dim + 1; i < rank; i++) inner *= x.shape[i];
  const res = new Float32Array(xv.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < n; k++) mx = Math.max(mx, xv[base + k * inner]);
      let s = 0;
      if (log) {
        for (let k = 0; k < n; k++) s += Math.exp(xv[base + k * inner] - mx);
        const lse = mx + Math.log(s);
        for (let k = 0; k < n; k++) res[base + k * inner] = xv[base + k * inner] - lse;
      } else {
        // exp once, kept in float64 for the sum, then scaled in place
        for (let k = 0; k < n; k++) {
          const e = Math.exp(xv[base + k * inner] - mx);
          res[base + k * inner] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let k = 0; k < n; k++) res[base + k * inner] *= inv;
      }
    }
  }
  return out(res, x.shape);
}

registerKernel('Softmax', 'cpu', ([x], attrs) => softmaxKernel(x, attrs.dim as number, false));
registerKernel('LogSoftmax', 'cpu', ([x], attrs) => softmaxKernel(x, attrs.dim as number, true));
