import { describe, expect, it } from 'vitest';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, ThreadBackoff } from '../parallel.ts';

/** A back-off on a hand-moved clock. */
function backoff() {
  const clock = { t: 1000 };
  return { clock, b: new ThreadBackoff(() => clock.t) };
}

const slow = (b: ThreadBackoff) => b.note(10, 20); // waited twice its own part
const good = (b: ThreadBackoff) => b.note(10, 1);

describe('busy-core back-off', () => {
  it('keeps threads while the helpers come back in time, and after one or two late rounds', () => {
    const { b } = backoff();
    for (let i = 0; i < 10; i++) good(b);
    slow(b);
    slow(b);
    expect(b.skip()).toBe(false);
  });

  it('after three late rounds stays on one thread for a time, then tries threads again', () => {
    const { clock, b } = backoff();
    slow(b);
    slow(b);
    slow(b);
    expect(b.skip()).toBe(true);
    // However many calls come meanwhile, the pause ends with its time.
    for (let i = 0; i < 5000; i++) expect(b.skip()).toBe(true);
    clock.t += BACKOFF_MIN_MS - 1;
    expect(b.skip()).toBe(true);
    clock.t += 1;
    expect(b.skip()).toBe(false);
  });

  it('doubles the pause on every relapse up to its longest, and starts short again after good rounds', () => {
    const { clock, b } = backoff();
    const pauseAfterRelapse = () => {
      slow(b);
      slow(b);
      slow(b);
      const start = clock.t;
      while (b.skip()) clock.t += 10;
      return clock.t - start;
    };
    const pauses = Array.from({ length: 7 }, pauseAfterRelapse);
    expect(pauses).toEqual([100, 200, 400, 800, 1600, 2000, 2000].map((ms) => Math.min(ms, BACKOFF_MAX_MS)));
    good(b);
    expect(pauseAfterRelapse()).toBe(BACKOFF_MIN_MS);
  });

  it('never skips when turned off', () => {
    const { b } = backoff();
    slow(b);
    slow(b);
    slow(b);
    b.setEnabled(false);
    expect(b.skip()).toBe(false);
    slow(b);
    slow(b);
    slow(b);
    expect(b.skip()).toBe(false);
  });
});
