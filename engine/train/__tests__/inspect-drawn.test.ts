import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { compileGraph } from '../../graph/compile.ts';
import { inspect } from '../inspect.ts';
import { withTrainingDefaults } from '../settings.ts';
import { Trainer } from '../trainer.ts';
import { mlp } from './helpers.ts';

describe('inspecting a sample drawn by hand', () => {
  it('feeds the drawn values in place of the split sample, and refuses the wrong size', async () => {
    const data = splitDataset(await loadDataset('xor', { samples: 40 }), { train: 0.5, val: 0.25, test: 0.25 }, new Generator(0));
    const t = new Trainer({ model: compileGraph(mlp(8, 2), { seed: 0 }), data, settings: withTrainingDefaults({ epochs: 1 }) });
    const ctx = { model: t.model, plan: t.plan, data };
    const inputId = t.model.inputIds[0];
    const drawn = inspect(ctx, { kind: 'activations', nodeId: inputId, sample: { split: 'test', index: 0, values: [0.25, -0.5] } });
    expect(drawn).toMatchObject({ kind: 'activations', shape: [2], values: [0.25, -0.5] });
    const fromSplit = inspect(ctx, { kind: 'activations', nodeId: inputId, sample: { split: 'test', index: 0 } });
    if (fromSplit.kind === 'activations') expect(fromSplit.values).toEqual(Array.from(data.test.inputs.subarray(0, 2)));
    expect(() => inspect(ctx, { kind: 'activations', nodeId: inputId, sample: { split: 'test', index: 0, values: [1, 2, 3] } })).toThrow('A drawn sample needs 2 finite values (shape [2]), got 3');
  });
});
