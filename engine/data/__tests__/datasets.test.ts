import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { inputSize, targetSize } from '../dataset.ts';
import { listDatasets, loadDataset, previewDataset } from '../registry.ts';
import { applyStandardizer, batchAt, batchCount, epochOrder, fitStandardizer, splitDataset } from '../pipeline.ts';
import { decodeTokens, importText } from '../sequences.ts';
import { useNodeMnistFiles } from '../mnist.node.ts';

useNodeMnistFiles();

const SMALL: Record<string, Record<string, number>> = {
  mnist: { samples: 200 },
};

describe('built-in datasets', () => {
  for (const info of listDatasets()) {
    it(`${info.id} loads, splits, batches and previews`, async () => {
      const ds = await loadDataset(info.id, SMALL[info.id] ?? {});
      expect(ds.length).toBeGreaterThan(10);
      expect(ds.meta.task).toBe(info.task);
      expect(ds.targets.length).toBe(ds.length * targetSize(ds.meta));
      if (ds.meta.task !== 'graph') expect(ds.inputs.length).toBe(ds.length * inputSize(ds.meta));
      const splits = splitDataset(ds, { train: 0.7, val: 0.15, test: 0.15 }, new Generator(1));
      expect(splits.train.length + splits.val.length + splits.test.length).toBe(ds.length);
      const order = epochOrder(splits.train.length, true, new Generator(2));
      const b = batchAt(splits.train, order, 0, 8);
      expect(b.size).toBe(8);
      expect(b.targets.length).toBe(8 * targetSize(ds.meta));
      if (ds.meta.task === 'graph') {
        expect(b.graph).toBeDefined();
        expect(b.graph!.x.length).toBe(b.graph!.numNodes * ds.meta.inputShape[0]);
        expect(b.graph!.edgeSrc.length).toBe(b.graph!.edgeDst.length);
        expect(Math.max(...b.graph!.edgeSrc)).toBeLessThan(b.graph!.numNodes);
      } else {
        expect(b.inputs.length).toBe(8 * inputSize(ds.meta));
      }
      expect(batchCount(splits.train.length, 8)).toBe(Math.ceil(splits.train.length / 8));
      const p = previewDataset(ds, 4);
      expect(p.preview.kind).toBe(info.preview);
      expect(JSON.parse(JSON.stringify(p.preview))).toEqual(p.preview);
    });
  }

  it('is reproducible from the seed and differs across seeds', async () => {
    const a = await loadDataset('spirals', { seed: 3 });
    const b = await loadDataset('spirals', { seed: 3 });
    const c = await loadDataset('spirals', { seed: 4 });
    expect(Array.from(a.inputs)).toEqual(Array.from(b.inputs));
    expect(Array.from(a.inputs)).not.toEqual(Array.from(c.inputs));
  });

  it('MNIST digits are 28x28 in [0, 1] with balanced classes', async () => {
    const ds = await loadDataset('mnist', { samples: 100 });
    expect(ds.meta.inputShape).toEqual([1, 28, 28]);
    const counts = new Array(10).fill(0);
    for (const t of ds.targets) counts[t]++;
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(8);
    let max = 0;
    let min = 1;
    for (const v of ds.inputs) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    expect(min).toBe(0);
    expect(max).toBeGreaterThan(0.9);
    expect(max).toBeLessThanOrEqual(1);
  });

  it('text targets are the inputs shifted by one character', async () => {
    const ds = await loadDataset('text-chars', { seqLen: 16, stride: 16 });
    const vocab = ds.meta.vocab!;
    const x = decodeTokens(ds.inputs.subarray(0, 16), vocab);
    const y = decodeTokens(ds.targets.subarray(0, 16), vocab);
    expect(x.slice(1)).toBe(y.slice(0, 15));
    expect(x.startsWith('The lighthouse')).toBe(true);
  });

  it('molecules: ring graphs have one more edge pair than a tree', async () => {
    const ds = await loadDataset('molecules', { graphs: 20 });
    ds.graphs!.forEach((g, i) => expect(g.edgeSrc.length / 2).toBe(g.numNodes - 1 + ds.targets[i]));
  });

  it('refuses unknown datasets and options by name', async () => {
    await expect(loadDataset('nope')).rejects.toThrow(/Unknown dataset "nope"/);
    await expect(loadDataset('xor', { bogus: 1 })).rejects.toThrow(/no option "bogus"/);
    await expect(loadDataset('spirals', { samples: -3 })).rejects.toThrow(/samples must be an integer/);
  });

  it('plain text import refuses an empty file naming it', () => {
    expect(() => importText('', { file: 'story.txt' })).toThrow(/story\.txt: the text is empty/);
    expect(importText('hello world, hello', { file: 'a.txt', seqLen: 4 }).meta.vocab).toContain('h');
  });
});

describe('splits and standardisation', () => {
  it('split is seeded, disjoint and stratified', async () => {
    const ds = await loadDataset('blobs', { samples: 300 });
    const s1 = splitDataset(ds, { train: 0.6, val: 0.2, test: 0.2 }, new Generator(5));
    const s2 = splitDataset(ds, { train: 0.6, val: 0.2, test: 0.2 }, new Generator(5));
    expect(Array.from(s1.val.inputs)).toEqual(Array.from(s2.val.inputs));
    expect(s1.train.length).toBe(180);
    const perClass = [0, 0, 0];
    for (const t of s1.val.targets) perClass[t]++;
    expect(perClass).toEqual([20, 20, 20]);
  });

  it('standardiser fits on the training split only and gives it zero mean, unit std', () => {
    const ds = {
      meta: { id: 't', name: 't', description: '', task: 'regression' as const, inputShape: [2], inputDtype: 'float32' as const, targetShape: [1], targetDtype: 'float32' as const, preview: 'rows' as const },
      length: 4,
      inputs: Float32Array.from([1, 10, 3, 10, 5, 10, 7, 10]),
      targets: new Float32Array(4),
    };
    const s = fitStandardizer(ds);
    expect(s.mean).toEqual([4, 10]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5), 6);
    expect(s.std[1]).toBe(1); // constant feature is only centred
    const z = applyStandardizer(ds, s);
    expect(Array.from(z.inputs).map((v) => +v.toFixed(4))).toEqual([-1.3416, 0, -0.4472, 0, 0.4472, 0, 1.3416, 0]);
    const other = applyStandardizer({ ...ds, inputs: Float32Array.from([4, 10, 4, 10, 4, 10, 4, 10]) }, s);
    expect(Array.from(other.inputs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('image standardisation is per channel', async () => {
    const ds = await loadDataset('mnist', { samples: 50 });
    const s = fitStandardizer(ds);
    expect(s.axis).toBe('channel');
    expect(s.mean.length).toBe(1);
    expect(s.mean[0]).toBeGreaterThan(0.05);
    expect(s.mean[0]).toBeLessThan(0.3);
  });
});
