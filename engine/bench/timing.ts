/** Wall-clock timing loops for the benchmark (never used by unit tests). */

export interface TimingOptions {
  /** Measure for at least this long. */
  seconds: number;
  /** Untimed steps first (JIT warm-up, buffer growth). */
  warmup: number;
  /** Time at least this many steps. */
  minSteps?: number;
}

export function timeLoop(step: () => void, opts: TimingOptions): { steps: number; seconds: number } {
  for (let i = 0; i < opts.warmup; i++) step();
  const minSteps = opts.minSteps ?? 3;
  const t0 = performance.now();
  let steps = 0;
  for (;;) {
    step();
    steps++;
    const seconds = (performance.now() - t0) / 1000;
    if (steps >= minSteps && seconds >= opts.seconds) return { steps, seconds };
  }
}
