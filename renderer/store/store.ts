/**
 * The editor's single store. It holds the document as plain data, the selection and the
 * undo history. `dispatch` runs a named action; the action's `capture` decides how the
 * change enters history. Views subscribe with `useSyncExternalStore`.
 */
import type { Action, ActionContext } from './actions.ts';
import { emptyDocument, type ProjectDocument } from './document.ts';
import type { LayerServices } from './services.ts';

export interface HistoryEntry {
  name: string;
  before: ProjectDocument;
  after: ProjectDocument;
  selectionBefore: string[];
  selectionAfter: string[];
}

export interface EditorState {
  doc: ProjectDocument;
  selection: string[];
  past: HistoryEntry[];
  future: HistoryEntry[];
  /** The document as last saved or opened; the project is dirty when `doc` differs from it. */
  saved: ProjectDocument;
  /** The document before a run of `eventually` actions that `commit` will close. */
  pending: { before: ProjectDocument; selection: string[]; name: string } | null;
  /** Counts documents loaded (New, Open, restore), so views can reset their viewport. */
  loads: number;
}

export type DispatchResult = { ok: true } | { ok: false; message: string };

export const HISTORY_LIMIT = 200;

export interface EditorStore {
  getState(): EditorState;
  subscribe(listener: () => void): () => void;
  dispatch<A>(action: Action<A>, args: A): DispatchResult;
  /** Closes a run of `eventually` actions (a drag) into one history entry. */
  commit(): void;
  undo(): string | null;
  redo(): string | null;
  select(ids: string[]): void;
  /** Replaces the document (New, Open, restore); clears history; the result is not dirty unless `dirty`. */
  load(doc: ProjectDocument, options?: { dirty?: boolean }): void;
  /** Marks the current document as saved. */
  markSaved(): void;
  readonly layers: LayerServices;
}

export function isDirty(state: EditorState): boolean {
  return state.doc !== state.saved;
}

export function createEditorStore(layers: LayerServices, initial: ProjectDocument = emptyDocument()): EditorStore {
  let state: EditorState = { doc: initial, selection: [], past: [], future: [], saved: initial, pending: null, loads: 0 };
  const listeners = new Set<() => void>();
  const set = (next: EditorState): void => {
    state = next;
    for (const l of listeners) l();
  };

  const pushEntry = (s: EditorState, entry: HistoryEntry): HistoryEntry[] => [...s.past, entry].slice(-HISTORY_LIMIT);

  const commit = (): void => {
    const p = state.pending;
    if (!p) return;
    if (p.before === state.doc) {
      set({ ...state, pending: null });
      return;
    }
    const entry = { name: p.name, before: p.before, after: state.doc, selectionBefore: p.selection, selectionAfter: state.selection };
    set({ ...state, pending: null, past: pushEntry(state, entry), future: [] });
  };

  return {
    layers,
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispatch(action, args) {
      if (action.capture !== 'eventually') commit();
      const ctx: ActionContext = { layers, selection: state.selection };
      const result = action.perform(state.doc, args, ctx);
      if (typeof result === 'string') return { ok: false, message: result };
      const name = typeof action.name === 'function' ? action.name(args, state.doc) : action.name;
      const selection = result.selection ?? state.selection;
      switch (action.capture) {
        case 'immediately': {
          const entry = { name, before: state.doc, after: result.doc, selectionBefore: state.selection, selectionAfter: selection };
          set({ ...state, doc: result.doc, selection, past: pushEntry(state, entry), future: [] });
          break;
        }
        case 'eventually':
          set({ ...state, doc: result.doc, selection, pending: state.pending ?? { before: state.doc, selection: state.selection, name } });
          break;
        case 'never':
          set({ ...state, doc: result.doc, selection });
          break;
      }
      return { ok: true };
    },
    commit,
    undo() {
      commit();
      const entry = state.past.at(-1);
      if (!entry) return null;
      set({ ...state, doc: entry.before, selection: entry.selectionBefore, past: state.past.slice(0, -1), future: [entry, ...state.future] });
      return entry.name;
    },
    redo() {
      commit();
      const entry = state.future[0];
      if (!entry) return null;
      set({ ...state, doc: entry.after, selection: entry.selectionAfter, past: [...state.past, entry], future: state.future.slice(1) });
      return entry.name;
    },
    select(ids) {
      const same = ids.length === state.selection.length && ids.every((id, i) => id === state.selection[i]);
      if (!same) set({ ...state, selection: ids });
    },
    load(doc, options) {
      const saved = options?.dirty ? { ...doc } : doc;
      set({ doc, selection: [], past: [], future: [], saved, pending: null, loads: state.loads + 1 });
    },
    markSaved() {
      commit();
      set({ ...state, saved: state.doc });
    },
  };
}
