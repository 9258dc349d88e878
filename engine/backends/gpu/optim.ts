/**
 * Fused optimiser updates on the gpu (SGDStep, AdamStep, RMSpropStep): one kernel per updated tensor
 * instead of the composite's chain of elementwise ops, and the parameters and state buffers
 * stay on the device. The kernels compute new values; `overwrite` then swaps them into the
 * parameter's and buffers' storage, which is the in-place update the optimisers expect.
 * Formulas follow the CPU reference (backends/cpu/optim.ts) and torch.optim.
 */
import { registerKernel, type TensorInfo } from '../../core/backend.ts';
import { shapeStr, sizeOf } from '../../core/shape.ts';
import { lit, params } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

/** One elementwise kernel over same-size inputs a0, a1, ... read at this.thread.x as v0, v1, ... */
function update(inputs: readonly TensorInfo[], body: string): TensorInfo {
  const reads = inputs.map((_, j) => `const v${j} = a${j}[i];`).join('\n');
  return gpuBackend.run(`function(${params(inputs.length)}) {
const i = this.thread.x;
${reads}
${body}
}`, inputs, inputs[0].shape);
}

function checkSizes(name: string, inputs: readonly TensorInfo[]): void {
  const n = sizeOf(inputs[0].shape);
  for (const t of inputs) {
    if (sizeOf(t.shape) !== n) throw new Error(`${name}: state ${shapeStr(t.shape)} does not match the parameter ${shapeStr(inputs[0].shape)}`);
  }
}

/** SGD: d = g + wd p; buf = momentum buf + (1 - dampening) d (buf = d on the first step); p -= lr (nesterov ? d + momentum buf : buf). */
registerKernel('SGDStep', 'gpu', (inputs, attrs) => {
  const [param, grad, buf] = inputs;
  checkSizes('SGDStep', inputs);
  const lr = attrs.lr as number;
  const momentum = attrs.momentum as number;
  const dampening = attrs.dampening as number;
  const nesterov = attrs.nesterov as boolean;
  const wd = attrs.weightDecay as number;
  const first = attrs.firstStep as boolean;
  // v0 = p, v1 = g in every kernel below.
  const d = wd !== 0 ? `(v1 + ${lit(wd)} * v0)` : 'v1';
  if (momentum === 0 || !buf) {
    gpuBackend.overwrite(param, update([param, grad], `return v0 - ${lit(lr)} * ${d};`));
    return [];
  }
  const newBuf = first ? update([param, grad], `return ${d};`) : update([param, grad, buf], `return ${lit(momentum)} * v2 + ${lit(1 - dampening)} * ${d};`);
  const step = nesterov ? `(${d} + ${lit(momentum)} * v2)` : 'v2';
  const newParam = update([param, grad, newBuf], `return v0 - ${lit(lr)} * ${step};`);
  gpuBackend.overwrite(buf, newBuf);
  gpuBackend.overwrite(param, newParam);
  return [];
});

/**
 * Adam / AdamW: g' = g (+ wd p unless decoupled); m = m + (1 - β1)(g' - m);
 * v = β2 v + (1 - β2) g'²; (amsgrad: vmax = max(vmax, v)); p = p·(1 - lr wd if decoupled)
 * - lr/(1 - β1^t) · m / (sqrt(v or vmax) / sqrt(1 - β2^t) + eps).
 */
registerKernel('AdamStep', 'gpu', (inputs, attrs) => {
  const [param, grad, expAvg, expAvgSq, maxExpAvgSq] = inputs;
  checkSizes('AdamStep', inputs);
  const lr = attrs.lr as number;
  const beta1 = attrs.beta1 as number;
  const beta2 = attrs.beta2 as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const decoupled = attrs.decoupled as boolean;
  const amsgrad = attrs.amsgrad as boolean;
  const step = attrs.step as number;
  if (amsgrad && !maxExpAvgSq) throw new Error('AdamStep: amsgrad needs the max_exp_avg_sq buffer');
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  // v0 = p, v1 = g in every kernel below.
  const g = !decoupled && wd !== 0 ? `(v1 + ${lit(wd)} * v0)` : 'v1';
  const m = update([param, grad, expAvg], `return v2 + ${lit(1 - beta1)} * (${g} - v2);`);
  const v = update([param, grad, expAvgSq], `return ${lit(beta2)} * v2 + ${lit(1 - beta2)} * ${g} * ${g};`);
  let second = v;
  if (amsgrad) second = update([v, maxExpAvgSq], 'return Math.max(v0, v1);');
  const decay = decoupled ? `${lit(1 - lr * wd)} * ` : '';
  const p = update([param, m, second], `return ${decay}v0 - ${lit(stepSize)} * v1 / (Math.sqrt(v2) / ${lit(bc2Sqrt)} + ${lit(eps)});`);
  gpuBackend.overwrite(expAvg, m);
  gpuBackend.overwrite(expAvgSq, v);
  if (amsgrad) gpuBackend.overwrite(maxExpAvgSq, second);
  gpuBackend.overwrite(param, p);
  return [];
});

/**
 * RMSprop: g' = g + wd p; s = α s + (1 - α) g'²; centered: a = a + (1 - α)(g' - a) and
 * avg = sqrt(s - a²) + eps, else sqrt(s) + eps; with momentum buf = μ buf + g'/avg and
 * p -= lr buf, else p -= lr g'/avg. Unused state slots (gradAvg, momentumBuf) repeat squareAvg.
 */
registerKernel('RMSpropStep', 'gpu', (inputs, attrs) => {
  const [param, grad, squareAvg, gradAvg, momentumBuf] = inputs;
  checkSizes('RMSpropStep', inputs);
  const lr = attrs.lr as number;
  const alpha = attrs.alpha as number;
  const eps = attrs.eps as number;
  const wd = attrs.weightDecay as number;
  const momentum = attrs.momentum as number;
  const centered = attrs.centered as boolean;
  // v0 = p, v1 = g in the kernels that read the gradient.
  const g = wd !== 0 ? `(v1 + ${lit(wd)} * v0)` : 'v1';
  const s = update([param, grad, squareAvg], `return ${lit(alpha)} * v2 + ${lit(1 - alpha)} * ${g} * ${g};`);
  const a = centered ? update([param, grad, gradAvg], `return v2 + ${lit(1 - alpha)} * (${g} - v2);`) : null;
  // avg from s (v2) and, centered, a (v3).
  const avg = centered ? `(Math.sqrt(v2 - v3 * v3) + ${lit(eps)})` : `(Math.sqrt(v2) + ${lit(eps)})`;
  const withAvg = (extra: TensorInfo[]) => [param, grad, s, ...(a ? [a] : [s]), ...extra];
  if (momentum > 0) {
    const buf = update(withAvg([momentumBuf]), `return ${lit(momentum)} * v4 + ${g} / ${avg};`);
    const p = update([param, buf], `return v0 - ${lit(lr)} * v1;`);
    gpuBackend.overwrite(momentumBuf, buf);
    gpuBackend.overwrite(param, p);
  } else {
    gpuBackend.overwrite(param, update(withAvg([]), `return v0 - ${lit(lr)} * ${g} / ${avg};`));
  }
  gpuBackend.overwrite(squareAvg, s);
  if (a) gpuBackend.overwrite(gradAvg, a);
  return [];
});
