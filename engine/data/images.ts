/**
 * Image-folder import: one folder per class. Hosts decode the files (the browser with a
 * canvas, Node with images.node.ts) and hand over pixel arrays; this module checks them,
 * converts them to greyscale or RGB, resizes them and labels them by folder.
 */
import { checkDataset, type Dataset, DataError } from './dataset.ts';

/** A decoded image: interleaved pixels (HWC), 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface DecodedImage {
  name: string;
  width: number;
  height: number;
  channels: number;
  /** 0-255 for integer arrays and plain arrays; 0-1 for Float32Array. */
  pixels: Uint8Array | Uint8ClampedArray | Float32Array | number[];
}

/** One file of an image folder: its path ("class/file.png") and the decoded image or why it could not be read. */
export interface ImageFileEntry {
  path: string;
  image?: DecodedImage;
  error?: string;
}

export interface ImageImportOptions {
  width?: number;
  height?: number;
  /** 1: greyscale, 3: RGB. */
  channels?: 1 | 3;
  /** Name of the folder, for messages. */
  folder?: string;
}

/** Planar [C, H, W] float values in [0, 1] from an interleaved image, with c output channels. */
export function toPlanar(img: DecodedImage, channels: 1 | 3): Float32Array {
  const { width: w, height: h, channels: ic } = img;
  const scale = img.pixels instanceof Float32Array ? 1 : 1 / 255;
  const out = new Float32Array(channels * w * h);
  const px = img.pixels;
  for (let p = 0; p < w * h; p++) {
    const base = p * ic;
    const r = px[base] * scale;
    const g = ic >= 3 ? px[base + 1] * scale : r;
    const b = ic >= 3 ? px[base + 2] * scale : r;
    if (channels === 1) out[p] = ic >= 3 ? 0.299 * r + 0.587 * g + 0.114 * b : r;
    else {
      out[p] = r;
      out[w * h + p] = g;
      out[2 * w * h + p] = b;
    }
  }
  return out;
}

/** Bilinear resize of planar [C, H, W] values (align_corners=false, as torch's interpolate). */
export function resizeBilinear(src: Float32Array, c: number, h: number, w: number, oh: number, ow: number): Float32Array {
  if (h === oh && w === ow) return src.slice();
  const out = new Float32Array(c * oh * ow);
  const sy = h / oh;
  const sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const o = ch * h * w;
        const top = src[o + y0 * w + x0] * (1 - dx) + src[o + y0 * w + x1] * dx;
        const bottom = src[o + y1 * w + x0] * (1 - dx) + src[o + y1 * w + x1] * dx;
        out[ch * oh * ow + y * ow + x] = top * (1 - dy) + bottom * dy;
      }
    }
  }
  return out;
}

function checkImage(entry: ImageFileEntry, folder: string): DecodedImage {
  const where = { file: folder, entry: entry.path };
  if (entry.error !== undefined || !entry.image) throw new DataError(`could not read the image${entry.error ? ` (${entry.error})` : ''}`, where);
  const img = entry.image;
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new DataError(`image size ${img.width}x${img.height} is not a positive whole size`, where);
  }
  if (![1, 2, 3, 4].includes(img.channels)) throw new DataError(`images need 1 to 4 channels, this one has ${img.channels}`, where);
  const want = img.width * img.height * img.channels;
  if (img.pixels.length !== want) throw new DataError(`${img.pixels.length} pixel values do not fill ${img.width}x${img.height}x${img.channels} (${want})`, where);
  return img;
}

/**
 * Builds a classification dataset from an image folder. Each entry's first path segment
 * is its class; classes are sorted by name. Any unreadable or malformed image refuses the
 * whole import with a message naming the entry.
 */
export function importImageFolder(entries: readonly ImageFileEntry[], opts: ImageImportOptions = {}): Dataset {
  const folder = opts.folder ?? 'image folder';
  const w = opts.width ?? 28;
  const h = opts.height ?? 28;
  const c = opts.channels ?? 1;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 512 || h > 512) throw new Error(`Image size must be whole numbers from 1 to 512, got ${w}x${h}`);
  if (c !== 1 && c !== 3) throw new Error(`Images are imported with 1 (greyscale) or 3 (RGB) channels, got ${String(c)}`);
  if (entries.length === 0) throw new DataError('the folder holds no images', { file: folder });
  const labelled = entries.map((e) => {
    const parts = e.path.split(/[\\/]/).filter((p) => p.length > 0);
    if (parts.length < 2) throw new DataError('images must sit in one sub-folder per class (class/image.png)', { file: folder, entry: e.path });
    return { entry: e, cls: parts[0] };
  });
  const classNames = [...new Set(labelled.map((l) => l.cls))].sort();
  if (classNames.length < 2) throw new DataError(`found only one class folder ("${classNames[0]}"); classification needs at least two`, { file: folder });
  const per = c * h * w;
  const inputs = new Float32Array(entries.length * per);
  const targets = new Int32Array(entries.length);
  labelled.forEach(({ entry, cls }, i) => {
    const img = checkImage(entry, folder);
    const planar = toPlanar(img, c);
    inputs.set(resizeBilinear(planar, c, img.height, img.width, h, w), i * per);
    targets[i] = classNames.indexOf(cls);
  });
  return checkDataset({
    meta: {
      id: 'image-folder',
      name: folder,
      description: `${entries.length} images in ${classNames.length} classes, ${w}x${h} ${c === 1 ? 'greyscale' : 'RGB'}`,
      task: 'classification',
      inputShape: [c, h, w],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: classNames.length,
      classNames,
      preview: 'image',
    },
    length: entries.length,
    inputs,
    targets,
  });
}
