/** APS Studio's Electron main process: one setup call per feature. */
import { app } from 'electron';
import { setupEngine } from './engine-relay.ts';
import { setupIpc } from './ipc.ts';
import { setupMenu } from './menu.ts';
import { setupOpenFiles, setupSingleInstance } from './open-files.ts';
import { setupProjects } from './projects.ts';
import { setupSecurity } from './security.ts';
import { APP_URL, setupMainWindow } from './window.ts';

const projects = setupProjects();
if (setupSingleInstance(projects)) {
  setupSecurity(APP_URL);
  const engine = setupEngine();
  setupIpc({ appUrl: APP_URL, projects, engine });
  setupMenu({ projects });
  setupOpenFiles(projects);
  setupMainWindow(() => projects.rendererReloading());
} else {
  app.quit();
}
