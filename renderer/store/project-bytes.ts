/**
 * Between `.aps` bytes and the editor's document. The file format is engine/io's; this
 * only splits off what the editor does not edit (trained and imported weights, run history) so that
 * it is written back unchanged on save.
 */
import { readProject, writeProject, type Project } from '../../engine/io/project.ts';
import type { ProjectDocument } from './document.ts';

/** Parts of a project the editor carries but does not edit. */
export type ProjectExtras = Pick<Project, 'weights' | 'pretrained' | 'history'>;

export function documentFromBytes(bytes: Uint8Array): { doc: ProjectDocument; extras: ProjectExtras } {
  const p = readProject(bytes);
  return {
    doc: { name: p.name, graph: p.graph, data: p.data, training: p.training, ui: { positions: p.ui.positions, expanded: p.ui.expanded, ...(p.ui.viewport ? { viewport: p.ui.viewport } : {}) } },
    extras: { weights: p.weights, pretrained: p.pretrained, history: p.history },
  };
}

export function documentToBytes(doc: ProjectDocument, extras: ProjectExtras = {}): Uint8Array {
  const project: Project = { name: doc.name, graph: doc.graph, data: doc.data, training: doc.training, ui: doc.ui };
  if (extras.weights) project.weights = extras.weights;
  if (extras.pretrained) project.pretrained = extras.pretrained;
  if (extras.history) project.history = extras.history;
  return writeProject(project);
}
