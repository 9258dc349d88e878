/**
 * A small zip reader and writer for project files. The reader is defensive: it reads the
 * central directory itself and checks every entry (allow-listed name, no duplicates,
 * sizes, compression ratio, offsets inside the file, no overlapping data) BEFORE it
 * inflates anything, then inflates with a running byte count so that an entry can never
 * produce more than it declared, and checks the CRC-32.
 */
import { decodeUtf8, encodeUtf8 } from './utf8.ts';
import { deflateSync, Inflate } from 'fflate';

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipLimits {
  /** Entry name -> the most uncompressed bytes it may hold. Only these names are allowed. */
  allowed: Record<string, number>;
  /** Most entries in the central directory. */
  maxEntries: number;
  /** Most uncompressed bytes across all entries. */
  maxTotalBytes: number;
  /** Most uncompressed/compressed ratio for an entry larger than `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Reads the allow-listed entries of a zip archive; throws ZipError naming the problem. */
export function readZip(bytes: Uint8Array, limits: ZipLimits): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u16 = (at: number): number => view.getUint16(at, true);

  if (bytes.length < 22) throw new ZipError(`The file is ${bytes.length} bytes, too short to be a zip archive`);
  if (u32(0) !== SIG_LOCAL && u32(0) !== SIG_EOCD) throw new ZipError('The file is not a zip archive (no zip signature at its start)');

  // End of central directory: the last 22 bytes plus a comment of at most 65535 bytes.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === SIG_EOCD && at + 22 + u16(at + 20) === bytes.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('The zip archive has no end-of-central-directory record (the file is truncated or not a zip)');
  if (eocd >= 20 && u32(eocd - 20) === SIG_EOCD64_LOCATOR) throw new ZipError('ZIP64 archives are not supported');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) throw new ZipError('Multi-disk zip archives are not supported');
  const count = u16(eocd + 10);
  if (u16(eocd + 8) !== count) throw new ZipError(`The zip archive's entry counts disagree (${u16(eocd + 8)} and ${count})`);
  if (count > limits.maxEntries) throw new ZipError(`The zip archive has ${count} entries, more than the ${limits.maxEntries} allowed`);
  const cdSize = u32(eocd + 12);
  const cdOffset = u32(eocd + 16);
  if (cdOffset + cdSize > eocd) throw new ZipError(`The central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${eocd}`);

  const entries: CentralEntry[] = [];
  const seen = new Set<string>();
  let at = cdOffset;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cdOffset + cdSize) throw new ZipError(`Central directory entry ${i} runs past the end of the central directory`);
    if (u32(at) !== SIG_CENTRAL) throw new ZipError(`Central directory entry ${i} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    const compressedSize = u32(at + 20);
    const size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    const localOffset = u32(at + 42);
    if (at + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize) {
      throw new ZipError(`Central directory entry ${i} runs past the end of the central directory`);
    }
    const rawName = bytes.subarray(at + 46, at + 46 + nameLen);
    let name: string;
    try {
      name = decodeUtf8(rawName);
    } catch {
      throw new ZipError(`Entry ${i}'s name is not valid UTF-8`);
    }
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
    if (name.includes('..') || name.startsWith('/') || name.includes('\\') || /^[a-zA-Z]:/.test(name) || name.includes('\0')) {
      throw new ZipError(`Entry ${shown} has an unsafe path (a project file holds only top-level entries)`);
    }
    if (!Object.prototype.hasOwnProperty.call(limits.allowed, name)) {
      throw new ZipError(`Entry ${shown} is not allowed in a project file (allowed: ${Object.keys(limits.allowed).join(', ')})`);
    }
    if (seen.has(name)) throw new ZipError(`Entry ${shown} appears twice`);
    seen.add(name);
    if (flags & 0x1) throw new ZipError(`Entry ${shown} is encrypted`);
    if (method !== 0 && method !== 8) throw new ZipError(`Entry ${shown} uses compression method ${method} (only stored and deflate are supported)`);
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) throw new ZipError(`Entry ${shown} uses ZIP64 sizes, which are not supported`);
    const cap = limits.allowed[name]!;
    if (size > cap) throw new ZipError(`Entry ${shown} declares ${size} bytes, over its ${cap}-byte limit`);
    if (method === 0 && size !== compressedSize) throw new ZipError(`Entry ${shown} is stored but its sizes differ (${compressedSize} and ${size})`);
    if (size > limits.ratioFloorBytes && size > compressedSize * limits.maxRatio) {
      throw new ZipError(`Entry ${shown} expands ${compressedSize} bytes to ${size} bytes, a ratio over the ${limits.maxRatio}:1 limit`);
    }
    total += size;
    if (total > limits.maxTotalBytes) throw new ZipError(`The archive's entries hold more than the ${limits.maxTotalBytes}-byte limit`);
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
    at += 46 + nameLen + extraLen + commentLen;
  }

  // Locate each entry's data through its local header; ranges must not overlap.
  const ranges: { name: string; start: number; end: number }[] = [];
  const located = entries.map((e) => {
    const shown = JSON.stringify(e.name);
    if (e.localOffset + 30 > cdOffset) throw new ZipError(`Entry ${shown}'s local header at ${e.localOffset} is outside the archive data`);
    if (u32(e.localOffset) !== SIG_LOCAL) throw new ZipError(`Entry ${shown}'s local header at ${e.localOffset} has a bad signature`);
    const nameLen = u16(e.localOffset + 26);
    const extraLen = u16(e.localOffset + 28);
    const start = e.localOffset + 30 + nameLen + extraLen;
    const end = start + e.compressedSize;
    if (end > cdOffset) throw new ZipError(`Entry ${shown}'s data (${e.compressedSize} bytes at ${start}) runs past the archive data`);
    const localName = bytes.subarray(e.localOffset + 30, e.localOffset + 30 + nameLen);
    if (!sameBytes(localName, encodeUtf8(e.name))) throw new ZipError(`Entry ${shown}'s local header names a different file`);
    ranges.push({ name: e.name, start: e.localOffset, end });
    return { entry: e, start, end };
  });
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.start < ranges[i - 1]!.end) throw new ZipError(`Entries ${JSON.stringify(ranges[i - 1]!.name)} and ${JSON.stringify(ranges[i]!.name)} overlap`);
  }

  const out = new Map<string, Uint8Array>();
  for (const { entry, start, end } of located) {
    const shown = JSON.stringify(entry.name);
    const raw = bytes.subarray(start, end);
    const data = entry.method === 0 ? raw.slice() : inflateCapped(raw, entry.size, shown);
    if (crc32(data) !== entry.crc) throw new ZipError(`Entry ${shown} is damaged (CRC-32 mismatch)`);
    out.set(entry.name, data);
  }
  return out;
}

/** Inflates, refusing to produce more than `size` bytes or fewer. */
function inflateCapped(raw: Uint8Array, size: number, shown: string): Uint8Array {
  const out = new Uint8Array(size);
  let produced = 0;
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    if (produced + chunk.length > size) throw new ZipError(`Entry ${shown} inflates to more than the ${size} bytes it declares`);
    out.set(chunk, produced);
    produced += chunk.length;
    if (final) ended = true;
  });
  try {
    inflater.push(raw, true);
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw new ZipError(`Entry ${shown} is damaged: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!ended || produced !== size) throw new ZipError(`Entry ${shown} inflates to ${produced} bytes, not the ${size} it declares`);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes a zip archive. Entries with `compress` are deflated; the others are stored.
 * Timestamps are fixed (1980-01-01) so the same project always gives the same bytes.
 */
export function writeZip(entries: { name: string; data: Uint8Array; compress: boolean }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const e of entries) {
    const name = encodeUtf8(e.name);
    const body = e.compress ? deflateSync(e.data, { level: 6 }) : e.data;
    const method = e.compress ? 8 : 0;
    const crc = crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x800, true); // UTF-8 names
    lv.setUint16(8, method, true);
    lv.setUint16(10, 0, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x800, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
