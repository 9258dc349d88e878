/**
 * The gpu backend's kernels and its opt-in registration. Importing this file registers the
 * gpu kernels but not the backend: the default stays `cpu` until a host calls
 * `enableGpuBackend()` (and then `setBackend('gpu')` to compute on it).
 */
import { registerBackend } from '../../core/backend.ts';
import { type GpuMode, gpuBackend } from './gpu-backend.ts';
import './elementwise.ts';
import './reduce.ts';
import './matmul.ts';
import './softmax.ts';
import './conv.ts';
import './pool.ts';
import './gather.ts';
import './norm.ts';
import './layout.ts';
import './optim.ts';

/** Above the CPU's 0, so hosts that pick the first of listBackends() pick the gpu once enabled. */
const GPU_PRIORITY = 1;

export interface GpuBackendInfo {
  name: 'gpu';
  mode: GpuMode;
  /** Modes tried before the chosen one, with the reason each was refused. */
  refused: Record<string, string>;
  /** The WebGL renderer on the GL modes (a GPU's name, or a software renderer when asked for), else null. */
  renderer: string | null;
}

/**
 * Picks the best gpu.js mode that works here (webgpu, webgl2, headlessgl, webasm, cpu, in
 * that order; each is tried with a small kernel pipeline; WebGL drawn by a software renderer
 * such as SwiftShader is passed over for webasm) or exactly `mode`, and
 * registers the `gpu` backend. Throws, naming each refusal, when none works.
 */
export function enableGpuBackend(mode?: GpuMode): GpuBackendInfo {
  const res = gpuBackend.init(mode);
  registerBackend(gpuBackend, GPU_PRIORITY);
  return { name: 'gpu', mode: res.mode, refused: res.refused, renderer: gpuBackend.renderer };
}

/** The gpu.js mode the gpu backend runs, or null before it is enabled. */
export function activeGpuMode(): GpuMode | null {
  return gpuBackend.mode;
}

/** What a host shows for the gpu backend, e.g. "gpu (gpu.js webasm)". */
export function describeBackend(): string {
  return gpuBackend.mode ? `gpu (gpu.js ${gpuBackend.mode})` : 'gpu (not enabled)';
}
