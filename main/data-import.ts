/** The open dialog of the Data panel's imports (see data-files.ts for the reading). */
import { dialog, type BrowserWindow } from 'electron';
import type { ImportedData, ImportKind } from './api/host-api.ts';
import { readImport } from './data-files.ts';

const FILTERS: Record<Exclude<ImportKind, 'images'>, Electron.FileFilter> = {
  csv: { name: 'CSV table', extensions: ['csv', 'tsv', 'txt'] },
  text: { name: 'Plain text', extensions: ['txt', 'md', 'text'] },
};

/** Shows the open dialog for the kind of data and reads what the user chose; null if cancelled. */
export async function showImportDialog(win: BrowserWindow | null, kind: ImportKind): Promise<ImportedData | null> {
  const options: Electron.OpenDialogOptions =
    kind === 'images' ? { title: 'Choose a folder with one sub-folder of images per class', properties: ['openDirectory'] } : { properties: ['openFile'], filters: [FILTERS[kind]] };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  const chosen = result.filePaths[0];
  if (result.canceled || !chosen) return null;
  return readImport(kind, chosen);
}
