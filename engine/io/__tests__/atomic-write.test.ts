import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../atomic-write.node.ts';
import { readProject } from '../project.ts';
import { makeProjectBytes } from './fixtures/atomic-project.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const dir = mkdtempSync(path.join(tmpdir(), 'aps-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLOATS = 200_000; // an 800 KB weights entry, written in 64 KiB chunks

function runWriter(target: string, stopAt: string, killAfterMs?: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'atomic-writer.ts'), target, stopAt, String(FLOATS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) reject(new Error(`writer failed: ${stderr}`));
      else resolve({ code, signal });
    });
  });
}

/** The target is always a whole, valid project: the old one or the new one. */
function savedName(target: string): string {
  return readProject(new Uint8Array(readFileSync(target))).name;
}

describe('atomic save', () => {
  it('replaces the file and leaves no temporary file', async () => {
    const target = path.join(dir, 'plain.aps');
    writeFileSync(target, makeProjectBytes('old', 10));
    await writeFileAtomic(target, makeProjectBytes('new', 10));
    expect(savedName(target)).toBe('new');
    expect(readdirSync(dir).filter((f) => f.startsWith('.plain.aps'))).toEqual([]);
  });

  it('reports a folder that does not exist and leaves nothing behind', async () => {
    await expect(writeFileAtomic(path.join(dir, 'missing', 'x.aps'), new Uint8Array(1))).rejects.toThrow(/Could not save .*x\.aps/);
  });

  it.each([
    ['opened', 'old'],
    ['chunk-written', 'old'],
    ['written', 'old'],
    ['synced', 'old'],
    ['closed', 'old'],
    ['renamed', 'new'],
    ['none', 'new'],
  ])('a writer killed after step "%s" leaves the %s file', async (step, expected) => {
    const target = path.join(dir, `step-${step}.aps`);
    writeFileSync(target, makeProjectBytes('old', FLOATS));
    const result = await runWriter(target, step);
    expect(result.signal).toBe(step === 'none' ? null : 'SIGKILL');
    expect(savedName(target)).toBe(expected);
  }, 15_000);

  it('a writer killed at random moments always leaves the old or the new file', async () => {
    const target = path.join(dir, 'random.aps');
    writeFileSync(target, makeProjectBytes('old', FLOATS));
    for (const ms of [150, 350, 600, 900]) {
      await runWriter(target, 'slow', ms);
      const name = savedName(target);
      expect(['old', 'new']).toContain(name);
    }
  }, 20_000);
});
