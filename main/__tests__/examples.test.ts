import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Examples, parseExampleIndex } from '../examples.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aps-examples-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it('the shipped examples/index.json parses', async () => {
    const json: unknown = JSON.parse(await fs.readFile('examples/index.json', 'utf8'));
    expect(Array.isArray(parseExampleIndex(json, 'examples/index.json'))).toBe(true);
  });

  it('lists and opens listed examples only', async () => {
    await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify([{ id: 'xor', title: 'XOR', description: 'A 2-2-1 MLP' }]));
    await fs.writeFile(path.join(dir, 'xor.aps'), new Uint8Array([1, 2]));
    const examples = new Examples(dir);
    expect(await examples.list()).toEqual([{ id: 'xor', title: 'XOR', description: 'A 2-2-1 MLP' }]);
    const file = await examples.open('xor');
    expect(file.name).toBe('xor.aps');
    expect([...file.bytes]).toEqual([1, 2]);
    await expect(examples.open('other')).rejects.toThrow('There is no example "other"');
  });

  it('points at the bad entry in a broken index', () => {
    expect(() => parseExampleIndex({}, 'index.json')).toThrow('index.json: expected an array of examples');
    expect(() => parseExampleIndex([{ id: '../x', title: 't', description: '' }], 'index.json')).toThrow('index.json[0].id');
    expect(() => parseExampleIndex([{ id: 'a', title: '', description: '' }], 'index.json')).toThrow('index.json[0].title');
  });
});
