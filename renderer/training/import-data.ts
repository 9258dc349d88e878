/**
 * From files the host read (HostApi.importData) to what the engine imports: the data
 * source kept in the project settings, and the payload sent with each data request (the
 * file's text, or the folder's images decoded to pixels). Decoding images is the
 * browser's work (a canvas), so the engine receives plain pixel arrays.
 */
import type { DataPayload } from '../../engine/data/prepare.ts';
import type { DecodedImage, ImageFileEntry } from '../../engine/data/images.ts';
import type { DataSource } from '../../engine/train/settings.ts';
import type { ImportedData } from '../../main/api/host-api.ts';

export interface ImportedSource {
  source: DataSource;
  payload: DataPayload;
}

/** Reads a file's bytes as UTF-8 text, naming the file when it is not text. */
export function decodeText(name: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${name} is not UTF-8 text; save it as UTF-8 (plain text or CSV) and import it again`);
  }
}

async function decodeImage(path: string, bytes: Uint8Array): Promise<ImageFileEntry> {
  try {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2-D canvas to decode with');
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    bitmap.close();
    const image: DecodedImage = { name: path, width, height, channels: 4, pixels: data };
    return { path, image };
  } catch (err) {
    return { path, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The data source and payload for an import; `previous` keeps the user's image size and channels. */
export async function importedSource(data: ImportedData, previous?: DataSource): Promise<ImportedSource> {
  const first = data.files[0];
  if (!first) throw new Error(`${data.name} holds nothing to import`);
  switch (data.kind) {
    case 'csv':
      return { source: { kind: 'csv', file: data.name }, payload: { text: decodeText(data.name, first.bytes) } };
    case 'text':
      return { source: { kind: 'text', file: data.name }, payload: { text: decodeText(data.name, first.bytes) } };
    case 'images': {
      const images = await Promise.all(data.files.map((f) => decodeImage(f.path, f.bytes)));
      const keep = previous?.kind === 'images' ? previous : null;
      return { source: { kind: 'images', folder: data.name, width: keep?.width ?? 28, height: keep?.height ?? 28, channels: keep?.channels ?? 1 }, payload: { images } };
    }
  }
}

/** Whether a payload holds the data a source names (imports are not stored in the project). */
export function payloadFits(source: DataSource, held: { name: string; payload: DataPayload } | null): boolean {
  if (source.kind === 'builtin') return true;
  // The training mode makes its own samples: there is nothing to send.
  if (!held || source.kind === 'mode') return false;
  return source.kind === 'images' ? held.name === source.folder && Boolean(held.payload.images) : held.name === source.file && held.payload.text !== undefined;
}
