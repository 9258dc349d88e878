import { useCallback, useEffect, useRef, useState } from 'react';
import type { HostApi, MenuCommand, ProjectFile, RecentFile } from '../../main/api/host-api.ts';
import { emptyDocument, type ProjectDocument } from '../store/document.ts';
import { documentFromBytes, documentToBytes, type ProjectExtras } from '../store/project-bytes.ts';
import { isDirty, type EditorStore } from '../store/store.ts';
import { clearRecovery, readRecovery, writeRecovery, type Recovery } from './recovery.ts';
import { STARTER_EXAMPLE } from './starter.ts';

export const UNTITLED = 'Untitled.aps';
const LAUNCHED_KEY = 'aps-studio.launched';
const AUTOSAVE_DELAY_MS = 800;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stem(fileName: string): string {
  return fileName.replace(/\.aps$/i, '');
}

export interface ProjectController {
  fileName: string;
  dirty: boolean;
  recent: RecentFile[];
  /** A recovered document waiting for the user to restore or discard it. */
  recovery: Recovery | null;
  runCommand: (command: MenuCommand) => void;
  openRecent: (id: string) => void;
  openExample: (id: string) => void;
  restoreRecovery: () => void;
  discardRecovery: () => void;
  /** Trained weights and run history carried with the project (the training panels read and set them). */
  getExtras: () => ProjectExtras;
  setExtras: (more: ProjectExtras) => void;
}

/**
 * The project's life: New, Open, Open Recent, Save, Save As, examples, the unsaved-work
 * prompt, the title, autosave to the recovery slot and the first-launch starter project.
 */
