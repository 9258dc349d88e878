/**
 * Exposes HostApi to the renderer as `window.apsHost`, over ipcRenderer.invoke.
 * Runs sandboxed: it is bundled to one file and imports nothing but electron.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT, INVOKE } from './api/channels.ts';
import type { EngineEvent, HostApi, MenuCommand, ProjectFile, Unsubscribe } from './api/host-api.ts';

function subscribe<T>(channel: string, callback: (value: T) => void): Unsubscribe {
  const listener = (_event: IpcRendererEvent, value: T): void => callback(value);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const engineListeners = new Set<(event: EngineEvent) => void>();
const emitEngineEvent = (event: EngineEvent): void => {
  for (const listener of engineListeners) listener(event);
};
ipcRenderer.on(EVENT.engineEvent, (_event: IpcRendererEvent, event: EngineEvent) => emitEngineEvent(event));

const host: HostApi = {
  kind: 'electron',
  openProject: () => ipcRenderer.invoke(INVOKE.openProject),
  readProjectFile: () => ipcRenderer.invoke(INVOKE.readProjectFile),
  saveProject: (request) => ipcRenderer.invoke(INVOKE.saveProject, request),
  listExamples: () => ipcRenderer.invoke(INVOKE.listExamples),
  openExample: (id) => ipcRenderer.invoke(INVOKE.openExample, { id }),
  exportFile: (request) => ipcRenderer.invoke(INVOKE.exportFile, request),
  importData: (kind) => ipcRenderer.invoke(INVOKE.importData, { kind }),
  listRecent: () => ipcRenderer.invoke(INVOKE.listRecent),
  openRecent: (id) => ipcRenderer.invoke(INVOKE.openRecent, { id }),
  clearRecent: () => ipcRenderer.invoke(INVOKE.clearRecent),
  onProjectOpened: (callback) => {
    const unsubscribe = subscribe<ProjectFile>(EVENT.projectOpened, callback);
    void ipcRenderer.invoke(INVOKE.projectListenerReady);
    return unsubscribe;
  },
  onMenuCommand: (callback) => subscribe<MenuCommand>(EVENT.menuCommand, callback),
  setTitle: (title, dirty) => {
    void ipcRenderer.invoke(INVOKE.setTitle, { title, dirty });
  },
  startEngine: () => ipcRenderer.invoke(INVOKE.startEngine),
  postToEngine: (message) => {
    ipcRenderer.invoke(INVOKE.postToEngine, { message }).catch((err: unknown) => {
      // A rejected message never reached the engine; report it like an engine error.
      emitEngineEvent({ type: 'engine-error', message: err instanceof Error ? err.message : String(err) });
    });
  },
  onEngineEvent: (callback) => {
    engineListeners.add(callback);
    return () => {
      engineListeners.delete(callback);
    };
  },
  stopEngine: () => ipcRenderer.invoke(INVOKE.stopEngine),
};

contextBridge.exposeInMainWorld('apsHost', host);
