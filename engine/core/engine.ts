/**
 * The runtime: the active backend, kernel dispatch with per-kernel fallback to the CPU
 * reference, and `apply`, which runs a kernel and records its backward for autograd.
 */
import { type Attrs, type Backend, type DType, getBackend, getKernel, type TensorInfo, type TypedArray } from './backend.ts';
import { type BackwardFn, type GradNode, isGradEnabled } from './autograd.ts';
import type { Shape } from './shape.ts';
import { sizeOf, shapeStr } from './shape.ts';
import { Tensor } from './tensor.ts';

const REFERENCE = 'cpu';
let active: Backend | null = null;

export function setBackend(name: string): void {
  active = getBackend(name);
}

export function activeBackend(): Backend {
  if (!active) active = getBackend(REFERENCE);
  return active;
}

/** Creates a tensor from values on the active backend (the array is copied). */
export function tensor(values: ArrayLike<number>, shape: Shape, dtype: DType = 'float32'): Tensor {
  const n = sizeOf(shape);
  if (values.length !== n) throw new Error(`tensor: ${values.length} values do not fill shape ${shapeStr(shape)} (${n} elements)`);
  const data: TypedArray = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  return fromValues(data, shape, dtype);
}

/** Wraps a typed array without copying; the array now belongs to the tensor. */
export function fromValues(values: TypedArray, shape: Shape, dtype: DType = values instanceof Int32Array ? 'int32' : 'float32'): Tensor {
  const backend = activeBackend();
  return new Tensor({ shape, dtype, dataId: backend.write(values, shape, dtype) }, backend);
}

function readSyncFrom(backend: Backend, info: TensorInfo): TypedArray {
  if (!backend.readSync) throw new Error(`Backend "${backend.name}" cannot fall back to the CPU synchronously`);
  return backend.readSync(info.dataId);
}

/**
 * Runs a kernel on the active backend; when that backend lacks it, runs the CPU reference
 * on copies of the inputs and uploads the results.
 */
export function runKernel(name: string, inputs: readonly Tensor[], attrs: Attrs = {}): TensorInfo[] {
  const backend = activeBackend();
  for (const t of inputs) {
    if (t.backend !== backend) throw new Error(`${name}: input tensor lives on backend "${t.backend.name}", the active backend is "${backend.name}"`);
  }
  const kernel = getKernel(name, backend.name);
  if (kernel) {
    const out = kernel(inputs, attrs, backend);
    return Array.isArray(out) ? out : [out];
  }
  const reference = getKernel(name, REFERENCE);
  if (!reference) throw new Error(`No kernel "${name}" on backend "${backend.name}" or the CPU reference`);
  const cpu = getBackend(REFERENCE);
  const cpuInputs = inputs.map((t) => {
    const values = readSyncFrom(backend, t);
    return { shape: t.shape, dtype: t.dtype, dataId: cpu.write(values.slice(), t.shape, t.dtype) };
  });
  const raw = reference(cpuInputs, attrs, cpu);
  const outs = Array.isArray(raw) ? raw : [raw];
  for (const c of cpuInputs) cpu.dispose(c.dataId);
  return outs.map((o) => {
    const values = readSyncFrom(cpu, o);
    cpu.dispose(o.dataId);
    return { shape: o.shape, dtype: o.dtype, dataId: backend.write(values, o.shape, o.dtype) };
  });
}

/**
 * Runs kernel `name` and, when gradients are enabled and an input requires them, records
 * `backward` (which receives the output gradients) for autograd.
 */
export function applyMulti(name: string, inputs: readonly Tensor[], attrs: Attrs, backward?: BackwardFn): Tensor[] {
  const infos = runKernel(name, inputs, attrs);
  const backend = activeBackend();
  const outputs = infos.map((info) => new Tensor(info, backend));
  if (backward && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    const node: GradNode = { name, inputs: [...inputs], outputs, backwardFn: backward };
    outputs.forEach((o, i) => {
      if (o.dtype !== 'float32') return;
      o.requiresGrad = true;
      o.gradNode = node;
      o.outputIndex = i;
    });
  }
  return outputs;
}

/** Single-output form of `applyMulti`; `backward` gets the output's gradient. */
export function apply(name: string, inputs: readonly Tensor[], attrs: Attrs, backward?: (dy: Tensor) => (Tensor | null | undefined)[]): Tensor {
  return applyMulti(name, inputs, attrs, backward ? (dys) => backward(dys[0]) : undefined)[0];
}

/**
 * Records a node whose forward was computed by other means (a composite written with
 * several kernels, or a fused op). The outputs become differentiable w.r.t. `inputs`.
 */
export function recordGrad(name: string, inputs: readonly Tensor[], outputs: Tensor[], backward: BackwardFn): void {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return;
  const node: GradNode = { name, inputs: [...inputs], outputs, backwardFn: backward };
  outputs.forEach((o, i) => {
    if (o.dtype !== 'float32') return;
    o.requiresGrad = true;
    o.gradNode = node;
    o.outputIndex = i;
  });
}
