import { useCallback, useEffect, useState } from 'react';
import type { EngineEvent, HostApi } from '../../main/api/host-api.ts';

export type EngineStatus =
  | { state: 'starting' }
  | { state: 'ready'; version: string; backends: string[] }
  | { state: 'failed'; message: string };

/**
 * Starts the engine, performs the hello/ready handshake and tracks the engine's
 * state. `restart` starts a fresh worker after a crash.
 */
export function useEngine(host: HostApi): { status: EngineStatus; restart: () => void } {
  const [status, setStatus] = useState<EngineStatus>({ state: 'starting' });

  const start = useCallback(() => {
    setStatus({ state: 'starting' });
    host.startEngine().then(
      () => host.postToEngine({ type: 'hello' }),
      (err: unknown) => setStatus({ state: 'failed', message: `The engine could not start: ${err instanceof Error ? err.message : String(err)}` }),
    );
  }, [host]);

  useEffect(() => {
    const unsubscribe = host.onEngineEvent((event: EngineEvent) => {
      if (event.type === 'ready') setStatus({ state: 'ready', version: event.version, backends: event.backends });
      else if (event.type === 'engine-error') setStatus({ state: 'failed', message: event.message });
    });
    start();
    return unsubscribe;
  }, [host, start]);

  return { status, restart: start };
}
