/**
 * The course-mode side of the engine protocol, environment-neutral: it runs autoencoder,
 * VAE, GAN and adversarial-attack projects step by step with their mode classes
 * (engine/train/modes/), relays their losses, answers questions about what they show
 * (reconstructions, latent points, prior samples, interpolations, GAN grids, attacks), and
 * runs hyperparameter searches trial by trial.
 */
import { type Dataset, inputSize } from '../data/dataset.ts';
import { type PreparedData, prepareData } from '../data/prepare.ts';
import type { GraphModel } from '../graph/compile.ts';
import type { ModelGraph } from '../graph/types.ts';
import { attackView, successRate } from '../train/modes/adversarial.ts';
import { AutoencoderMode } from '../train/modes/autoencoder.ts';
import { gatherTargets, type OptimizerChoice, toImage } from '../train/modes/common.ts';
import { GanMode } from '../train/modes/gan.ts';
import { ClassifierMode } from '../train/modes/supervised.ts';
import { VaeMode } from '../train/modes/vae.ts';
import type { SplitName } from '../train/inspect.ts';
import { nowMs, yieldToEventLoop } from '../train/clock.ts';
import { gridConfigs, hyperparameterSearch } from '../train/search.ts';
import { type TrainingSettings, validateDataSettings, validateTrainingSettings, withDataDefaults, withTrainingDefaults } from '../train/settings.ts';
import type { Trainer } from '../train/trainer.ts';
import type { ModeEvent, ModeInfo, ModeKind, ModeLossPoint, ModeRequest, ModeSpec, ModeView, ModeViewQuery, TrainingEvent } from './protocol.ts';

/** Progress events are sent at most this often (epoch ends and stops always flush). */
const PROGRESS_INTERVAL_MS = 100;

const MODE_TYPES = new Set<string>(['mode-start', 'mode-step', 'mode-stop', 'mode-view', 'search-start', 'search-stop']);
const MODE_KINDS: readonly ModeKind[] = ['autoencoder', 'vae', 'gan', 'adversarial'];

export function isModeRequest(req: { type: string }): req is ModeRequest {
  return MODE_TYPES.has(req.type);
}

