/**
 * worker_threads entry of the engine, used by the Electron main process
 * (main/engine-host.ts). It only moves messages: all logic lives in dispatch.
 */
import { parentPort } from 'node:worker_threads';
import { dispatch } from './dispatch.ts';
import type { EngineEvent } from './protocol.ts';

const port = parentPort;
if (!port) {
  throw new Error('engine/session/worker.node.ts must run inside a worker_threads Worker');
}
const emit = (event: EngineEvent): void => port.postMessage(event);
port.on('message', (request: unknown) => {
  // Errors thrown here are deliberately not caught: they end the worker, and the
  // host reports the crash and can start a fresh one.
  dispatch(request, emit);
});
