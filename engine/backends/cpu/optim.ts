/**
 * Fused optimiser updates. Unlike other kernels these write in place: they update the
 * parameter (input 0) and the optimiser state buffers (inputs 2...) from the gradient
 * (input 1) in one pass and return no outputs. Formulas as torch.optim (single-tensor path).
 */
import { registerKernel } from '../../core/backend.ts';
import { f32 } from './cpu-backend.ts';

/** SGD: d = g + wd p; buf = momentum buf + (1 - dampening) d (buf = d on the first step); p -= lr (nesterov ? d + momentum buf : buf). */
registerKernel('SGDStep', 'cpu', ([param, grad, buf], attrs) => {
  const lr = attrs.lr as number;
  const momentum = attrs.momentum as number;
  const dampening = attrs.dampening as number;
  const nesterov = attrs.nesterov as boolean;
  const wd = attrs.weightDecay as number;
  const first = attrs.firstStep as boolean;
  const p = f32(param);
  const g = f32(grad);
  const n = p.length;
  if (wd !== 0) {
    // Rare path: fold the decay into a copy of the gradient first.
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = g[i] + wd * p[i];
    sgdLoop(p, d, momentum !== 0 ? f32(buf) : null, lr, momentum, dampening, nesterov, first);
  } else {
    sgdLoop(p, g, momentum !== 0 ? f32(buf) : null, lr, momentum, dampening, nesterov, first);
  }
  return [];
});

/** The SGD update with the decayed gradient d, one plain loop per case. */
function sgdLoop(p: Float32Array, d: Float32Array, b: Float32Array | null, lr: number, momentum: number, dampening: number, nesterov: boolean, first: boolean): void {
  const n = p.length;
  if (!b) {
    for (let i = 0; i < n; i++) p[i] -= lr * d[i];
  } else if (first) {
    if (nesterov) for (let i = 0; i < n; i++) {
      b[i] = d[i];
      p[i] -= lr * (d[i] + momentum * d[i]);
    }
    else for (let i = 0; i < n; i++) {
      b[i] = d[i];
      p[i] -= lr * d[i];
    }
  } else {
    const keep = 1 - dampening;
    if (nesterov) for (let i = 0; i < n; i++) {
      const v = momentum * b[i] + keep * d[i];
      b[i] = v;
      p[i] -= lr * (d[i] + momentum * v);
    }
    else for (let i = 0; i < n; i++) {
      const v = momentum * b[i] + keep * d[i];
      b[i] = v;
      p[i] -= lr * v;
    }
  }
}

/**
 * Adam / AdamW: (AdamW first decays p *= 1 - lr wd; Adam adds wd p to the gradient)
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) with amsgrad;
 * p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
 */
registerKernel('AdamStep', 'cpu', ([param, grad, expAvg, expAvgSq, maxExpAvgSq], attrs) => {
  const lr = attrs.lr as number;
  const beta1 = attrs.beta1 as number;
  const beta2 = attrs.beta2 as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const decoupled = attrs.decoupled as boolean;
  const amsgrad = attrs.amsgrad as boolean;
  const step = attrs.step as number;
  const p = f32(param);
  const g = f32(grad);
  const m = f32(expAvg);
  const v = f32(expAvgSq);
  const vmax = amsgrad ? f32(maxExpAvgSq) : null;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const decay = decoupled ? 1 - lr * wd : 1;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (decoupled) p[i] *= decay;
    else if (wd !== 0) gi += wd * p[i];
    const mi = m[i] + (1 - beta1) * (gi - m[i]);
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (vmax) {
      second = Math.max(vmax[i], vi);
      vmax[i] = second;
    }
    p[i] -= (stepSize * mi) / (Math.sqrt(second) / bc2Sqrt + eps);
  }
  return [];
});

/**
 * RMSprop: s = alpha s + (1 - alpha) g^2; centered: a = lerp(a, g, 1 - alpha),
 * avg = sqrt(s - a^2) + eps, else sqrt(s) + eps; with momentum buf = mu buf + g / avg and
 * p -= lr buf, else p -= lr g / avg.
 */
registerKernel('RMSpropStep', 'cpu', ([param, grad, squareAvg, gradAvg, momentumBuf], attrs) => {
  const lr = attrs.lr as number;
  const alpha = attrs.alpha as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const momentum = attrs.momentum as number;
  const centered = attrs.centered as boolean;
  const p = f32(param);
  const g = f32(grad);
  const s = f32(squareAvg);
  const a = centered ? f32(gradAvg) : null;
  const buf = momentum > 0 ? f32(momentumBuf) : null;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (wd !== 0) gi += wd * p[i];
    const si = alpha * s[i] + (1 - alpha) * gi * gi;
    s[i] = si;
    let avg: number;
    if (a) {
      const ai = a[i] + (1 - alpha) * (gi - a[i]);
      a[i] = ai;
      avg = Math.sqrt(si - ai * ai) + eps;
    } else {
      avg = Math.sqrt(si) + eps;
    }
    if (buf) {
      const bi = momentum * buf[i] + gi / avg;
      buf[i] = bi;
      p[i] -= lr * bi;
    } else {
      p[i] -= (lr * gi) / avg;
    }
  }
  return [];
});
