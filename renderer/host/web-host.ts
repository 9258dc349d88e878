/**
 * HostApi for a plain browser: files through <input type=file> and <a download>,
 * examples fetched from the served examples/ folder, the engine in a Web Worker.
 * Browsers expose no file paths, so there is no recent-files list here.
 */
import type {
  EngineEvent,
  EngineRequest,
  ExampleInfo,
  HostApi,
  ImportedData,
  MenuCommand,
  ProjectFile,
  RecentFile,
  Unsubscribe,
} from '../../main/api/host-api.ts';

const EXAMPLE_ID = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** Parses examples/index.json: an array of {id, title, description}. */
export function parseExampleIndex(json: unknown): ExampleInfo[] {
  if (!Array.isArray(json)) throw new Error('examples/index.json: expected an array of examples');
  return json.map((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof ExampleInfo, unknown>> | null;
    if (!e || typeof e !== 'object') throw new Error(`examples/index.json[${i}]: expected an object`);
    if (typeof e.id !== 'string' || !EXAMPLE_ID.test(e.id)) throw new Error(`examples/index.json[${i}].id: expected a lowercase id like "mnist-mlp"`);
    if (typeof e.title !== 'string' || e.title === '') throw new Error(`examples/index.json[${i}].title: expected a non-empty string`);
    if (typeof e.description !== 'string') throw new Error(`examples/index.json[${i}].description: expected a string`);
    return { id: e.id, title: e.title, description: e.description };
  });
}

function pickFile(accept: string): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.style.display = 'none';
    input.addEventListener('change', () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve(null);
      input.remove();
    });
    document.body.append(input);
    input.click();
  });
}

/** Lets the user choose an .aps file; resolves with its name and bytes, or null. */
async function pickProject(): Promise<ProjectFile | null> {
  const file = await pickFile('.aps');
  if (!file) return null;
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** Lets the user choose a folder; resolves with its files (each with its path inside the folder), or null. */
function pickFolder(): Promise<File[] | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.webkitdirectory = true;
    input.style.display = 'none';
    input.addEventListener('change', () => {
      resolve(input.files ? Array.from(input.files) : null);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve(null);
      input.remove();
    });
    document.body.append(input);
    input.click();
  });
}

const IMAGE_FILE = /\.(png|jpe?g|bmp|gif|webp)$/i;

/**
 * The image files of a chosen folder under their class sub-folders ("cat/1.png"): the
 * browser reports paths from the chosen folder's name ("pets/cat/1.png").
 */
