/**
 * Messages between a host (Electron main process or the web host) and the engine
 * worker. Plain discriminated unions of structured-clone-safe data: add a new
 * message by adding a member to the union and a case to `dispatch`.
 *
 * Training messages carry a `runId` chosen by the host; one-off questions carry a
 * `requestId` that their reply repeats. The same messages serve the Electron worker, the
 * web host's Web Worker and the CLI, which runs a TrainingSession in-process.
 */
import type { DataPayload } from '../data/prepare.ts';
import type { TrainingBackend } from './backend-choice.ts';
import type { DatasetMeta } from '../data/dataset.ts';
import type { ClassCounts } from '../data/class-counts.ts';
import type { DatasetInfo, PreviewResult } from '../data/registry.ts';
import type { ModelGraph } from '../graph/types.ts';
import type { InspectQuery, InspectResult, SplitName } from '../train/inspect.ts';
import type { EpochMetrics } from '../train/metrics.ts';
import type { PartialDataSettings, PartialTrainingSettings } from '../train/settings.ts';
import type { EpochRecord, NamedValues, RunStatus, StepProgress, TrainerCheckpoint } from '../train/trainer.ts';
import type { AttackReport, AttackView } from '../train/modes/adversarial.ts';
import type { Reconstruction } from '../train/modes/autoencoder.ts';
import type { ImageView, PointView } from '../train/modes/common.ts';
import type { GanEpoch } from '../train/modes/gan.ts';
import type { DecodeMethod, GenerateOptions } from '../train/modes/tokens.ts';
import type { Neighbour, VectorMetric } from '../train/modes/word2vec.ts';
import type { EarlyStopped } from '../train/modes/transfer-pretrain.ts';
import type { DigitSeq2SeqOptions } from '../data/modes-text.ts';
import type { SearchOptions, SearchSpace, TrialResult } from '../train/search.ts';

/** Requests about training runs, datasets and inspection. */
export type TrainingRequest =
  /**
   * Starts a run: compiles the graph, prepares the data and trains. Settings may leave
   * fields out (defaults apply). `payload` carries imported file contents; `checkpoint`
   * continues an earlier run exactly.
   */
  | {
      type: 'train-start';
      runId: string;
      graph: ModelGraph;
      data: PartialDataSettings;
      training: PartialTrainingSettings;
      payload?: DataPayload;
      checkpoint?: TrainerCheckpoint;
      /**
       * Weights some layers start from instead of their random initial values (layers
       * imported from another project), by state_dict name; a checkpoint overrides them.
       */
      initialWeights?: NamedValues[];
      /**
       * Where the run computes: 'cpu' (the default) or 'gpu' (the gpu.js backend, enabled
       * on first use). The choice stays active for inspection of the run.
       */
      backend?: TrainingBackend;
    }
  | { type: 'train-pause'; runId: string }
  | { type: 'train-resume'; runId: string }
  | { type: 'train-stop'; runId: string }
  /** Asks for a checkpoint of the run (best sent while paused or after it ended). */
  | { type: 'train-checkpoint'; runId: string; requestId: string }
  /** Inspects the model of a run (while paused or after it ended). */
  | { type: 'inspect'; runId: string; requestId: string; query: InspectQuery }
  /** The run's weights as a state dict. */
  | { type: 'export-weights'; runId: string; requestId: string }
  /** The samples of a split whose true class is `actual` and predicted class `predicted` (a confusion-matrix cell). */
  | { type: 'confusion-samples'; runId: string; requestId: string; split: SplitName; actual: number; predicted: number; limit?: number }
  /**
   * Makes saved weights inspectable without training: compiles the graph, loads `weights`
   * (a state dict, e.g. a reopened project's weights.safetensors) and prepares the data for
   * samples. Answered with `model-loaded` (or `request-failed`); afterwards `runId` answers
   * inspect, export-weights and confusion-samples as a finished run does.
   */
  | {
      type: 'load-model';
      runId: string;
      requestId: string;
      graph: ModelGraph;
      data: PartialDataSettings;
      weights: NamedValues[];
      payload?: DataPayload;
      /** Seed of the compiled model's initial values (all replaced by `weights`). */
      seed?: number;
      backend?: TrainingBackend;
    }
  /** The built-in datasets. */
  | { type: 'list-datasets'; requestId: string }
  /**
   * A few samples of the dataset the settings describe, the split sizes, and (for images
   * with augmentation) the first training sample augmented `augmentations` times.
   */
  | { type: 'data-preview'; requestId: string; data: PartialDataSettings; payload?: DataPayload; count?: number; augmentations?: number };

