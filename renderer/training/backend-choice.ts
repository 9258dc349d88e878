/**
 * The compute backends a run can choose, from the names the engine worker reports in its
 * `ready` event ("cpu", "gpu:webasm", ...) and its `choosableBackends`. The cpu is always there.
 */
import type { TrainingBackend } from '../../engine/session/protocol.ts';

/** gpu.js modes offered for pinning in the app (webgl and headlessgl are for special hosts; the command line takes them). */
const PINNED_CHOICES = ['webgpu', 'webgl2', 'webasm', 'cpu'] as const;

export interface BackendChoice {
  value: TrainingBackend;
  label: string;
}

/**
 * One choice per backend the worker reported (cpu first), labelled with its mode, plus the
 * gpu when the worker says it can be chosen (`choosable`, from `ready.choosableBackends`)
 * though gpu.js is not enabled yet: the first run on it enables it.
 */
export function backendChoices(reported: readonly string[], choosable: readonly TrainingBackend[] = []): BackendChoice[] {
  const choices: BackendChoice[] = [{ value: 'cpu', label: 'CPU' }];
  for (const name of reported) {
    const [base, mode] = name.split(':');
    if (base !== 'gpu' || choices.some((c) => c.value === 'gpu')) continue;
    choices.push({ value: 'gpu', label: mode ? `GPU (gpu.js ${mode})` : 'GPU (gpu.js)' });
  }
  if (choosable.includes('gpu') && !choices.some((c) => c.value === 'gpu')) {
    choices.push({ value: 'gpu', label: 'GPU (gpu.js, mode chosen at the first run)' });
    // Before gpu.js is enabled its mode can be pinned (it then stays for the engine's life);
    // the run says why when that mode does not work here.
    for (const mode of PINNED_CHOICES) choices.push({ value: `gpu:${mode}`, label: `GPU, gpu.js ${mode} mode` });
  }
  return choices;
}

/** The chosen backend when the worker offers it, else the cpu. */
export function offeredBackend(chosen: TrainingBackend, reported: readonly string[], choosable: readonly TrainingBackend[] = []): TrainingBackend {
  return backendChoices(reported, choosable).some((c) => c.value === chosen) ? chosen : 'cpu';
}
