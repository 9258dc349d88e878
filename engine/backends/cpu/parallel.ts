/**
 * Threads for the CPU GEMM. The WebAssembly micro-kernel (gemm-wasm.ts) runs on a shared
 * WebAssembly.Memory; helper threads instantiate the same module on the same memory and
 * each multiplies its own disjoint range of C's tiles, while the calling thread packs the
 * operands and takes a range too. Every tile is computed by the same kernel with the same
 * depth blocking whichever thread runs it, so results are bit-identical to one thread.
 *
 * This file is platform-neutral: it coordinates through Atomics on the shared memory. How
 * threads are started is up to a `GemmThreadHost` that a platform entry installs (Node:
 * parallel.node.ts with worker_threads). Without a host the GEMM stays single-threaded
 * (the browser's Web Worker, for one).
 *
 * Control words live in the memory's first CTRL_BYTES bytes: slot w (1 <= w < MAX_THREADS)
 * is SLOT_INTS int32s at w*SLOT_INTS: [0] task sequence number (written last by the caller),
 * [1] the sequence number the helper finished, [2..10] the kernel's arguments (and [11..13]
 * chunking for a shared GEMM task), [15] 1 for a shared GEMM task (tiles claimed in
 * chunks through the counter at int32 0), 0 for one call. Int32 0 (slot 0 is the caller's)
 * counts the chunks claimed.
 */

import { WASM_MR, WASM_NR } from './gemm-wasm.ts';

/** Bytes reserved at the start of the shared memory for the control slots. */
export const CTRL_BYTES = 1024;
export const SLOT_INTS = 16;
/** Calling thread plus helpers. */
export const MAX_THREADS = CTRL_BYTES / 4 / SLOT_INTS;

/** Starts and stops helper threads; installed by a platform entry (parallel.node.ts). */
export interface GemmThreadHost {
  /** Threads the platform offers by default (available cores, or a user override). */
  defaultThreads: number;
  /**
   * Starts one helper per slot: each instantiates `module` (a WebAssembly.Module) with
   * `memory` (a shared WebAssembly.Memory) as import env.mem and serves its control slot.
   */
  start(module: object, memory: object, slots: number[]): void;
  /** Ends the helpers started last (they may finish their current task first). */
  stop(): void;
  /**
   * Starts helpers for another module on its own shared memory (same protocol: the module
   * imports env.mem and exports `block`; control slots at the memory's start), apart from
   * those of `start`; returns what ends them. Used by the convolution kernels (conv-shifted.ts).
   */
  startTeam?(module: object, memory: object, slots: number[]): () => void;
}

let host: GemmThreadHost | null = null;
let requested: number | null = null;

/** Installs the platform's thread host (replacing any earlier one, whose helpers end). */
export function installGemmThreadHost(h: GemmThreadHost): void {
  host?.stop();
  host = h;
}

/** The installed host, or null. */
export function gemmThreadHost(): GemmThreadHost | null {
  return host;
}

/**
 * Sets how many threads a large GEMM may use (the calling one included); 1 disables the
 * helpers, null returns to the host's default. Threads need an installed host.
 */
export function setGemmThreads(n: number | null): void {
  if (n !== null && (!Number.isInteger(n) || n < 1)) throw new Error(`setGemmThreads: thread count must be a positive integer, got ${n}`);
  requested = n;
}

/** Threads a large GEMM uses now (1 without a host). */
export function gemmThreads(): number {
  if (!host) return 1;
  return Math.max(1, Math.min(MAX_THREADS, requested ?? host.defaultThreads));
}

/** Spins this many polls before sleeping in Atomics.wait. */
const SPIN = 2000;
/** A helper that has not answered after this long is reported instead of waited on forever. */
const STUCK_MS = 120_000;

/** The caller's side of the control slots over one shared memory. */
export class GemmTeam {
  private readonly ctl: Int32Array;
  private seq = 0;

  /** `buffer`: the shared memory's buffer; `helpers`: how many helper slots (1..) are served. */
  constructor(buffer: ArrayBufferLike, readonly helpers: number) {
    this.ctl = new Int32Array(buffer, 0, CTRL_BYTES / 4);
  }

  /** The helper slots, for GemmThreadHost.start. */
  slots(): number[] {
    return Array.from({ length: this.helpers }, (_, i) => i + 1);
  }

  /**
   * Wakes sleeping helpers without giving them work, so that they are polling (not asleep)
   * when the tasks of a product being prepared arrive.
   */
  wake(count: number): void {
    for (let w = 1; w <= count; w++) Atomics.notify(this.ctl, w * SLOT_INTS, 1);
  }

  /** Starts a round of tasks: `post` one to each helper taking part, then `wait` for each. */
  begin(): void {
    this.seq++;
  }

  /**
   * Shares this round's GEMM tiles out in chunks: `args` are block's first nine arguments
   * for all mTiles x nTiles tiles, then [byCols (1: chunks of column panels, 0: of row
   * panels), chunk (tiles per chunk), nChunks]. Call `shareTiles` first, then
   * `postChunks` for each helper taking part, and take chunks with `nextChunk` too; each
   * chunk goes to whichever thread asks first, so a thread slowed by other work takes fewer.
   */
  shareTiles(): void {
    Atomics.store(this.ctl, 0, 0);
  }

  /** The next unclaimed chunk of this round (>= nChunks: none left). */
  nextChunk(): number {
    return Atomics.add(this.ctl, 0, 1);
  }

