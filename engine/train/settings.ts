/**
 * The data and training settings of a project, as plain JSON (the `.aps` file stores
 * exactly these), with defaults and validation that names each bad field.
 */
import { type Augmentation, validateAugmentation } from '../data/augment.ts';
import type { MetricName } from './metrics.ts';

// ---------------------------------------------------------------------------------------
// Data

/**
 * Where the samples come from: a built-in dataset, a file the user imported, or the
 * project's training mode, which makes its own samples from its settings (seq2seq digit
 * strings, the word2vec corpus; see `training.mode`).
 */
export type DataSource =
  | { kind: 'builtin'; id: string; options?: Record<string, number | string | boolean> }
  | { kind: 'mode' }
  | { kind: 'csv'; file: string; target?: string | number; ignore?: (string | number)[]; categorical?: 'onehot' | 'index'; task?: 'classification' | 'regression' }
  | { kind: 'images'; folder: string; width: number; height: number; channels: 1 | 3 }
  | { kind: 'text'; file: string; seqLen?: number; stride?: number };

export interface DataSettings {
  source: DataSource;
  /** Fractions of the samples for training, validation and test (normalised by their sum). */
  split: { train: number; val: number; test: number };
  /** Seed of the split (kept apart from the training seed so the split stays fixed while tuning). */
  splitSeed: number;
  /** Standardise inputs with statistics fitted on the training split. */
  standardize: boolean;
  /** Use only this many samples (before splitting); null for all. */
  limit: number | null;
  /** Image augmentation applied on the fly to training batches. */
  augmentation: Augmentation[];
}

export const DEFAULT_DATA_SETTINGS: DataSettings = {
  source: { kind: 'builtin', id: 'spirals', options: {} },
  split: { train: 0.8, val: 0.1, test: 0.1 },
  splitSeed: 0,
  standardize: false,
  limit: null,
  augmentation: [],
};

// ---------------------------------------------------------------------------------------
// Training

export type OptimizerType = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

export interface OptimizerSettings {
  type: OptimizerType;
  lr: number;
  /** SGD and RMSprop. */
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Adam and AdamW. */
  betas: [number, number];
  eps: number;
  /** RMSprop smoothing constant. */
  alpha: number;
}

export type ScheduleSettings =
  | { type: 'none' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; tMax: number; etaMin: number }
  /** Reduce the lr when the validation `metric` stops improving. */
  | { type: 'plateau'; factor: number; patience: number; metric: MetricName };

export interface EarlyStoppingSettings {
  /** Validation metric to watch (training metric when there is no validation split). */
  metric: MetricName;
  /** Epochs without improvement before stopping. */
  patience: number;
  mode: 'min' | 'max';
  /** Smallest change that counts as an improvement. */
  minDelta: number;
  /** Put back the weights of the best epoch when stopping early. */
  restoreBest: boolean;
}

export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSettings;
  schedule: ScheduleSettings;
  /** Clip the global gradient norm to this value; null: off. */
  clipNorm: number | null;
  /** Clip every gradient element to [-clipValue, clipValue]; null: off. */
  clipValue: number | null;
  earlyStopping: EarlyStoppingSettings | null;
  /** Seeds weight initialisation, shuffling, dropout and augmentation. */
  seed: number;
  shuffle: boolean;
}

export const DEFAULT_OPTIMIZER: OptimizerSettings = {
  type: 'adam',
  lr: 1e-3,
  momentum: 0,
  nesterov: false,
  weightDecay: 0,
  betas: [0.9, 0.999],
  eps: 1e-8,
  alpha: 0.99,
};

export const DEFAULT_TRAINING_SETTINGS: TrainingSettings = {
  epochs: 10,
  batchSize: 32,
  optimizer: DEFAULT_OPTIMIZER,
  schedule: { type: 'none' },
  clipNorm: null,
  clipValue: null,
  earlyStopping: null,
  seed: 0,
  shuffle: true,
};

/** Settings as a user may write them: any field may be left out and takes its default. */
export type PartialTrainingSettings = Partial<Omit<TrainingSettings, 'optimizer' | 'earlyStopping'>> & {
  optimizer?: Partial<OptimizerSettings>;
  earlyStopping?: Partial<EarlyStoppingSettings> | null;
};
export type PartialDataSettings = Partial<DataSettings>;

