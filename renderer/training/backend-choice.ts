/**
 * The compute backends a run can choose, from the names the engine worker reports in its
 * `ready` event ("cpu", "gpu:webasm", ...). The cpu is always there.
 */
import type { TrainingBackend } from '../../engine/session/protocol.ts';

export interface BackendChoice {
  value: TrainingBackend;
  label: string;
}

/** One choice per backend the worker reported (cpu first), labelled with its mode. */
export function backendChoices(reported: readonly string[]): BackendChoice[] {
  const choices: BackendChoice[] = [{ value: 'cpu', label: 'CPU' }];
  for (const name of reported) {
    const [base, mode] = name.split(':');
    if (base !== 'gpu' || choices.some((c) => c.value === 'gpu')) continue;
    choices.push({ value: 'gpu', label: mode ? `GPU (gpu.js ${mode})` : 'GPU (gpu.js)' });
  }
  return choices;
}

/** The chosen backend when the worker offers it, else the cpu. */
export function offeredBackend(chosen: TrainingBackend, reported: readonly string[]): TrainingBackend {
  return backendChoices(reported).some((c) => c.value === chosen) ? chosen : 'cpu';
}
