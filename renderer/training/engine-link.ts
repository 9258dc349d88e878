/**
 * The one place where the training panels meet the session protocol
 * (engine/session/protocol.ts): it builds the requests they send and sorts the engine's
 * events into run actions, replies to one-off requests, and engine failures.
 */
import type { EngineEvent, EngineRequest } from '../../main/api/host-api.ts';
import type { TrainingEvent } from '../../engine/session/protocol.ts';
import type { RunAction } from './run-state.ts';

/** Events that answer a request carrying a `requestId`. */
export type EngineReply = Extract<TrainingEvent, { requestId: string }>;

/** What a run's `train-started` event says about the data it trains on. */
export interface RunData {
  runId: string;
  classNames: string[];
  inputShape: number[];
  isImage: boolean;
  splits: { train: number; val: number; test: number };
  numParameters: number;
  /** Where the model computes, e.g. "cpu" or "gpu (gpu.js webasm)". */
  backend?: string;
}

export type DecodedEvent =
  | { type: 'run'; action: RunAction; started?: RunData }
  | { type: 'reply'; reply: EngineReply }
  | { type: 'engine-failed'; message: string };

/** Sorts an engine event; null for events the training panels do not follow. */
export function decodeEvent(event: EngineEvent): DecodedEvent | null {
  switch (event.type) {
    case 'engine-error':
      return { type: 'engine-failed', message: event.message };
    case 'train-started':
      return {
        type: 'run',
        action: { kind: 'started', id: event.runId },
        started: {
          runId: event.runId,
          classNames: event.dataset.classNames ?? [],
          inputShape: event.dataset.inputShape,
          isImage: event.dataset.preview === 'image',
          splits: event.splits,
          numParameters: event.numParameters,
          ...(event.backend ? { backend: event.backend } : {}),
        },
      };
    case 'train-progress': {
      const { type: _type, runId, ...progress } = event;
      return { type: 'run', action: { kind: 'step', id: runId, progress } };
    }
    case 'train-epoch':
      return { type: 'run', action: { kind: 'epoch', id: event.runId, record: event.record } };
    case 'train-state':
      return { type: 'run', action: { kind: event.state === 'paused' ? 'paused' : 'resumed', id: event.runId } };
    case 'train-finished':
      return {
        type: 'run',
        action: {
          kind: 'finished',
          id: event.runId,
          result: { status: event.status, history: event.history, testMetrics: event.testMetrics, reason: event.reason, bestEpoch: event.bestEpoch },
        },
      };
    case 'train-failed':
      return { type: 'run', action: { kind: 'failed', id: event.runId, message: event.reason } };
    default:
      return 'requestId' in event ? { type: 'reply', reply: event } : null;
  }
}

/** The text of a failed reply, or of an answer of an unexpected type. */
export function replyError(reply: EngineReply, expected: string): string {
  return reply.type === 'request-failed' ? reply.reason : `The engine answered "${reply.type}" where "${expected}" was expected`;
}

export type { EngineRequest };
