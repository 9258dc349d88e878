/**
 * The state of the Mode panel's run, as data: what the engine's mode events say about the
 * current run (its kind, progress, every step's losses, epoch summaries), reduced by one
 * pure function so it can be tested without a worker.
 */
import type { ModeEvent, ModeInfo, ModeKind, ModeLossPoint, ModeSpec } from '../../engine/session/protocol.ts';
import type { GanEpoch } from '../../engine/train/modes/gan.ts';
import type { Series } from '../charts/line-layout.ts';

export type ModePhase = 'none' | 'starting' | 'running' | 'idle' | 'failed';

export interface ModeRunState {
  runId: string | null;
  phase: ModePhase;
  kind: ModeKind | null;
  info: ModeInfo | null;
  step: number;
  totalSteps: number;
  stepsPerEpoch: number;
  splits: { train: number; val: number; test: number } | null;
  /** Every step's losses, in order. */
  points: ModeLossPoint[];
  epochs: { epoch: number; losses: Record<string, number> }[];
  /** GAN: each finished epoch's summary (grid, losses, warnings). */
  ganEpochs: GanEpoch[];
  /** How the last stretch of training ended. */
  status: 'completed' | 'stopped' | 'diverged' | null;
  /** Why the run failed or diverged. */
  message: string | null;
  /** Grows whenever what the views show may have changed (an epoch ended, training paused). */
  version: number;
}

export const initialModeState: ModeRunState = {
  runId: null,
  phase: 'none',
  kind: null,
  info: null,
  step: 0,
  totalSteps: 0,
  stepsPerEpoch: 1,
  splits: null,
  points: [],
  epochs: [],
  ganEpochs: [],
  status: null,
  message: null,
  version: 0,
};

export type ModeAction = { kind: 'start-requested'; runId: string } | { kind: 'event'; event: ModeEvent } | { kind: 'reset' };

/** The next state after an action; events of other runs change nothing. */
export function modeReducer(state: ModeRunState, action: ModeAction): ModeRunState {
  switch (action.kind) {
    case 'reset':
      return { ...initialModeState, version: state.version + 1 };
    case 'start-requested':
      return { ...initialModeState, runId: action.runId, phase: 'starting', version: state.version + 1 };
    case 'event': {
      const e = action.event;
      if (!('runId' in e) || e.runId !== state.runId) return state;
      switch (e.type) {
        case 'mode-started':
          return { ...state, phase: 'running', kind: e.kind, info: e.info, totalSteps: e.totalSteps, stepsPerEpoch: Math.max(1, e.stepsPerEpoch), splits: e.splits };
        case 'mode-progress': {
          const last = e.points[e.points.length - 1];
          return { ...state, points: [...state.points, ...e.points], step: last ? last.step : state.step };
        }
        case 'mode-epoch':
          return {
            ...state,
            epochs: [...state.epochs, { epoch: e.epoch, losses: e.losses }],
            ganEpochs: e.gan ? [...state.ganEpochs, e.gan] : state.ganEpochs,
            version: state.version + 1,
          };
        case 'mode-state':
          if (e.state === 'running') return { ...state, phase: 'running', status: null, message: null };
          return { ...state, phase: 'idle', step: e.step, status: e.status ?? null, message: e.reason ?? null, version: state.version + 1 };
        case 'mode-failed':
          return { ...state, phase: 'failed', message: e.reason, version: state.version + 1 };
        default:
          return state;
      }
    }
  }
}

const PALETTE = ['#2f6fde', '#e8590c', '#2b8a3e', '#ae3ec9', '#f08c00', '#0c8599'];

/** Display names of the loss curves. */
export function lossLabel(name: string): string {
  if (name === 'total') return 'total';
  if (name === 'discriminator') return 'discriminator';
  if (name === 'generator') return 'generator';
  return name.replace(/_/g, ' ');
}

/** One curve per loss, over epochs (fractional within an epoch). */
export function lossSeries(state: ModeRunState): Series[] {
  const names = state.info?.lossNames ?? [];
  return names.map((name, i) => ({
    id: name,
    label: lossLabel(name),
    colour: PALETTE[i % PALETTE.length],
    // With a total, its parts are drawn dashed beneath it.
    dashed: names[0] === 'total' && name !== 'total',
    points: state.points.filter((p) => Number.isFinite(p.losses[name])).map((p) => ({ x: p.step / state.stepsPerEpoch, y: p.losses[name] })),
  }));
}

/** The GAN discriminator's accuracy over the steps. */
export function accuracySeries(state: ModeRunState): Series[] {
  const points = state.points.filter((p) => p.metrics?.discriminatorAccuracy !== undefined).map((p) => ({ x: p.step / state.stepsPerEpoch, y: p.metrics!.discriminatorAccuracy }));
  return points.length ? [{ id: 'd-accuracy', label: 'discriminator accuracy', colour: '#2b8a3e', points }] : [];
}

const APP_MODES: readonly string[] = ['autoencoder', 'vae', 'gan', 'adversarial', 'seq2seq', 'language-model', 'word2vec', 'rotation', 'contrastive', 'pretrain-transfer'];

/** The course mode a project's training settings name, when the Mode panel can run it. */
export function projectMode(training: Record<string, unknown> | null | undefined): Exclude<ModeSpec, { kind: 'trainer' }> | null {
  const mode = training?.mode as { kind?: unknown } | undefined;
  if (!mode || typeof mode !== 'object' || typeof mode.kind !== 'string' || !APP_MODES.includes(mode.kind)) return null;
  return mode as Exclude<ModeSpec, { kind: 'trainer' }>;
}

export const MODE_TITLES: Record<ModeKind, string> = {
  autoencoder: 'Autoencoder',
  vae: 'Variational autoencoder',
  gan: 'Generative adversarial network',
  adversarial: 'Adversarial attack',
  seq2seq: 'Sequence to sequence',
  'language-model': 'Character language model',
  word2vec: 'Word vectors (word2vec)',
  rotation: 'Self-supervised: rotation prediction',
  contrastive: 'Self-supervised: contrastive learning',
  'pretrain-transfer': 'Autoencoder pretraining for few labels',
};
