import { describe, expect, it } from 'vitest';
import { classImagePaths } from '../../host/web-host.ts';
import { decodeText, importedSource, payloadFits } from '../import-data.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('imported data', () => {
  it('turns a CSV or text file into a source naming the file and its text as payload', async () => {
    const csv = await importedSource({ kind: 'csv', name: 'iris.csv', files: [{ path: 'iris.csv', bytes: bytes('a,b\n1,2\n') }] });
    expect(csv).toEqual({ source: { kind: 'csv', file: 'iris.csv' }, payload: { text: 'a,b\n1,2\n' } });
    const text = await importedSource({ kind: 'text', name: 'story.txt', files: [{ path: 'story.txt', bytes: bytes('Once') }] });
    expect(text.source).toEqual({ kind: 'text', file: 'story.txt' });
  });

  it('refuses bytes that are not UTF-8, naming the file', () => {
    expect(() => decodeText('data.csv', new Uint8Array([0xff, 0xfe, 0x00]))).toThrow('data.csv is not UTF-8 text');
  });

  it('knows whether the payload held belongs to the project source', () => {
    const held = { name: 'iris.csv', payload: { text: 'a\n1' } };
    expect(payloadFits({ kind: 'builtin', id: 'mnist' }, null)).toBe(true);
    expect(payloadFits({ kind: 'csv', file: 'iris.csv' }, held)).toBe(true);
    expect(payloadFits({ kind: 'csv', file: 'other.csv' }, held)).toBe(false);
    expect(payloadFits({ kind: 'images', folder: 'pets', width: 28, height: 28, channels: 1 }, null)).toBe(false);
  });

  it('takes class/image paths from a browser folder pick and leaves other files out', () => {
    const picked = ['pets/dog/2.png', 'pets/cat/1.JPG', 'pets/notes.txt', 'pets/cat/readme.md', 'pets/cat/deep/3.png', 'pets/.git/x.png'];
    expect(classImagePaths(picked)).toEqual([
      { index: 1, path: 'cat/1.JPG' },
      { index: 0, path: 'dog/2.png' },
    ]);
  });
});
