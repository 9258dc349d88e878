/**
 * The course-mode side of the engine protocol, environment-neutral: it runs autoencoder,
 * VAE, GAN and adversarial-attack projects step by step with their mode classes
 * (engine/train/modes/), relays their losses, answers questions about what they show
 * (reconstructions, latent points, prior samples, interpolations, GAN grids, attacks), and
 * runs hyperparameter searches trial by trial. The pretrain-transfer mode pretrains an
 * autoencoder and compares, on a few labels, a classifier from scratch with one on its encoder.
 */
import { type Dataset, inputSize, subset } from '../data/dataset.ts';
import { type PreparedData, prepareData, prepareSplits } from '../data/prepare.ts';
import { DIGIT_BOS, DIGIT_EOS, DIGIT_PAD, DIGIT_SEQ_VOCAB, makeDigitSeq2Seq, makeWordCorpus, WORD_GROUPS } from '../data/modes-text.ts';
import { LanguageModelMode } from '../train/modes/language-model.ts';
import { Seq2SeqMode } from '../train/modes/seq2seq.ts';
import type { Generation, GenerateOptions } from '../train/modes/tokens.ts';
import { Word2VecMode, word2vecData } from '../train/modes/word2vec.ts';
import { ContrastiveMode } from '../train/modes/contrastive.ts';
import { RotationPretextMode } from '../train/modes/self-supervised.ts';
import { linearProbe } from '../train/modes/transfer.ts';
import { comparePretrainingSteps, fewLabelSplit } from '../train/modes/transfer-pretrain.ts';
import { compileGraph, type GraphModel } from '../graph/compile.ts';
import type { BaseOptions, Optimizer } from '../optim/optimizer.ts';
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
import { type DataSettings, type TrainingSettings, validateDataSettings, validateTrainingSettings, withDataDefaults, withTrainingDefaults } from '../train/settings.ts';
import { snapshotWeights, type Trainer } from '../train/trainer.ts';
import type { ModeEvent, ModeInfo, ModeKind, ModeLossPoint, ModeRequest, ModeSpec, ModeView, ModeViewQuery, TrainingEvent } from './protocol.ts';

/** Progress events are sent at most this often (epoch ends and stops always flush). */
const PROGRESS_INTERVAL_MS = 100;

