/**
 * Finite-difference gradient checking for ops (central differences in float32, step about
 * 1e-3, relative tolerance). Used by the op test suites on every backend.
 */
import { noGrad } from '../core/autograd.ts';
import { fromValues } from '../core/engine.ts';
import { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input (sampled); 0 = all. */
  maxElements?: number;
  seed?: number;
  /** Indices of inputs not to check (e.g. int32 targets are skipped automatically). */
  skip?: number[];
}

export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  failures: string[];
}

/** Sum of fn(...inputs) weighted by a fixed random projection, accumulated in float64. */
function projectedValue(out: Tensor, projection: Float32Array): number {
  const v = out.dataSync();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * projection[i];
  return s;
}

/**
 * Compares the analytic gradient of `sum(fn(inputs) * R)` with central differences, for
 * every float32 input. Inputs are leaf tensors; perturbed copies are evaluated, so any backend works.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-3, atol = 1e-3, rtol = 1e-2, maxElements = 48, seed = 1234, skip = [] } = opts;
  const gen = new Generator(seed);
  const checked = inputs.map((t, i) => t.dtype === 'float32' && !skip.includes(i));
  inputs.forEach((t, i) => {
    t.grad = null;
    t.requiresGrad = checked[i];
  });

  const out0 = fn(...inputs);
  const projection = new Float32Array(out0.size);
  for (let i = 0; i < projection.length; i++) projection[i] = gen.uniform(-1, 1);
  const r = fromValues(projection.slice(), out0.shape);
  // Analytic: d/dx sum(out * R).
  out0.backward(r);

  const failures: string[] = [];
  let maxError = 0;
  inputs.forEach((x, xi) => {
    if (!checked[xi]) return;
    const analytic = x.grad ? x.grad.dataSync() : new Float32Array(x.size);
    const values = Float32Array.from(x.dataSync());
    const evaluate = (v: Float32Array) =>
      noGrad(() => {
        const perturbed = fromValues(v.slice(), x.shape);
        const value = projectedValue(fn(...inputs.map((t, i) => (i === xi ? perturbed : t))), projection);
        perturbed.dispose();
        return value;
      });
    const picks = x.size <= maxElements || maxElements === 0 ? [...Array(x.size).keys()] : Array.from({ length: maxElements }, () => gen.int(x.size));
    for (const k of picks) {
      const orig = values[k];
      values[k] = orig + eps;
      const plus = evaluate(values);
      values[k] = orig - eps;
      const minus = evaluate(values);
      values[k] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(analytic[k] - numeric);
      maxError = Math.max(maxError, err);
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        if (failures.length < 5) failures.push(`input ${xi} element ${k}: analytic ${analytic[k]}, numeric ${numeric}`);
      }
    }
  });
  inputs.forEach((t) => {
    t.grad = null;
  });
  return { ok: failures.length === 0, maxError, failures };
}

/** Throws with the failing elements when the check fails (for use inside tests). */
export function assertGradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const res = gradcheck(fn, inputs, opts);
  if (!res.ok) throw new Error(`gradcheck failed (max error ${res.maxError}):\n${res.failures.join('\n')}`);
}

/**
 * Finite differences on a module's parameters, perturbed in place (CPU tensors expose their
 * live values): the analytic gradient of `sum(out() * R)` must match central differences within
 * `tol * (1 + |numeric|)`. Parameters with at most `maxElements` elements are checked whole,
 * larger ones at `maxElements` sampled positions. Throws naming the parameter and element.
 */
export function assertParamGradcheck(params: Tensor[], out: () => Tensor, opts: { generator: Generator; maxElements?: number; tol?: number; eps?: number }): void {
  const { generator: gen, maxElements = 8, tol = 2e-2, eps = 1e-3 } = opts;
  const first = out();
  const proj = fromValues(Float32Array.from({ length: first.size }, () => gen.uniform(-1, 1)), first.shape);
  const loss = () => {
    const v = out().dataSync();
    const r = proj.dataSync();
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * r[i];
    return s;
  };
  for (const p of params) p.grad = null;
  out().backward(proj);
  for (const p of params) {
    const analytic = p.grad ? Float32Array.from(p.grad.dataSync()) : new Float32Array(p.size);
    const v = p.dataSync() as Float32Array;
    for (let c = 0; c < Math.min(maxElements, p.size); c++) {
      const k = p.size <= maxElements ? c : gen.int(p.size);
      const orig = v[k];
      v[k] = orig + eps;
      const plus = noGrad(loss);
      v[k] = orig - eps;
      const minus = noGrad(loss);
      v[k] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(analytic[k] - numeric);
      if (!(err < tol * (1 + Math.abs(numeric)))) {
        throw new Error(`parameter gradcheck failed at element ${k} of a [${p.shape.join(', ')}] parameter: analytic ${analytic[k]}, numeric ${numeric}`);
      }
    }
    p.grad = null;
  }
}
