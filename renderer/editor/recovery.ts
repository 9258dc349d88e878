/**
 * Autosave to a recovery slot, so that work survives a crash or a closed window. The slot
 * holds the document as plain data and is cleared by every save and by a clean exit.
 */
import { parseProjectJson, projectJson } from '../../engine/io/project.ts';
import type { ProjectDocument } from '../store/document.ts';

export const RECOVERY_KEY = 'aps-studio.recovery';

export interface Recovery {
  fileName: string;
  savedAt: string;
  doc: ProjectDocument;
}

export function writeRecovery(storage: Storage, fileName: string, doc: ProjectDocument, now = new Date()): void {
  const json = projectJson({ name: doc.name, graph: doc.graph, data: doc.data, training: doc.training, ui: doc.ui });
  storage.setItem(RECOVERY_KEY, JSON.stringify({ fileName, savedAt: now.toISOString(), project: json }));
}

/** The recovery slot's content, or null if it is empty or cannot be read (it is then cleared). */
export function readRecovery(storage: Storage): Recovery | null {
  const text = storage.getItem(RECOVERY_KEY);
  if (!text) return null;
  try {
    const v = JSON.parse(text) as { fileName?: unknown; savedAt?: unknown; project?: unknown };
    if (typeof v.fileName !== 'string' || typeof v.savedAt !== 'string') throw new Error('missing file name or time');
    const p = parseProjectJson(v.project);
    return { fileName: v.fileName, savedAt: v.savedAt, doc: { name: p.name, graph: p.graph, data: p.data, training: p.training, ui: p.ui } };
  } catch {
    storage.removeItem(RECOVERY_KEY);
    return null;
  }
}

export function clearRecovery(storage: Storage): void {
  storage.removeItem(RECOVERY_KEY);
}
