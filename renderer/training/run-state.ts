/**
 * What the training panels show about runs, as plain data updated by a reducer from
 * the engine's training events: the live run (state, progress, step losses, epoch
 * records, the banner) and the runs finished in this session with their settings.
 */
import type { EpochMetrics } from '../../engine/train/metrics.ts';
import type { DataSettings, TrainingSettings } from '../../engine/train/settings.ts';
import type { EpochRecord, RunStatus, StepProgress, TrainResult } from '../../engine/train/trainer.ts';

export type RunPhase = 'idle' | 'starting' | 'running' | 'paused' | 'stopping' | 'finished' | 'failed';

export interface Banner {
  tone: 'error' | 'warning' | 'info';
  title: string;
  message: string;
}

export interface RunRecord {
  id: string;
  startedAt: string;
  status: RunStatus | 'failed' | 'running';
  training: TrainingSettings;
  data: DataSettings;
  history: EpochRecord[];
  testMetrics: EpochMetrics | null;
  reason?: string;
  bestEpoch?: number;
}

export interface RunState {
  phase: RunPhase;
  /** The live (or last) run. */
  current: RunRecord | null;
  progress: StepProgress | null;
  /** Training loss per step (x: fractional epoch), thinned to a bounded number of points. */
  stepLoss: { x: number; y: number }[];
  banner: Banner | null;
  /** Finished runs of this session, newest first. */
  runs: RunRecord[];
}

export const MAX_STEP_POINTS = 2000;

export const initialRunState: RunState = { phase: 'idle', current: null, progress: null, stepLoss: [], banner: null, runs: [] };

export type RunAction =
  | { kind: 'start-requested'; id: string; startedAt: string; training: TrainingSettings; data: DataSettings }
  | { kind: 'started'; id: string }
  | { kind: 'step'; id: string; progress: StepProgress }
  | { kind: 'epoch'; id: string; record: EpochRecord }
  | { kind: 'paused'; id: string }
  | { kind: 'resumed'; id: string }
  | { kind: 'stop-requested' }
  | { kind: 'finished'; id: string; result: TrainResult }
  | { kind: 'failed'; id: string | null; message: string }
  | { kind: 'dismiss-banner' };

/** Keeps every other point once the list is full, so long runs stay cheap to draw. */
export function thin(points: { x: number; y: number }[], max = MAX_STEP_POINTS): { x: number; y: number }[] {
  if (points.length <= max) return points;
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

function finishedBanner(result: TrainResult): Banner | null {
  switch (result.status) {
    case 'diverged':
      return {
        tone: 'error',
        title: 'Training diverged',
        message: result.reason ?? 'The loss stopped being a finite number. Try a smaller learning rate, gradient clipping or standardised inputs.',
      };
    case 'early-stopped':
      return {
        tone: 'info',
        title: 'Stopped early',
        message: `Validation stopped improving${result.bestEpoch ? `; the weights of epoch ${result.bestEpoch} were kept` : ''}.`,
      };
    case 'stopped':
      return { tone: 'warning', title: 'Stopped', message: `The run was stopped after ${result.history.length} epoch${result.history.length === 1 ? '' : 's'}.` };
    case 'completed':
      return null;
  }
}

export function runReducer(state: RunState, action: RunAction): RunState {
  const isCurrent = (id: string | null) => state.current !== null && (id === null || state.current.id === id);
  switch (action.kind) {
    case 'start-requested':
      return {
        ...state,
        phase: 'starting',
        current: { id: action.id, startedAt: action.startedAt, status: 'running', training: action.training, data: action.data, history: [], testMetrics: null },
        progress: null,
        stepLoss: [],
        banner: null,
      };
    case 'started':
      return isCurrent(action.id) ? { ...state, phase: 'running' } : state;
    case 'step': {
      if (!isCurrent(action.id)) return state;
      const p = action.progress;
      const x = p.epoch - 1 + p.step / Math.max(1, p.stepsPerEpoch);
      return { ...state, phase: state.phase === 'starting' ? 'running' : state.phase, progress: p, stepLoss: thin([...state.stepLoss, { x, y: p.loss }]) };
    }
    case 'epoch':
      if (!isCurrent(action.id)) return state;
      return { ...state, current: { ...state.current!, history: [...state.current!.history.filter((r) => r.epoch !== action.record.epoch), action.record] } };
    case 'paused':
      return isCurrent(action.id) && state.phase !== 'finished' ? { ...state, phase: 'paused' } : state;
    case 'resumed':
      return isCurrent(action.id) && state.phase === 'paused' ? { ...state, phase: 'running' } : state;
    case 'stop-requested':
      return state.phase === 'running' || state.phase === 'paused' || state.phase === 'starting' ? { ...state, phase: 'stopping' } : state;
    case 'finished': {
      if (!isCurrent(action.id)) return state;
      const r = action.result;
      const done: RunRecord = { ...state.current!, status: r.status, history: r.history, testMetrics: r.testMetrics, reason: r.reason, bestEpoch: r.bestEpoch };
      return { ...state, phase: 'finished', current: done, banner: finishedBanner(r), runs: [done, ...state.runs] };
    }
    case 'failed': {
      const banner: Banner = { tone: 'error', title: 'Training failed', message: action.message };
      if (!isCurrent(action.id)) return { ...state, phase: state.current ? state.phase : 'failed', banner };
      const failed: RunRecord = { ...state.current!, status: 'failed', reason: action.message };
      return { ...state, phase: 'failed', current: failed, banner, runs: [failed, ...state.runs] };
    }
    case 'dismiss-banner':
      return { ...state, banner: null };
  }
}

/** "1 h 02 min", "3 min 05 s", "12 s" for an estimated time left. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/** Fraction of the whole run done, from the latest step. */
export function runFraction(p: StepProgress | null, epochs: number): number {
  if (!p || epochs <= 0) return 0;
  return Math.min(1, (p.epoch - 1 + p.step / Math.max(1, p.stepsPerEpoch)) / epochs);
}

/** The per-epoch series the curves draw: one value per epoch for a metric of a split. */
export function epochSeries(history: EpochRecord[], split: 'train' | 'val', metric: keyof EpochMetrics): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (const r of history) {
    const m = split === 'train' ? r.train : r.val;
    const v = m?.[metric];
    if (typeof v === 'number') out.push({ x: r.epoch, y: v });
  }
  return out;
}
