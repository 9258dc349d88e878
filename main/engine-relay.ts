/** The main process's engine worker, relaying its events to the window. */
import { app } from 'electron';
import path from 'node:path';
import { EVENT } from './api/channels.ts';
import { EngineHost } from './engine-host.ts';
import { getMainWindow } from './window.ts';

export function setupEngine(): EngineHost {
  const engine = new EngineHost({
    workerPath: path.join(__dirname, 'engine-worker.cjs'),
    onEvent: (event) => getMainWindow()?.webContents.send(EVENT.engineEvent, event),
  });
  app.on('will-quit', () => void engine.stop());
  return engine;
}
