/**
 * The main-process side of HostApi: one ipcMain.handle per method. Every call is
 * checked for its sender (our page's top frame) and its payload before it runs.
 */
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { INVOKE } from './api/channels.ts';
import type { EngineRequest } from './api/host-api.ts';
import { showImportDialog } from './data-import.ts';
import type { EngineHost } from './engine-host.ts';
import { assertTrustedSender, parsePayload } from './ipc-validation.ts';
import type { Projects } from './projects.ts';

export interface IpcDeps {
  appUrl: string;
  projects: Projects;
  engine: EngineHost;
}

export function setupIpc({ appUrl, projects, engine }: IpcDeps): void {
  const handle = <R>(channel: string, run: (payload: unknown, event: IpcMainInvokeEvent) => R | Promise<R>): void => {
    ipcMain.handle(channel, (event, payload: unknown) => {
      assertTrustedSender(channel, event.senderFrame, appUrl);
      return run(payload, event);
    });
  };

  handle(INVOKE.openProject, () => projects.showOpenDialog());
  handle(INVOKE.readProjectFile, () => projects.showReadDialog());
  handle(INVOKE.saveProject, (payload) => {
    const { name, bytes, saveAs } = parsePayload('saveProject', payload);
    return projects.save(name, bytes, saveAs);
  });
  handle(INVOKE.listExamples, () => projects.listExamples());
  handle(INVOKE.openExample, (payload) => projects.openExample(parsePayload('openExample', payload).id));
  handle(INVOKE.exportFile, (payload) => {
    const { suggestedName, bytes, kind } = parsePayload('exportFile', payload);
    return projects.exportFile(suggestedName, bytes, kind);
  });
  handle(INVOKE.importData, (payload, event) => showImportDialog(BrowserWindow.fromWebContents(event.sender), parsePayload('importData', payload).kind));
  handle(INVOKE.listRecent, () => projects.listRecent());
  handle(INVOKE.openRecent, (payload) => projects.openRecent(parsePayload('openRecent', payload).id));
  handle(INVOKE.clearRecent, () => projects.clearRecent());
  handle(INVOKE.projectListenerReady, () => projects.rendererListening());
  handle(INVOKE.setTitle, (payload, event) => {
    const { title, dirty } = parsePayload('setTitle', payload);
    const win = BrowserWindow.fromWebContents(event.sender);
    if (!win) return;
    win.setTitle(`${dirty ? '• ' : ''}${title ? `${title} - ` : ''}APS Studio`);
    win.setDocumentEdited(dirty);
  });
  handle(INVOKE.startEngine, () => engine.start());
  handle(INVOKE.postToEngine, (payload) => {
    // The engine answers unknown or malformed requests with an engine-error event.
    engine.post(parsePayload('postToEngine', payload).message as EngineRequest);
  });
  handle(INVOKE.stopEngine, () => engine.stop());
}
