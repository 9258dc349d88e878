import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { importCsv, parseCsv } from '../csv.ts';
import { DataError } from '../dataset.ts';
import { importImageFolder, resizeBilinear, type ImageFileEntry } from '../images.ts';
import { readImageFolder } from '../images.node.ts';
import { augmentBatch, augmentSample, previewAugmentation, validateAugmentation } from '../augment.ts';

function thrown(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected a DataError');
}

describe('CSV import', () => {
  const iris = 'sepal,petal,colour,species\n5.1,1.4,red,setosa\n7.0,4.7,blue,versicolor\n6.3,6.0,red,virginica\n4.9,1.5,green,setosa\n';

  it('detects the header, one-hot encodes categorical inputs and indexes class targets', () => {
    const ds = importCsv(iris, { file: 'iris.csv' });
    expect(ds.meta.featureNames).toEqual(['sepal', 'petal', 'colour=blue', 'colour=green', 'colour=red']);
    expect(ds.meta.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(ds.meta.task).toBe('classification');
    expect(Array.from(ds.inputs.subarray(0, 5))).toEqual([5.1, 1.4, 0, 0, 1].map(Math.fround));
    expect(Array.from(ds.targets)).toEqual([0, 1, 2, 0]);
  });

  it('index encoding, chosen target and regression', () => {
    const ds = importCsv(iris, { file: 'iris.csv', target: 'sepal', categorical: 'index', ignore: ['species'] });
    expect(ds.meta.task).toBe('regression');
    expect(ds.meta.featureNames).toEqual(['petal', 'colour']);
    expect(Array.from(ds.inputs.subarray(0, 4))).toEqual([1.4, 2, 4.7, 0].map(Math.fround));
    expect(Array.from(ds.targets)).toEqual([5.1, 7.0, 6.3, 4.9].map(Math.fround));
  });

  it('headerless files, quoted cells, semicolons and blank lines', () => {
    const t = parseCsv('1;2;"a;b"\n\n3;4;"say ""hi"""\n', { file: 'q.csv' });
    expect(t.hasHeader).toBe(false);
    expect(t.delimiter).toBe(';');
    expect(t.rows).toEqual([
      ['1', '2', 'a;b'],
      ['3', '4', 'say "hi"'],
    ]);
    expect(t.lines).toEqual([1, 3]);
  });

  it('ragged rows name the file and line', () => {
    const e = thrown(() => importCsv('a,b,c\n1,2,3\n4,5\n', { file: 'data.csv' }));
    expect(e.file).toBe('data.csv');
    expect(e.line).toBe(3);
    expect(e.message).toBe('data.csv, line 3: expected 3 cells like the header, found 2');
  });

  it('a non-numeric cell in a numeric column names line and column', () => {
    const e = thrown(() => importCsv('x,y,label\n1,2,0\n3,oops,1\n5,6,0\n7,8,1\n', { file: 'd.csv' }));
    expect([e.line, e.column]).toEqual([3, 2]);
    expect(e.message).toMatch(/"oops" is not a number/);
  });

  it('empty files, empty cells, unknown target columns', () => {
    expect(thrown(() => importCsv('  \n', { file: 'e.csv' })).message).toBe('e.csv: the file is empty');
    expect(thrown(() => importCsv('a,b\n1,\n2,3\n', { file: 'e.csv' })).line).toBe(2);
    expect(thrown(() => importCsv('a,b\n1,2\n', { file: 'e.csv', target: 'z' })).message).toMatch(/no column named "z"/);
    expect(thrown(() => importCsv('a,b\n1,"2\n', { file: 'e.csv' })).message).toMatch(/not closed/);
  });
});

function solid(name: string, w: number, h: number, rgb: [number, number, number]): ImageFileEntry['image'] {
  const pixels = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) pixels.set(rgb, i * 3);
  return { name, width: w, height: h, channels: 3, pixels };
}