/** Compute backends a run can choose. */
export type { TrainingBackend };

/** Events about training runs and replies to one-off requests. */
export type TrainingEvent =
  /** `backend` names where the run computes, e.g. "cpu" or "gpu (gpu.js webasm)". */
  | { type: 'train-started'; runId: string; epochs: number; stepsPerEpoch: number; numParameters: number; dataset: DatasetMeta; splits: { train: number; val: number; test: number }; backend?: string }
  | ({ type: 'train-progress'; runId: string } & StepProgress)
  | { type: 'train-epoch'; runId: string; record: EpochRecord }
  /** The loop is paused (between two steps) or running again. */
  | { type: 'train-state'; runId: string; state: 'running' | 'paused' }
  | { type: 'train-finished'; runId: string; status: RunStatus; history: EpochRecord[]; testMetrics: EpochMetrics | null; reason?: string; bestEpoch?: number }
  /** The run could not start or broke (bad settings, a model that does not fit the data...). */
  | { type: 'train-failed'; runId: string; reason: string }
  | { type: 'checkpoint'; runId: string; requestId: string; checkpoint: TrainerCheckpoint }
  | { type: 'inspect-result'; runId: string; requestId: string; result: InspectResult }
  | { type: 'weights'; runId: string; requestId: string; tensors: NamedValues[] }
  /** The answer to `load-model`: the model with its weights is ready for inspection. */
  | { type: 'model-loaded'; runId: string; requestId: string; numParameters: number; dataset: DatasetMeta; splits: { train: number; val: number; test: number }; backend: string }
  | { type: 'confusion-samples'; runId: string; requestId: string; indices: number[] }
  | { type: 'datasets'; requestId: string; datasets: DatasetInfo[] }
  /** `classCounts`: samples per class (whole dataset and per split) for class-index targets. */
  | { type: 'data-preview'; requestId: string; preview: PreviewResult; splits: { train: number; val: number; test: number }; augmented?: { shape: number[]; samples: number[][] }; classCounts?: ClassCounts }
  /** A one-off request failed; `reason` says why. */
  | { type: 'request-failed'; requestId: string; reason: string }
  /** The answer to a `mode-view` request (a one-off question about a mode run). */
  | { type: 'mode-view'; runId: string; requestId: string; view: ModeView };

// ---------------------------------------------------------------------------------------
// Course modes (autoencoder, VAE, GAN, adversarial attacks) and hyperparameter search

/**
 * The special training mode of a project, kept in its training settings as `training.mode`
 * (plain data). A GAN project's `graph` is the generator and `discriminator` the
 * discriminator; "trainer" projects train with the ordinary loop (`train-start`).
 */
export type ModeSpec =
  | { kind: 'autoencoder'; latentId?: string; noiseStd?: number }
  | { kind: 'vae'; muId?: string }
  | { kind: 'gan'; discriminator: ModelGraph; kDiscriminator?: number; conditional?: boolean }
  /** Trains the classifier, then attacks it: defaults for the attack view. */
  | { kind: 'adversarial'; epsilon?: number; steps?: number; targetClass?: number }
  /** Reverses or sorts digit strings the mode makes itself (`dataset`); `generate` and `sample` are the view's defaults. */
  | { kind: 'seq2seq'; dataset?: DigitSeq2SeqOptions; generate?: GenerateOptions; sample?: string }
  /** Character language model on the project's text windows; `prompt` and `generate` are the view's defaults. */
  | { kind: 'language-model'; prompt?: string; generate?: GenerateOptions & { length?: number } }
  /** Word vectors on the template word corpus the mode makes itself; `query` words are shown first. */
  | { kind: 'word2vec'; method?: 'skipgram' | 'cbow'; window?: number; corpus?: { sentences?: number; seed?: number }; query?: string[] }
  /** Self-supervised rotation prediction on the project's images (their labels unused), then a linear probe. */
  | { kind: 'rotation'; probe?: ProbeSpec }
  /** Self-supervised contrastive learning (NT-Xent at `temperature` on two augmented views), then a linear probe. */
  | { kind: 'contrastive'; temperature?: number; probe?: ProbeSpec }
  /**
   * A denoising autoencoder (the project's graph, input noise `noiseStd`) pretrained on the
   * images (labels unused), then `classifier`, whose encoder layers share the autoencoder's
   * node ids, trained on a few labels from scratch and from the pretrained encoder (`compare`).
   */
  | { kind: 'pretrain-transfer'; classifier: ModelGraph; noiseStd?: number; compare?: PretrainCompareSpec }
  | { kind: 'trainer' };