const MODE_TYPES = new Set<string>(['mode-start', 'mode-step', 'mode-stop', 'mode-view', 'search-start', 'search-stop']);
const MODE_KINDS: readonly ModeKind[] = ['autoencoder', 'vae', 'gan', 'adversarial', 'seq2seq', 'language-model', 'word2vec', 'rotation', 'contrastive', 'pretrain-transfer'];
/** Modes that make their own data instead of reading the project's data settings. */
const OWN_DATA: readonly ModeKind[] = ['seq2seq', 'word2vec'];

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
    case 'seq2seq':
      if (spec.dataset !== undefined && (typeof spec.dataset !== 'object' || spec.dataset === null)) throw new Error(`training.mode.dataset must hold the digit-string settings (task, samples, minLength, maxLength, seed), got ${JSON.stringify(spec.dataset)}`);
      if (spec.sample !== undefined && typeof spec.sample !== 'string') throw new Error(`training.mode.sample must be a source string, got ${JSON.stringify(spec.sample)}`);
      break;
    case 'language-model':
      if (spec.prompt !== undefined && typeof spec.prompt !== 'string') throw new Error(`training.mode.prompt must be a string, got ${JSON.stringify(spec.prompt)}`);
      break;
    case 'word2vec':
      if (spec.method !== undefined && spec.method !== 'skipgram' && spec.method !== 'cbow') throw new Error(`training.mode.method must be "skipgram" or "cbow", got ${JSON.stringify(spec.method)}`);
      num(spec.window, 'window', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
      if (spec.query !== undefined && !(Array.isArray(spec.query) && spec.query.every((w) => typeof w === 'string'))) throw new Error(`training.mode.query must be a list of words, got ${JSON.stringify(spec.query)}`);
      break;
    case 'contrastive':
    case 'rotation':
      if (spec.kind === 'contrastive') num(spec.temperature, 'temperature', (n) => n > 0, 'a number above 0');
      if (spec.probe !== undefined) {
        if (typeof spec.probe !== 'object' || spec.probe === null) throw new Error(`training.mode.probe must hold the probe settings (featureId, labels), got ${JSON.stringify(spec.probe)}`);
        if (spec.probe.featureId !== undefined && typeof spec.probe.featureId !== 'string') throw new Error(`training.mode.probe.featureId must name a node, got ${JSON.stringify(spec.probe.featureId)}`);
        num(spec.probe.labels, 'probe.labels', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
      }
      break;
    case 'pretrain-transfer': {
      if (typeof spec.classifier !== 'object' || spec.classifier === null || !Array.isArray(spec.classifier.nodes) || !Array.isArray(spec.classifier.edges)) throw new Error('training.mode.classifier must hold the classifier graph (nodes and edges) whose encoder layers share the autoencoder\'s node ids');
      num(spec.noiseStd, 'noiseStd', (n) => n >= 0, 'a number >= 0');
      const c = spec.compare;
      if (c === undefined) break;
      if (typeof c !== 'object' || c === null) throw new Error(`training.mode.compare must hold the comparison settings (perClass, valPerClass, probeSteps, finetuneSteps...), got ${JSON.stringify(c)}`);
      if (c.encoderIds !== undefined && !(Array.isArray(c.encoderIds) && c.encoderIds.length > 0 && c.encoderIds.every((id) => typeof id === 'string'))) throw new Error(`training.mode.compare.encoderIds must be a list of node ids, got ${JSON.stringify(c.encoderIds)}`);
      const whole = (n: number) => Number.isInteger(n) && n >= 1;
      num(c.perClass, 'compare.perClass', whole, 'a whole number of at least 1');
      num(c.valPerClass, 'compare.valPerClass', whole, 'a whole number of at least 1 (early stopping needs validation samples)');
      num(c.probeSteps, 'compare.probeSteps', whole, 'a whole number of at least 1');
      num(c.finetuneSteps, 'compare.finetuneSteps', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
      num(c.lrScale, 'compare.lrScale', (n) => n > 0, 'a number above 0');
      num(c.batchSize, 'compare.batchSize', whole, 'a whole number of at least 1');
      num(c.seed, 'compare.seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
      if (c.optimizer !== undefined && (typeof c.optimizer !== 'object' || c.optimizer === null)) throw new Error(`training.mode.compare.optimizer must hold optimiser settings (type, lr...), got ${JSON.stringify(c.optimizer)}`);
      break;
    }
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
  seq2seq: Seq2SeqMode | null;
  lm: LanguageModelMode | null;
  w2v: Word2VecMode | null;
  rotation: RotationPretextMode | null;
  contrastive: ContrastiveMode | null;
  /** Pretrain-transfer: the comparison's settings (run.ae is the autoencoder). */
  pretrain: PretrainState | null;
  seed: number;
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
  released: boolean;
}

/** The few-label comparison of a pretrain-transfer run, its settings filled in. */
interface PretrainState {
  classifier: ModelGraph;
  encoderIds: string[];
  perClass: number;
  valPerClass: number;
  probeSteps: number;
  finetuneSteps: number;
  lrScale: number;
  batchSize: number;
  optimizer: OptimizerChoice;
  seed: number;
  classes: number;
  /** Samples of the rarest class in the training split. */
  rarest: number;
  /** The last reconstruction losses (up to 50), for the command line's summary. */
  recent: number[];
  /** Grows with every comparison asked for and when the run is released: older comparisons stop. */
  generation: number;
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
          const view = viewOf(run, req.query);
          if (view instanceof Promise) {
            view.then(
              (v) => this.emit({ type: 'mode-view', runId: req.runId, requestId: req.requestId, view: v }),
              (err: unknown) => this.emit({ type: 'request-failed', requestId: req.requestId, reason: message(err) }),
            );
          } else this.emit({ type: 'mode-view', runId: req.runId, requestId: req.requestId, view });
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

  /** The trained models of a run (the generator first for a GAN). */
  modelsOf(runId: string): GraphModel[] {
    const run = this.runOf(runId, (reason) => {
      throw new Error(reason);
    })!;
    return run.models;
  }

  /** How well a run does what its mode is for, measured on samples it did not train on where it has them. */
  async qualityOf(runId: string): Promise<ModeQuality> {
    const run = this.runOf(runId, (reason) => {
      throw new Error(reason);
    })!;
    return measureQuality(run);
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
        const prepared = OWN_DATA.includes(spec.kind) ? ownData(spec, data, training) : await prepareData(data, req.payload ?? {});
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
  let seq2seq: Seq2SeqMode | null = null;
  let lm: LanguageModelMode | null = null;
  let w2v: Word2VecMode | null = null;
  let rotation: RotationPretextMode | null = null;
  let contrastive: ContrastiveMode | null = null;
  let pretrain: PretrainState | null = null;
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
    case 'seq2seq': {
      const m = new Seq2SeqMode({ graph, data: data.train, bos: DIGIT_BOS, eos: DIGIT_EOS, pad: DIGIT_PAD, vocab: DIGIT_SEQ_VOCAB, ...base });
      seq2seq = m;
      step = () => lossesOf(m.step());
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'language-model': {
      const m = new LanguageModelMode({ graph, data: data.train, ...base });
      lm = m;
      step = () => lossesOf(m.step());
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'word2vec': {
      const m = new Word2VecMode({ graph, sentences: corpusOf(spec), method: spec.method, window: spec.window, ...base });
      w2v = m;
      step = () => lossesOf(m.step());
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'rotation': {
      const m = new RotationPretextMode({ graph, data: data.train, ...base });
      rotation = m;
      step = () => lossesOf(m.step());
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'contrastive': {
      const m = new ContrastiveMode({ graph, data: data.train, temperature: spec.temperature, ...base });
      contrastive = m;
      step = () => lossesOf(m.step());
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
    case 'pretrain-transfer': {
      const m = new AutoencoderMode({ graph, data: data.train, noiseStd: spec.noiseStd, valueRange, ...base });
      let p: PretrainState;
      try {
        p = pretrainStateOf(spec, m.model, data.train, t);
      } catch (err) {
        disposeModel(m.model, m.optimizer);
        throw err;
      }
      ae = m;
      pretrain = p;
      step = () => {
        const r = m.step();
        p.recent.push(r.total);
        if (p.recent.length > 50) p.recent.shift();
        return { total: r.total, losses: { total: r.total, ...r.losses } };
      };
      stepsPerEpoch = m.stepsPerEpoch;
      models = [m.model];
      break;
    }
  }
  return { runId, kind: spec.kind, spec, data, ae, gan, classifier, seq2seq, lm, w2v, rotation, contrastive, pretrain, seed: t.seed, step, stepsPerEpoch, steps: 0, running: false, stopRequested: false, epochSums: {}, epochSteps: 0, pending: [], lastFlush: nowMs(), models, released: false };
}

/**
 * The comparison settings of a pretrain-transfer project, checked against its data and
 * graphs: the training split must be labelled with enough samples of every class, and the
 * classifier must compile with encoder weights shaped as in the autoencoder.
 */
function pretrainStateOf(spec: Extract<ModeSpec, { kind: 'pretrain-transfer' }>, autoencoder: GraphModel, train: Dataset, t: TrainingSettings): PretrainState {
  const classes = train.meta.numClasses;
  if (!classes || !(train.targets instanceof Int32Array) || train.meta.targetShape.length !== 0) throw new Error(`The pretrain-transfer mode compares classifiers on a few labelled samples; "${train.meta.name}" has no class labels`);
  const c = spec.compare ?? {};
  const perClass = c.perClass ?? 10;
  const valPerClass = c.valPerClass ?? 20;
  const counts = new Array<number>(classes).fill(0);
  for (const y of train.targets) counts[y]++;
  const rarest = Math.min(...counts);
  if (perClass + valPerClass > rarest) throw new Error(`The comparison needs ${perClass} + ${valPerClass} labelled samples of each class (compare.perClass + compare.valPerClass); the training split has only ${rarest} of class ${counts.indexOf(rarest)}`);
  let classifier: GraphModel;
  try {
    classifier = compileGraph(spec.classifier, { seed: t.seed });
  } catch (err) {
    throw new Error(`training.mode.classifier: ${message(err)}`);
  }
  try {
    const weights = classifier.stateDict();
    const pretrained = autoencoder.stateDict();
    const nodeOf = (name: string) => name.slice(0, name.indexOf('.'));
    const shared = [...new Set([...weights.keys()].filter((k) => pretrained.has(k)).map(nodeOf))];
    const encoderIds = c.encoderIds ?? shared;
    if (!encoderIds.length) throw new Error('The classifier shares no weighted node id with the autoencoder, so no pretrained weights can load into it; give its encoder layers the autoencoder\'s ids');
    for (const id of encoderIds) {
      const names = [...weights.keys()].filter((k) => nodeOf(k) === id);
      if (!names.length) throw new Error(`training.mode.compare.encoderIds: the classifier has no weighted node "${id}"`);
      for (const name of names) {
        const a = pretrained.get(name);
        const b = weights.get(name)!;
        if (!a) throw new Error(`training.mode.compare.encoderIds: the autoencoder has no weight "${name}"`);
        if (a.shape.join() !== b.shape.join()) throw new Error(`"${name}" is [${a.shape.join(', ')}] in the autoencoder and [${b.shape.join(', ')}] in the classifier`);
      }
    }
    return {
      classifier: spec.classifier,
      encoderIds: [...encoderIds],
      perClass,
      valPerClass,
      probeSteps: c.probeSteps ?? 100,
      finetuneSteps: c.finetuneSteps ?? 500,
      lrScale: c.lrScale ?? 1,
      batchSize: c.batchSize ?? 32,
      optimizer: { ...(c.optimizer ?? t.optimizer) },
      seed: c.seed ?? 0,
      classes,
      rarest,
      recent: [],
      generation: 0,
    };
  } finally {
    disposeModel(classifier);
  }
}

function lossNamesOf(model: GraphModel): string[] {
  return model.lossIds.length > 1 ? ['total', ...model.lossIds] : [...model.lossIds];
}

/** One loss per loss node, and the total first when there are several. */
function lossesOf(r: { total: number; losses: Record<string, number> }): { total: number; losses: Record<string, number> } {
  return { total: r.total, losses: Object.keys(r.losses).length > 1 ? { total: r.total, ...r.losses } : r.losses };
}

function corpusOf(spec: Extract<ModeSpec, { kind: 'word2vec' }>): string[][] {
  return makeWordCorpus({ sentences: spec.corpus?.sentences ?? 1000, seed: spec.corpus?.seed ?? 0 });
}

/** The data of the modes that make their own: digit strings for seq2seq, (word, context) pairs for word2vec. */
function ownData(spec: Exclude<ModeSpec, { kind: 'trainer' }>, settings: DataSettings, t: TrainingSettings): PreparedData {
  if (spec.kind === 'seq2seq') return prepareSplits(makeDigitSeq2Seq({ samples: 2000, minLength: 3, maxLength: 5, seed: 1, ...(spec.dataset ?? {}) }), settings);
  if (spec.kind === 'word2vec') {
    // Every pair trains the vectors (the mode's own pairs are the training split).
    const { data } = word2vecData(corpusOf(spec), spec.method ?? 'skipgram', spec.window ?? 2);
    return prepareSplits(data, { ...settings, split: { train: 1, val: 0, test: 0 }, splitSeed: t.seed });
  }
  throw new Error(`The ${spec.kind} mode reads the project's data`);
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
  } else if (run.seq2seq) {
    const m = run.seq2seq;
    const spec = run.spec.kind === 'seq2seq' ? run.spec : null;
    info.lossNames = lossNamesOf(m.model);
    const first = m.text(Array.from(run.data.train.inputs.subarray(0, m.srcLength)));
    info.text = { vocab: [...m.vocab], prompt: spec?.sample ?? first, generate: { method: 'greedy', ...(spec?.generate ?? {}) }, maxLength: m.srcLength };
  } else if (run.lm) {
    const m = run.lm;
    const spec = run.spec.kind === 'language-model' ? run.spec : null;
    info.lossNames = lossNamesOf(m.model);
    info.text = { vocab: [...m.vocab], prompt: spec?.prompt ?? m.vocab[run.data.train.inputs[0]] ?? '', generate: { method: 'greedy', length: 80, ...(spec?.generate ?? {}) }, maxLength: 1000 };
  } else if (run.w2v) {
    const spec = run.spec.kind === 'word2vec' ? run.spec : null;
    info.lossNames = lossNamesOf(run.w2v.model);
    info.words = { vocab: run.w2v.vocab.slice(1), query: (spec?.query ?? []).filter((w) => run.w2v!.vocab.includes(w)) };
  } else if (run.rotation || run.contrastive) {
    const { featureId, labels } = probeDefaults(run);
    info.lossNames = run.rotation ? lossNamesOf(run.rotation.model) : ['nt_xent'];
    info.probe = { featureId, labels, maxLabels: run.data.train.length, pretext: run.rotation ? 'rotations told right' : 'partner views found' };
  }
  if (run.pretrain) {
    const p = run.pretrain;
    info.pretrain = { perClass: p.perClass, valPerClass: p.valPerClass, probeSteps: p.probeSteps, finetuneSteps: p.finetuneSteps, seed: p.seed, maxPerClass: p.rarest - p.valPerClass, classes: p.classes };
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

function optional(v: unknown, what: string, ok: (n: number) => boolean, rule: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(typeof v === 'number' && ok(v))) throw new Error(`${what} must be ${rule}, got ${JSON.stringify(v)}`);
  return v;
}

/** The generation settings of a `generate` query, checked. */
function generateOptions(q: Extract<ModeViewQuery, { kind: 'generate' }>): GenerateOptions {
  const method = q.method ?? 'greedy';
  if (method !== 'greedy' && method !== 'beam' && method !== 'sample') throw new Error(`method must be greedy, beam or sample, got ${JSON.stringify(q.method)}`);
  const beamWidth = optional(q.beamWidth, 'beamWidth', (n) => Number.isInteger(n) && n >= 1 && n <= 16, 'a whole number from 1 to 16');
  const temperature = optional(q.temperature, 'temperature', (n) => n >= 0 && n <= 10, 'a number from 0 to 10');
  const topK = optional(q.topK, 'topK', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
  const seed = optional(q.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
  const opts: GenerateOptions = { method };
  if (method === 'beam') {
    opts.beamWidth = beamWidth ?? 4;
    opts.numReturn = opts.beamWidth;
  }
  if (method === 'sample') Object.assign(opts, { temperature: temperature ?? 1, seed: seed ?? 0 }, topK !== undefined ? { topK } : {});
  return opts;
}

async function generateView(run: ModeRun, q: Extract<ModeViewQuery, { kind: 'generate' }>): Promise<ModeView> {
  const opts = generateOptions(q);
  let input: string;
  let g: Generation;
  let vocab: readonly string[];
  if (run.seq2seq) {
    const m = run.seq2seq;
    input = q.source ?? q.prompt ?? '';
    if (typeof input !== 'string' || input.length === 0) throw new Error('generate needs a "source": the digits to answer');
    vocab = m.vocab;
    g = await m.generate(input, opts);
  } else if (run.lm) {
    const m = run.lm;
    input = q.prompt ?? q.source ?? '';
    if (typeof input !== 'string' || input.length === 0) throw new Error('generate needs a "prompt" of at least one character');
    const length = optional(q.length, 'length', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'a whole number from 1 to 1000') ?? 80;
    vocab = m.vocab;
    g = await m.generate(input, { ...opts, length });
  } else throw new Error(`The generate view is not available in the ${run.kind} mode`);
  const strings = (tokens: readonly number[]) => tokens.map((t) => vocab[t] ?? '?');
  return {
    kind: 'generate',
    input,
    method: opts.method!,
    text: g.text,
    tokens: strings(g.tokens),
    logProb: g.logProb,
    hypotheses: (g.hypotheses ?? []).map((h) => ({ text: h.text, tokens: strings(h.tokens), logProb: h.logProb, finished: h.finished })),
  };
}

async function evaluateView(run: ModeRun, q: Extract<ModeViewQuery, { kind: 'evaluate' }>): Promise<ModeView> {
  if (!run.seq2seq && !run.lm) throw new Error(`The evaluate view is not available in the ${run.kind} mode`);
  const { name, ds } = splitOf(run, q.split);
  const limit = Math.min(count(q.limit, 200, 5000, 'limit'), ds.length);
  const part = limit < ds.length ? subset(ds, Array.from({ length: limit }, (_, i) => i)) : ds;
  const metrics: Record<string, number> = run.seq2seq ? { ...(await run.seq2seq.evaluate(part)) } : { ...run.lm!.evaluate(part) };
  return { kind: 'evaluate', split: name, samples: limit, metrics };
}

/** Answers a view query about a mode run (generation and evaluation asynchronously). */
function viewOf(run: ModeRun, q: ModeViewQuery): ModeView | Promise<ModeView> {
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
    case 'generate':
      needs(run.seq2seq ?? run.lm, 'generate', run);
      return generateView(run, q);
    case 'evaluate':
      needs(run.seq2seq ?? run.lm, 'evaluate', run);
      return evaluateView(run, q);
    case 'neighbours': {
      const m = needs(run.w2v, 'neighbours', run);
      const metric = q.metric ?? 'cosine';
      if (metric !== 'cosine' && metric !== 'euclidean') throw new Error(`metric must be cosine or euclidean, got ${JSON.stringify(q.metric)}`);
      if (typeof q.word !== 'string' || q.word.trim() === '') throw new Error('neighbours needs a "word"');
      const word = q.word.trim().toLowerCase();
      return { kind: 'neighbours', word, metric, neighbours: m.nearest(word, count(q.k, 5, m.vocab.length - 2, 'k'), metric) };
    }
    case 'projection': {
      const m = needs(run.w2v, 'projection', run);
      const { points, explained } = m.projection();
      return { kind: 'projection', points, explained };
    }
    case 'weights':
      // The project graph's model comes first (a GAN's generator).
      return { kind: 'weights', tensors: snapshotWeights(run.models[0]!) };
    case 'probe':
      needs(run.rotation ?? run.contrastive, 'linear probe', run);
      return probeView(run, q);
    case 'pretrain-compare':
      needs(run.pretrain, 'pretraining comparison', run);
      return pretrainCompareView(run, q);
    default:
      throw new Error(`Unknown mode view "${String((q as { kind?: unknown }).kind)}"`);
  }
}

/** The probe's node and number of labelled samples: the project's, else "features" and 100. */
function probeDefaults(run: ModeRun): { featureId: string; labels: number } {
  const probe = run.spec.kind === 'rotation' || run.spec.kind === 'contrastive' ? run.spec.probe : undefined;
  return { featureId: probe?.featureId ?? 'features', labels: Math.min(probe?.labels ?? 100, run.data.train.length) };
}

function disposeModel(model: GraphModel, optimizer?: Optimizer<BaseOptions>): void {
  optimizer?.dispose();
  for (const t of model.stateDict().values()) {
    t.grad?.dispose();
    t.dispose();
  }
}

/**
 * Linear probes on the frozen features of the pretrained network and of the same network
 * untrained (its initial weights), each trained on the first `labels` labelled training
 * samples and scored on a held-out split, beside the pretext task's own score there.
 */
async function probeView(run: ModeRun, q: Extract<ModeViewQuery, { kind: 'probe' }>): Promise<ModeView> {
  const model = (run.rotation ?? run.contrastive)!.model;
  const defaults = probeDefaults(run);
  const train = run.data.train;
  const classes = train.meta.numClasses;
  if (!classes || !(train.targets instanceof Int32Array) || train.meta.targetShape.length !== 0) throw new Error(`A linear probe needs class labels; "${train.meta.name}" has none`);
  if (!model.analysis.nodes[defaults.featureId]) throw new Error(`The probe reads node "${defaults.featureId}", which this graph does not have`);
  const labels = count(q.labels, defaults.labels, train.length, 'labels');
  const steps = count(q.steps, 300, 5000, 'steps');
  const seed = optional(q.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0') ?? 0;
  const { name, ds } = splitOf(run, q.split);
  const limit = Math.min(count(q.limit, 500, 5000, 'limit'), ds.length);
  const scored = limit < ds.length ? subset(ds, Array.from({ length: limit }, (_, i) => i)) : ds;
  const labelled = subset(train, Array.from({ length: labels }, (_, i) => i));
  const probeAccuracy = async (source: GraphModel): Promise<number> => {
    const probe = linearProbe(source, defaults.featureId, { data: labelled, classes, batchSize: Math.min(32, labels), optimizer: { type: 'adam', lr: 1e-2 }, seed });
    try {
      for (let i = 0; i < steps; i++) {
        probe.step();
        if (i % 10 === 9) await yieldToEventLoop();
      }
      return probe.accuracy(scored);
    } finally {
      disposeModel(probe.model, probe.optimizer);
    }
  };
  const accuracy = await probeAccuracy(model);
  const untrained = compileGraph(model.graph, { seed: run.seed });
  let baseline: number;
  try {
    baseline = await probeAccuracy(untrained);
  } finally {
    disposeModel(untrained);
  }
  const pretext = run.rotation
    ? { name: 'rotations told right', value: run.rotation.accuracy(scored), chance: 0.25, samples: scored.length }
    : (() => {
        const n = Math.min(64, scored.length);
        return { name: 'partner views found', value: run.contrastive!.matchAccuracy(scored, n).accuracy, chance: 1 / (2 * n - 1), samples: n };
      })();
  return { kind: 'probe', split: name, samples: limit, labels, steps, featureId: defaults.featureId, accuracy, baseline, pretext };
}

/** The comparison yields to other work (stop requests, views) at least this often. */
const COMPARE_SLICE_MS = 50;

/**
 * One seeded few-label split of the training split (`perClass` labels per class, and
 * `valPerClass` more for early stopping); the classifier from scratch, the linear probe on the
 * pretrained encoder and the probe fine-tuned, all with the same steps, optimiser and early
 * stopping, scored on the first `limit` samples of the split asked for. It lets other work in
 * between steps, and gives up when a newer comparison is asked for or the run is released.
 */
async function pretrainCompareView(run: ModeRun, q: Extract<ModeViewQuery, { kind: 'pretrain-compare' }>): Promise<ModeView> {
  const p = run.pretrain!;
  const generation = ++p.generation;
  const seed = optional(q.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0') ?? p.seed;
  const valPerClass = count(q.valPerClass, p.valPerClass, p.rarest - 1, 'valPerClass');
  const perClass = count(q.perClass, p.perClass, p.rarest - valPerClass, 'perClass');
  const probeSteps = count(q.probeSteps, p.probeSteps, 20000, 'probeSteps');
  const finetuneSteps = optional(q.finetuneSteps, 'finetuneSteps', (n) => Number.isInteger(n) && n >= 0 && n <= 20000, 'a whole number from 0 to 20000') ?? p.finetuneSteps;
  // The labels come from the training split: the scores are of held-out samples unless asked otherwise.
  if (q.split === undefined && !run.data.test.length && !run.data.val.length) throw new Error('The comparison is scored on held-out samples; the data settings leave no test or validation split');
  const { name, ds } = splitOf(run, q.split);
  const limit = Math.min(count(q.limit, Math.min(ds.length, 10000), 10000, 'limit'), ds.length);
  const test = limit < ds.length ? subset(ds, Array.from({ length: limit }, (_, i) => i)) : ds;
  const steps = comparePretrainingSteps({
    pretrained: run.ae!.model,
    classifier: p.classifier,
    encoderIds: p.encoderIds,
    split: fewLabelSplit(run.data.train, perClass, valPerClass, seed),
    test,
    probeSteps,
    finetuneSteps,
    lrScale: p.lrScale,
    batchSize: p.batchSize,
    optimizer: p.optimizer,
    seed,
  });
  let slice = nowMs();
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) {
        const { scratch, probe, pretrained, gain } = r.value;
        return { kind: 'pretrain-compare', split: name, samples: limit, seed, perClass, valPerClass, probeSteps, finetuneSteps, scratch, probe, pretrained, gain };
      }
      if (nowMs() - slice >= COMPARE_SLICE_MS) {
        await yieldToEventLoop();
        slice = nowMs();
        if (p.generation !== generation) throw new Error(run.released ? 'The run was replaced before the comparison ended' : 'A newer comparison was asked for before this one ended');
      }
    }
  } finally {
    steps.return(undefined as never);
  }
}

/** Frees a finished run's weights and optimiser state. */
function release(run: ModeRun): void {
  run.released = true;
  if (run.pretrain) run.pretrain.generation++;
  for (const opt of [run.ae?.optimizer, run.gan?.optG, run.gan?.optD, run.classifier?.optimizer, run.seq2seq?.optimizer, run.lm?.optimizer, run.w2v?.optimizer, run.rotation?.classifier.optimizer, run.contrastive?.optimizer]) opt?.dispose();
  for (const model of run.models) {
    for (const t of model.stateDict().values()) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Measured quality and whole runs without a user interface (the command line)

/** A mode's measured quality: metrics by name and lines that say what they mean. */
export interface ModeQuality {
  metrics: Record<string, number>;
  lines: string[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Seq2seq: token accuracy (teacher forced) and sequence accuracy (generated answer exactly
 * right) on the held-out strings that never occur in the training split, greedy and beam.
 * Word2vec: how many words of the corpus' word groups have a word of their own group as
 * nearest neighbour (cosine and euclidean), and the nearest words of the project's queries.
 */
async function measureQuality(run: ModeRun): Promise<ModeQuality> {
  if (run.seq2seq) {
    const m = run.seq2seq;
    const S = m.srcLength;
    const key = (ds: Dataset, i: number) => ds.inputs.subarray(i * S, (i + 1) * S).join(',');
    const seen = new Set(Array.from({ length: run.data.train.length }, (_, i) => key(run.data.train, i)));
    const heldOut = [...(['test', 'val'] as const)].map((n) => run.data[n]).find((ds) => ds.length > 0);
    if (!heldOut) throw new Error('The seq2seq quality is measured on held-out strings; the data settings leave no validation or test split');
    const unseen = Array.from({ length: heldOut.length }, (_, i) => i).filter((i) => !seen.has(key(heldOut, i)));
    if (unseen.length === 0) throw new Error('Every held-out string also occurs in the training split; use longer strings or fewer samples');
    const part = subset(heldOut, unseen);
    const greedy = await m.evaluate(part, { method: 'greedy' });
    const beam = await m.evaluate(part, { method: 'beam', beamWidth: 3 });
    const metrics = { heldOutStrings: unseen.length, tokenAccuracy: greedy.tokenAccuracy, sequenceAccuracy: greedy.exactMatch, sequenceAccuracyBeam3: beam.exactMatch };
    const spec = run.spec.kind === 'seq2seq' ? run.spec : null;
    const lines = [
      `held-out strings never seen in training: ${unseen.length}`,
      `token accuracy ${pct(greedy.tokenAccuracy)}, sequence accuracy ${pct(greedy.exactMatch)} (greedy), ${pct(beam.exactMatch)} (beam width 3)`,
    ];
    for (const ex of await m.examples(part, [0, 1, 2].filter((i) => i < part.length), { method: 'greedy' })) lines.push(`  ${ex.source} -> ${ex.output}${ex.correct ? '' : ` (expected ${ex.target})`}`);
    if (spec?.sample) lines.push(`  ${spec.sample} -> ${(await m.generate(spec.sample, { method: 'greedy' })).text}`);
    return { metrics, lines };
  }
  if (run.w2v) {
    const m = run.w2v;
    const metrics: Record<string, number> = {};
    const lines: string[] = [];
    const words = Object.values(WORD_GROUPS).flatMap((g) => g.filter((w) => m.vocab.includes(w)).map((w) => [w, g] as const));
    if (words.length) {
      for (const metric of ['cosine', 'euclidean'] as const) {
        const right = words.filter(([w, g]) => g.includes(m.nearest(w, 1, metric)[0]!.word)).length;
        metrics[`groupNeighbour_${metric}`] = right / words.length;
        lines.push(`nearest word in the same group (${metric}): ${right} of ${words.length} (${pct(right / words.length)})`);
      }
    }
    const spec = run.spec.kind === 'word2vec' ? run.spec : null;
    for (const q of (spec?.query ?? []).filter((w) => m.vocab.includes(w))) lines.push(`  ${q}: ${m.nearest(q, 3, 'cosine').map((n) => `${n.word} ${n.score.toFixed(2)}`).join(', ')}`);
    return { metrics, lines };
  }
  if (run.pretrain) {
    const recent = run.pretrain.recent;
    const loss = recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
    const v = (await pretrainCompareView(run, { kind: 'pretrain-compare' })) as Extract<ModeView, { kind: 'pretrain-compare' }>;
    const at = (e: { test: number; step: number }) => `${pct(e.test)} (best validation at step ${e.step})`;
    return {
      metrics: { pretrainLoss: loss, scratchAccuracy: v.scratch.test, probeAccuracy: v.probe.test, pretrainedAccuracy: v.pretrained.test, gain: v.gain },
      lines: [
        `pretraining: reconstruction loss ${loss.toFixed(4)} (mean of the last ${recent.length} steps)`,
        `label set ${v.seed}: ${v.perClass} labels per class, ${v.valPerClass} more for early stopping; scored on ${v.samples} ${v.split} samples`,
        `  from scratch, ${v.probeSteps + v.finetuneSteps} steps: ${at(v.scratch)}`,
        `  linear probe on the pretrained encoder, ${v.probeSteps} steps: ${at(v.probe)}`,
        `  probe, then fine-tuned ${v.finetuneSteps} steps: ${at(v.pretrained)}`,
        `gain from pretraining: ${v.gain >= 0 ? '+' : ''}${(100 * v.gain).toFixed(1)} points`,
      ],
    };
  }
  if (run.rotation || run.contrastive) {
    const v = (await probeView(run, { kind: 'probe' })) as Extract<ModeView, { kind: 'probe' }>;
    return {
      metrics: { pretext: v.pretext.value, probeAccuracy: v.accuracy, untrainedProbeAccuracy: v.baseline },
      lines: [
        `${v.pretext.name}: ${pct(v.pretext.value)} on ${v.pretext.samples} ${v.split} samples (chance ${pct(v.pretext.chance)})`,
        `linear probe on the frozen "${v.featureId}" features, ${v.labels} labels, ${v.steps} steps: ${pct(v.accuracy)} on the ${v.split} split; on the untrained network's features: ${pct(v.baseline)}`,
      ],
    };
  }
  if (run.lm) {
    const { name, ds } = splitOf(run, undefined);
    const e = run.lm.evaluate(ds);
    return { metrics: { ...e }, lines: [`${name} split: ${Object.entries(e).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`] };
  }
  return { metrics: {}, lines: [] };
}

/**
 * Mode kinds that `aps train` trains with their mode: their samples are made by the mode
 * (seq2seq, word2vec) or their loss does not come from the project's labels (rotation,
 * contrastive, and pretrain-transfer, which then compares classifiers on a few labels).
 */
export const COMMAND_LINE_MODES: readonly ModeKind[] = ['seq2seq', 'word2vec', 'rotation', 'contrastive', 'pretrain-transfer'];

/** The mode kind a project's training settings name when the command line trains it through its mode, else null. */
export function commandLineModeOf(training: Record<string, unknown>): ModeKind | null {
  const kind = (training.mode as { kind?: unknown } | undefined)?.kind;
  return COMMAND_LINE_MODES.find((k) => k === kind) ?? null;
}

export interface ModeTrainResult {
  status: 'completed' | 'stopped' | 'diverged';
  reason?: string;
  steps: number;
  /** Mean losses of each finished epoch. */
  epochs: { epoch: number; losses: Record<string, number> }[];
  quality: ModeQuality;
  /** The trained model (the generator for a GAN). */
  model: GraphModel;
}

/**
 * Trains a course-mode project to the end of its epochs, as the Mode panel would, and
 * measures its quality: the command line's `aps train` for mode projects.
 */
export async function trainModeProject(
  project: { graph: ModelGraph; data: unknown; training: Record<string, unknown> },
  opts: { epochs?: number; /** Train this many steps instead of the epochs. */ steps?: number; onStarted?: (e: Extract<ModeEvent, { type: 'mode-started' }>) => void; onEpoch?: (epoch: number, losses: Record<string, number>) => void } = {},
): Promise<ModeTrainResult> {
  const events: (ModeEvent | TrainingEvent)[] = [];
  const epochs: ModeTrainResult['epochs'] = [];
  const session = new ModeSession((e) => {
    events.push(e);
    if (e.type === 'mode-started') opts.onStarted?.(e);
    if (e.type === 'mode-epoch') {
      epochs.push({ epoch: e.epoch, losses: e.losses });
      opts.onEpoch?.(e.epoch, e.losses);
    }
  });
  const training = { ...project.training, ...(opts.epochs ? { epochs: opts.epochs } : {}) };
  session.handle({ type: 'mode-start', runId: 'run', graph: project.graph, data: project.data as Partial<DataSettings>, training, ...(opts.steps !== undefined ? { steps: opts.steps } : {}) });
  await session.idle();
  const failed = events.find((e) => e.type === 'mode-failed');
  if (failed && failed.type === 'mode-failed') throw new Error(failed.reason);
  const end = events.filter((e) => e.type === 'mode-state' && e.state === 'idle').at(-1);
  if (!end || end.type !== 'mode-state') throw new Error('The mode run ended without a final state');
  const status = end.status ?? 'completed';
  const quality = status === 'diverged' ? { metrics: {}, lines: [] } : await session.qualityOf('run');
  return { status, ...(end.reason ? { reason: end.reason } : {}), steps: end.step, epochs, quality, model: session.modelsOf('run')[0]! };
}
