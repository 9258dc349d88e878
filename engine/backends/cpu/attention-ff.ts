/**
 * The transformer feed-forward activation on the CPU: relu followed by dropout,
 * y = relu(x) * mask, and its backward dx = dy * mask where x > 0 (+0 elsewhere, as torch's
 * relu gradient at 0). `mask` holds the inverted-dropout scales (0 or 1 / (1 - p)). relu
 * keeps NaN (as torch.relu), so the result equals dropout(relu(x)) element for element.
 * The relu and its gradient run on the pooling module's SIMD kernels where available
 * (pool-simd.ts), then one branch-free pass applies the mask.
 */
import { registerKernel } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';
import { reluGradSimd, reluSimd } from './pool-simd.ts';

registerKernel('ReluDropout', 'cpu', ([x, mask]) => {
  const xv = f32(x);
  const mv = f32(mask);
  const y = new Float32Array(xv.length);
  if (reluSimd(xv, y)) {
    for (let i = 0; i < y.length; i++) y[i] *= mv[i];
  } else {
    for (let i = 0; i < xv.length; i++) {
      const v = xv[i];
      y[i] = v > 0 || v !== v ? v * mv[i] : 0;
    }
  }
  return out(y, x.shape);
});

registerKernel('ReluDropoutGrad', 'cpu', ([dy, x, mask]) => {
  const dv = f32(dy);
  const xv = f32(x);
  const mv = f32(mask);
  const dx = new Float32Array(xv.length);
  if (reluGradSimd(dv, xv, dx)) {
    for (let i = 0; i < dx.length; i++) dx[i] *= mv[i];
  } else {
    for (let i = 0; i < xv.length; i++) dx[i] = xv[i] > 0 ? dv[i] * mv[i] : 0;
  }
  return out(dx, x.shape);
});
