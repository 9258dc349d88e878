import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/session/protocol.ts';
import { ENGINE_VERSION } from '../../engine/version.ts';
import { EngineHost } from '../engine-host.ts';

let dir: string;
let workerPath: string;
const hosts: EngineHost[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aps-engine-host-'));
  workerPath = path.join(dir, 'engine-worker.cjs');
  await build({ entryPoints: ['engine/session/worker.node.ts'], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'error' });
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An EngineHost whose events can be awaited one by one. */
function startHost() {
  const events: EngineEvent[] = [];
  const waiters: Array<(ev: EngineEvent) => void> = [];
  const host = new EngineHost({
    workerPath,
    onEvent: (ev) => {
      const waiter = waiters.shift();
      if (waiter) waiter(ev);
      else events.push(ev);
    },
  });
  hosts.push(host);
  const next = (): Promise<EngineEvent> => {
    const queued = events.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no engine event within 10 s')), 10_000);
      waiters.push((ev) => {
        clearTimeout(timer);
        resolve(ev);
      });
    });
  };
  return { host, next };
}

describe('EngineHost', () => {
  it('answers hello and ping through a real worker', async () => {
    const { host, next } = startHost();
    await host.start();
    host.post({ type: 'hello' });
    const ready = await next();
    expect(ready).toMatchObject({ type: 'ready', version: ENGINE_VERSION });
    expect(ready.type === 'ready' && Array.isArray(ready.backends)).toBe(true);
    host.post({ type: 'ping', id: 42 });
    expect(await next()).toEqual({ type: 'pong', id: 42 });
  });

  it('reports a crash as an engine-error and starts a fresh worker afterwards', async () => {
    const { host, next } = startHost();
    await host.start();
    host.post({ type: 'crash' });
    const crash = await next();
    expect(crash.type).toBe('engine-error');
    expect(crash.type === 'engine-error' && crash.message).toMatch(/engine worker crashed: Engine crash requested.*Restart the engine/);
    expect(host.running).toBe(false);

    host.post({ type: 'ping', id: 1 });
    expect(await next()).toMatchObject({ type: 'engine-error', message: expect.stringMatching(/not running, so "ping" was not sent/) });

    await host.start();
    expect(host.running).toBe(true);
    host.post({ type: 'ping', id: 2 });
    expect(await next()).toEqual({ type: 'pong', id: 2 });
  });

  it('reports requests the engine does not understand without crashing', async () => {
    const { host, next } = startHost();
    await host.start();
    host.post({ type: 'warp-drive' } as never);
    expect(await next()).toEqual({ type: 'engine-error', message: 'Engine does not understand request type "warp-drive"' });
    host.post({ type: 'ping', id: 5 });
    expect(await next()).toEqual({ type: 'pong', id: 5 });
  });

  it('does not report a deliberate stop as a crash', async () => {
    const { host, next } = startHost();
    await host.start();
    await host.stop();
    expect(host.running).toBe(false);
    await host.start();
    host.post({ type: 'ping', id: 9 });
    expect(await next()).toEqual({ type: 'pong', id: 9 });
  });
});
