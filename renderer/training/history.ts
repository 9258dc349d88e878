/**
 * Runs as the project file keeps them (history.json): per-epoch metrics under the names
 * the `aps` command line uses (`loss`, `accuracy`, `val_loss`, ..., `lr`), plus `test_*`
 * on the last epoch. The Results panel lists them next to the runs of this session.
 */
import type { ProjectHistory } from '../../engine/io/project.ts';
import type { EpochMetrics } from '../../engine/train/metrics.ts';
import {
  type DataSettings,
  type PartialDataSettings,
  type PartialTrainingSettings,
  type TrainingSettings,
  withDataDefaults,
  withTrainingDefaults,
} from '../../engine/train/settings.ts';
import type { RunRecord } from './run-state.ts';

export type SavedRun = ProjectHistory['runs'][number];

const METRICS = ['loss', 'accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'] as const;

function plain(m: EpochMetrics, prefix: string, into: Record<string, number | null>): void {
  for (const k of METRICS) {
    const v = m[k];
    if (typeof v === 'number' && Number.isFinite(v)) into[`${prefix}${k}`] = v;
  }
}

/** A finished run of this session as a history.json entry. */
export function savedRun(r: RunRecord): SavedRun {
  const epochs = r.history.map((e) => {
    const metrics: Record<string, number | null> = { lr: e.lr, duration_sec: e.durationSec };
    plain(e.train, '', metrics);
    if (e.val) plain(e.val, 'val_', metrics);
    return { epoch: e.epoch, metrics };
  });
  const last = epochs.at(-1);
  if (last && r.testMetrics) plain(r.testMetrics, 'test_', last.metrics);
  const settings = JSON.parse(JSON.stringify({ data: r.data, training: r.training })) as SavedRun['settings'];
  return { id: r.id, startedAt: r.startedAt, status: r.status, settings, epochs };
}

/** The settings a saved run recorded, with defaults for fields it left out; null when it recorded none. */
export function savedSettings(run: SavedRun): { data: DataSettings; training: TrainingSettings } | null {
  if (!run.settings) return null;
  return {
    data: withDataDefaults((run.settings.data ?? {}) as PartialDataSettings),
    training: withTrainingDefaults((run.settings.training ?? {}) as PartialTrainingSettings),
  };
}

/** The project history with one more run (a run saved before under the same id is replaced). */
export function withRun(history: ProjectHistory | undefined, run: SavedRun): ProjectHistory {
  return { runs: [...(history?.runs ?? []).filter((r) => r.id !== run.id), run] };
}

/** What the run table shows of a saved run: the last epoch's values. */
export function lastValues(run: SavedRun): { epochs: number; valLoss?: number; valAccuracy?: number; testAccuracy?: number } {
  const m = run.epochs.at(-1)?.metrics ?? {};
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : undefined);
  return { epochs: run.epochs.length, valLoss: num('val_loss'), valAccuracy: num('val_accuracy'), testAccuracy: num('test_accuracy') };
}
