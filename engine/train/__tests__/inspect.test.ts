import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { useNodeMnistFiles } from '../../data/mnist.node.ts';
import { splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { compileGraph } from '../../graph/compile.ts';
import { inspect, pca } from '../inspect.ts';
import { withTrainingDefaults } from '../settings.ts';
import { Trainer } from '../trainer.ts';
import { classifier, node } from './helpers.ts';

useNodeMnistFiles();

function cnn() {
  return classifier([
    node('input', 'ImageInput', { channels: 1, height: 28, width: 28 }),
    node('conv1', 'Conv2d', { out_channels: 4, kernel_size: [3], padding: [1] }),
    node('relu1', 'ReLU'),
    node('pool1', 'MaxPool2d', { kernel_size: [2] }),
    node('conv2', 'Conv2d', { out_channels: 8, kernel_size: [3], padding: [1] }),
    node('relu2', 'ReLU'),
    node('pool2', 'MaxPool2d', { kernel_size: [2] }),
    node('flatten', 'Flatten'),
    node('fc1', 'Linear', { out_features: 32 }),
    node('relu3', 'ReLU'),
    node('out', 'Linear', { out_features: 10 }),
  ]);
}

describe('CNN on MNIST and inspection', () => {
  it('a small CNN reaches >= 80% test accuracy on 1200 digits; every inspection has the right shape', async () => {
    const ds = await loadDataset('mnist', { samples: 1200 });
    const data = splitDataset(ds, { train: 0.8, val: 0.1, test: 0.1 }, new Generator(0));
    const settings = withTrainingDefaults({ epochs: 4, batchSize: 16, optimizer: { type: 'adam', lr: 0.006 }, seed: 0 });
    const t = new Trainer({ model: compileGraph(cnn(), { seed: 0 }), data, settings });
    const r = await t.run();
    expect(r.status).toBe('completed');
    expect(r.testMetrics!.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(r.testMetrics!.confusion).toHaveLength(10);

    const ctx = { model: t.model, plan: t.plan, data };
    const act = inspect(ctx, { kind: 'activations', nodeId: 'conv1', sample: { split: 'test', index: 0 } });
    expect(act).toMatchObject({ kind: 'activations', shape: [4, 28, 28], featureMaps: true });
    if (act.kind === 'activations') expect(act.values).toHaveLength(4 * 28 * 28);
    const fc = inspect(ctx, { kind: 'activations', nodeId: 'fc1', sample: { split: 'val', index: 3 } });
    expect(fc).toMatchObject({ shape: [32], featureMaps: false });

    const filters = inspect(ctx, { kind: 'filters', nodeId: 'conv2' });
    expect(filters).toMatchObject({ kind: 'filters', shape: [8, 4, 3, 3] });
    if (filters.kind === 'filters') expect(filters.values).toEqual(Array.from(t.model.nodeModule('conv2')!.getParameter('weight')!.dataSync()));
    expect(() => inspect(ctx, { kind: 'filters', nodeId: 'relu1' })).toThrow(/"relu1" \(ReLU\) has no convolution filters/);

    const before = t.model.parameters().map((p) => Array.from(p.dataSync()));
    const sal = inspect(ctx, { kind: 'saliency', sample: { split: 'test', index: 1 } });
    expect(sal.kind).toBe('saliency');
    if (sal.kind === 'saliency') {
      expect(sal.shape).toEqual([1, 28, 28]);
      expect(sal.map.shape).toEqual([28, 28]);
      expect(sal.classIndex).toBe(sal.predicted);
      expect(Math.max(...sal.values)).toBeGreaterThan(0);
      expect(sal.values.every((v) => v >= 0)).toBe(true);
    }
    const sal3 = inspect(ctx, { kind: 'saliency', sample: { split: 'test', index: 1 }, classIndex: 3 });
    if (sal3.kind === 'saliency') expect(sal3.classIndex).toBe(3);
    expect(t.model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(before);
    expect(t.model.parameters().every((p) => p.requiresGrad)).toBe(true);

    const emb = inspect(ctx, { kind: 'embeddings', nodeId: 'fc1', split: 'test', count: 50 });
    expect(emb.kind).toBe('embeddings');
    if (emb.kind === 'embeddings') {
      expect(emb.points).toHaveLength(50);
      expect(emb.labels).toEqual(Array.from(data.test.targets.subarray(0, 50)));
      expect(emb.dimension).toBe(32);
      expect(emb.explainedVariance[0]).toBeGreaterThanOrEqual(emb.explainedVariance[1]);
      expect(emb.explainedVariance[0] + emb.explainedVariance[1]).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(() => inspect(ctx, { kind: 'activations', nodeId: 'conv1', sample: { split: 'test', index: 10_000 } })).toThrow(/the test split has 120 samples/);
  }, 60_000);

  it('attention weights per head of a transformer encoder layer sum to 1 over keys', async () => {
    const ds = await loadDataset('sine-frequency', { samples: 60, seqLen: 12 });
    const data = splitDataset(ds, { train: 0.8, val: 0.2, test: 0 }, new Generator(0));
    const g = classifier([
      node('input', 'SequenceInput', { length: 12, features: 1 }),
      node('proj', 'Linear', { out_features: 8 }),
      node('enc', 'TransformerEncoderLayer', { nhead: 2, dim_feedforward: 16, dropout: 0 }),
      node('pool', 'MeanPool'),
      node('out', 'Linear', { out_features: 3 }),
    ]);
    const t = new Trainer({ model: compileGraph(g), data, settings: withTrainingDefaults({ epochs: 1, batchSize: 16 }) });
    await t.run();
    const att = inspect({ model: t.model, plan: t.plan, data }, { kind: 'attention', nodeId: 'enc', sample: { split: 'val', index: 0 } });
    expect(att).toMatchObject({ kind: 'attention', heads: 2, queries: 12, keys: 12 });
    if (att.kind === 'attention') {
      expect(att.values).toHaveLength(2 * 12 * 12);
      for (let row = 0; row < 24; row++) expect(att.values.slice(row * 12, row * 12 + 12).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('PCA by power iteration finds the main axis of a stretched cloud', () => {
    // Points along (1, 1) with a little spread along (1, -1): first component is (1, 1)/sqrt(2).
    const gen = new Generator(0);
    const n = 200;
    const x = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const a = gen.normal(0, 3);
      const b = gen.normal(0, 0.3);
      x[2 * i] = a + b + 5;
      x[2 * i + 1] = a - b - 2;
    }
    const { components, explained } = pca(x, n, 2, 2);
    expect(Math.abs(components[0][0])).toBeCloseTo(Math.SQRT1_2, 2);
    expect(Math.abs(components[0][1])).toBeCloseTo(Math.SQRT1_2, 2);
    expect(Math.sign(components[0][0])).toBe(Math.sign(components[0][1]));
    expect(explained[0]).toBeGreaterThan(0.98);
    expect(explained[0] + explained[1]).toBeCloseTo(1, 6);
  });
});
