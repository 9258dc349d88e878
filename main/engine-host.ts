/**
 * Runs the engine in a worker_threads Worker and relays its events. The main
 * process never computes on its own thread. A crashed worker is reported as an
 * `engine-error` event and `start()` then starts a fresh one.
 */
import { Worker } from 'node:worker_threads';
import type { EngineEvent, EngineRequest } from '../engine/session/protocol.ts';

export interface EngineHostOptions {
  /** Path of the built worker entry (engine/session/worker.node.ts bundled to .cjs). */
  workerPath: string;
  onEvent: (event: EngineEvent) => void;
}

export class EngineHost {
  private worker: Worker | null = null;

  constructor(private readonly options: EngineHostOptions) {}

  get running(): boolean {
    return this.worker !== null;
  }

  /** Starts a worker unless one is running; resolves once it is online. */
  start(): Promise<void> {
    if (this.worker) return Promise.resolve();
    const worker = new Worker(this.options.workerPath);
    this.worker = worker;
    let reported = false;
    const fail = (message: string): void => {
      if (this.worker === worker) this.worker = null;
      if (reported) return;
      reported = true;
      this.options.onEvent({ type: 'engine-error', message });
    };
    worker.on('message', (event: EngineEvent) => this.options.onEvent(event));
    worker.on('error', (err) => {
      fail(`The engine worker crashed: ${err instanceof Error ? err.message : String(err)}. Restart the engine to continue.`);
    });
    worker.on('messageerror', (err) => {
      this.options.onEvent({ type: 'engine-error', message: `The engine sent a message that could not be read: ${err.message}` });
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return; // stopped on purpose, or replaced
      fail(`The engine worker exited unexpectedly with code ${code}. Restart the engine to continue.`);
    });
    return new Promise((resolve, reject) => {
      worker.once('online', () => resolve());
      worker.once('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
    });
  }

  post(request: EngineRequest): void {
    if (!this.worker) {
      this.options.onEvent({ type: 'engine-error', message: `The engine is not running, so "${request.type}" was not sent. Start the engine first.` });
      return;
    }
    this.worker.postMessage(request);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
