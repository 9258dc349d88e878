/** Wall-clock timing loops for the benchmark (never used by unit tests). */

export interface TimingOptions {
  /** Measure for at least this long. */
  seconds: number;
  /** Untimed steps first (JIT warm-up, buffer growth). */
  warmup: number;
  /** Time at least this many steps. */
  minSteps?: number;
}

/**
 * Runs `step` until both `seconds` and `minSteps` are reached. A step so slow that the first
 * one alone takes over five measurement periods is timed once, so a slow framework cannot
 * stall the whole run.
 */
export function timeLoop(step: () => void, opts: TimingOptions): { steps: number; seconds: number } {
  const first = performance.now();
  step();
  const firstSeconds = (performance.now() - first) / 1000;
  if (firstSeconds > 5 * opts.seconds) return { steps: 1, seconds: firstSeconds };
  for (let i = 1; i < opts.warmup; i++) step();
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
