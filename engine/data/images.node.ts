/**
 * Reads an image folder from disk in Node (the CLI and the Electron engine worker): one
 * sub-folder per class, PNG files decoded with pngjs. Unreadable files are passed on as
 * errors so the import names them and imports nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import type { Dataset } from './dataset.ts';
import { DataError } from './dataset.ts';
import { type DecodedImage, type ImageFileEntry, type ImageImportOptions, importImageFolder } from './images.ts';

/** Decodes one PNG file to an RGBA image. */
export function decodePng(bytes: Uint8Array, name: string): DecodedImage {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { name, width: png.width, height: png.height, channels: 4, pixels: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** Lists and decodes `dir/<class>/<file>`; hidden files are skipped. */
export function readImageFolderEntries(dir: string): ImageFileEntry[] {
  let classes: string[];
  try {
    classes = readdirSync(dir).filter((d) => !d.startsWith('.') && statSync(join(dir, d)).isDirectory()).sort();
  } catch (err) {
    throw new DataError(`cannot list the folder (${(err as Error).message})`, { file: dir });
  }
  const entries: ImageFileEntry[] = [];
  for (const cls of classes) {
    for (const name of readdirSync(join(dir, cls)).filter((f) => !f.startsWith('.')).sort()) {
      const path = `${cls}/${name}`;
      try {
        if (!/\.png$/i.test(name)) throw new Error('only PNG files can be decoded here');
        entries.push({ path, image: decodePng(readFileSync(join(dir, cls, name)), name) });
      } catch (err) {
        entries.push({ path, error: (err as Error).message });
      }
    }
  }
  return entries;
}

/** Imports an image folder from disk as a classification dataset. */
export function readImageFolder(dir: string, opts: ImageImportOptions = {}): Dataset {
  return importImageFolder(readImageFolderEntries(dir), { folder: basename(dir), ...opts });
}
