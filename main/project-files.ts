/**
 * Reading and writing project files on disk. Saving is atomic: the bytes go to a
 * temporary file in the same folder, are flushed with fsync, and then renamed over
 * the target, so a crash mid-save never damages the previous file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ProjectFile } from './api/host-api.ts';

export const PROJECT_EXTENSION = '.aps';
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024 * 1024;

export class ProjectFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectFileError';
  }
}

/** Reads a project file, refusing folders, non-.aps names and oversized files. */
export async function readProjectFile(filePath: string): Promise<ProjectFile> {
  if (path.extname(filePath).toLowerCase() !== PROJECT_EXTENSION) {
    throw new ProjectFileError(`Not an APS Studio project (expected a ${PROJECT_EXTENSION} file): ${filePath}`);
  }
  let stat;
  try {
    stat = await fs.stat(filePath);
  } catch (err) {
    throw new ProjectFileError(`Cannot open ${filePath}: ${describeFsError(err)}`);
  }
  if (!stat.isFile()) throw new ProjectFileError(`Cannot open ${filePath}: it is not a file`);
  if (stat.size > MAX_PROJECT_FILE_BYTES) {
    throw new ProjectFileError(`Cannot open ${filePath}: ${stat.size} bytes is over the ${MAX_PROJECT_FILE_BYTES}-byte limit`);
  }
  const buffer = await fs.readFile(filePath);
  return { name: path.basename(filePath), bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
}

/** Adds the .aps extension when a save dialog returned a path without it. */
export function withProjectExtension(filePath: string): string {
  return path.extname(filePath).toLowerCase() === PROJECT_EXTENSION ? filePath : `${filePath}${PROJECT_EXTENSION}`;
}

/** Writes `bytes` to `filePath` atomically (temp file in the same folder, fsync, rename). */
export async function writeFileAtomic(filePath: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(filePath);
  const tempPath = path.join(dir, `.${path.basename(filePath)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tempPath, 'wx', 0o644);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tempPath, filePath);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tempPath, { force: true }).catch(() => undefined);
    throw new ProjectFileError(`Could not save ${filePath}: ${describeFsError(err)}`);
  }
  await syncDirectory(dir);
}

/** Makes the rename durable; not every platform can open a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot fsync a directory; the rename itself is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function describeFsError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = String((err as { code: unknown }).code);
    const reasons: Record<string, string> = {
      ENOENT: 'the file or folder does not exist',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EISDIR: 'it is a folder',
      ENOSPC: 'the disk is full',
      EROFS: 'the disk is read-only',
    };
    return reasons[code] ?? (err instanceof Error ? err.message : code);
  }
  return err instanceof Error ? err.message : String(err);
}