/** The linear probe after self-supervised pretraining: a Linear classifier on the frozen output of `featureId`, trained on `labels` labelled samples. */
export interface ProbeSpec {
  featureId?: string;
  labels?: number;
}

/**
 * The few-label comparison after autoencoder pretraining: `perClass` labels per class (and
 * `valPerClass` more for early stopping) drawn with `seed` from the training split; the
 * classifier from scratch for probeSteps + finetuneSteps steps, against a linear probe on the
 * copied encoder `encoderIds` (default: the weighted nodes both graphs share) for
 * `probeSteps`, then everything fine-tuned at `lrScale` times the learning rate.
 */
export interface PretrainCompareSpec {
  encoderIds?: string[];
  perClass?: number;
  valPerClass?: number;
  probeSteps?: number;
  finetuneSteps?: number;
  lrScale?: number;
  batchSize?: number;
  optimizer?: PartialTrainingSettings['optimizer'];
  seed?: number;
}

export type ModeKind = Exclude<ModeSpec['kind'], 'trainer'>;

/** The losses of one step of a mode run, by name (loss node ids, or "discriminator"/"generator"). */
export interface ModeLossPoint {
  /** 1-based step and epoch. */
  step: number;
  epoch: number;
  losses: Record<string, number>;
  /** Other per-step numbers (the GAN discriminator's accuracy). */
  metrics?: Record<string, number>;
}

/** What a mode run shows, fixed when it starts. */
export interface ModeInfo {
  /** Names of the curves in `losses`, the total first where there is one. */
  lossNames: string[];
  /** Per-sample input shape and whether samples are images. */
  inputShape: number[];
  isImage: boolean;
  classNames: string[];
  /** Autoencoders and VAEs with a latent node: its size. */
  latentDim?: number;
  /** VAE: the KL weight (beta). */
  klWeight?: number;
  /** GAN: labels fed to both networks. */
  conditional?: boolean;
  /** Adversarial: the attack settings of the project. */
  attack?: { epsilon: number; steps: number; targetClass?: number };
  /** Sequence to sequence and language model: the token strings, and the generation defaults. */
  text?: { vocab: string[]; prompt: string; generate: GenerateOptions & { length?: number }; maxLength: number };
  /** word2vec: the words and the project's query words. */
  words?: { vocab: string[]; query: string[] };
  /** Rotation and contrastive: the probe's defaults and what the pretext task's own score means. */
  probe?: { featureId: string; labels: number; maxLabels: number; pretext: string };
  /** Pretrain-transfer: the comparison's defaults and the most labels per class the training split allows. */
  pretrain?: { perClass: number; valPerClass: number; probeSteps: number; finetuneSteps: number; seed: number; maxPerClass: number; classes: number };
}

