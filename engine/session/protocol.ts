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
import type { DatasetMeta } from '../data/dataset.ts';
import type { DatasetInfo, PreviewResult } from '../data/registry.ts';
import type { ModelGraph } from '../graph/types.ts';
import type { InspectQuery, InspectResult, SplitName } from '../train/inspect.ts';
import type { EpochMetrics } from '../train/metrics.ts';
import type { PartialDataSettings, PartialTrainingSettings } from '../train/settings.ts';
import type { EpochRecord, NamedValues, RunStatus, StepProgress, TrainerCheckpoint } from '../train/trainer.ts';

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
  /** The built-in datasets. */
  | { type: 'list-datasets'; requestId: string }
  /**
   * A few samples of the dataset the settings describe, the split sizes, and (for images
   * with augmentation) the first training sample augmented `augmentations` times.
   */
  | { type: 'data-preview'; requestId: string; data: PartialDataSettings; payload?: DataPayload; count?: number; augmentations?: number };

/** Events about training runs and replies to one-off requests. */
export type TrainingEvent =
  | { type: 'train-started'; runId: string; epochs: number; stepsPerEpoch: number; numParameters: number; dataset: DatasetMeta; splits: { train: number; val: number; test: number } }
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
  | { type: 'confusion-samples'; runId: string; requestId: string; indices: number[] }
  | { type: 'datasets'; requestId: string; datasets: DatasetInfo[] }
  | { type: 'data-preview'; requestId: string; preview: PreviewResult; splits: { train: number; val: number; test: number }; augmented?: { shape: number[]; samples: number[][] } }
  /** A one-off request failed; `reason` says why. */
  | { type: 'request-failed'; requestId: string; reason: string };

/** Requests a host sends to the engine worker. */
export type EngineRequest =
  /** Handshake: the engine answers with `ready`. */
  | { type: 'hello' }
  /** Liveness check: the engine answers with `pong` carrying the same id. */
  | { type: 'ping'; id: number }
  /** Makes the worker throw outside any handler, so hosts can test crash recovery. */
  | { type: 'crash' }
  | TrainingRequest;

/** Events the engine worker (or the host on its behalf) sends back. */
export type EngineEvent =
  | { type: 'ready'; version: string; backends: string[] }
  | { type: 'pong'; id: number }
  /**
   * The engine failed. Sent by the worker for a request it could not handle, and
   * by the host when the worker itself crashed or could not start; after a crash
   * the host's `startEngine()` starts a fresh worker.
   */
  | { type: 'engine-error'; message: string }
  | TrainingEvent;

export type EngineRequestType = EngineRequest['type'];
export type EngineEventType = EngineEvent['type'];
