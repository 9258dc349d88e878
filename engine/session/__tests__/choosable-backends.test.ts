import { afterEach, describe, expect, it } from 'vitest';
import { listBackends } from '../../core/backend.ts';
import { choosableBackends, dispatch, offerGpuBackend } from '../dispatch.ts';
import type { EngineEvent } from '../protocol.ts';

afterEach(() => offerGpuBackend(false));

function hello(): Extract<EngineEvent, { type: 'ready' }> {
  const events: EngineEvent[] = [];
  dispatch({ type: 'hello' }, (e) => events.push(e));
  expect(events).toHaveLength(1);
  if (events[0].type !== 'ready') throw new Error(`expected ready, got ${events[0].type}`);
  return events[0];
}

describe('ready.choosableBackends', () => {
  it('lists only the cpu until a worker entry offers the gpu, and the gpu then without enabling gpu.js', () => {
    expect(listBackends()).not.toContain('gpu');
    expect(hello().choosableBackends).toEqual(['cpu']);
    offerGpuBackend();
    const ready = hello();
    expect(ready.choosableBackends).toEqual(['cpu', 'gpu']);
    // Offering is not enabling: the registered backends are unchanged.
    expect(ready.backends).toEqual(['cpu']);
    expect(listBackends()).not.toContain('gpu');
    expect(choosableBackends()).toEqual(['cpu', 'gpu']);
  });
});
