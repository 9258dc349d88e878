/**
 * Atomic file replacement for project saves: the bytes go to a temporary file in the same
 * folder, are flushed with fsync, and the temporary file is renamed over the target. A
 * crash at any point leaves either the previous file or the complete new one.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export type AtomicWriteStep = 'opened' | 'chunk-written' | 'written' | 'synced' | 'closed' | 'renamed';

export interface AtomicWriteOptions {
  /** Called after each step; tests use it to stop the writer between steps. */
  onStep?: (step: AtomicWriteStep) => void | Promise<void>;
  /** Bytes per write call (the data is written in chunks). */
  chunkBytes?: number;
  mode?: number;
}

export async function writeFileAtomic(filePath: string, bytes: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const step = options.onStep ?? (() => undefined);
  const chunk = options.chunkBytes ?? 4 * 1024 * 1024;
  const dir = path.dirname(filePath);
  const tempPath = path.join(dir, `.${path.basename(filePath)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tempPath, 'wx', options.mode ?? 0o644);
    await step('opened');
    for (let at = 0; at < bytes.length; at += chunk) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + chunk));
      let done = 0;
      while (done < part.length) done += (await handle.write(part, done)).bytesWritten;
      if (at + chunk < bytes.length) await step('chunk-written');
    }
    await step('written');
    await handle.sync();
    await step('synced');
    await handle.close();
    handle = undefined;
    await step('closed');
    await fs.rename(tempPath, filePath);
    await step('renamed');
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tempPath, { force: true }).catch(() => undefined);
    throw new Error(`Could not save ${filePath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  await syncDirectory(dir);
}

/** Makes the rename durable where the platform can open a directory (not Windows). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // The rename is still atomic; only its durability across power loss is platform-dependent.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
