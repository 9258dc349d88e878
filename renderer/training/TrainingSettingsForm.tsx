import type { MetricName } from '../../engine/train/metrics.ts';
import type { OptimizerType, ScheduleSettings, TrainingSettings } from '../../engine/train/settings.ts';
import type { TrainingBackend } from '../../engine/session/protocol.ts';
import { backendChoices, offeredBackend } from './backend-choice.ts';
import { CheckField, NumberField, SelectField, SettingsGroup } from './fields.tsx';

const OPTIMIZERS: { value: OptimizerType; label: string }[] = [
  { value: 'sgd', label: 'SGD' },
  { value: 'adam', label: 'Adam' },
  { value: 'adamw', label: 'AdamW' },
  { value: 'rmsprop', label: 'RMSprop' },
];

const SCHEDULES: { value: ScheduleSettings['type']; label: string }[] = [
  { value: 'none', label: 'Constant' },
  { value: 'step', label: 'Step decay' },
  { value: 'exponential', label: 'Exponential decay' },
  { value: 'cosine', label: 'Cosine annealing' },
  { value: 'plateau', label: 'Reduce on plateau' },
];

const METRICS: { value: MetricName; label: string }[] = [
  { value: 'loss', label: 'loss' },
  { value: 'accuracy', label: 'accuracy' },
  { value: 'f1', label: 'F1' },
  { value: 'mse', label: 'MSE' },
  { value: 'mae', label: 'MAE' },
];

/** A schedule of a given type with sensible values, keeping what carries over. */
export function scheduleOfType(type: ScheduleSettings['type'], epochs: number): ScheduleSettings {
  switch (type) {
    case 'none':
      return { type };
    case 'step':
      return { type, stepSize: Math.max(1, Math.round(epochs / 3)), gamma: 0.1 };
    case 'exponential':
      return { type, gamma: 0.95 };
    case 'cosine':
      return { type, tMax: Math.max(1, epochs), etaMin: 0 };
    case 'plateau':
      return { type, factor: 0.1, patience: 3, metric: 'loss' };
  }
}

export interface TrainingSettingsFormProps {
  settings: TrainingSettings;
  onChange: (settings: TrainingSettings, what: string) => void;
  disabled?: boolean;
  /** The engine's compute backends, highest priority first. */
  backends: string[];
  /** Backends a run may choose though not enabled yet (the worker's `choosableBackends`). */
  choosable?: TrainingBackend[];
  /** The backend the next run computes on, chosen among `backends`. */
  backend?: TrainingBackend;
  onBackend?: (backend: TrainingBackend) => void;
}

