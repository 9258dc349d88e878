/**
 * Web Worker entry of the engine, used by the web host. It only moves messages:
 * all logic lives in engine/session/dispatch.ts.
 */
import { dispatch, offerGpuBackend } from '../../engine/session/dispatch.ts';
import type { EngineEvent } from '../../engine/session/protocol.ts';

const scope = self as unknown as {
  postMessage(event: EngineEvent): void;
  onmessage: ((ev: MessageEvent<unknown>) => void) | null;
};

// gpu.js is bundled as a chunk loaded on the first gpu run; in a Web Worker it draws on an
// OffscreenCanvas (webgl2/webgl) or falls back to its webasm and cpu modes, so the gpu can
// be chosen here.
offerGpuBackend(true);

scope.onmessage = (ev) => {
  // Not caught on purpose: an uncaught error reaches the host's onerror, which
  // treats the worker as crashed and terminates it.
  dispatch(ev.data, (event) => scope.postMessage(event));
};
