import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../../engine/io/safetensors.ts';
import { stateOf, weightsFile } from '../export-files.ts';

describe('stateOf', () => {
  it('turns a saved weights file back into the state dict it was made from', () => {
    const state = [
      { name: 'conv.weight', shape: [2, 1, 1, 2], values: [0.5, -1.25, 3, 0.125] },
      { name: 'bn.num_batches_tracked', shape: [], values: [17] },
      { name: 'fc.bias', shape: [3], values: [1, 2, -3] },
    ];
    // Through the bytes a project keeps, as after saving and reopening.
    const reopened = readSafetensors(writeSafetensors(weightsFile(state).tensors));
    expect(reopened.tensors.get('bn.num_batches_tracked')!.dtype).toBe('I64');
    expect(stateOf(reopened)).toEqual(state);
  });
});
