/**
 * The transformer feed-forward activation on the CPU: relu followed by dropout as one pass,
 * y = max(x, 0) * mask, and its backward dx = dy * mask where x > 0 (0 elsewhere, as torch's
 * relu gradient at 0). `mask` holds the inverted-dropout scales (0 or 1 / (1 - p)).
 */
import { registerKernel } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';

registerKernel('ReluDropout', 'cpu', ([x, mask]) => {
  const xv = f32(x);
  const mv = f32(mask);
  const y = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i];
    y[i] = v > 0 ? v * mv[i] : 0;
  }
  return out(y, x.shape);
});

registerKernel('ReluDropoutGrad', 'cpu', ([dy, x, mask]) => {
  const dv = f32(dy);
  const xv = f32(x);
  const mv = f32(mask);
  const dx = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) dx[i] = xv[i] > 0 ? dv[i] * mv[i] : 0;
  return out(dx, x.shape);
});
