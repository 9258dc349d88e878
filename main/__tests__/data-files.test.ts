import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readImport } from '../data-files.ts';
import { parsePayload } from '../ipc-validation.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aps-import-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const limits = { fileBytes: 100, folderBytes: 20, images: 3 };

describe('reading imported data', () => {
  it('reads one CSV file under its name', async () => {
    const file = path.join(dir, 'iris.csv');
    await fs.writeFile(file, 'a,b\n1,2\n');
    const data = await readImport('csv', file, limits);
    expect(data.kind).toBe('csv');
    expect(data.name).toBe('iris.csv');
    expect(data.files.map((f) => [f.path, new TextDecoder().decode(f.bytes)])).toEqual([['iris.csv', 'a,b\n1,2\n']]);
  });

  it('refuses a folder for a file, a missing path and an oversized file, saying which', async () => {
    await expect(readImport('text', dir, limits)).rejects.toThrow('it is not a file');
    await expect(readImport('text', path.join(dir, 'gone.txt'), limits)).rejects.toThrow(/gone\.txt: it does not exist/);
    const big = path.join(dir, 'big.txt');
    await fs.writeFile(big, 'x'.repeat(101));
    await expect(readImport('text', big, limits)).rejects.toThrow('big.txt is 101 bytes, over the 100-byte limit for a text file');
  });

  it('reads the images of each class folder, sorted, and skips other files', async () => {
    for (const cls of ['dog', 'cat']) await fs.mkdir(path.join(dir, cls));
    await fs.writeFile(path.join(dir, 'cat', 'b.png'), 'B');
    await fs.writeFile(path.join(dir, 'cat', 'a.PNG'), 'A');
    await fs.writeFile(path.join(dir, 'dog', 'c.jpg'), 'C');
    await fs.writeFile(path.join(dir, 'dog', 'notes.txt'), 'not an image');
    await fs.writeFile(path.join(dir, 'loose.png'), 'outside any class');
    const data = await readImport('images', dir, limits);
    expect(data.files.map((f) => f.path)).toEqual(['cat/a.PNG', 'cat/b.png', 'dog/c.jpg']);
    expect(new TextDecoder().decode(data.files[2].bytes)).toBe('C');
  });

  it('stops at the image count and size limits with a message, and at an empty folder', async () => {
    await expect(readImport('images', dir, limits)).rejects.toThrow(/holds no images in class sub-folders/);
    await fs.mkdir(path.join(dir, 'a'));
    for (let i = 0; i < 4; i++) await fs.writeFile(path.join(dir, 'a', `${i}.png`), 'x');
    await expect(readImport('images', dir, limits)).rejects.toThrow(/more than 3 images/);
    await rm(path.join(dir, 'a'), { recursive: true });
    await fs.mkdir(path.join(dir, 'b'));
    await fs.writeFile(path.join(dir, 'b', 'big.png'), 'x'.repeat(21));
    await expect(readImport('images', dir, limits)).rejects.toThrow(/add up to more than 20 bytes/);
  });

  it('validates the importData payload kind', () => {
    expect(parsePayload('importData', { kind: 'images' })).toEqual({ kind: 'images' });
    expect(() => parsePayload('importData', { kind: 'exe' })).toThrow(/Invalid importData payload\.kind/);
    expect(() => parsePayload('importData', { kind: 'csv', path: '/etc/passwd' })).toThrow(/Invalid importData payload/);
  });
});
