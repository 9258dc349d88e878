import { describe, expect, it } from 'vitest';
import { historySchema } from '../../../engine/io/project-schema.ts';
import { DEFAULT_DATA_SETTINGS, DEFAULT_TRAINING_SETTINGS } from '../../../engine/train/settings.ts';
import { lastValues, savedRun, savedSettings, withRun } from '../history.ts';
import type { RunRecord } from '../run-state.ts';

const run: RunRecord = {
  id: 'run-1',
  startedAt: '2026-01-02T03:04:05.000Z',
  status: 'completed',
  training: DEFAULT_TRAINING_SETTINGS,
  data: DEFAULT_DATA_SETTINGS,
  history: [
    { epoch: 1, train: { loss: 1.2, accuracy: 0.6 }, val: { loss: 1.1, accuracy: 0.65 }, lr: 0.001, durationSec: 2 },
    { epoch: 2, train: { loss: 0.7, accuracy: 0.8 }, val: { loss: NaN, accuracy: 0.82 }, lr: 0.001, durationSec: 2 },
  ],
  testMetrics: { loss: 0.72, accuracy: 0.81, perClass: [], confusion: [[1]] },
};

describe('run history in the project file', () => {
  it('writes per-epoch metrics as history.json accepts them, with test metrics on the last epoch', () => {
    const saved = savedRun(run);
    expect(historySchema.safeParse({ runs: [saved] }).success).toBe(true);
    expect(saved.epochs[0].metrics).toEqual({ lr: 0.001, duration_sec: 2, loss: 1.2, accuracy: 0.6, val_loss: 1.1, val_accuracy: 0.65 });
    // A non-finite value is left out rather than written as null-ish garbage.
    expect(saved.epochs[1].metrics).not.toHaveProperty('val_loss');
    expect(saved.epochs[1].metrics.test_accuracy).toBe(0.81);
    expect(lastValues(saved)).toEqual({ epochs: 2, valLoss: undefined, valAccuracy: 0.82, testAccuracy: 0.81 });
  });

  it('appends runs and replaces one saved again under its id', () => {
    const a = savedRun(run);
    const h = withRun(withRun(undefined, a), { ...savedRun({ ...run, id: 'run-2' }) });
    expect(h.runs.map((r) => r.id)).toEqual(['run-1', 'run-2']);
    expect(withRun(h, { ...a, status: 'stopped' }).runs.map((r) => `${r.id}:${r.status}`)).toEqual(['run-2:completed', 'run-1:stopped']);
  });

  it('records the settings a run used and reads them back after a round trip through JSON', () => {
    const custom = { ...run, training: { ...DEFAULT_TRAINING_SETTINGS, epochs: 7, batchSize: 16 }, data: { ...DEFAULT_DATA_SETTINGS, limit: 500 } };
    const parsed = historySchema.parse(JSON.parse(JSON.stringify({ runs: [savedRun(custom)] })));
    const s = savedSettings(parsed.runs[0]);
    expect(s?.training.epochs).toBe(7);
    expect(s?.training.batchSize).toBe(16);
    expect(s?.data.limit).toBe(500);
    expect(s?.data.source).toEqual(DEFAULT_DATA_SETTINGS.source);
    // Runs saved before settings were recorded have none.
    const { settings: _none, ...older } = parsed.runs[0];
    expect(savedSettings(older)).toBeNull();
  });
});
