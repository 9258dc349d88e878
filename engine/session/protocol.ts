/**
 * Messages between a host (Electron main process or the web host) and the engine
 * worker. Plain discriminated unions of structured-clone-safe data: add a new
 * message by adding a member to the union and a case to `dispatch`.
 */

/** Requests a host sends to the engine worker. */
export type EngineRequest =
  /** Handshake: the engine answers with `ready`. */
  | { type: 'hello' }
  /** Liveness check: the engine answers with `pong` carrying the same id. */
  | { type: 'ping'; id: number }
  /** Makes the worker throw outside any handler, so hosts can test crash recovery. */
  | { type: 'crash' };

/** Events the engine worker (or the host on its behalf) sends back. */
export type EngineEvent =
  | { type: 'ready'; version: string; backends: string[] }
  | { type: 'pong'; id: number }
  /**
   * The engine failed. Sent by the worker for a request it could not handle, and
   * by the host when the worker itself crashed or could not start; after a crash
   * the host's `startEngine()` starts a fresh worker.
   */
  | { type: 'engine-error'; message: string };

export type EngineRequestType = EngineRequest['type'];
export type EngineEventType = EngineEvent['type'];
