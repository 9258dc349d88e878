/**
 * worker_threads entry of the engine, used by the Electron main process
 * (main/engine-host.ts). It only moves messages: all logic lives in dispatch.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { installNodeGemmThreads } from '../backends/cpu/parallel.node.ts';
import { dispatch, offerGpuBackend } from './dispatch.ts';
import type { EngineEvent } from './protocol.ts';

const port = parentPort;
if (!port) {
  throw new Error('engine/session/worker.node.ts must run inside a worker_threads Worker');
}
installNodeGemmThreads();
// gpu.js loads on the first gpu run; the gpu can be chosen when its package is installed.
offerGpuBackend(gpuJsInstalled());
const emit = (event: EngineEvent): void => port.postMessage(event);
port.on('message', (request: unknown) => {
  // Errors thrown here are deliberately not caught: they end the worker, and the
  // host reports the crash and can start a fresh one.
  dispatch(request, emit);
});


/** Whether the gpu.js package resolves from here (checked without loading it). */
function gpuJsInstalled(): boolean {
  try {
    const from = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    createRequire(from).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
}
