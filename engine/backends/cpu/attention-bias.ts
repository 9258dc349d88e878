/**
 * Bias gradients of the transformer's linear layers on the CPU: kernel 'ColumnSums' sums
 * the rows of a matrix x [rows, n] into [n], row after row in float32, as the Sum kernel
 * over the leading dim does (the same values bit for bit), with the module's SIMD row adds
 * (attention-wasm.ts's GEMM instance; the row stride of the running sum is 0, so each row
 * is added onto it in turn). Columns past the last multiple of 4 are summed by a plain loop.
 */
import { registerKernel } from '../../core/backend.ts';
import { columnSumsSimd } from './attention-wasm.ts';
import { f32, out } from './cpu-backend.ts';

registerKernel('ColumnSums', 'cpu', ([x]) => {
  const n = x.shape[x.shape.length - 1];
  const xv = f32(x);
  const rows = n === 0 ? 0 : xv.length / n;
  const res = new Float32Array(n);
  const done = columnSumsSimd(xv, rows, n, res);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let j = done; j < n; j++) res[j] += xv[base + j];
  }
  return out(res, [n]);
});
