/** The single application window. */
import { app, BrowserWindow } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** URL of the renderer build, next to the main bundle in dist/. */
export const APP_URL = pathToFileURL(path.join(__dirname, '..', 'renderer', 'index.html')).href;

let mainWindow: BrowserWindow | null = null;

export function getMainWindow(): BrowserWindow | null {
  return mainWindow && !mainWindow.isDestroyed() ? mainWindow : null;
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
  return win;
}

export function focusMainWindow(): void {
  const win = getMainWindow();
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
}

/**
 * Opens the window when the app is ready (and again on macOS's dock click).
 * `onPageLoading` runs whenever the page starts (re)loading.
 */
export function setupMainWindow(onPageLoading: () => void): void {
  const open = (): void => {
    createMainWindow().webContents.on('did-start-loading', onPageLoading);
  };
  void app.whenReady().then(open);
  app.on('activate', () => {
    if (!getMainWindow()) open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
