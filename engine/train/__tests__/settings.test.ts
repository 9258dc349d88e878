import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAINING_SETTINGS, validateDataSettings, validateTrainingSettings, withDataDefaults, withTrainingDefaults } from '../settings.ts';

describe('settings', () => {
  it('fills defaults field by field and validates cleanly', () => {
    const s = withTrainingDefaults({ epochs: 5, optimizer: { type: 'sgd', momentum: 0.9 }, earlyStopping: { metric: 'f1' } });
    expect(s.epochs).toBe(5);
    expect(s.batchSize).toBe(DEFAULT_TRAINING_SETTINGS.batchSize);
    expect(s.optimizer).toMatchObject({ type: 'sgd', momentum: 0.9, lr: 1e-3, betas: [0.9, 0.999] });
    expect(s.earlyStopping).toEqual({ metric: 'f1', patience: 5, mode: 'max', minDelta: 0, restoreBest: true });
    expect(validateTrainingSettings(s)).toEqual([]);
    expect(validateDataSettings(withDataDefaults({}))).toEqual([]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('names every bad field with its value', () => {
    const s = withTrainingDefaults({ batchSize: 2.5, optimizer: { type: 'adagrad' as 'sgd', betas: [0.9, 1.2] }, schedule: { type: 'step', stepSize: 0, gamma: 0.5 }, clipNorm: -1 });
    expect(validateTrainingSettings(s)).toEqual([
      'batchSize must be a whole number of at least 1, got 2.5',
      'optimizer.type must be one of sgd, adam, adamw, rmsprop, got "adagrad"',
      'optimizer.betas must be two numbers in [0, 1), got [0.9,1.2]',
      'schedule.stepSize must be a whole number of at least 1, got 0',
      'clipNorm must be a number above 0 or null, got -1',
    ]);
    const d = withDataDefaults({ split: { train: 0, val: 0.5, test: 0.5 }, limit: 1, augmentation: [{ type: 'flip', p: 3 }], source: { kind: 'images', folder: 'x', width: 0, height: 8, channels: 2 as 1 } });
    expect(validateDataSettings(d)).toEqual([
      'source.width and height must be whole numbers of at least 1, got 0x8',
      'source.channels must be 1 or 3, got 2',
      'split.train must be above 0',
      'limit must be a whole number of at least 2 or null, got 1',
      'augmentation[0] flip: p must be a number from 0 to 1, got 3',
    ]);
  });
});
