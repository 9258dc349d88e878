import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_SETTINGS, DEFAULT_TRAINING_SETTINGS } from '../../../engine/train/settings.ts';
import { emptyDocument } from '../../store/document.ts';
import type { LayerServices } from '../../store/services.ts';
import { createEditorStore, isDirty } from '../../store/store.ts';
import { dataSettingsOf, noteTrainedWeights, setDataSettings, setTrainingSettings, trainingSettingsOf } from '../../store/training-actions.ts';

// The settings actions never consult the layer catalogue.
const noLayers = {} as LayerServices;

describe('training and data settings actions', () => {
  it('reads defaults from a project that saved no settings', () => {
    const doc = emptyDocument();
    expect(trainingSettingsOf(doc)).toEqual(DEFAULT_TRAINING_SETTINGS);
    expect(dataSettingsOf(doc)).toEqual(DEFAULT_DATA_SETTINGS);
  });

  it('changes the learning rate as one undoable, dirtying edit', () => {
    const store = createEditorStore(noLayers);
    const before = trainingSettingsOf(store.getState().doc);
    const settings = { ...before, optimizer: { ...before.optimizer, lr: 0.05 } };
    expect(store.dispatch(setTrainingSettings, { settings, what: 'learning rate' })).toEqual({ ok: true });
    expect(trainingSettingsOf(store.getState().doc).optimizer.lr).toBe(0.05);
    expect(isDirty(store.getState())).toBe(true);
    expect(store.undo()).toBe('Change learning rate');
    expect(trainingSettingsOf(store.getState().doc).optimizer.lr).toBe(before.optimizer.lr);
  });

  it('refuses invalid settings with the field and value, leaving the project alone', () => {
    const store = createEditorStore(noLayers);
    const doc = store.getState().doc;
    const result = store.dispatch(setTrainingSettings, { settings: { ...trainingSettingsOf(doc), batchSize: 0 } });
    expect(result).toEqual({ ok: false, message: 'Training settings: batchSize must be a whole number of at least 1, got 0' });
    expect(store.getState().doc).toBe(doc);
    const bad = store.dispatch(setDataSettings, { settings: { ...dataSettingsOf(doc), split: { train: 0, val: 0.5, test: 0.5 } } });
    expect(bad.ok).toBe(false);
    expect(store.getState().past).toHaveLength(0);
  });

  it('stores a chosen dataset and its limit in the project data', () => {
    const store = createEditorStore(noLayers);
    const settings = { ...dataSettingsOf(store.getState().doc), source: { kind: 'builtin' as const, id: 'mnist', options: { samples: 2000 } }, limit: 500 };
    expect(store.dispatch(setDataSettings, { settings }).ok).toBe(true);
    expect(store.getState().doc.data).toMatchObject({ source: { kind: 'builtin', id: 'mnist' }, limit: 500 });
    expect(store.dispatch(setDataSettings, { settings })).toEqual({ ok: false, message: 'The data settings are unchanged.' });
  });

  it('marks the project changed when training leaves new weights, without an undo entry', () => {
    const store = createEditorStore(noLayers);
    expect(isDirty(store.getState())).toBe(false);
    expect(store.dispatch(noteTrainedWeights, {})).toEqual({ ok: true });
    expect(isDirty(store.getState())).toBe(true);
    expect(store.getState().past).toHaveLength(0);
    store.markSaved();
    expect(isDirty(store.getState())).toBe(false);
  });
});
