import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_SETTINGS, DEFAULT_TRAINING_SETTINGS } from '../../../engine/train/settings.ts';
import type { EpochRecord, StepProgress } from '../../../engine/train/trainer.ts';
import { epochSeries, formatEta, initialRunState, MAX_STEP_POINTS, runFraction, runReducer, thin, type RunAction, type RunState } from '../run-state.ts';

const start: RunAction = { kind: 'start-requested', id: 'run-1', startedAt: '2026-01-01T00:00:00Z', training: DEFAULT_TRAINING_SETTINGS, data: DEFAULT_DATA_SETTINGS };

function step(epoch: number, stepNo: number, loss: number): StepProgress {
  return { epoch, step: stepNo, stepsPerEpoch: 4, globalStep: (epoch - 1) * 4 + stepNo, loss, samplesPerSec: 100, etaSec: 10, lr: 0.001 };
}

function epoch(n: number, trainLoss: number, valAcc: number): EpochRecord {
  return { epoch: n, train: { loss: trainLoss, accuracy: 0.5 }, val: { loss: trainLoss + 0.1, accuracy: valAcc }, lr: 0.001, durationSec: 1 };
}

const run = (...actions: RunAction[]): RunState => actions.reduce(runReducer, initialRunState);

describe('run state', () => {
  it('follows a run from start through steps and epochs to completion', () => {
    const s = run(start, { kind: 'started', id: 'run-1' }, { kind: 'step', id: 'run-1', progress: step(1, 2, 0.9) }, { kind: 'epoch', id: 'run-1', record: epoch(1, 0.8, 0.7) });
    expect(s.phase).toBe('running');
    expect(s.stepLoss).toEqual([{ x: 0.5, y: 0.9 }]);
    expect(s.current!.history).toHaveLength(1);
    const done = runReducer(s, { kind: 'finished', id: 'run-1', result: { status: 'completed', history: [epoch(1, 0.8, 0.7)], testMetrics: { loss: 0.85, accuracy: 0.72 } } });
    expect(done.phase).toBe('finished');
    expect(done.banner).toBeNull();
    expect(done.runs.map((r) => [r.id, r.status, r.testMetrics?.accuracy])).toEqual([['run-1', 'completed', 0.72]]);
  });

  it('ignores events of another run (a late message from a stopped one)', () => {
    const s = run(start, { kind: 'step', id: 'run-0', progress: step(1, 1, 5) });
    expect(s.stepLoss).toEqual([]);
    expect(s.phase).toBe('starting');
  });

  it('pauses and resumes only a live run', () => {
    const paused = run(start, { kind: 'started', id: 'run-1' }, { kind: 'paused', id: 'run-1' });
    expect(paused.phase).toBe('paused');
    expect(runReducer(paused, { kind: 'resumed', id: 'run-1' }).phase).toBe('running');
    expect(run({ kind: 'paused', id: 'run-1' }).phase).toBe('idle');
  });

  it('shows the reason when a run diverges and keeps it in the history', () => {
    const s = run(start, { kind: 'finished', id: 'run-1', result: { status: 'diverged', history: [], testMetrics: null, reason: 'The loss became NaN at epoch 2, step 7.' } });
    expect(s.banner?.tone).toBe('error');
    expect(s.banner?.title).toBe('Training diverged');
    expect(s.banner?.message).toContain('The loss became NaN at epoch 2, step 7.');
    expect(s.runs[0].status).toBe('diverged');
  });

  it('shows a failure banner with the engine message, run or no run', () => {
    const s = run(start, { kind: 'failed', id: 'run-1', message: 'The model has no loss node' });
    expect(s.phase).toBe('failed');
    expect(s.banner).toEqual({ tone: 'error', title: 'Training failed', message: 'The model has no loss node' });
    expect(run({ kind: 'failed', id: null, message: 'x' }).banner?.message).toBe('x');
  });

  it('bounds the step-loss points for long runs and keeps the latest', () => {
    const pts = Array.from({ length: MAX_STEP_POINTS + 1 }, (_, i) => ({ x: i, y: i }));
    const thinned = thin(pts);
    expect(thinned.length).toBeLessThanOrEqual(MAX_STEP_POINTS / 2 + 2);
    expect(thinned.at(-1)).toEqual({ x: MAX_STEP_POINTS, y: MAX_STEP_POINTS });
  });

  it('formats the time left and the fraction done', () => {
    expect(formatEta(5)).toBe('5 s');
    expect(formatEta(125)).toBe('2 min 05 s');
    expect(formatEta(3725)).toBe('1 h 02 min');
    expect(formatEta(NaN)).toBe('–');
    expect(runFraction(step(2, 2, 1), 4)).toBeCloseTo(1.5 / 4);
    expect(runFraction(null, 4)).toBe(0);
  });

  it('extracts per-epoch series, skipping epochs without the metric', () => {
    const h = [epoch(1, 0.8, 0.6), { ...epoch(2, 0.5, 0.7), val: null }];
    expect(epochSeries(h, 'train', 'loss')).toEqual([{ x: 1, y: 0.8 }, { x: 2, y: 0.5 }]);
    expect(epochSeries(h, 'val', 'accuracy')).toEqual([{ x: 1, y: 0.6 }]);
  });
});