export function useProject(host: HostApi, store: EditorStore, notify: (message: string) => void, storage: Storage = window.localStorage): ProjectController {
  const [fileName, setFileName] = useState(UNTITLED);
  const [dirty, setDirty] = useState(false);
  const [recent, setRecent] = useState<RecentFile[]>([]);
  const [recovery, setRecovery] = useState<Recovery | null>(null);
  const extras = useRef<ProjectExtras>({});
  const fileNameRef = useRef(fileName);
  fileNameRef.current = fileName;

  const refreshRecent = useCallback(() => {
    host.listRecent().then(setRecent, () => setRecent([]));
  }, [host]);

  const confirmDiscard = useCallback(
    (what: string): boolean => !isDirty(store.getState()) || window.confirm(`${fileNameRef.current} has unsaved changes. ${what} and lose them?`),
    [store],
  );

  // Counts documents loaded, so that a starter project arriving late never replaces one the user chose.
  const loads = useRef(0);
  const loadDocument = useCallback(
    (doc: ProjectDocument, name: string, more: ProjectExtras = {}, options?: { dirty?: boolean }) => {
      loads.current++;
      extras.current = more;
      store.load(doc, options);
      setFileName(name);
    },
    [store],
  );

  const openFile = useCallback(
    (file: ProjectFile) => {
      try {
        const { doc, extras: more } = documentFromBytes(file.bytes);
        loadDocument(doc, file.name, more);
        notify(`Opened ${file.name}`);
        refreshRecent();
      } catch (err) {
        notify(`Could not open ${file.name}: ${errorText(err)}`);
      }
    },
    [loadDocument, notify, refreshRecent],
  );

  const save = useCallback(
    (saveAs: boolean) => {
      const doc = store.getState().doc;
      let bytes: Uint8Array;
      try {
        bytes = documentToBytes(doc, extras.current);
      } catch (err) {
        notify(errorText(err));
        return;
      }
      host.saveProject({ name: fileNameRef.current, bytes, saveAs }).then(
        (saved) => {
          if (!saved) return;
          // Only what was written counts as saved; edits made meanwhile stay unsaved.
          if (store.getState().doc === doc) store.markSaved();
          setFileName(saved.name);
          clearRecovery(storage);
          notify(`Saved ${saved.name}`);
          refreshRecent();
        },
        (err: unknown) => notify(`Could not save: ${errorText(err)}`),
      );
    },
    [host, store, notify, refreshRecent, storage],
  );

  const openExample = useCallback(
    (id: string) => {
      if (!confirmDiscard('Open the example')) return;
      host.openExample(id).then(openFile, (err: unknown) => notify(`Could not open the example: ${errorText(err)}`));
    },
    [host, openFile, notify, confirmDiscard],
  );

  const runCommand = useCallback(
    (command: MenuCommand) => {
      switch (command) {
        case 'new':
          if (!confirmDiscard('Start a new project')) return;
          loadDocument(emptyDocument(stem(UNTITLED)), UNTITLED);
          notify('New project');
          return;
        case 'open':
          if (!confirmDiscard('Open another project')) return;
          host.openProject().then((file) => file && openFile(file), (err: unknown) => notify(`Could not open: ${errorText(err)}`));
          return;
        case 'save':
        case 'save-as':
          save(command === 'save-as');
          return;
        case 'undo': {
          const name = store.undo();
          notify(name ? `Undo ${name}` : 'Nothing to undo');
          return;
        }
        case 'redo': {
          const name = store.redo();
          notify(name ? `Redo ${name}` : 'Nothing to redo');
          return;
        }
        case 'examples':
        case 'export-weights':
        case 'import-layers':
          // The shell handles these.
          return;
      }
    },
    [confirmDiscard, loadDocument, notify, host, openFile, save, store],
  );

  const openRecent = useCallback(
    (id: string) => {
      if (!confirmDiscard('Open another project')) return;
      host.openRecent(id).then(
        (file) => {
          if (file) openFile(file);
          else {
            notify('That file no longer exists; it was removed from the recent list.');
            refreshRecent();
          }
        },
        (err: unknown) => notify(`Could not open: ${errorText(err)}`),
      );
    },
    [host, openFile, notify, refreshRecent, confirmDiscard],
  );

  // Dirty marker, title and autosave follow the store.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastDoc = store.getState().doc;
    const unsubscribe = store.subscribe(() => {
      const state = store.getState();
      setDirty(isDirty(state));
      if (state.doc === lastDoc) return;
      lastDoc = state.doc;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const now = store.getState();
        if (isDirty(now)) writeRecovery(storage, fileNameRef.current, now.doc);
        else clearRecovery(storage);
      }, AUTOSAVE_DELAY_MS);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [store, storage]);

  useEffect(() => host.setTitle(fileName, dirty), [host, fileName, dirty]);
  useEffect(() => host.onProjectOpened((file) => confirmDiscard('Open another project') && openFile(file)), [host, openFile, confirmDiscard]);

  useEffect(() => {
    const onBeforeUnload = (ev: BeforeUnloadEvent): void => {
      if (isDirty(store.getState())) ev.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [store]);

  // Start-up: offer a recovered document; on the first launch open the starter project.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    refreshRecent();
    const found = readRecovery(storage);
    if (found) {
      setRecovery(found);
      return;
    }
    if (storage.getItem(LAUNCHED_KEY)) return;
    storage.setItem(LAUNCHED_KEY, '1');
    // Without the bundled starter the app stays on an empty project and says why.
    const missing = (reason: string): void => notify(`The starter project "${STARTER_EXAMPLE}" could not be opened (${reason}); starting with an empty project`);
    const loadsAtStart = loads.current;
    const untouched = (): boolean => loads.current === loadsAtStart && !isDirty(store.getState());
    host.listExamples().then(
      (list) => {
        if (!list.some((e) => e.id === STARTER_EXAMPLE)) return missing('it is not among the bundled examples');
        host.openExample(STARTER_EXAMPLE).then(
          (file) => {
            // Someone who already started or opened a project keeps it.
            if (!untouched()) return;
            // The starter is a template: edits are saved under a new name.
            const { doc, extras: more } = documentFromBytes(file.bytes);
            loadDocument(doc, UNTITLED, more);
          },
          (err: unknown) => missing(errorText(err)),
        );
      },
      (err: unknown) => missing(errorText(err)),
    );
  }, [host, store, storage, loadDocument, refreshRecent, notify]);

  const restoreRecovery = useCallback(() => {
    if (!recovery) return;
    loadDocument(recovery.doc, recovery.fileName, {}, { dirty: true });
    setDirty(true);
    setRecovery(null);
    notify(`Restored unsaved work on ${recovery.fileName}`);
  }, [recovery, loadDocument, notify]);

  const discardRecovery = useCallback(() => {
    clearRecovery(storage);
    setRecovery(null);
  }, [storage]);

  const getExtras = useCallback(() => extras.current, []);
  const setExtras = useCallback((more: ProjectExtras) => {
    extras.current = { ...extras.current, ...more };
  }, []);

  return { fileName, dirty, recent, recovery, runCommand, openRecent, openExample, restoreRecovery, discardRecovery, getExtras, setExtras };
}
