/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD). */
import type { Tensor } from '../core/tensor.ts';
import { add, mul, sub } from '../ops/elementwise.ts';
import { type BaseOptions, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.ts';

export interface SGDOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

/**
 * SGD, torch's update: d = g + wd p; with momentum, buf = momentum buf + (1 - dampening) d
 * (buf = d on the first step) and d = nesterov ? d + momentum buf : buf; p -= lr d.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: readonly Tensor[] | readonly ParamGroupInput<SGDOptions>[], opts: Partial<SGDOptions> & { fused?: boolean } = {}) {
    const { fused, ...rest } = opts;
    const defaults: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...rest };
    if (defaults.momentum < 0) throw new Error(`SGD: momentum must be non-negative, got ${defaults.momentum}`);
    if (defaults.weightDecay < 0) throw new Error(`SGD: weight decay must be non-negative, got ${defaults.weightDecay}`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${defaults.momentum}, dampening ${defaults.dampening}`);
    }
    super(params, defaults, { fused });
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<SGDOptions>): void {
    const firstStep = !st.buffers.has('momentum_buffer');
    if (this.useFused('SGDStep', p)) {
      const inputs = g.momentum !== 0 ? [p, grad, this.buffer(st, 'momentum_buffer', p)] : [p, grad];
      this.runInPlace('SGDStep', inputs, { lr: g.lr, momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov, weightDecay: g.weightDecay, firstStep });
      return;
    }
    this.runComposite(p, st, () => {
      let d = g.weightDecay !== 0 ? add(grad, mul(p, g.weightDecay)) : grad;
      const next: Record<string, Tensor> = {};
      if (g.momentum !== 0) {
        const prev = st.buffers.get('momentum_buffer');
        const buf = prev && !firstStep ? add(mul(prev, g.momentum), mul(d, 1 - g.dampening)) : mul(d, 1);
        next.momentum_buffer = buf;
        d = g.nesterov ? add(d, mul(buf, g.momentum)) : buf;
      }
      next.param = sub(p, mul(d, g.lr));
      return next;
    });
  }
}
