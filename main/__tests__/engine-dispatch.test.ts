import { describe, expect, it } from 'vitest';
import { dispatch, RequestedCrashError } from '../../engine/session/dispatch.ts';
import type { EngineEvent } from '../../engine/session/protocol.ts';
import { ENGINE_VERSION } from '../../engine/version.ts';

function run(request: unknown): EngineEvent[] {
  const events: EngineEvent[] = [];
  dispatch(request, (ev) => events.push(ev));
  return events;
}

describe('engine dispatch', () => {
  it('answers hello with the engine version and backends', () => {
    const [ready] = run({ type: 'hello' });
    expect(ready).toMatchObject({ type: 'ready', version: ENGINE_VERSION });
  });

  it('echoes ping ids and rejects a ping without one', () => {
    expect(run({ type: 'ping', id: 7 })).toEqual([{ type: 'pong', id: 7 }]);
    expect(run({ type: 'ping', id: 'x' })).toEqual([{ type: 'engine-error', message: 'ping request needs a finite numeric "id", got "x"' }]);
  });

  it('explains malformed requests', () => {
    expect(run(42)[0]).toEqual({ type: 'engine-error', message: 'Engine received a malformed request (expected an object with a string "type"): 42' });
  });

  it('throws for crash so the worker dies', () => {
    expect(() => run({ type: 'crash' })).toThrow(RequestedCrashError);
  });
});
