/**
 * The backend contract. A backend stores tensor data and runs kernels; it may implement
 * any subset of the kernels, and the registry falls back to the CPU reference for the
 * rest, one kernel at a time.
 */
import type { Shape } from './shape.ts';

export type DType = 'float32' | 'int32';
export type TypedArray = Float32Array | Int32Array;

/** Opaque handle to a backend's storage for one tensor. */
export type DataId = object;

/** What a kernel sees of a tensor: its shape, dtype and the backend's handle to its data. */
export interface TensorInfo {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly dataId: DataId;
}

export type Attrs = Readonly<Record<string, unknown>>;

export interface Backend {
  readonly name: string;
  /** Takes ownership of `values` (the caller must not write to it afterwards). */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId;
  read(dataId: DataId): Promise<TypedArray>;
  /** Synchronous readback; absent on backends that cannot do it (WebGPU). */
  readSync?(dataId: DataId): TypedArray;
  dispose(dataId: DataId): void;
  /** Live allocations, for leak checks and the memory readout. */
  memory(): { tensors: number; bytes: number };
}

export type Kernel = (inputs: readonly TensorInfo[], attrs: Attrs, backend: Backend) => TensorInfo | TensorInfo[];

const backends = new Map<string, { backend: Backend; priority: number }>();
const kernels = new Map<string, Map<string, Kernel>>();

export function registerBackend(backend: Backend, priority = 0): void {
  backends.set(backend.name, { backend, priority });
}

export function getBackend(name: string): Backend {
  const entry = backends.get(name);
  if (!entry) throw new Error(`Backend "${name}" is not available; available backends: ${listBackends().join(', ')}`);
  return entry.backend;
}

/** Names of the registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...backends.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([name]) => name);
}

export function registerKernel(kernelName: string, backendName: string, kernel: Kernel): void {
  let perBackend = kernels.get(kernelName);
  if (!perBackend) {
    perBackend = new Map();
    kernels.set(kernelName, perBackend);
  }
  perBackend.set(backendName, kernel);
}

export function getKernel(kernelName: string, backendName: string): Kernel | undefined {
  return kernels.get(kernelName)?.get(backendName);
}

export function hasKernel(kernelName: string, backendName: string): boolean {
  return getKernel(kernelName, backendName) !== undefined;
}

/** Kernel names registered for a backend (for coverage reports and parity tests). */
export function kernelsOf(backendName: string): string[] {
  return [...kernels.entries()].filter(([, m]) => m.has(backendName)).map(([k]) => k).sort();
}