/** Optimiser, learning rate, schedule, batch size, epochs, early stopping, seed and backend. */
export function TrainingSettingsForm({ settings: s, onChange, disabled, backends, choosable = [], backend, onBackend }: TrainingSettingsFormProps) {
  const opt = s.optimizer;
  const setOpt = (patch: Partial<TrainingSettings['optimizer']>, what: string) => onChange({ ...s, optimizer: { ...opt, ...patch } }, what);
  const sc = s.schedule;
  const es = s.earlyStopping;
  return (
    <div className="training-settings" data-testid="training-settings">
      <SettingsGroup title="Optimiser">
        <SelectField label="Optimiser" testId="train-optimizer" value={opt.type} options={OPTIMIZERS} disabled={disabled} onChange={(type) => setOpt({ type, nesterov: type === 'sgd' && opt.nesterov }, 'optimiser')} />
        <NumberField label="Learning rate" testId="train-lr" value={opt.lr} min={0} minExclusive disabled={disabled} onCommit={(lr) => setOpt({ lr }, 'learning rate')} />
        {(opt.type === 'sgd' || opt.type === 'rmsprop') && (
          <NumberField label="Momentum" testId="train-momentum" value={opt.momentum} min={0} max={0.999} disabled={disabled} onCommit={(momentum) => setOpt({ momentum, nesterov: momentum > 0 && opt.nesterov }, 'momentum')} />
        )}
        <NumberField label="Weight decay" testId="train-weight-decay" value={opt.weightDecay} min={0} disabled={disabled} onCommit={(weightDecay) => setOpt({ weightDecay }, 'weight decay')} />
      </SettingsGroup>
      <SettingsGroup title="Schedule">
        <SelectField label="Learning-rate schedule" testId="train-schedule" value={sc.type} options={SCHEDULES} disabled={disabled} onChange={(type) => onChange({ ...s, schedule: scheduleOfType(type, s.epochs) }, 'schedule')} />
        {sc.type === 'step' && (
          <>
            <NumberField label="Every (epochs)" testId="train-step-size" value={sc.stepSize} integer min={1} disabled={disabled} onCommit={(stepSize) => onChange({ ...s, schedule: { ...sc, stepSize } }, 'schedule')} />
            <NumberField label="Multiply by" testId="train-gamma" value={sc.gamma} min={0} max={1} minExclusive disabled={disabled} onCommit={(gamma) => onChange({ ...s, schedule: { ...sc, gamma } }, 'schedule')} />
          </>
        )}
        {sc.type === 'exponential' && <NumberField label="Multiply by (per epoch)" testId="train-gamma" value={sc.gamma} min={0} max={1} minExclusive disabled={disabled} onCommit={(gamma) => onChange({ ...s, schedule: { ...sc, gamma } }, 'schedule')} />}
        {sc.type === 'cosine' && (
          <>
            <NumberField label="Period (epochs)" testId="train-tmax" value={sc.tMax} integer min={1} disabled={disabled} onCommit={(tMax) => onChange({ ...s, schedule: { ...sc, tMax } }, 'schedule')} />
            <NumberField label="Minimum lr" testId="train-eta-min" value={sc.etaMin} min={0} disabled={disabled} onCommit={(etaMin) => onChange({ ...s, schedule: { ...sc, etaMin } }, 'schedule')} />
          </>
        )}
        {sc.type === 'plateau' && (
          <>
            <NumberField label="Multiply by" testId="train-factor" value={sc.factor} min={0} max={0.999} minExclusive disabled={disabled} onCommit={(factor) => onChange({ ...s, schedule: { ...sc, factor } }, 'schedule')} />
            <NumberField label="Patience (epochs)" testId="train-plateau-patience" value={sc.patience} integer min={0} disabled={disabled} onCommit={(patience) => onChange({ ...s, schedule: { ...sc, patience } }, 'schedule')} />
          </>
        )}
      </SettingsGroup>
      <SettingsGroup title="Run">
        <NumberField label="Epochs" testId="train-epochs" value={s.epochs} integer min={1} disabled={disabled} onCommit={(epochs) => onChange({ ...s, epochs }, 'epochs')} />
        <NumberField label="Batch size" testId="train-batch-size" value={s.batchSize} integer min={1} disabled={disabled} onCommit={(batchSize) => onChange({ ...s, batchSize }, 'batch size')} />
        <NumberField label="Seed" testId="train-seed" value={s.seed} integer min={0} disabled={disabled} onCommit={(seed) => onChange({ ...s, seed }, 'seed')} />
        {backends.length && onBackend ? (
          <div title="The run computes on this backend; operations it lacks fall back to the CPU">
            <SelectField label="Backend" testId="train-backend" value={offeredBackend(backend ?? 'cpu', backends, choosable)} options={backendChoices(backends, choosable)} disabled={disabled} onChange={onBackend} />
          </div>
        ) : (
          <div className="setting" title="The engine runs each operation on the first backend that provides it, falling back to the CPU">
            <span className="setting-label">Backend</span>
            <span data-testid="train-backend">{backends.length ? backends.join(', then ') : 'engine starting…'}</span>
          </div>
        )}
      </SettingsGroup>
      <SettingsGroup title="Early stopping">
        <CheckField
          label="Stop when validation stops improving"
          testId="train-early-stopping"
          checked={es !== null}
          disabled={disabled}
          onChange={(on) => onChange({ ...s, earlyStopping: on ? { metric: 'loss', patience: 5, mode: 'min', minDelta: 0, restoreBest: true } : null }, 'early stopping')}
        />
        {es && (
          <>
            <SelectField
              label="Watch"
              testId="train-es-metric"
              value={es.metric}
              options={METRICS}
              disabled={disabled}
              onChange={(metric) => onChange({ ...s, earlyStopping: { ...es, metric, mode: metric === 'accuracy' || metric === 'f1' ? 'max' : 'min' } }, 'early stopping')}
            />
            <NumberField label="Patience (epochs)" testId="train-es-patience" value={es.patience} integer min={1} disabled={disabled} onCommit={(patience) => onChange({ ...s, earlyStopping: { ...es, patience } }, 'early stopping')} />
          </>
        )}
      </SettingsGroup>
    </div>
  );
}
