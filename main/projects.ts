/**
 * The open project's location and the file commands that need native dialogs:
 * open, save / save as, export, open recent, examples, and projects opened from
 * the command line or the OS file association.
 */
import { app, type BrowserWindow, dialog } from 'electron';
import path from 'node:path';
import type { ExampleInfo, ExportKind, ProjectFile, RecentFile, SavedProject } from './api/host-api.ts';
import { EVENT } from './api/channels.ts';
import { Examples } from './examples.ts';
import { readProjectFile, withProjectExtension, writeFileAtomic } from './project-files.ts';
import { RecentFiles } from './recent-files.ts';
import { getMainWindow } from './window.ts';

const PROJECT_FILTER = { name: 'APS Studio project', extensions: ['aps'] };
const EXPORT_FILTERS: Record<ExportKind, Electron.FileFilter> = {
  weights: { name: 'safetensors weights', extensions: ['safetensors'] },
  onnx: { name: 'ONNX model', extensions: ['onnx'] },
  pytorch: { name: 'PyTorch code (zip)', extensions: ['zip', 'py'] },
  image: { name: 'Image', extensions: ['png', 'svg'] },
  csv: { name: 'CSV', extensions: ['csv'] },
  json: { name: 'JSON', extensions: ['json'] },
};

export class Projects {
  /** Where Save writes without asking; null for new projects and examples. */
  private currentPath: string | null = null;
  private listenerReady = false;
  private pending: ProjectFile[] = [];

  /** Called whenever the recent files list changes (the menu rebuilds itself). */
  onRecentChanged: () => void = () => undefined;

  constructor(
    private readonly recent: RecentFiles,
    private readonly examples: Examples,
    private readonly getWindow: () => BrowserWindow | null,
  ) {}

  async showOpenDialog(): Promise<ProjectFile | null> {
    const win = this.getWindow();
    const options: Electron.OpenDialogOptions = { properties: ['openFile'], filters: [PROJECT_FILTER] };
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    const chosen = result.filePaths[0];
    if (result.canceled || !chosen) return null;
    return this.openPath(chosen);
  }

  /** Asks for an .aps file and reads it without making it the open project (importing layers from it). */
  async showReadDialog(): Promise<ProjectFile | null> {
    const win = this.getWindow();
    const options: Electron.OpenDialogOptions = { properties: ['openFile'], filters: [PROJECT_FILTER], ...(this.currentPath ? { defaultPath: path.dirname(this.currentPath) } : {}) };
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    const chosen = result.filePaths[0];
    if (result.canceled || !chosen) return null;
    return readProjectFile(path.resolve(chosen));
  }

  async save(name: string, bytes: Uint8Array, saveAs: boolean): Promise<SavedProject | null> {
    let target = saveAs ? null : this.currentPath;
    if (!target) {
      const win = this.getWindow();
      const options: Electron.SaveDialogOptions = {
        defaultPath: withProjectExtension(this.currentPath ? path.join(path.dirname(this.currentPath), name) : name),
        filters: [PROJECT_FILTER],
      };
      const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      if (result.canceled || !result.filePath) return null;
      target = withProjectExtension(result.filePath);
    }
    await writeFileAtomic(target, bytes);
    this.currentPath = target;
    await this.rememberRecent(target);
    return { name: path.basename(target) };
  }

  async exportFile(suggestedName: string, bytes: Uint8Array, kind: ExportKind): Promise<void> {
    const win = this.getWindow();
    const options: Electron.SaveDialogOptions = { defaultPath: suggestedName, filters: [EXPORT_FILTERS[kind]] };
    const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
    if (result.canceled || !result.filePath) return;
    await writeFileAtomic(result.filePath, bytes);
  }

  listRecent(): Promise<RecentFile[]> {
    return this.recent.list();
  }

  /** Opens a path from the recent list only; a vanished file is dropped from it. */
  async openRecent(id: string): Promise<ProjectFile | null> {
    if (!(await this.recent.has(id))) throw new Error(`"${id}" is not in the recent files list`);
    try {
      return await this.openPath(id);
    } catch {
      await this.recent.remove(id);
      this.onRecentChanged();
      return null;
    }
  }

  async clearRecent(): Promise<void> {
    await this.recent.clear();
    this.onRecentChanged();
  }

  listExamples(): Promise<ExampleInfo[]> {
    return this.examples.list();
  }

  async openExample(id: string): Promise<ProjectFile> {
    const file = await this.examples.open(id);
    this.currentPath = null; // Save on an example asks where to put the copy.
    return file;
  }

  /** Opens a project the host chose (menu, command line, OS) and hands it to the renderer. */
  async openAndDeliver(load: () => Promise<ProjectFile | null>): Promise<void> {
    try {
      const file = await load();
      if (file) this.deliver(file);
    } catch (err) {
      dialog.showErrorBox('Could not open the project', err instanceof Error ? err.message : String(err));
    }
  }

  openPathAndDeliver(filePath: string): Promise<void> {
    return this.openAndDeliver(() => this.openPath(filePath));
  }

  /** Called when the renderer subscribes to onProjectOpened. */
  rendererListening(): void {
    this.listenerReady = true;
    for (const file of this.pending.splice(0)) this.deliver(file);
  }

  /** Called when the page (re)loads: deliveries wait for the new listener. */
  rendererReloading(): void {
    this.listenerReady = false;
  }

  private deliver(file: ProjectFile): void {
    const win = this.getWindow();
    if (!win || !this.listenerReady) {
      this.pending.push(file);
      return;
    }
    win.webContents.send(EVENT.projectOpened, file);
  }

  private async openPath(filePath: string): Promise<ProjectFile> {
    const absolute = path.resolve(filePath);
    const file = await readProjectFile(absolute);
    this.currentPath = absolute;
    await this.rememberRecent(absolute);
    return file;
  }

  private async rememberRecent(filePath: string): Promise<void> {
    await this.recent.add(filePath);
    this.onRecentChanged();
  }
}

/** The app's project handling: recent files in userData, examples from the renderer build. */
export function setupProjects(): Projects {
  return new Projects(
    new RecentFiles(path.join(app.getPath('userData'), 'recent-files.json')),
    new Examples(path.join(__dirname, '..', 'renderer', 'examples')),
    getMainWindow,
  );
}
