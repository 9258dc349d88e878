import { describe, expect, it } from 'vitest';
import type { DatasetMeta } from '../../../engine/data/dataset.ts';
import { classBalance } from '../DataPanel.tsx';
import type { DataPreviewResult } from '../useTrainingSession.ts';

const meta: DatasetMeta = { id: 'd', name: 'Digits', description: '', task: 'classification', inputShape: [1, 2, 2], inputDtype: 'float32', targetShape: [], targetDtype: 'int32', numClasses: 3, classNames: ['a', 'b', 'c'], preview: 'image' };

function result(extra: Partial<DataPreviewResult> = {}): DataPreviewResult {
  return { meta, length: 10, preview: { kind: 'image', width: 2, height: 2, channels: 1, samples: [] }, splits: { train: 6, val: 2, test: 2 }, ...extra };
}

describe('class balance in the Data panel', () => {
  const classCounts = { classNames: ['a', 'b', 'c'], total: [5, 3, 2], splits: { train: [3, 2, 1], val: [1, 1, 0], test: [1, 0, 1] } };

  it('shows the engine counts over the whole dataset before any run', () => {
    expect(classBalance(result({ classCounts }), null)).toEqual({ counts: [5, 3, 2], of: 'all 10 samples', classNames: ['a', 'b', 'c'] });
  });

  it('shows one split when asked', () => {
    expect(classBalance(result({ classCounts }), null, 'train')).toMatchObject({ counts: [3, 2, 1], of: 'train split, 6 samples' });
    expect(classBalance(result({ classCounts }), null, 'val')).toMatchObject({ counts: [1, 1, 0], of: 'validation split, 2 samples' });
  });

  it('falls back to the last run\'s test support, and to nothing without counts', () => {
    expect(classBalance(result(), [1, 2, 3])).toMatchObject({ counts: [1, 2, 3], of: 'test split of the last run' });
    expect(classBalance(result(), null)).toBeNull();
  });
});
