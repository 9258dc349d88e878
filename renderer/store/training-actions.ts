/**
 * Actions of the data and training panels: they change the project's `data` and
 * `training` settings (plain JSON in the `.aps` file) through the same store and undo
 * history as graph edits. Settings are read with their defaults filled in, so a project
 * that never saved any still shows and trains with sensible values.
 */
import {
  type DataSettings,
  type PartialDataSettings,
  type PartialTrainingSettings,
  type TrainingSettings,
  validateDataSettings,
  validateTrainingSettings,
  withDataDefaults,
  withTrainingDefaults,
} from '../../engine/train/settings.ts';
import type { Action } from './actions.ts';
import type { ProjectDocument } from './document.ts';

export function dataSettingsOf(doc: ProjectDocument): DataSettings {
  return withDataDefaults(doc.data as PartialDataSettings);
}

export function trainingSettingsOf(doc: ProjectDocument): TrainingSettings {
  return withTrainingDefaults(doc.training as PartialTrainingSettings);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Replaces the data settings with `settings` (already complete). Invalid settings are
 * refused with the first problem, so the project never holds settings the engine rejects.
 */
export const setDataSettings: Action<{ settings: DataSettings; what?: string }> = {
  name: ({ what }) => `Change ${what ?? 'data settings'}`,
  capture: 'immediately',
  perform(doc, { settings }) {
    const problems = validateDataSettings(settings);
    if (problems.length > 0) return `Data settings: ${problems[0]}`;
    if (same(settings, dataSettingsOf(doc))) return 'The data settings are unchanged.';
    return { doc: { ...doc, data: structuredClone(settings) as unknown as Record<string, unknown> } };
  },
};

export const setTrainingSettings: Action<{ settings: TrainingSettings; what?: string }> = {
  name: ({ what }) => `Change ${what ?? 'training settings'}`,
  capture: 'immediately',
  perform(doc, { settings }) {
    const problems = validateTrainingSettings(settings);
    if (problems.length > 0) return `Training settings: ${problems[0]}`;
    if (same(settings, trainingSettingsOf(doc))) return 'The training settings are unchanged.';
    return { doc: { ...doc, training: structuredClone(settings) as unknown as Record<string, unknown> } };
  },
};

/**
 * Trained weights and run history live beside the document (they are not undoable edits);
 * this marks the project as changed so the unsaved-changes marker and prompt cover them.
 */
export const noteTrainedWeights: Action<Record<string, never>> = {
  name: 'Train',
  capture: 'never',
  perform(doc) {
    return { doc: { ...doc } };
  },
};
