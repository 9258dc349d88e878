// Registers the CPU backend and its kernels, so every engine worker can compute.
import '../backends/cpu/register.ts';
import { getBackend, listBackends } from '../core/backend.ts';
import { ENGINE_VERSION } from '../version.ts';
import type { EngineEvent, EngineRequest, TrainingBackend } from './protocol.ts';
import { isModeRequest, malformedModeRequest, ModeSession } from './mode-session.ts';
import { isTrainingRequest, malformedTrainingRequest, TrainingSession } from './training-session.ts';

/** The worker's training session; events go to the emitter of the latest request. */
let session: TrainingSession | null = null;
/** The worker's course-mode and search session. */
let modeSession: ModeSession | null = null;

/** Raised for the `crash` request; workers let it escape so the worker dies. */
export class RequestedCrashError extends Error {
  constructor() {
    super('Engine crash requested by a {type:"crash"} request');
    this.name = 'RequestedCrashError';
  }
}

/**
 * Names of the registered compute backends, highest priority first; a backend that runs in
 * one of several modes is listed with it (e.g. 'gpu:webasm').
 */
export function availableBackends(): string[] {
  return listBackends().map((name) => {
    const mode = (getBackend(name) as { mode?: unknown }).mode;
    return typeof mode === 'string' ? `${name}:${mode}` : name;
  });
}

/** Whether the worker entry said gpu.js can be loaded where this engine runs. */
let gpuOffered = false;

/**
 * Called by a worker entry whose environment can load gpu.js (its package is installed,
 * or bundled for the Web Worker): `gpu` then appears among the choosable backends. gpu.js
 * itself loads only when a run asks for the gpu.
 */
export function offerGpuBackend(offered = true): void {
  gpuOffered = offered;
}

/**
 * Backends a `train-start` may name here: always the cpu; the gpu when gpu.js can be loaded
 * (it is enabled on the first run that asks for it) or is already enabled.
 */
export function choosableBackends(): TrainingBackend[] {
  return gpuOffered || listBackends().includes('gpu') ? ['cpu', 'gpu'] : ['cpu'];
}

/**
 * Handles one request from a host, reporting results through `emit`.
 * Environment-neutral: the worker entries (`worker.node.ts` for worker_threads,
 * `renderer/host/engine.worker.ts` for Web Workers) only move messages.
 *
 * A request the engine does not understand is answered with an `engine-error`
 * event; only the `crash` request throws (by design).
 */
export function dispatch(request: unknown, emit: (event: EngineEvent) => void): void {
  if (typeof request !== 'object' || request === null || typeof (request as { type?: unknown }).type !== 'string') {
    emit({ type: 'engine-error', message: `Engine received a malformed request (expected an object with a string "type"): ${describe(request)}` });
    return;
  }
  const req = request as EngineRequest;
  switch (req.type) {
    case 'hello':
      emit({ type: 'ready', version: ENGINE_VERSION, backends: availableBackends(), choosableBackends: choosableBackends() });
      return;
    case 'ping':
      if (typeof req.id !== 'number' || !Number.isFinite(req.id)) {
        emit({ type: 'engine-error', message: `ping request needs a finite numeric "id", got ${describe(req.id)}` });
        return;
      }
      emit({ type: 'pong', id: req.id });
      return;
    case 'crash':
      throw new RequestedCrashError();
    default: {
      if (isTrainingRequest(req)) {
        const problem = malformedTrainingRequest(req);
        if (problem) {
          emit({ type: 'engine-error', message: problem });
          return;
        }
        if (!session) session = new TrainingSession(emit);
        else session.setEmitter(emit);
        session.handle(req);
        return;
      }
      if (isModeRequest(req)) {
        const problem = malformedModeRequest(req);
        if (problem) {
          emit({ type: 'engine-error', message: problem });
          return;
        }
        if (!modeSession) modeSession = new ModeSession(emit);
        else modeSession.setEmitter(emit);
        modeSession.handle(req);
        return;
      }
      const unknownType: string = (req as { type: string }).type;
      emit({ type: 'engine-error', message: `Engine does not understand request type "${unknownType}"` });
    }
  }
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