/** What to look at in a mode run; `split` defaults to the test split (validation, then training, when empty). */
export type ModeViewQuery =
  /** Autoencoder/VAE: inputs beside their reconstructions (the first `count` samples, or `indices`). */
  | { kind: 'reconstructions'; split?: SplitName; count?: number; indices?: number[] }
  /** Autoencoder/VAE: the latent codes in 2-D (principal components above 2 dimensions). */
  | { kind: 'latent'; split?: SplitName; count?: number }
  /** One sample as an image, with its label (what a latent point stands for). */
  | { kind: 'sample'; split?: SplitName; index: number }
  /** VAE: images decoded from prior samples N(0, I). */
  | { kind: 'prior'; count?: number; cols?: number; seed?: number }
  /** VAE: the decoded path between the latent means of samples `a` and `b`. */
  | { kind: 'interpolate'; split?: SplitName; a: number; b: number; steps?: number }
  /** GAN: every finished epoch's grid and losses, the samples now, and warnings. */
  | { kind: 'gan' }
  /** Adversarial: one sample attacked, and the success rate over the first `limit` samples. */
  | { kind: 'attack'; split?: SplitName; index: number; epsilon: number; steps?: number; targetClass?: number; limit?: number }
  /** Sequence to sequence: the answer to `source`; language model: a continuation of `prompt` (`length` characters). */
  | { kind: 'generate'; source?: string; prompt?: string; method?: DecodeMethod; beamWidth?: number; temperature?: number; topK?: number; seed?: number; length?: number }
  /** Sequence to sequence and language model: metrics over the first `limit` samples of a split. */
  | { kind: 'evaluate'; split?: SplitName; limit?: number }
  /** word2vec: the `k` nearest words to `word`. */
  | { kind: 'neighbours'; word: string; k?: number; metric?: VectorMetric }
  /** word2vec: every word's vector projected to 2-D. */
  | { kind: 'projection' }
  /** The trained weights of the project's graph (the generator's for a GAN), as a state dict. */
  | { kind: 'weights' }
  /**
   * Rotation and contrastive: a linear probe on the frozen features, trained `steps` steps on
   * the first `labels` labelled training samples and scored on `limit` samples of `split`;
   * the same probe on the untrained network's features is the baseline.
   */
  | { kind: 'probe'; split?: SplitName; labels?: number; steps?: number; limit?: number; seed?: number }
  /**
   * Pretrain-transfer: one seeded few-label split of the training split, the classifier from
   * scratch, the linear probe on the pretrained encoder and the probe fine-tuned, each scored
   * on the first `limit` samples of `split` at its best validation check.
   */
  | { kind: 'pretrain-compare'; split?: SplitName; seed?: number; perClass?: number; valPerClass?: number; probeSteps?: number; finetuneSteps?: number; limit?: number };

export type ModeView =
  | { kind: 'reconstructions'; split: SplitName; items: Reconstruction[] }
  | { kind: 'latent'; split: SplitName; points: PointView[]; projected: boolean; dim: number }
  | { kind: 'sample'; split: SplitName; index: number; image: ImageView | null; label: number | null }
  | { kind: 'prior'; grid: ImageView; samples: ImageView[] }
  | { kind: 'interpolate'; split: SplitName; a: number; b: number; strip: ImageView; frames: ImageView[] }
  | { kind: 'gan'; epochs: GanEpoch[]; current: { grid: ImageView | null; points: PointView[] | null }; warnings: string[] }
  | { kind: 'attack'; split: SplitName; index: number; epsilon: number; steps: number; targetClass: number | null; view: AttackView; report: AttackReport }
  | { kind: 'generate'; input: string; method: DecodeMethod; text: string; tokens: string[]; logProb: number; hypotheses: { text: string; tokens: string[]; logProb: number; finished: boolean }[] }
  | { kind: 'evaluate'; split: SplitName; samples: number; metrics: Record<string, number> }
  | { kind: 'neighbours'; word: string; metric: VectorMetric; neighbours: Neighbour[] }
  | { kind: 'projection'; points: PointView[]; explained: [number, number] }
  | { kind: 'weights'; tensors: NamedValues[] }
  /** `pretext`: the pretext task's own score on (the first `pretext.samples` of) the same samples: rotations told right, partner views found. */
  | { kind: 'probe'; split: SplitName; samples: number; labels: number; steps: number; featureId: string; accuracy: number; baseline: number; pretext: { name: string; value: number; chance: number; samples: number } }
  | {
      kind: 'pretrain-compare';
      split: SplitName;
      samples: number;
      seed: number;
      perClass: number;
      valPerClass: number;
      probeSteps: number;
      finetuneSteps: number;
      scratch: EarlyStopped;
      probe: EarlyStopped;
      pretrained: EarlyStopped;
      /** pretrained.test - scratch.test */
      gain: number;
    };

