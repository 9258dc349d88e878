import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import type { HostApi } from '../../main/api/host-api.ts';
import type { EditorState, EditorStore } from '../store/store.ts';
import type { GraphAnalysis } from './analysis.ts';
import { analyse } from './catalogue.ts';

export interface EditorContextValue {
  store: EditorStore;
  host: HostApi;
  /** Shows a short message in the status bar (refused edits, undo names, file outcomes). */
  notify: (message: string) => void;
}

const Context = createContext<EditorContextValue | null>(null);

export function EditorProvider({ value, children }: { value: EditorContextValue; children: ReactNode }) {
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useEditor(): EditorContextValue {
  const value = useContext(Context);
  if (!value) throw new Error('useEditor() must be used inside <EditorProvider>');
  return value;
}

/** Subscribes to one slice of the editor state; the selector must return stored references. */
export function useEditorState<T>(select: (state: EditorState) => T): T {
  const { store } = useEditor();
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

/** Shape inference for the current graph, recomputed only when the graph changes. */
export function useAnalysis(): GraphAnalysis {
  const graph = useEditorState((s) => s.doc.graph);
  return useMemo(() => analyse(graph), [graph]);
}
