/**
 * Reading user data for the Data panel: one CSV or text file, or a folder of images with
 * one sub-folder per class. Only what the user picked in the dialog is read, within size
 * and count limits; the renderer decodes and the engine parses what comes back.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ImportedData, ImportedFile, ImportKind } from './api/host-api.ts';

export const IMPORT_LIMITS = {
  /** One CSV or text file. */
  fileBytes: 256 * 1024 * 1024,
  /** All images of a folder together. */
  folderBytes: 1024 * 1024 * 1024,
  images: 100_000,
} as const;

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp']);

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** Reads the chosen file (csv, text) or the images in the class sub-folders of the chosen folder. */
export async function readImport(kind: ImportKind, chosen: string, limits: { fileBytes: number; folderBytes: number; images: number } = IMPORT_LIMITS): Promise<ImportedData> {
  const name = path.basename(chosen);
  const stat = await fs.stat(chosen).catch(() => null);
  if (!stat) throw new ImportError(`Cannot read ${chosen}: it does not exist`);
  if (kind !== 'images') {
    if (!stat.isFile()) throw new ImportError(`Cannot read ${chosen}: it is not a file`);
    if (stat.size > limits.fileBytes) throw new ImportError(`${name} is ${stat.size} bytes, over the ${limits.fileBytes}-byte limit for a ${kind === 'csv' ? 'CSV' : 'text'} file`);
    return { kind, name, files: [{ path: name, bytes: await readBytes(chosen) }] };
  }
  if (!stat.isDirectory()) throw new ImportError(`Cannot read ${chosen}: choose a folder with one sub-folder of images per class`);
  const files: ImportedFile[] = [];
  let total = 0;
  const classes = (await fs.readdir(chosen, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  for (const cls of classes) {
    const entries = (await fs.readdir(path.join(chosen, cls), { withFileTypes: true })).filter((d) => d.isFile() && IMAGE_EXTENSIONS.has(path.extname(d.name).toLowerCase())).map((d) => d.name).sort();
    for (const file of entries) {
      if (files.length >= limits.images) throw new ImportError(`${name} holds more than ${limits.images} images; import a smaller folder`);
      const full = path.join(chosen, cls, file);
      const size = (await fs.stat(full)).size;
      total += size;
      if (total > limits.folderBytes) throw new ImportError(`The images in ${name} add up to more than ${limits.folderBytes} bytes; import a smaller folder`);
      files.push({ path: `${cls}/${file}`, bytes: await readBytes(full) });
    }
  }
  if (files.length === 0) throw new ImportError(`${name} holds no images in class sub-folders (expected ${name}/<class>/<image>.png)`);
  return { kind, name, files };
}

async function readBytes(file: string): Promise<Uint8Array> {
  const buffer = await fs.readFile(file);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
