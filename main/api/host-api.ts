/**
 * The one interface between the renderer and whatever hosts it. Implemented by
 * the Electron preload (main/preload.ts, backed by the main process) and by the
 * web host (renderer/host/web-host.ts). Plain data only: every value crosses a
 * structured-clone boundary.
 */
import type { EngineEvent, EngineRequest } from '../../engine/session/protocol.ts';

export type { EngineEvent, EngineRequest };

/** A project file's content, as read from disk, a picker or an example. */
export interface ProjectFile {
  /** File name shown to the user, e.g. "mnist-mlp.aps" (no folders). */
  name: string;
  bytes: Uint8Array;
}

export interface SaveProjectRequest {
  /** Suggested file name; used for "Save As" and for the first save. */
  name: string;
  bytes: Uint8Array;
  /** Always ask where to save, even if the project already has a location. */
  saveAs: boolean;
}

export interface SavedProject {
  /** File name the project was saved under. */
  name: string;
}

export interface ExampleInfo {
  id: string;
  title: string;
  description: string;
}

/** What is being exported; decides the save dialog's file filter. */
export type ExportKind = 'weights' | 'onnx' | 'pytorch' | 'image' | 'csv' | 'json';

export interface ExportRequest {
  suggestedName: string;
  bytes: Uint8Array;
  kind: ExportKind;
}

/** What kind of data the user imports: one CSV file, one plain-text file, or a folder of images. */
export type ImportKind = 'csv' | 'text' | 'images';

export const IMPORT_KINDS: readonly ImportKind[] = ['csv', 'text', 'images'];

/** One imported file: its path inside the chosen folder ("cat/001.png"), or its name. */
export interface ImportedFile {
  path: string;
  bytes: Uint8Array;
}

export interface ImportedData {
  kind: ImportKind;
  /** Name of the chosen file or folder (no parent folders). */
  name: string;
  /** The file (csv, text), or the image files under the folder's class sub-folders. */
  files: ImportedFile[];
}

export interface RecentFile {
  /** Opaque id to pass to openRecent (a file path on desktop). */
  id: string;
  /** File name shown in menus. */
  name: string;
}

/**
 * Commands from the application menu (desktop) or its keyboard shortcuts that the
 * renderer carries out. "examples" asks the renderer to show its example browser;
 * "import-layers" its dialog that imports trained layers from another project.
 */
export type MenuCommand =
  | 'new'
  | 'open'
  | 'save'
  | 'save-as'
  | 'export-weights'
  | 'import-layers'
  | 'examples'
  | 'undo'
  | 'redo';

export const MENU_COMMANDS: readonly MenuCommand[] = [
  'new', 'open', 'save', 'save-as', 'export-weights', 'import-layers', 'examples', 'undo', 'redo',
];

export const EXPORT_KINDS: readonly ExportKind[] = ['weights', 'onnx', 'pytorch', 'image', 'csv', 'json'];

export type Unsubscribe = () => void;

export interface HostApi {
  /** "electron" or "web": for wording only, never for feature switches. */
  readonly kind: 'electron' | 'web';

  /** Asks the user for an .aps file; null if they cancelled. */
  openProject(): Promise<ProjectFile | null>;
  /**
   * Asks the user for an .aps file to read from (importing its trained layers); the open
   * project keeps its location. Null if they cancelled.
   */
  readProjectFile(): Promise<ProjectFile | null>;
  /** Saves to the project's current location, or asks for one; null if cancelled. */
  saveProject(request: SaveProjectRequest): Promise<SavedProject | null>;
  listExamples(): Promise<ExampleInfo[]>;
  openExample(id: string): Promise<ProjectFile>;
  /** Saves exported bytes where the user chooses (desktop) or downloads them (web). */
  exportFile(request: ExportRequest): Promise<void>;
  /** Asks the user for a CSV or text file, or a folder of images (one sub-folder per class); null if cancelled. */
  importData(kind: ImportKind): Promise<ImportedData | null>;

  listRecent(): Promise<RecentFile[]>;
  /** Opens a recent file; null if it no longer exists (it is then dropped from the list). */
  openRecent(id: string): Promise<ProjectFile | null>;
  clearRecent(): Promise<void>;

  /**
   * Projects opened by the host on its own: Open Recent and Examples menus,
   * the command line, or the OS file association.
   */
  onProjectOpened(callback: (file: ProjectFile) => void): Unsubscribe;
  onMenuCommand(callback: (command: MenuCommand) => void): Unsubscribe;
  /** Window title and unsaved-changes marker. */
  setTitle(title: string, dirty: boolean): void;

  /** Starts the engine worker if none is running (also after a crash). */
  startEngine(): Promise<void>;
  postToEngine(message: EngineRequest): void;
  onEngineEvent(callback: (event: EngineEvent) => void): Unsubscribe;
  stopEngine(): Promise<void>;
}
