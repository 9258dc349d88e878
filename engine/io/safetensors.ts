/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written
 * exactly: an 8-byte little-endian header length N, N bytes of UTF-8 JSON padded with
 * spaces to 8-byte alignment, then the tensor bytes. The header maps each tensor name to
 * `{dtype, shape, data_offsets: [begin, end]}` relative to the start of the byte buffer,
 * plus an optional `__metadata__` string-to-string map.
 *
 * The reader makes the reference implementation's checks: header size cap, JSON object
 * header, known dtypes, offsets contiguous from 0 without gaps or overlaps and covering
 * exactly the rest of the file, byte sizes matching shape and dtype, no duplicate names.
 */
import { decodeUtf8, encodeUtf8 } from './utf8.ts';
import { parseStrictJson, StrictJsonError } from './strict-json.ts';

export type SafetensorsDtype = 'F32' | 'I32' | 'I64';

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The reference implementation's cap on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, I32: 4, I64: 8 };
const KNOWN_UNSUPPORTED = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'U32', 'F64', 'U64']);

function dtypeOf(data: SafeTensor['data']): SafetensorsDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  return 'I64';
}

/** Serialises tensors in the given order; the data of each tensor follows the previous one. */
export function writeSafetensors(
  tensors: Iterable<[string, { shape: readonly number[]; data: SafeTensor['data'] }]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    if (Object.prototype.hasOwnProperty.call(header, name)) throw new SafetensorsError(`Tensor "${name}" is given twice`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new SafetensorsError(`Tensor "${name}" has shape [${t.shape.join(', ')}] (${numel} values) but ${t.data.length} values`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = encodeUtf8(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses and checks a safetensors file; throws SafetensorsError naming the problem. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(`The file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`The header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw new SafetensorsError(`The header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let text: string;
  try {
    text = decodeUtf8(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('The header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError('The header does not start with "{"');
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text.trimEnd());
  } catch (err) {
    throw new SafetensorsError(`The header is not valid JSON: ${err instanceof StrictJsonError ? err.message : String(err)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SafetensorsError('The header is not a JSON object');
  const header = parsed as Record<string, unknown>;
  const dataLength = bytes.length - 8 - n;
  const dataStart = 8 + n;

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SafetensorsError('"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`"__metadata__.${k}" must be a string, found ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SafetensorsError(`Tensor "${name}": expected an object with dtype, shape and data_offsets`);
    const info = value as Record<string, unknown>;
    const extra = Object.keys(info).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length) throw new SafetensorsError(`Tensor "${name}": unknown field "${extra[0]}"`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw new SafetensorsError(`Tensor "${name}": dtype must be a string`);
    if (!(dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(
        KNOWN_UNSUPPORTED.has(dtype)
          ? `Tensor "${name}": dtype ${dtype} is not supported (F32, I32 and I64 are)`
          : `Tensor "${name}": unknown dtype "${dtype}"`,
      );
    }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      throw new SafetensorsError(`Tensor "${name}": shape must be an array of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      offsets.some((o) => typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)
    ) {
      throw new SafetensorsError(`Tensor "${name}": data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new SafetensorsError(`Tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (!Number.isSafeInteger(expected)) throw new SafetensorsError(`Tensor "${name}": shape [${shape.join(', ')}] is too large`);
    if (end - begin !== expected) {
      throw new SafetensorsError(
        `Tensor "${name}": ${dtype} shape [${shape.join(', ')}] needs ${expected} bytes, data_offsets [${begin}, ${end}] give ${end - begin}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }

  // Offsets must tile [0, dataLength) exactly, in some order: no gaps, no overlaps.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const e of sorted) {
    if (e.begin !== expectedBegin) {
      throw new SafetensorsError(
        e.begin < expectedBegin
          ? `Tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor, which ends at ${expectedBegin}`
          : `Tensor "${e.name}": data_offsets start at ${e.begin}, expected ${expectedBegin} (tensor data must be contiguous)`,
      );
    }
    expectedBegin = e.end;
  }
  if (expectedBegin !== dataLength) {
    throw new SafetensorsError(`The tensors cover ${expectedBegin} bytes but the file has ${dataLength} bytes of tensor data`);
  }

  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    // slice() copies into a fresh, aligned buffer.
    const raw = bytes.slice(dataStart + e.begin, dataStart + e.end).buffer;
    const data = e.dtype === 'F32' ? new Float32Array(raw) : e.dtype === 'I32' ? new Int32Array(raw) : new BigInt64Array(raw);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Tensors as float32/int32 values for `Module.loadStateDict`. I64 values (PyTorch's
 * `num_batches_tracked`) become int32 and must fit.
 */
export function toStateEntries(file: SafetensorsFile): Map<string, { shape: number[]; values: Float32Array | Int32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  for (const [name, t] of file.tensors) {
    if (t.data instanceof BigInt64Array) {
      const values = new Int32Array(t.data.length);
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`Tensor "${name}": I64 value ${v} at index ${i} does not fit in int32`);
        values[i] = Number(v);
      }
      out.set(name, { shape: t.shape, values });
    } else {
      out.set(name, { shape: t.shape, values: t.data });
    }
  }
  return out;
}