  /** Hands helper `w` the chunked GEMM task `args` (see shareTiles); returns at once. */
  postChunks(w: number, args: readonly number[]): void {
    this.ctl[w * SLOT_INTS + 15] = 1;
    this.post(w, args, true);
  }

  /** Hands helper `w` (1-based) this round's kernel call `block(...args)`; returns at once. */
  post(w: number, args: readonly number[], chunked = false): void {
    const base = w * SLOT_INTS;
    if (!chunked) this.ctl[base + 15] = 0;
    for (let i = 0; i < args.length; i++) this.ctl[base + 2 + i] = args[i];
    Atomics.store(this.ctl, base, this.seq);
    Atomics.notify(this.ctl, base, 1);
  }

  /** Waits until helper `w` has finished its task of the current round. */
  wait(w: number): void {
    const i = w * SLOT_INTS + 1;
    const want = this.seq;
    let spins = 0;
    let waited = 0;
    for (;;) {
      const done = Atomics.load(this.ctl, i);
      if (done === want) return;
      if (++spins < SPIN) continue;
      const t0 = Date.now();
      Atomics.wait(this.ctl, i, done, 1000);
      waited += Date.now() - t0;
      if (waited > STUCK_MS) throw new Error(`GEMM helper thread ${w} did not finish its tiles within ${STUCK_MS / 1000} s`);
    }
  }
}

/**
 * The loop a helper thread runs (as source text, for hosts that start threads from a
 * string): `serve(block, ctl, slot)` where `block` is the kernel's export and `ctl` an
 * Int32Array over the control words.
 */
export const HELPER_LOOP_SOURCE = `
function serve(block, ctl, slot) {
  const base = slot * ${SLOT_INTS};
  let seen = Atomics.load(ctl, base + 1);
  for (;;) {
    let spins = 0;
    let seq;
    while ((seq = Atomics.load(ctl, base)) === seen) {
      // Poll a while, then sleep until a task (or a wake-up call) arrives.
      if (++spins > ${SPIN * 10}) { Atomics.wait(ctl, base, seen); spins = 0; }
    }
    seen = seq;
    if (seq < 0) return;
    if (ctl[base + 15] === 1) {
      const kc = ctl[base + 2], pa = ctl[base + 3], pb = ctl[base + 4], c = ctl[base + 5], ldc = ctl[base + 6];
      const mTiles = ctl[base + 7], nTiles = ctl[base + 8], pbStride = ctl[base + 9], first = ctl[base + 10];
      const byCols = ctl[base + 11], chunk = ctl[base + 12], nChunks = ctl[base + 13];
      const tiles = byCols ? nTiles : mTiles;
      for (let i = Atomics.add(ctl, 0, 1); i < nChunks; i = Atomics.add(ctl, 0, 1)) {
        const t0 = i * chunk;
        const n = Math.min(chunk, tiles - t0);
        if (byCols) block(kc, pa, pb + t0 * pbStride, c + t0 * ${4 * WASM_NR}, ldc, mTiles, n, pbStride, first);
        else block(kc, pa + t0 * ${4 * WASM_MR} * kc, pb, c + t0 * ${WASM_MR} * ldc, ldc, n, nTiles, pbStride, first);
      }
    } else {
      block(ctl[base + 2], ctl[base + 3], ctl[base + 4], ctl[base + 5], ctl[base + 6], ctl[base + 7], ctl[base + 8], ctl[base + 9], ctl[base + 10]);
    }
    Atomics.store(ctl, base + 1, seq);
    Atomics.notify(ctl, base + 1);
  }
}`;

/** Tells helper slot `w` over `buffer` to end its loop. */
export function releaseHelper(buffer: ArrayBufferLike, w: number): void {
  const ctl = new Int32Array(buffer, 0, CTRL_BYTES / 4);
  Atomics.store(ctl, w * SLOT_INTS, -1);
  Atomics.notify(ctl, w * SLOT_INTS);
}

/** The first back-off after good rounds, and the longest one (milliseconds). */
export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 2000;

const monotonic = (globalThis as { performance?: { now(): number } }).performance ?? Date;

/**
 * Busy cores: when the helpers keep finishing well after the calling thread (other
 * processes hold the cores), split work runs on one thread for a while (`skip` says so until
 * a deadline, whose distance doubles on every relapse up to 2 s), then threads are tried
 * again. The pause is a time, not a count of calls, so a few very large products after a
 * busy spell are not kept on one thread for minutes. Results do not depend on it.
 */
export class ThreadBackoff {
  private enabled = true;
  private until = -Infinity;
  private nextMs = BACKOFF_MIN_MS;
  private slowRounds = 0;

  constructor(private readonly now: () => number = () => monotonic.now()) {}

  /** Turns the back-off on or off (tests that must exercise the helpers turn it off). */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.until = -Infinity;
    this.nextMs = BACKOFF_MIN_MS;
    this.slowRounds = 0;
  }

  /** True when this call stays on one thread because the cores were found busy lately. */
  skip(): boolean {
    return this.enabled && this.now() < this.until;
  }

  /** Records one split round: the calling thread's part took `own` ms, then it waited `wait` ms. */
  note(own: number, wait: number): void {
    if (!this.enabled) return;
    if (wait > 0.5 * own + 0.03) {
      if (++this.slowRounds >= 3) {
        this.until = this.now() + this.nextMs;
        this.nextMs = Math.min(BACKOFF_MAX_MS, this.nextMs * 2);
        this.slowRounds = 0;
      }
    } else if (this.slowRounds > 0) {
      this.slowRounds--;
    } else {
      this.nextMs = BACKOFF_MIN_MS;
    }
  }
}