/** What is missing from a mode request's identifiers, or null when they are present. */
export function malformedModeRequest(req: ModeRequest): string | null {
  const r = req as unknown as Record<string, unknown>;
  const idName = req.type.startsWith('search-') ? 'searchId' : 'runId';
  if (typeof r[idName] !== 'string' || r[idName] === '') return `${req.type} request needs a string "${idName}"`;
  if (req.type === 'mode-view' && (typeof r.requestId !== 'string' || r.requestId === '')) return 'mode-view request needs a string "requestId"';
  if (req.type === 'mode-view' && (typeof r.query !== 'object' || r.query === null)) return 'mode-view request needs a "query"';
  if ((req.type === 'mode-start' || req.type === 'search-start') && (typeof r.graph !== 'object' || r.graph === null)) return `${req.type} request needs the model "graph"`;
  if (req.type === 'mode-step' && !(Number.isInteger(r.steps) && (r.steps as number) >= 1)) return `mode-step request needs "steps", a whole number of at least 1, got ${JSON.stringify(r.steps)}`;
  if (req.type === 'search-start' && (typeof r.space !== 'object' || r.space === null || typeof r.options !== 'object' || r.options === null)) return 'search-start request needs a search "space" and "options"';
  return null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The mode of a project: the request's own, else its training settings' `mode`, checked field by field. */
export function modeSpecOf(req: Extract<ModeRequest, { type: 'mode-start' }>): Exclude<ModeSpec, { kind: 'trainer' }> {
  const spec = (req.mode ?? (req.training as { mode?: unknown } | undefined)?.mode) as ModeSpec | undefined;
  if (!spec || typeof spec !== 'object') throw new Error(`This project has no training mode; set training.mode to one of ${MODE_KINDS.join(', ')}`);
  if (spec.kind === 'trainer') throw new Error('This project trains with the ordinary training loop (training.mode "trainer"): use the Training panel');
  if (!MODE_KINDS.includes(spec.kind)) throw new Error(`training.mode.kind must be one of ${MODE_KINDS.join(', ')}, got ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  const num = (v: unknown, name: string, ok: (n: number) => boolean, rule: string) => {
    if (v !== undefined && !(typeof v === 'number' && ok(v))) throw new Error(`training.mode.${name} must be ${rule}, got ${JSON.stringify(v)}`);
  };
  switch (spec.kind) {
    case 'autoencoder':
      num(spec.noiseStd, 'noiseStd', (n) => n >= 0, 'a number >= 0');
      if (spec.latentId !== undefined && typeof spec.latentId !== 'string') throw new Error(`training.mode.latentId must name a node, got ${JSON.stringify(spec.latentId)}`);
      break;
    case 'gan':
      if (typeof spec.discriminator !== 'object' || spec.discriminator === null || !Array.isArray(spec.discriminator.nodes)) throw new Error('training.mode.discriminator must hold the discriminator graph (nodes and edges)');
      num(spec.kDiscriminator, 'kDiscriminator', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
      break;
    case 'adversarial':
      num(spec.epsilon, 'epsilon', (n) => n >= 0, 'a number >= 0');
      num(spec.steps, 'steps', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
      num(spec.targetClass, 'targetClass', (n) => Number.isInteger(n) && n >= 0, 'a class index');
      break;
  }
  return spec;
}

/** One step of any mode, as named losses. */
type Stepper = () => { losses: Record<string, number>; total: number; metrics?: Record<string, number> };

interface ModeRun {
  runId: string;
  kind: ModeKind;
  spec: Exclude<ModeSpec, { kind: 'trainer' }>;
  data: PreparedData;
  ae: AutoencoderMode | null;
  gan: GanMode | null;
  classifier: ClassifierMode | null;
  step: Stepper;
  stepsPerEpoch: number;
  steps: number;
  running: boolean;
  stopRequested: boolean;
  /** Sums of the current epoch's losses. */
  epochSums: Record<string, number>;
  epochSteps: number;
  pending: ModeLossPoint[];
  lastFlush: number;
  /** The previous run's models are released once this one has started. */
  models: GraphModel[];
}

interface SearchRun {
  searchId: string;
  stopRequested: boolean;
  trainer: Trainer | null;
}

export class ModeSession {
  private run: ModeRun | null = null;
  private search: SearchRun | null = null;
  /** Settles when the current loop (mode or search) has ended. */
  private busy: Promise<void> = Promise.resolve();

  constructor(private emit: (event: ModeEvent | TrainingEvent) => void) {}

  setEmitter(emit: (event: ModeEvent | TrainingEvent) => void): void {
    this.emit = emit;
  }

  /** Settles when the current mode loop and search (if any) have ended. */
  async idle(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.busy) {
      seen = this.busy;
      await seen;
    }
  }

  handle(req: ModeRequest): void {
    switch (req.type) {
      case 'mode-start':
        this.start(req);
        return;
      case 'mode-step': {
        const run = this.runOf(req.runId, (reason) => this.emit({ type: 'mode-failed', runId: req.runId, reason }));
        if (!run) return;
        if (run.running) {
          this.emit({ type: 'mode-failed', runId: req.runId, reason: `Run "${req.runId}" is still training; stop it before stepping` });
          return;
        }
        this.loop(run, req.steps);
        return;
      }
      case 'mode-stop': {
        const run = this.runOf(req.runId, (reason) => this.emit({ type: 'mode-failed', runId: req.runId, reason }));
        if (run?.running) run.stopRequested = true;
        return;
      }
      case 'mode-view':
        try {
          const run = this.runOf(req.runId, (reason) => {
            throw new Error(reason);
          })!;
          this.emit({ type: 'mode-view', runId: req.runId, requestId: req.requestId, view: viewOf(run, req.query) });
        } catch (err) {
          this.emit({ type: 'request-failed', requestId: req.requestId, reason: message(err) });
        }
        return;
      case 'search-start':
        this.startSearch(req);
        return;
      case 'search-stop':
        if (this.search?.searchId === req.searchId) {
          this.search.stopRequested = true;
          this.search.trainer?.stop();
        } else this.emit({ type: 'search-failed', searchId: req.searchId, reason: `There is no running search "${req.searchId}"` });
        return;
    }
  }

  private runOf(runId: string, fail: (reason: string) => void): ModeRun | null {
    if (!this.run || this.run.runId !== runId) {
      fail(`There is no mode run "${runId}"${this.run ? ` (the current one is "${this.run.runId}")` : ''}`);
      return null;
    }
    return this.run;
  }

  private start(req: Extract<ModeRequest, { type: 'mode-start' }>): void {
    const { runId } = req;
    if (this.run?.running) {
      this.emit({ type: 'mode-failed', runId, reason: `Mode run "${this.run.runId}" is still training; stop it before starting another` });
      return;
    }
    const previous = this.run;
    this.run = null;
    const after = this.busy;
    this.busy = (async () => {
      await after;
      let run: ModeRun;
      let total: number;
      try {
        const spec = modeSpecOf(req);
        const training = trainingOf(req);
        const data = withDataDefaults(req.data ?? {});
        const problems = [...validateDataSettings(data).map((m) => `data: ${m}`), ...validateTrainingSettings(training).map((m) => `training: ${m}`)];
        if (problems.length) throw new Error(`The settings are not valid:\n- ${problems.join('\n- ')}`);
        if (req.steps !== undefined && !(Number.isInteger(req.steps) && req.steps >= 0)) throw new Error(`steps must be a whole number >= 0, got ${JSON.stringify(req.steps)}`);
        const prepared = await prepareData(data, req.payload ?? {});
        if (prepared.full.meta.task === 'graph') throw new Error(`The ${spec.kind} mode needs samples as tensors (images or vectors); "${prepared.full.meta.name}" holds graphs`);
        run = buildRun(runId, spec, req.graph, prepared, training);
        total = req.steps ?? training.epochs * run.stepsPerEpoch;
      } catch (err) {
        this.emit({ type: 'mode-failed', runId, reason: message(err) });
        return;
      }
      if (previous) release(previous);
      this.run = run;
      this.emit({
        type: 'mode-started',
        runId,
        kind: run.kind,
        stepsPerEpoch: run.stepsPerEpoch,
        totalSteps: total,
        numParameters: run.models.reduce((n, m) => n + m.numParameters(), 0),
        dataset: run.data.full.meta,
        splits: { train: run.data.train.length, val: run.data.val.length, test: run.data.test.length },
        info: infoOf(run),
      });
      if (total > 0) await this.steps(run, total);
      else this.emit({ type: 'mode-state', runId, state: 'idle', step: 0, status: 'completed' });
    })();
  }

  private loop(run: ModeRun, steps: number): void {
    const after = this.busy;
    this.busy = (async () => {
      await after;
      await this.steps(run, steps);
    })();
  }

  /** Trains `count` steps, reporting losses; stops early on request or when the loss stops being finite. */
  private async steps(run: ModeRun, count: number): Promise<void> {
    run.running = true;
    run.stopRequested = false;
    this.emit({ type: 'mode-state', runId: run.runId, state: 'running', step: run.steps });
    let status: 'completed' | 'stopped' | 'diverged' = 'completed';
    let reason: string | undefined;
    try {
      for (let k = 0; k < count; k++) {
        await yieldToEventLoop();
        if (run.stopRequested || this.run !== run) {
          status = 'stopped';
          break;
        }
        const r = run.step();
        if (!Number.isFinite(r.total)) {
          status = 'diverged';
          reason = `The loss became ${r.total} at step ${run.steps + 1}. Try a smaller learning rate.`;
          break;
        }
        run.steps++;
        const epoch = Math.floor((run.steps - 1) / run.stepsPerEpoch) + 1;
        run.pending.push({ step: run.steps, epoch, losses: r.losses, ...(r.metrics ? { metrics: r.metrics } : {}) });
        for (const [name, v] of Object.entries(r.losses)) run.epochSums[name] = (run.epochSums[name] ?? 0) + v;
        run.epochSteps++;
        const epochEnd = run.steps % run.stepsPerEpoch === 0;
        if (epochEnd || nowMs() - run.lastFlush >= PROGRESS_INTERVAL_MS) this.flush(run);
        if (epochEnd) this.endEpoch(run, epoch);
      }
    } catch (err) {
      run.running = false;
      this.flush(run);
      this.emit({ type: 'mode-failed', runId: run.runId, reason: message(err) });
      return;
    }
    run.running = false;
    this.flush(run);
    this.emit({ type: 'mode-state', runId: run.runId, state: 'idle', step: run.steps, status, ...(reason ? { reason } : {}) });
  }

  private flush(run: ModeRun): void {
    run.lastFlush = nowMs();
    if (!run.pending.length) return;
    this.emit({ type: 'mode-progress', runId: run.runId, points: run.pending });
    run.pending = [];
  }

  private endEpoch(run: ModeRun, epoch: number): void {
    const n = Math.max(1, run.epochSteps);
    const losses = Object.fromEntries(Object.entries(run.epochSums).map(([k, v]) => [k, v / n]));
    run.epochSums = {};
    run.epochSteps = 0;
    this.emit({ type: 'mode-epoch', runId: run.runId, epoch, losses, ...(run.gan ? { gan: run.gan.epochSummary() } : {}) });
  }

  private startSearch(req: Extract<ModeRequest, { type: 'search-start' }>): void {
    const { searchId } = req;
    if (this.search) {
      this.emit({ type: 'search-failed', searchId, reason: `Search "${this.search.searchId}" is still running; stop it before starting another` });
      return;
    }
    const search: SearchRun = { searchId, stopRequested: false, trainer: null };
    this.search = search;
    const after = this.busy;
    this.busy = (async () => {
      await after;
      try {
        const training = withTrainingDefaults(req.training ?? {});
        const data = withDataDefaults(req.data ?? {});
        const problems = [...validateDataSettings(data).map((m) => `data: ${m}`), ...validateTrainingSettings(training).map((m) => `training: ${m}`)];
        if (problems.length) throw new Error(`The settings are not valid:\n- ${problems.join('\n- ')}`);
        const { strategy } = req.options;
        if (strategy !== 'grid' && strategy !== 'random') throw new Error(`options.strategy must be "grid" or "random", got ${JSON.stringify(strategy)}`);
        const trials = req.options.trials ?? 10;
        if (strategy === 'random' && !(Number.isInteger(trials) && trials >= 1)) throw new Error(`options.trials must be a whole number of at least 1, got ${JSON.stringify(trials)}`);
        const total = strategy === 'grid' ? gridConfigs(req.space, training).length : trials;
        const prepared = await prepareData(data, req.payload ?? {});
        this.emit({ type: 'search-started', searchId, total });
        const results = await hyperparameterSearch({
          graph: req.graph,
          data: prepared,
          training,
          space: req.space,
          options: req.options,
          onTrial: (result, done, count) => this.emit({ type: 'search-trial', searchId, result, done, total: count }),
          shouldStop: () => search.stopRequested,
          onTrainer: (t) => {
            search.trainer = t;
            if (search.stopRequested) t.stop();
          },
        });
        this.emit({ type: 'search-finished', searchId, status: search.stopRequested ? 'stopped' : 'completed', results });
      } catch (err) {
        this.emit({ type: 'search-failed', searchId, reason: message(err) });
      } finally {
        this.search = null;
      }
    })();
  }
}

/** The run's training settings, without the mode itself. */
function trainingOf(req: Extract<ModeRequest, { type: 'mode-start' }>): TrainingSettings {
  const fields: Record<string, unknown> = { ...(req.training ?? {}) };
  delete fields.mode;
  return withTrainingDefaults(fields);
}

function optimizerOf(t: TrainingSettings): OptimizerChoice {
  return { ...t.optimizer };
}

/** Builds the mode's networks on the training split. */
function buildRun(runId: string, spec: Exclude<ModeSpec, { kind: 'trainer' }>, graph: ModelGraph, data: PreparedData, t: TrainingSettings): ModeRun {
  const base = { batchSize: t.batchSize, optimizer: optimizerOf(t), seed: t.seed };
  const valueRange = valueRangeOf(data.train);
  let ae: AutoencoderMode | null = null;
  let gan: GanMode | null = null;
  let classifier: ClassifierMode | null = null;
  let step: Stepper;
  let stepsPerEpoch: number;
  let models: GraphModel[];
  switch (spec.kind) {
    case 'autoencoder':
    case 'vae': {
      const m =
        spec.kind === 'vae'
          ? new VaeMode({ graph, data: data.train, muId: spec.muId, valueRange, ...base })
          : new AutoencoderMode({ graph, data: data.train, latentId: spec.latentId, noiseStd: spec.noiseStd, valueRange, ...base });
      ae = m;
      step = () => {
        const r = m.step();
        return { total: r.total, losses: { total: r.total, ...r.losses } };
      };
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'gan': {
      const m = new GanMode({
        generator: graph,
        discriminator: spec.discriminator,
        data: data.train,
        conditional: spec.conditional,
        kDiscriminator: spec.kDiscriminator,
        batchSize: t.batchSize,
        optimizerG: optimizerOf(t),
        optimizerD: optimizerOf(t),
        valueRange,
        seed: t.seed,
      });
      gan = m;
      step = () => {
        const r = m.step();
        return { total: r.dLoss + r.gLoss, losses: { discriminator: r.dLoss, generator: r.gLoss }, metrics: { discriminatorAccuracy: r.dAccuracy } };
      };
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.generator, m.discriminator];
      break;
    }
    case 'adversarial': {
      const m = new ClassifierMode({ graph, data: data.train, ...base });
      classifier = m;
      step = () => {
        const r = m.step();
        return { total: r.total, losses: m.heads.length > 1 ? { total: r.total, ...r.losses } : r.losses };
      };
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
  }
  return { runId, kind: spec.kind, spec, data, ae, gan, classifier, step, stepsPerEpoch, steps: 0, running: false, stopRequested: false, epochSums: {}, epochSteps: 0, pending: [], lastFlush: nowMs(), models };
}

/** Image data from 0..1 shows as it is; other data is shown over its own range. */
function valueRangeOf(ds: Dataset): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const v = ds.inputs;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  if (!(hi > lo)) return [0, 1];
  return lo >= 0 && hi <= 1 ? [0, 1] : [lo, hi];
}

function infoOf(run: ModeRun): ModeInfo {
  const meta = run.data.full.meta;
  const info: ModeInfo = { lossNames: [], inputShape: [...meta.inputShape], isImage: meta.preview === 'image', classNames: meta.classNames ?? [] };
  if (run.ae) {
    info.lossNames = ['total', ...run.ae.model.lossIds];
    if (run.ae.opts.latentId) info.latentDim = run.ae.latentDim();
    if (run.ae instanceof VaeMode) info.klWeight = run.ae.klWeight;
  } else if (run.gan) {
    info.lossNames = ['discriminator', 'generator'];
    info.conditional = run.gan.conditional;
  } else if (run.classifier) {
    info.lossNames = run.classifier.heads.length > 1 ? ['total', ...run.classifier.heads.map((h) => h.lossId)] : run.classifier.heads.map((h) => h.lossId);
    const a = run.spec.kind === 'adversarial' ? run.spec : null;
    info.attack = { epsilon: a?.epsilon ?? 0.1, steps: a?.steps ?? 1, ...(a?.targetClass !== undefined ? { targetClass: a.targetClass } : {}) };
  }
  return info;
}

/** The split a view reads: the one asked for, else test, validation, then training. */
function splitOf(run: ModeRun, asked: SplitName | undefined): { name: SplitName; ds: Dataset } {
  if (asked !== undefined) {
    if (asked !== 'train' && asked !== 'val' && asked !== 'test') throw new Error(`Unknown split "${String(asked)}"; use train, val or test`);
    if (run.data[asked].length === 0) throw new Error(`The ${asked} split is empty`);
    return { name: asked, ds: run.data[asked] };
  }
  for (const name of ['test', 'val', 'train'] as const) if (run.data[name].length > 0) return { name, ds: run.data[name] };
  throw new Error('The dataset has no samples');
}

function checkIndex(ds: Dataset, index: unknown, split: SplitName, what = 'index'): number {
  if (!(Number.isInteger(index) && (index as number) >= 0 && (index as number) < ds.length)) throw new Error(`${what} must be a sample of the ${split} split, from 0 to ${ds.length - 1}, got ${JSON.stringify(index)}`);
  return index as number;
}

function count(v: unknown, fallback: number, max: number, what: string): number {
  const n = v ?? fallback;
  if (!(Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max)) throw new Error(`${what} must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
  return n as number;
}

function needs<T>(value: T | null, kind: string, run: ModeRun): T {
  if (value === null) throw new Error(`The ${kind} view is not available in the ${run.kind} mode`);
  return value;
}

/** Answers a view query about a mode run. */
function viewOf(run: ModeRun, q: ModeViewQuery): ModeView {
  switch (q.kind) {
    case 'reconstructions': {
      const ae = needs(run.ae, 'reconstruction', run);
      const { name, ds } = splitOf(run, q.split);
      const indices = q.indices ?? Array.from({ length: Math.min(count(q.count, 8, 64, 'count'), ds.length) }, (_, i) => i);
      indices.forEach((i) => checkIndex(ds, i, name));
      return { kind: 'reconstructions', split: name, items: ae.reconstructions(ds, indices) };
    }
    case 'latent': {
      const ae = needs(run.ae, 'latent', run);
      const { name, ds } = splitOf(run, q.split);
      const n = Math.min(count(q.count, 300, 2000, 'count'), ds.length);
      const indices = Array.from({ length: n }, (_, i) => i);
      const { points, projected } = ae.latentPoints(ds, indices);
      return { kind: 'latent', split: name, points, projected, dim: ae.latentDim() };
    }
    case 'sample': {
      const { name, ds } = splitOf(run, q.split);
      const index = checkIndex(ds, q.index, name);
      const meta = ds.meta;
      const s = inputSize(meta);
      const image = meta.preview === 'image' && meta.inputDtype === 'float32' ? toImage(ds.inputs.subarray(index * s, (index + 1) * s), meta.inputShape, valueRangeOf(ds)) : null;
      const labelled = ds.targets instanceof Int32Array && meta.targetShape.length === 0;
      return { kind: 'sample', split: name, index, image, label: labelled ? gatherTargets(ds, [index])[0] : null };
    }
    case 'prior': {
      const ae = needs(run.ae, 'prior sample', run);
      if (!(ae instanceof VaeMode)) throw new Error('Sampling from the prior needs a variational autoencoder (the vae mode)');
      const n = count(q.count, 16, 100, 'count');
      const { grid, samples } = ae.samplePrior(n, count(q.cols, Math.ceil(Math.sqrt(n)), 100, 'cols'), q.seed ?? 0);
      return { kind: 'prior', grid, samples };
    }
    case 'interpolate': {
      const ae = needs(run.ae, 'interpolation', run);
      if (!(ae instanceof VaeMode)) throw new Error('Latent interpolation needs a variational autoencoder (the vae mode)');
      const { name, ds } = splitOf(run, q.split);
      const a = checkIndex(ds, q.a, name, 'a');
      const b = checkIndex(ds, q.b, name, 'b');
      const { strip, frames } = ae.interpolate(ds, a, b, count(q.steps, 8, 32, 'steps'));
      return { kind: 'interpolate', split: name, a, b, strip, frames };
    }
    case 'gan': {
      const gan = needs(run.gan, 'GAN', run);
      const n = gan.conditional ? gan.classes * 2 : 16;
      const { values, labels } = gan.generate(n, { seed: 0 });
      const diversity = gan.diversity();
      return { kind: 'gan', epochs: gan.history, current: gan.view(values, labels, gan.conditional ? gan.classes : 4), warnings: gan.warnings(diversity) };
    }
    case 'attack': {
      const c = needs(run.classifier, 'attack', run);
      const { name, ds } = splitOf(run, q.split);
      const index = checkIndex(ds, q.index, name);
      const steps = q.steps ?? 1;
      const opts = { epsilon: q.epsilon, steps, ...(q.targetClass !== undefined && q.targetClass !== null ? { targetClass: q.targetClass } : {}), clip: valueRangeOf(ds) };
      const view = attackView(c.model, ds, index, opts);
      const report = successRate(c.model, ds, opts, count(q.limit, 100, 2000, 'limit'));
      return { kind: 'attack', split: name, index, epsilon: q.epsilon, steps, targetClass: opts.targetClass ?? null, view, report };
    }
    default:
      throw new Error(`Unknown mode view "${String((q as { kind?: unknown }).kind)}"`);
  }
}

/** Frees a finished run's weights and optimiser state. */
function release(run: ModeRun): void {
  for (const opt of [run.ae?.optimizer, run.gan?.optG, run.gan?.optD, run.classifier?.optimizer]) opt?.dispose();
  for (const model of run.models) {
    for (const t of model.stateDict().values()) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}