const METRICS: MetricName[] = ['loss', 'accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'];

/** Fills in defaults (the result is a fresh object). */
export function withTrainingDefaults(s: PartialTrainingSettings = {}): TrainingSettings {
  const es = s.earlyStopping;
  return {
    ...DEFAULT_TRAINING_SETTINGS,
    ...s,
    optimizer: { ...DEFAULT_OPTIMIZER, ...(s.optimizer ?? {}) },
    schedule: s.schedule ?? { type: 'none' },
    earlyStopping: es
      ? {
          metric: es.metric ?? 'loss',
          patience: es.patience ?? 5,
          mode: es.mode ?? (es.metric && ['accuracy', 'precision', 'recall', 'f1'].includes(es.metric) ? 'max' : 'min'),
          minDelta: es.minDelta ?? 0,
          restoreBest: es.restoreBest ?? true,
        }
      : null,
  };
}

export function withDataDefaults(s: PartialDataSettings = {}): DataSettings {
  return {
    ...DEFAULT_DATA_SETTINGS,
    ...s,
    split: { ...DEFAULT_DATA_SETTINGS.split, ...(s.split ?? {}) },
    augmentation: [...(s.augmentation ?? [])],
  };
}

type Check = (ok: boolean, msg: string) => void;

function collector(): { errors: string[]; check: Check } {
  const errors: string[] = [];
  return { errors, check: (ok, msg) => void (ok || errors.push(msg)) };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** Every problem with training settings, one message each naming the field; empty when valid. */
export function validateTrainingSettings(s: TrainingSettings): string[] {
  const { errors, check } = collector();
  check(isInt(s.epochs) && s.epochs >= 1, `epochs must be a whole number of at least 1, got ${show(s.epochs)}`);
  check(isInt(s.batchSize) && s.batchSize >= 1, `batchSize must be a whole number of at least 1, got ${show(s.batchSize)}`);
  check(isInt(s.seed) && s.seed >= 0, `seed must be a whole number >= 0, got ${show(s.seed)}`);
  check(typeof s.shuffle === 'boolean', `shuffle must be true or false, got ${show(s.shuffle)}`);
  const o = s.optimizer;
  check(['sgd', 'adam', 'adamw', 'rmsprop'].includes(o.type), `optimizer.type must be one of sgd, adam, adamw, rmsprop, got ${show(o.type)}`);
  check(isNum(o.lr) && o.lr > 0, `optimizer.lr must be a number above 0, got ${show(o.lr)}`);
  check(isNum(o.momentum) && o.momentum >= 0 && o.momentum < 1, `optimizer.momentum must be in [0, 1), got ${show(o.momentum)}`);
  check(isNum(o.weightDecay) && o.weightDecay >= 0, `optimizer.weightDecay must be a number >= 0, got ${show(o.weightDecay)}`);
  check(Array.isArray(o.betas) && o.betas.length === 2 && o.betas.every((b) => isNum(b) && b >= 0 && b < 1), `optimizer.betas must be two numbers in [0, 1), got ${show(o.betas)}`);
  check(isNum(o.eps) && o.eps >= 0, `optimizer.eps must be a number >= 0, got ${show(o.eps)}`);
  check(isNum(o.alpha) && o.alpha >= 0 && o.alpha <= 1, `optimizer.alpha must be in [0, 1], got ${show(o.alpha)}`);
  check(!o.nesterov || (o.type === 'sgd' && o.momentum > 0), 'optimizer.nesterov needs the sgd optimizer with momentum above 0');
  const sc = s.schedule;
  switch (sc.type) {
    case 'none':
      break;
    case 'step':
      check(isInt(sc.stepSize) && sc.stepSize >= 1, `schedule.stepSize must be a whole number of at least 1, got ${show(sc.stepSize)}`);
      check(isNum(sc.gamma) && sc.gamma > 0 && sc.gamma <= 1, `schedule.gamma must be in (0, 1], got ${show(sc.gamma)}`);
      break;
    case 'exponential':
      check(isNum(sc.gamma) && sc.gamma > 0 && sc.gamma <= 1, `schedule.gamma must be in (0, 1], got ${show(sc.gamma)}`);
      break;
    case 'cosine':
      check(isInt(sc.tMax) && sc.tMax >= 1, `schedule.tMax must be a whole number of at least 1, got ${show(sc.tMax)}`);
      check(isNum(sc.etaMin) && sc.etaMin >= 0, `schedule.etaMin must be a number >= 0, got ${show(sc.etaMin)}`);
      break;
    case 'plateau':
      check(isNum(sc.factor) && sc.factor > 0 && sc.factor < 1, `schedule.factor must be in (0, 1), got ${show(sc.factor)}`);
      check(isInt(sc.patience) && sc.patience >= 0, `schedule.patience must be a whole number >= 0, got ${show(sc.patience)}`);
      check(METRICS.includes(sc.metric), `schedule.metric must be one of ${METRICS.join(', ')}, got ${show(sc.metric)}`);
      break;
    default:
      errors.push(`schedule.type must be one of none, step, exponential, cosine, plateau, got ${show((sc as { type: unknown }).type)}`);
  }
  check(s.clipNorm === null || (isNum(s.clipNorm) && s.clipNorm > 0), `clipNorm must be a number above 0 or null, got ${show(s.clipNorm)}`);
  check(s.clipValue === null || (isNum(s.clipValue) && s.clipValue > 0), `clipValue must be a number above 0 or null, got ${show(s.clipValue)}`);
  const es = s.earlyStopping;
  if (es) {
    check(METRICS.includes(es.metric), `earlyStopping.metric must be one of ${METRICS.join(', ')}, got ${show(es.metric)}`);
    check(isInt(es.patience) && es.patience >= 1, `earlyStopping.patience must be a whole number of at least 1, got ${show(es.patience)}`);
    check(es.mode === 'min' || es.mode === 'max', `earlyStopping.mode must be "min" or "max", got ${show(es.mode)}`);
    check(isNum(es.minDelta) && es.minDelta >= 0, `earlyStopping.minDelta must be a number >= 0, got ${show(es.minDelta)}`);
  }
  return errors;
}

/** Every problem with data settings, one message each naming the field; empty when valid. */
export function validateDataSettings(s: DataSettings): string[] {
  const { errors, check } = collector();
  const src = s.source;
  switch (src?.kind) {
    case 'builtin':
      check(typeof src.id === 'string' && src.id.length > 0, `source.id must name a dataset, got ${show(src.id)}`);
      break;
    case 'csv':
    case 'text':
      check(typeof src.file === 'string' && src.file.length > 0, `source.file must name a file, got ${show(src.file)}`);
      break;
    case 'images':
      check(typeof src.folder === 'string' && src.folder.length > 0, `source.folder must name a folder, got ${show(src.folder)}`);
      check(isInt(src.width) && src.width >= 1 && isInt(src.height) && src.height >= 1, `source.width and height must be whole numbers of at least 1, got ${show(src.width)}x${show(src.height)}`);
      check(src.channels === 1 || src.channels === 3, `source.channels must be 1 or 3, got ${show(src.channels)}`);
      break;
    case 'mode':
      break;
    default:
      errors.push(`source.kind must be one of builtin, csv, images, text, mode, got ${show((src as { kind?: unknown } | undefined)?.kind)}`);
  }
  for (const k of ['train', 'val', 'test'] as const) check(isNum(s.split?.[k]) && s.split[k] >= 0, `split.${k} must be a number >= 0, got ${show(s.split?.[k])}`);
  check(isNum(s.split?.train) && s.split.train > 0, 'split.train must be above 0');
  check(isInt(s.splitSeed) && s.splitSeed >= 0, `splitSeed must be a whole number >= 0, got ${show(s.splitSeed)}`);
  check(typeof s.standardize === 'boolean', `standardize must be true or false, got ${show(s.standardize)}`);
  check(s.limit === null || (isInt(s.limit) && s.limit >= 2), `limit must be a whole number of at least 2 or null, got ${show(s.limit)}`);
  if (!Array.isArray(s.augmentation)) errors.push(`augmentation must be a list, got ${show(s.augmentation)}`);
  else s.augmentation.forEach((a, i) => validateAugmentation(a).forEach((m) => errors.push(`augmentation[${i}] ${m}`)));
  return errors;
}
