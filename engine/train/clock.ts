/**
 * Timer and clock access for code that runs in Node, Web Workers and browsers alike (the
 * engine's type environment declares no host globals).
 */
interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  performance?: { now(): number };
}

const host = globalThis as unknown as HostTimers;

/** Resolves after queued messages and timers have run (a macrotask turn). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => host.setTimeout(resolve, 0));
}

/** Milliseconds from a monotonic clock where there is one. */
export function nowMs(): number {
  return host.performance ? host.performance.now() : Date.now();
}
