/** RMSprop (torch.optim.RMSprop), plain or centred, with momentum. */
import type { Tensor } from '../core/tensor.ts';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.ts';
import { type BaseOptions, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';

export interface RMSpropOptions extends BaseOptions {
  alpha: number;
  eps: number;
  momentum: number;
  centered: boolean;
}

/**
 * RMSprop, torch's update: g += wd p; s = alpha s + (1 - alpha) g^2; centred:
 * a = a + (1 - alpha)(g - a), avg = sqrt(s - a^2) + eps, else avg = sqrt(s) + eps;
 * with momentum buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg.
 * Defaults: lr 1e-2, alpha 0.99, eps 1e-8.
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: readonly Tensor[] | readonly ParamGroupInput<RMSpropOptions>[], opts: Partial<RMSpropOptions> & { fused?: boolean } = {}) {
    const { fused, ...rest } = opts;
    const defaults: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...rest };
    if (!(defaults.alpha >= 0)) throw new Error(`RMSprop: alpha must be non-negative, got ${defaults.alpha}`);
    if (!(defaults.momentum >= 0)) throw new Error(`RMSprop: momentum must be non-negative, got ${defaults.momentum}`);
    if (!(defaults.eps >= 0)) throw new Error(`RMSprop: eps must be non-negative, got ${defaults.eps}`);
    if (!(defaults.weightDecay >= 0)) throw new Error(`RMSprop: weight decay must be non-negative, got ${defaults.weightDecay}`);
    super(params, defaults, { fused });
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<RMSpropOptions>): void {
    const s0 = this.buffer(st, 'square_avg', p);
    const a0 = g.centered ? this.buffer(st, 'grad_avg', p) : null;
    const buf0 = g.momentum > 0 ? this.buffer(st, 'momentum_buffer', p) : null;
    if (this.useFused('RMSpropStep', p)) {
      this.runInPlace('RMSpropStep', [p, grad, s0, a0 ?? s0, buf0 ?? s0], {
        lr: g.lr,
        alpha: g.alpha,
        eps: g.eps,
        weightDecay: g.weightDecay,
        momentum: g.momentum,
        centered: g.centered,
      });
      return;
    }
    this.runComposite(p, st, () => {
      const gr = g.weightDecay !== 0 ? add(grad, mul(p, g.weightDecay)) : grad;
      const s = add(mul(s0, g.alpha), mul(square(gr), 1 - g.alpha));
      const next: Record<string, Tensor> = { square_avg: s };
      let avg: Tensor;
      if (a0) {
        const a = add(a0, mul(sub(gr, a0), 1 - g.alpha));
        next.grad_avg = a;
        avg = add(sqrt(sub(s, square(a))), g.eps);
      } else {
        avg = add(sqrt(s), g.eps);
      }
      if (buf0) {
        const buf = add(mul(buf0, g.momentum), div(gr, avg));
        next.momentum_buffer = buf;
        next.param = sub(p, mul(buf, g.lr));
      } else {
        next.param = sub(p, mul(div(gr, avg), g.lr));
      }
      return next;
    });
  }
}
