import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { classCounts, countClasses } from '../class-counts.ts';
import { importCsv } from '../csv.ts';
import { importImageFolder } from '../images.ts';
import { useNodeMnistFiles } from '../mnist.node.ts';
import { splitDataset } from '../pipeline.ts';
import { loadDataset } from '../registry.ts';

useNodeMnistFiles();

function tally(targets: ArrayLike<number>, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (let i = 0; i < targets.length; i++) out[targets[i]]++;
  return out;
}

describe('class counts', () => {
  it('MNIST subset: counts sum to the sample count and match the labels, in total and per split', async () => {
    const ds = await loadDataset('mnist', { samples: 120 });
    const splits = splitDataset(ds, { train: 0.7, val: 0.15, test: 0.15 }, new Generator(3));
    const c = classCounts(ds, splits)!;
    expect(c.classNames).toHaveLength(10);
    expect(c.total.reduce((a, b) => a + b, 0)).toBe(120);
    expect(c.total).toEqual(tally(ds.targets, 10));
    expect(c.total.filter((n) => n > 0).length).toBeGreaterThan(5);
    for (const name of ['train', 'val', 'test'] as const) {
      expect(c.splits![name]).toEqual(tally(splits[name].targets, 10));
      expect(c.splits![name].reduce((a, b) => a + b, 0)).toBe(splits[name].length);
    }
    const summed = c.total.map((_, k) => c.splits!.train[k] + c.splits!.val[k] + c.splits!.test[k]);
    expect(summed).toEqual(c.total);
  });

  it('CSV with a class target counts rows per class name; a regression target has none', () => {
    const ds = importCsv('a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,cat\n', { file: 'pets.csv' });
    const c = classCounts(ds)!;
    expect(c.total.reduce((a, b) => a + b, 0)).toBe(4);
    expect(c.total[c.classNames.indexOf('cat')]).toBe(3);
    expect(c.total[c.classNames.indexOf('dog')]).toBe(1);
    expect(c.splits).toBeUndefined();
    expect(classCounts(importCsv('a,y\n1,0.5\n2,1.5\n3,2.5\n', { file: 'r.csv' }))).toBeNull();
  });

  it('image folders count images per folder class', () => {
    const px = (name: string, v: number) => ({ name, width: 1, height: 1, channels: 1, pixels: [v] });
    const entries = [
      { path: 'a/1.png', image: px('1.png', 0) },
      { path: 'a/2.png', image: px('2.png', 10) },
      { path: 'b/1.png', image: px('1.png', 20) },
    ];
    const c = classCounts(importImageFolder(entries, { folder: 'shots', width: 1, height: 1, channels: 1 }))!;
    expect(c.classNames).toEqual(['a', 'b']);
    expect(c.total).toEqual([2, 1]);
  });

  it('graph datasets count graphs (or nodes) per class; sequence data has no counts', async () => {
    for (const id of ['communities', 'molecules']) {
      const ds = await loadDataset(id);
      const c = countClasses(ds)!;
      expect(c.reduce((a, b) => a + b, 0)).toBe(ds.length);
      expect(c).toEqual(tally(ds.targets, ds.meta.numClasses!));
    }
    expect(countClasses(await loadDataset('sine'))).toBeNull();
  });

  it('refuses a target outside the classes, naming the sample', () => {
    const ds = importCsv('a,y\n1,x\n2,y\n', { file: 'bad.csv' });
    (ds.targets as Int32Array)[1] = 7;
    expect(() => countClasses(ds)).toThrow(/Sample 1 of ".*" has class 7, outside 0\.\.1/);
  });
});