export type ModeRequest =
  /**
   * Starts a mode run: prepares the data, builds the mode's networks and trains for `steps`
   * steps (default: `training.epochs` passes over the training split; 0 only prepares).
   * The mode is `mode`, else `training.mode`.
   */
  | {
      type: 'mode-start';
      runId: string;
      graph: ModelGraph;
      data: PartialDataSettings;
      training: PartialTrainingSettings & { mode?: ModeSpec };
      mode?: ModeSpec;
      payload?: DataPayload;
      steps?: number;
    }
  /** Trains `steps` more steps of a run that is not running. */
  | { type: 'mode-step'; runId: string; steps: number }
  /** Stops a running mode run between two steps; its networks stay for the views. */
  | { type: 'mode-stop'; runId: string }
  | { type: 'mode-view'; runId: string; requestId: string; query: ModeViewQuery }
  /** Runs a grid or random search, one trial after another, each a full training run. */
  | {
      type: 'search-start';
      searchId: string;
      graph: ModelGraph;
      data: PartialDataSettings;
      training: PartialTrainingSettings;
      payload?: DataPayload;
      space: SearchSpace;
      options: SearchOptions;
    }
  /** Stops a search: the running trial stops at its next step and no more start. */
  | { type: 'search-stop'; searchId: string };

export type ModeEvent =
  | { type: 'mode-started'; runId: string; kind: ModeKind; stepsPerEpoch: number; totalSteps: number; numParameters: number; dataset: DatasetMeta; splits: { train: number; val: number; test: number }; info: ModeInfo }
  /** The steps since the last progress event (sent at most every 100 ms, and at every epoch end and stop). */
  | { type: 'mode-progress'; runId: string; points: ModeLossPoint[] }
  /** A pass over the training split ended: mean losses, and a GAN's epoch summary (grid, warnings). */
  | { type: 'mode-epoch'; runId: string; epoch: number; losses: Record<string, number>; gan?: GanEpoch }
  /** The run is training, or has stopped (its steps done, stopped on request, or diverged). */
  | { type: 'mode-state'; runId: string; state: 'running' | 'idle'; step: number; status?: 'completed' | 'stopped' | 'diverged'; reason?: string }
  | { type: 'mode-failed'; runId: string; reason: string }
  | { type: 'search-started'; searchId: string; total: number }
  | { type: 'search-trial'; searchId: string; result: TrialResult; done: number; total: number }
  /** Ranked results (best first; failed and diverged trials last). */
  | { type: 'search-finished'; searchId: string; status: 'completed' | 'stopped'; results: TrialResult[] }
  | { type: 'search-failed'; searchId: string; reason: string };

/** Requests a host sends to the engine worker. */
export type EngineRequest =
  /** Handshake: the engine answers with `ready`. */
  | { type: 'hello' }
  /** Liveness check: the engine answers with `pong` carrying the same id. */
  | { type: 'ping'; id: number }
  /** Makes the worker throw outside any handler, so hosts can test crash recovery. */
  | { type: 'crash' }
  | TrainingRequest
  | ModeRequest;

/** Events the engine worker (or the host on its behalf) sends back. */
export type EngineEvent =
  /**
   * `backends`: the registered backends (with their mode, e.g. "gpu:webgl2"); `choosableBackends`:
   * what a train-start may name here, the gpu included when gpu.js can be loaded even before
   * it is enabled.
   */
  | { type: 'ready'; version: string; backends: string[]; choosableBackends?: TrainingBackend[] }
  | { type: 'pong'; id: number }
  /**
   * The engine failed. Sent by the worker for a request it could not handle, and
   * by the host when the worker itself crashed or could not start; after a crash
   * the host's `startEngine()` starts a fresh worker.
   */
  | { type: 'engine-error'; message: string }
  | TrainingEvent
  | ModeEvent;

export type EngineRequestType = EngineRequest['type'];
export type EngineEventType = EngineEvent['type'];
