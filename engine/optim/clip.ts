/** Gradient clipping (torch.nn.utils.clip_grad_norm_, clip_grad_value_). */
import { noGrad } from '../core/autograd.ts';
import type { Tensor } from '../core/tensor.ts';
import { tidy } from '../core/scope.ts';
import { abs, add, clamp, div, mul, sqrt, square } from '../ops/elementwise.ts';
import { stack } from '../ops/layout.ts';
import { maxAll, sum } from '../ops/reduce.ts';
import { scalar } from '../ops/creation.ts';

/**
 * Scales all gradients together so that their total norm (the norm of the per-parameter
 * norms; `normType` 2 or Infinity) is at most `maxNorm`. Returns the total norm before
 * clipping as a scalar tensor (read it with `item()` or `await data()`). Parameters
 * without a gradient are ignored. The clipping stays on the backend: no readback.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType: 2 | number = 2): Tensor {
  if (normType !== 2 && normType !== Infinity) throw new Error(`clipGradNorm: norm type ${normType} is not supported (use 2 or Infinity)`);
  return noGrad(() =>
    tidy(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return scalar(0);
      let total: Tensor;
      if (normType === Infinity) {
        total = maxAll(stack(grads.map((g) => maxAll(abs(g)))));
      } else {
        total = sqrt(sum(stack(grads.map((g) => sum(square(g))))));
      }
      // coef = min(max_norm / (total + 1e-6), 1), as torch.
      const coef = clamp(div(maxNorm, add(total, 1e-6)), null, 1);
      for (const p of params) if (p.grad) p.grad.assign(mul(p.grad, coef));
      return total;
    }),
  );
}

/** Clamps every gradient element to [-clipValue, clipValue], in place. */
export function clipGradValue(params: readonly Tensor[], clipValue: number): void {
  if (!(clipValue >= 0)) throw new Error(`clipGradValue: clip value must be non-negative, got ${clipValue}`);
  noGrad(() => {
    for (const p of params) if (p.grad) p.grad.assign(clamp(p.grad, -clipValue, clipValue));
  });
}