describe('image folder import', () => {
  it('labels by folder, resizes and converts to greyscale or RGB', () => {
    const entries: ImageFileEntry[] = [
      { path: 'red/a.png', image: solid('a', 10, 6, [255, 0, 0]) },
      { path: 'blue/b.png', image: solid('b', 4, 4, [0, 0, 255]) },
    ];
    const grey = importImageFolder(entries, { width: 8, height: 8, channels: 1 });
    expect(grey.meta.classNames).toEqual(['blue', 'red']);
    expect(Array.from(grey.targets)).toEqual([1, 0]);
    expect(grey.meta.inputShape).toEqual([1, 8, 8]);
    expect(grey.inputs[0]).toBeCloseTo(0.299, 5);
    expect(grey.inputs[64]).toBeCloseTo(0.114, 5);
    const rgb = importImageFolder(entries, { width: 2, height: 2, channels: 3 });
    expect(Array.from(rgb.inputs.subarray(0, 12))).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('bilinear resize matches torch interpolate (align_corners=False)', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=4, mode='bilinear')
    const out = resizeBilinear(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 4, 4);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0.25, 0.75, 1]);
    expect(Array.from(out.subarray(4, 8))).toEqual([0.5, 0.75, 1.25, 1.5]);
  });

  it('an unreadable or malformed image refuses the import naming the entry', () => {
    const ok = { path: 'a/1.png', image: solid('1', 2, 2, [1, 2, 3]) };
    const bad = thrown(() => importImageFolder([ok, { path: 'b/broken.png', error: 'bad CRC' }], { folder: 'pets' }));
    expect(bad.entry).toBe('b/broken.png');
    expect(bad.message).toBe('pets, b/broken.png: could not read the image (bad CRC)');
    const short = thrown(() => importImageFolder([ok, { path: 'b/2.png', image: { name: '2', width: 2, height: 2, channels: 3, pixels: new Uint8Array(5) } }]));
    expect(short.message).toMatch(/5 pixel values do not fill 2x2x3/);
    expect(thrown(() => importImageFolder([])).message).toMatch(/no images/);
    expect(thrown(() => importImageFolder([ok])).message).toMatch(/only one class/);
  });

  it('reads PNG folders from disk in Node, and names a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-img-'));
    for (const [cls, v] of [['dark', 20], ['light', 230]] as const) {
      mkdirSync(join(dir, cls));
      for (let k = 0; k < 2; k++) {
        const png = new PNG({ width: 5, height: 5 });
        png.data.fill(v);
        for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
        writeFileSync(join(dir, cls, `${k}.png`), PNG.sync.write(png));
      }
    }
    const ds = readImageFolder(dir, { width: 5, height: 5 });
    expect(ds.length).toBe(4);
    expect(Array.from(ds.targets)).toEqual([0, 0, 1, 1]);
    expect(ds.inputs[0]).toBeCloseTo(20 / 255, 5);
    writeFileSync(join(dir, 'light', 'z.png'), 'not a png');
    const e = thrown(() => readImageFolder(dir));
    expect(e.entry).toBe('light/z.png');
  });
});

describe('augmentation', () => {
  const shape = [1, 4, 4];
  const ramp = Float32Array.from({ length: 16 }, (_, i) => i);

  it('flip mirrors rows, crop shifts with zero fill, cutout zeroes a square', () => {
    const flipped = augmentSample(ramp, shape, [{ type: 'flip', p: 1 }], new Generator(0));
    expect(Array.from(flipped.subarray(0, 4))).toEqual([3, 2, 1, 0]);
    const cropped = augmentSample(ramp, shape, [{ type: 'crop', padding: 2 }], new Generator(3));
    const sumIn = ramp.reduce((a, b) => a + b, 0);
    expect(cropped.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(sumIn);
    const cut = augmentSample(new Float32Array(16).fill(1), shape, [{ type: 'cutout', size: 2, p: 1 }], new Generator(1));
    const zeros = cut.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThanOrEqual(4);
  });

  it('rotation of 0 degrees is the identity; blur keeps the mean of a constant', () => {
    const rot = augmentSample(ramp, shape, [{ type: 'rotate', degrees: 0 }], new Generator(0));
    expect(Array.from(rot)).toEqual(Array.from(ramp));
    const blurred = augmentSample(new Float32Array(16).fill(0.5), shape, [{ type: 'blur', sigma: 1.5, p: 1 }], new Generator(0));
    for (const v of blurred) expect(v).toBeCloseTo(0.5, 5);
    const noisy = augmentSample(new Float32Array(16), shape, [{ type: 'noise', std: 0.1 }], new Generator(0));
    expect(noisy.some((v) => v !== 0)).toBe(true);
    const jit = augmentSample(new Float32Array(16).fill(0.5), shape, [{ type: 'jitter', brightness: 0.5 }], new Generator(0));
    expect(new Set(jit).size).toBe(1);
    expect(jit[0]).not.toBe(0.5);
  });

  it('is reproducible per seed, and previews N variants of one sample', () => {
    const augs = [{ type: 'crop' as const, padding: 1 }, { type: 'flip' as const }, { type: 'noise' as const, std: 0.05 }];
    const a = augmentBatch(ramp, shape, augs, new Generator(9));
    const b = augmentBatch(ramp, shape, augs, new Generator(9));
    expect(Array.from(a)).toEqual(Array.from(b));
    const previews = previewAugmentation(ramp, shape, augs, 5, 1);
    expect(previews).toHaveLength(5);
    expect(previews[0]).not.toEqual(previews[1]);
    expect(Array.from(ramp)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('validation names the bad setting', () => {
    expect(validateAugmentation({ type: 'flip', p: 2 })).toEqual(['flip: p must be a number from 0 to 1, got 2']);
    expect(validateAugmentation({ type: 'crop', padding: -1 })[0]).toMatch(/padding/);
    expect(() => previewAugmentation(ramp, shape, [{ type: 'noise', std: -1 }], 2)).toThrow(/std/);
  });
});
