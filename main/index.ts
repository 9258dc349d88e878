/** APS Studio's Electron main process: one setup call per feature. */
import { app } from 'electron';
import path from 'node:path';
import { setupEngine } from './engine-relay.ts';
import { Examples } from './examples.ts';
import { isTrustedSenderUrl } from './ipc-validation.ts';
import { setupIpc } from './ipc.ts';
import { setupMenu } from './menu.ts';
import { setupOpenFiles, setupSingleInstance } from './open-files.ts';
import { Projects } from './projects.ts';
import { RecentFiles } from './recent-files.ts';
import { setupSecurity } from './security.ts';
import { APP_URL, createMainWindow, getMainWindow } from './window.ts';

let rebuildMenu = (): void => undefined;
const projects = new Projects(
  new RecentFiles(path.join(app.getPath('userData'), 'recent-files.json')),
  new Examples(path.join(__dirname, '..', 'renderer', 'examples')),
  getMainWindow,
  () => rebuildMenu(),
);

if (!setupSingleInstance(projects)) {
  app.quit();
} else {
  setupSecurity((url) => isTrustedSenderUrl(url, APP_URL));
  const engine = setupEngine();
  setupIpc({ appUrl: APP_URL, projects, engine });
  rebuildMenu = setupMenu({ projects });
  setupOpenFiles(projects);
  setupWindowLifecycle();
}

function setupWindowLifecycle(): void {
  const open = (): void => {
    const win = createMainWindow();
    win.webContents.on('did-start-loading', () => projects.rendererReloading());
  };
  void app.whenReady().then(open);
  app.on('activate', () => {
    if (!getMainWindow()) open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