export function classImagePaths(relativePaths: string[]): { index: number; path: string }[] {
  const out: { index: number; path: string }[] = [];
  relativePaths.forEach((p, index) => {
    const parts = p.split('/').filter(Boolean);
    if (parts.length === 3 && IMAGE_FILE.test(parts[2]) && !parts[1].startsWith('.')) out.push({ index, path: `${parts[1]}/${parts[2]}` });
  });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function download(name: string, bytes: Uint8Array, mime: string): void {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load ${url.pathname}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function withApsExtension(name: string): string {
  return name.toLowerCase().endsWith('.aps') ? name : `${name}.aps`;
}

export function createWebHost(): HostApi {
  const engineListeners = new Set<(event: EngineEvent) => void>();
  const emit = (event: EngineEvent): void => {
    for (const listener of engineListeners) listener(event);
  };
  let worker: Worker | null = null;

  const examplesUrl = (file: string): URL => new URL(`examples/${file}`, document.baseURI);

  return {
    kind: 'web',

    // A browser has no project location to keep: opening and reading both pick a file.
    openProject: pickProject,

    readProjectFile: pickProject,

    async saveProject({ name, bytes }) {
      // A browser cannot write back to the opened file: every save is a download.
      const fileName = withApsExtension(name);
      download(fileName, bytes, 'application/x-aps-project');
      return { name: fileName };
    },

    async listExamples() {
      const response = await fetch(examplesUrl('index.json'));
      if (!response.ok) throw new Error(`Could not load the example list: HTTP ${response.status}`);
      return parseExampleIndex(await response.json());
    },

    async openExample(id) {
      if (!EXAMPLE_ID.test(id)) throw new Error(`"${id}" is not a valid example id`);
      return { name: `${id}.aps`, bytes: await fetchBytes(examplesUrl(`${id}.aps`)) };
    },

    async exportFile({ suggestedName, bytes }) {
      download(suggestedName, bytes, 'application/octet-stream');
    },

    async importData(kind): Promise<ImportedData | null> {
      if (kind !== 'images') {
        const file = await pickFile(kind === 'csv' ? '.csv,.tsv,text/csv' : '.txt,.md,text/plain');
        if (!file) return null;
        return { kind, name: file.name, files: [{ path: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }] };
      }
      const files = await pickFolder();
      if (!files || files.length === 0) return null;
      const chosen = classImagePaths(files.map((f) => f.webkitRelativePath || f.name));
      const name = (files[0].webkitRelativePath || files[0].name).split('/')[0];
      return { kind, name, files: await Promise.all(chosen.map(async ({ index, path }) => ({ path, bytes: new Uint8Array(await files[index].arrayBuffer()) }))) };
    },

    async listRecent(): Promise<RecentFile[]> {
      return [];
    },
    async openRecent() {
      return null;
    },
    async clearRecent() {},

    onProjectOpened(): Unsubscribe {
      // Nothing outside the page opens projects in a browser.
      return () => undefined;
    },

    onMenuCommand(callback: (command: MenuCommand) => void): Unsubscribe {
      // The browser has no application menu; the same shortcuts map to commands.
      const onKey = (ev: KeyboardEvent): void => {
        const command = shortcutCommand(ev);
        if (!command) return;
        // Text fields keep their own undo/redo.
        if ((command === 'undo' || command === 'redo') && isEditable(ev.target)) return;
        ev.preventDefault();
        callback(command);
      };
      window.addEventListener('keydown', onKey);
      return () => window.removeEventListener('keydown', onKey);
    },

    setTitle(title, dirty) {
      document.title = `${dirty ? '• ' : ''}${title ? `${title} - ` : ''}APS Studio`;
    },

    async startEngine() {
      if (worker) return;
      const started = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'aps-engine' });
      worker = started;
      started.onmessage = (ev: MessageEvent<EngineEvent>) => emit(ev.data);
      started.onmessageerror = () => emit({ type: 'engine-error', message: 'The engine sent a message that could not be read' });
      started.onerror = (ev: ErrorEvent) => {
        ev.preventDefault();
        // An uncaught error leaves the engine in an unknown state: end it like a crash.
        started.terminate();
        if (worker === started) worker = null;
        emit({ type: 'engine-error', message: `The engine worker crashed: ${ev.message || 'unknown error'}. Restart the engine to continue.` });
      };
    },

    postToEngine(message: EngineRequest) {
      if (!worker) {
        emit({ type: 'engine-error', message: `The engine is not running, so "${message.type}" was not sent. Start the engine first.` });
        return;
      }
      worker.postMessage(message);
    },

    onEngineEvent(callback) {
      engineListeners.add(callback);
      return () => {
        engineListeners.delete(callback);
      };
    },

    async stopEngine() {
      worker?.terminate();
      worker = null;
    },
  };
}

/** Keyboard shortcuts that mirror the desktop menu's accelerators. */
export function shortcutCommand(ev: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): MenuCommand | null {
  if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) return null;
  switch (ev.key.toLowerCase()) {
    case 's':
      return ev.shiftKey ? 'save-as' : 'save';
    case 'o':
      return ev.shiftKey ? null : 'open';
    case 'z':
      return ev.shiftKey ? 'redo' : 'undo';
    case 'y':
      return ev.shiftKey ? null : 'redo';
    case 'e':
      return ev.shiftKey ? null : 'export-weights';
    default:
      return null;
  }
}

function isEditable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement);
}
