/** The single application window. */
import { BrowserWindow } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** URL of the renderer build, next to the main bundle in dist/. */
export const APP_URL = pathToFileURL(path.join(__dirname, '..', 'renderer', 'index.html')).href;

let mainWindow: BrowserWindow | null = null;
const readyCallbacks: Array<(win: BrowserWindow) => void> = [];

export function getMainWindow(): BrowserWindow | null {
  return mainWindow && !mainWindow.isDestroyed() ? mainWindow : null;
}

/** Runs `callback` with the window once it exists (at once if it does). */
export function withMainWindow(callback: (win: BrowserWindow) => void): void {
  const win = getMainWindow();
  if (win) callback(win);
  else readyCallbacks.push(callback);
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'APS Studio',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_URL);
  for (const callback of readyCallbacks.splice(0)) callback(win);
  return win;
}

export function focusMainWindow(): void {
  const win = getMainWindow();
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
}
