import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectPathFromArgv } from '../argv.ts';
import { readProjectFile, withProjectExtension, writeFileAtomic } from '../project-files.ts';
import { MAX_RECENT_FILES, RecentFiles } from '../recent-files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aps-project-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes the bytes and leaves no temporary file behind', async () => {
    const target = path.join(dir, 'net.aps');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(target, new Uint8Array([4, 5]));
    expect([...(await fs.readFile(target))]).toEqual([4, 5]);
    expect(await fs.readdir(dir)).toEqual(['net.aps']);
  });

  it('keeps the previous file intact when the save fails', async () => {
    const target = path.join(dir, 'net.aps');
    await writeFileAtomic(target, new Uint8Array([7, 7, 7]));
    // Renaming a file over a non-empty folder fails after the temp file was written.
    const blocked = path.join(dir, 'blocked.aps');
    await fs.mkdir(blocked);
    await fs.writeFile(path.join(blocked, 'keep'), 'x');
    await expect(writeFileAtomic(blocked, new Uint8Array([1]))).rejects.toThrow(/Could not save .*blocked\.aps/);
    expect([...(await fs.readFile(target))]).toEqual([7, 7, 7]);
    expect((await fs.readdir(dir)).sort()).toEqual(['blocked.aps', 'net.aps']);
  });

  it('explains a missing folder', async () => {
    await expect(writeFileAtomic(path.join(dir, 'nope', 'net.aps'), new Uint8Array([1]))).rejects.toThrow(
      /Could not save .*net\.aps: the file or folder does not exist/,
    );
  });
});

describe('readProjectFile', () => {
  it('reads an .aps file with its name', async () => {
    const file = path.join(dir, 'My Net.aps');
    await fs.writeFile(file, new Uint8Array([80, 75, 3, 4]));
    const project = await readProjectFile(file);
    expect(project.name).toBe('My Net.aps');
    expect([...project.bytes]).toEqual([80, 75, 3, 4]);
  });

  it('refuses other extensions, folders and missing files clearly', async () => {
    await expect(readProjectFile(path.join(dir, 'notes.txt'))).rejects.toThrow(/Not an APS Studio project \(expected a \.aps file\)/);
    await fs.mkdir(path.join(dir, 'folder.aps'));
    await expect(readProjectFile(path.join(dir, 'folder.aps'))).rejects.toThrow(/it is not a file/);
    await expect(readProjectFile(path.join(dir, 'gone.aps'))).rejects.toThrow(/gone\.aps: the file or folder does not exist/);
  });

  it('adds the extension to save-dialog paths without one', () => {
    expect(withProjectExtension('/x/net')).toBe('/x/net.aps');
    expect(withProjectExtension('/x/net.APS')).toBe('/x/net.APS');
  });
});

describe('RecentFiles', () => {
  it('persists most-recent-first without duplicates, capped in length', async () => {
    const store = path.join(dir, 'user', 'recent-files.json');
    const recent = new RecentFiles(store);
    for (let i = 0; i < MAX_RECENT_FILES + 2; i++) await recent.add(path.join(dir, `p${i}.aps`));
    await recent.add(path.join(dir, 'p5.aps'));
    const reloaded = await new RecentFiles(store).list();
    expect(reloaded).toHaveLength(MAX_RECENT_FILES);
    expect(reloaded[0]).toEqual({ id: path.join(dir, 'p5.aps'), name: 'p5.aps' });
    expect(reloaded.filter((r) => r.name === 'p5.aps')).toHaveLength(1);
    await recent.clear();
    expect(await new RecentFiles(store).list()).toEqual([]);
  });

  it('starts empty from a corrupt store and ignores relative paths in it', async () => {
    const store = path.join(dir, 'recent-files.json');
    await fs.writeFile(store, '{not json');
    expect(await new RecentFiles(store).list()).toEqual([]);
    await fs.writeFile(store, JSON.stringify({ recent: ['relative.aps', path.join(dir, 'a.aps'), 3] }));
    expect(await new RecentFiles(store).list()).toEqual([{ id: path.join(dir, 'a.aps'), name: 'a.aps' }]);
  });
});

describe('projectPathFromArgv', () => {
  it('finds the .aps argument after the executable and resolves it', () => {
    expect(projectPathFromArgv(['/usr/bin/aps-studio', '--no-sandbox', 'nets/a.aps'], '/home/u')).toBe('/home/u/nets/a.aps');
    expect(projectPathFromArgv(['/usr/bin/electron', '.', '/abs/b.APS'], '/home/u')).toBe('/abs/b.APS');
    expect(projectPathFromArgv(['/usr/bin/aps-studio', '.'], '/home/u')).toBeNull();
  });
});
