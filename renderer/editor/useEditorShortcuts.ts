import { useEffect } from 'react';
import type { EditorStore } from '../store/store.ts';

export interface ShortcutHandlers {
  copy: () => void;
  cut: () => void;
  paste: () => void;
  duplicate: () => void;
  selectAll: () => void;
  clearSelection: () => void;
  group: () => void;
  ungroup: () => void;
  arrange: () => void;
  fit: () => void;
}

function isEditable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/**
 * Editor keyboard shortcuts (undo and redo come through HostApi's menu commands).
 * Ctrl/Cmd+C, X, V, D, A; Ctrl/Cmd+G group, Shift+Ctrl/Cmd+G ungroup; Shift+Ctrl/Cmd+L arrange;
 * Shift+1 zoom to fit; Escape clears the selection.
 */
export function useEditorShortcuts(store: EditorStore, h: ShortcutHandlers): void {
  useEffect(() => {
    const onKey = (ev: KeyboardEvent): void => {
      if (isEditable(ev.target)) return;
      const mod = ev.ctrlKey || ev.metaKey;
      const key = ev.key.toLowerCase();
      let run: (() => void) | null = null;
      if (mod && !ev.altKey) {
        if (key === 'c' && !ev.shiftKey) run = h.copy;
        else if (key === 'x' && !ev.shiftKey) run = h.cut;
        else if (key === 'v' && !ev.shiftKey) run = h.paste;
        else if (key === 'd' && !ev.shiftKey) run = h.duplicate;
        else if (key === 'a' && !ev.shiftKey) run = h.selectAll;
        else if (key === 'g') run = ev.shiftKey ? h.ungroup : h.group;
        else if (key === 'l' && ev.shiftKey) run = h.arrange;
      } else if (!mod && !ev.altKey) {
        if (ev.key === 'Escape') run = h.clearSelection;
        else if (ev.key === '!' || (ev.shiftKey && ev.code === 'Digit1')) run = h.fit;
      }
      if (!run) return;
      ev.preventDefault();
      run();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store, h]);
}
