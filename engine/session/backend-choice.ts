/**
 * The compute backend a run or a command names: "cpu", "gpu" (the best gpu.js mode that
 * works here) or "gpu:<mode>" to pin gpu.js's mode (e.g. "gpu:webgl2").
 */
import type { GpuMode } from '../backends/gpu/gpu-backend.ts';

/** gpu.js modes a user may pin, best first. */
export const PINNABLE_GPU_MODES = ['webgpu', 'webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'] as const satisfies readonly GpuMode[];

export type TrainingBackend = 'cpu' | 'gpu' | `gpu:${(typeof PINNABLE_GPU_MODES)[number]}`;

/** { gpu: false } for the cpu, { gpu: true, mode? } for the gpu; a message naming the choices otherwise. */
export function parseTrainingBackend(name: string): { gpu: false } | { gpu: true; mode?: GpuMode } | string {
  if (name === 'cpu') return { gpu: false };
  if (name === 'gpu') return { gpu: true };
  const [base, mode] = name.split(':');
  if (base === 'gpu' && (PINNABLE_GPU_MODES as readonly string[]).includes(mode)) return { gpu: true, mode: mode as GpuMode };
  return `backend must be cpu, gpu or gpu:<mode> with mode one of ${PINNABLE_GPU_MODES.join(', ')}; got "${name}"`;
}
