/**
 * Node's GEMM thread host: helper threads are worker_threads Workers started from source
 * text (no script file to locate, so it works the same from tsx, the CLI and the app's
 * bundled engine worker). Each instantiates the GEMM module on the shared memory and
 * serves one control slot (parallel.ts). Helpers are unref'ed, so they never keep a
 * process alive.
 *
 * Thread count: the APS_THREADS environment variable when set (1 disables the helpers),
 * otherwise the available cores.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CTRL_BYTES, type GemmThreadHost, HELPER_LOOP_SOURCE, installGemmThreadHost, MAX_THREADS, releaseHelper } from './parallel.ts';

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
${HELPER_LOOP_SOURCE}
const { module, memory, slot } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { mem: memory } });
serve(exports.block, new Int32Array(memory.buffer, 0, ${CTRL_BYTES / 4}), slot);
`;

/** The thread count APS_THREADS asks for, or the available cores. */
export function nodeDefaultThreads(env: string | undefined = process.env.APS_THREADS): number {
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`APS_THREADS must be a positive integer, got "${env}"`);
    return Math.min(n, MAX_THREADS);
  }
  return Math.min(availableParallelism(), MAX_THREADS);
}

/** Installs the worker_threads host; call once from a Node entry point. */
export function installNodeGemmThreads(): void {
  let running: { workers: Worker[]; buffer: ArrayBufferLike; slots: number[] } | null = null;
  const host: GemmThreadHost = {
    defaultThreads: nodeDefaultThreads(),
    start(module, memory, slots) {
      const workers = slots.map((slot) => {
        const w = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, slot } });
        w.unref();
        return w;
      });
      running = { workers, buffer: (memory as { buffer: ArrayBufferLike }).buffer, slots };
    },
    startTeam(module, memory, slots) {
      for (const slot of slots) new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, slot } }).unref();
      const buffer = (memory as { buffer: ArrayBufferLike }).buffer;
      return () => {
        for (const slot of slots) releaseHelper(buffer, slot);
      };
    },
    stop() {
      if (!running) return;
      const { buffer, slots } = running;
      for (const slot of slots) releaseHelper(buffer, slot);
      running = null;
    },
  };
  installGemmThreadHost(host);
}
