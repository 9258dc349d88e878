import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { compileGraph } from '../../graph/compile.ts';
import { withTrainingDefaults } from '../settings.ts';
import { Trainer } from '../trainer.ts';
import { classifier, node } from './helpers.ts';

describe('training on graph datasets', () => {
  it('a GCN with a readout classifies whole molecule-like graphs', async () => {
    const ds = await loadDataset('molecules', { graphs: 120 });
    const data = splitDataset(ds, { train: 0.7, val: 0.15, test: 0.15 }, new Generator(0));
    const g = classifier([
      node('input', 'GraphInput', { node_features: 4 }),
      node('gcn1', 'GCNConv', { out_channels: 16 }),
      node('act', 'ReLU'),
      node('readout', 'GraphReadout', { reduce: 'mean' }),
      node('out', 'Linear', { out_features: 2 }),
    ]);
    const t = new Trainer({ model: compileGraph(g), data, settings: withTrainingDefaults({ epochs: 2, batchSize: 16 }) });
    const r = await t.run();
    expect(r.status).toBe('completed');
    expect(r.history[1].train.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(data.train.length);
    expect(r.testMetrics!.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(data.test.length);
    expect(r.history[1].train.loss).toBeLessThan(r.history[0].train.loss);
  });
});
