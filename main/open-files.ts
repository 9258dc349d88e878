/**
 * Projects handed to the app by the OS: a path on the command line (first or
 * second instance) or macOS's open-file event from the .aps file association.
 * Also holds the single-instance lock, so a second launch opens its file here.
 */
import { app } from 'electron';
import { projectPathFromArgv } from './argv.ts';
import type { Projects } from './projects.ts';
import { focusMainWindow } from './window.ts';

/** Returns false when another instance already runs; this one should then quit. */
export function setupSingleInstance(projects: Projects): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', (_event, argv, workingDirectory) => {
    focusMainWindow();
    const filePath = projectPathFromArgv(argv, workingDirectory);
    if (filePath) void projects.openPathAndDeliver(filePath);
  });
  return true;
}

export function setupOpenFiles(projects: Projects): void {
  app.on('open-file', (event, filePath) => {
    event.preventDefault();
    void projects.openPathAndDeliver(filePath);
  });
  const fromArgv = projectPathFromArgv(process.argv, process.cwd());
  if (fromArgv) void app.whenReady().then(() => projects.openPathAndDeliver(fromArgv));
}
