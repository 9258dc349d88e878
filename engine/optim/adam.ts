/** Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), with AMSGrad. */
import type { Tensor } from '../core/tensor.ts';
import { add, div, maximum, mul, sqrt, square, sub } from '../ops/elementwise.ts';
import { type BaseOptions, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';

export interface AdamOptions extends BaseOptions {
  betas: [number, number];
  eps: number;
  amsgrad: boolean;
}

function validate(name: string, o: AdamOptions): void {
  const [b1, b2] = o.betas;
  if (!(b1 >= 0 && b1 < 1)) throw new Error(`${name}: beta1 must be in [0, 1), got ${b1}`);
  if (!(b2 >= 0 && b2 < 1)) throw new Error(`${name}: beta2 must be in [0, 1), got ${b2}`);
  if (!(o.eps >= 0)) throw new Error(`${name}: eps must be non-negative, got ${o.eps}`);
  if (!(o.weightDecay >= 0)) throw new Error(`${name}: weight decay must be non-negative, got ${o.weightDecay}`);
}

/**
 * The Adam update, torch's formula at step t:
 * g += wd p (Adam) or p *= 1 - lr wd (AdamW, decoupled); m = b1 m + (1 - b1) g;
 * v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) with AMSGrad;
 * p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
 */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamOptions>): void {
    const [beta1, beta2] = g.betas;
    const t = st.step;
    if (this.useFused('AdamStep', p)) {
      const inputs = [p, grad, this.buffer(st, 'exp_avg', p), this.buffer(st, 'exp_avg_sq', p)];
      if (g.amsgrad) inputs.push(this.buffer(st, 'max_exp_avg_sq', p));
      this.runInPlace('AdamStep', inputs, { lr: g.lr, beta1, beta2, eps: g.eps, weightDecay: g.weightDecay, decoupled: this.decoupled, amsgrad: g.amsgrad, step: t });
      return;
    }
    const m0 = this.buffer(st, 'exp_avg', p);
    const v0 = this.buffer(st, 'exp_avg_sq', p);
    const vmax0 = g.amsgrad ? this.buffer(st, 'max_exp_avg_sq', p) : null;
    this.runComposite(p, st, () => {
      let param = p;
      let gr = grad;
      if (this.decoupled) param = mul(p, 1 - g.lr * g.weightDecay);
      else if (g.weightDecay !== 0) gr = add(grad, mul(p, g.weightDecay));
      const m = add(m0, mul(sub(gr, m0), 1 - beta1));
      const v = add(mul(v0, beta2), mul(square(gr), 1 - beta2));
      const next: Record<string, Tensor> = { exp_avg: m, exp_avg_sq: v };
      let second = v;
      if (vmax0) {
        second = maximum(vmax0, v);
        next.max_exp_avg_sq = second;
      }
      const denom = add(div(sqrt(second), Math.sqrt(1 - beta2 ** t)), g.eps);
      next.param = sub(param, mul(div(m, denom), g.lr / (1 - beta1 ** t)));
      return next;
    });
  }
}

/** Adam (L2 weight decay added to the gradient). Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: readonly Tensor[] | readonly ParamGroupInput<AdamOptions>[], opts: Partial<AdamOptions> & { fused?: boolean } = {}) {
    const { fused, ...rest } = opts;
    const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...rest };
    validate('Adam', defaults);
    super(params, defaults, { fused });
  }
}

/** AdamW (decoupled weight decay). Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: readonly Tensor[] | readonly ParamGroupInput<AdamOptions>[], opts: Partial<AdamOptions> & { fused?: boolean } = {}) {
    const { fused, ...rest } = opts;
    const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...rest };
    validate('AdamW', defaults);
    super(params, defaults, { fused });
  }
}
