import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_HEADER_BYTES, readSafetensors, SafetensorsError, toStateEntries, writeSafetensors } from '../safetensors.ts';

/** Builds a raw file from a header object (or text) and a data section. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8) {
    const p = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectError(bytes: Uint8Array, message: RegExp): void {
  expect(() => readSafetensors(bytes)).toThrow(SafetensorsError);
  expect(() => readSafetensors(bytes)).toThrow(message);
}

describe('safetensors writer', () => {
  it('lays out the header exactly as the format specifies', () => {
    const bytes = writeSafetensors([['fc.weight', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]], { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe('{"__metadata__":{"format":"pt"},"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}');
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + n + 16);
    expect([...new Float32Array(bytes.slice(8 + n).buffer)]).toEqual([1, 2, 3, 4]);
  });

  it('round-trips F32, I32 and I64 tensors, scalars, empty tensors and metadata', () => {
    const tensors: [string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }][] = [
      ['conv1.weight', { shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i * 0.5 - 3) }],
      ['bn.num_batches_tracked', { shape: [], data: new BigInt64Array([12345n]) }],
      ['idx', { shape: [3], data: new Int32Array([-1, 0, 7]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ];
    const file = readSafetensors(writeSafetensors(tensors, { a: 'b', note: 'x y' }));
    expect(file.metadata).toEqual({ a: 'b', note: 'x y' });
    expect([...file.tensors.keys()]).toEqual(tensors.map(([n]) => n));
    for (const [name, t] of tensors) {
      const got = file.tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect([...got.data]).toEqual([...t.data]);
    }
    expect(file.tensors.get('bn.num_batches_tracked')!.dtype).toBe('I64');
    const entries = toStateEntries(file);
    expect(entries.get('bn.num_batches_tracked')!.values).toEqual(new Int32Array([12345]));
  });

  it('reads unaligned tensor offsets', () => {
    const data = new Uint8Array(4 * 3 + 8);
    new DataView(data.buffer).setInt32(0, 5, true);
    new DataView(data.buffer).setBigInt64(4, -9n, true);
    new DataView(data.buffer).setFloat32(12, 1.5, true);
    const bytes = raw(
      {
        a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] },
        b: { dtype: 'I64', shape: [1], data_offsets: [4, 12] },
        c: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
      },
      data.subarray(0, 16),
    );
    const file = readSafetensors(bytes);
    expect(file.tensors.get('a')!.data[0]).toBe(5);
    expect(file.tensors.get('b')!.data[0]).toBe(-9n);
    expect(file.tensors.get('c')!.data[0]).toBe(1.5);
  });

  it('refuses a tensor named __metadata__ and shape/value mismatches', () => {
    expect(() => writeSafetensors([['__metadata__', { shape: [1], data: new Float32Array(1) }]])).toThrow(/reserved/);
    expect(() => writeSafetensors([['w', { shape: [2, 3], data: new Float32Array(5) }]])).toThrow(/\[2, 3\] \(6 values\) but 5 values/);
  });
});

describe('safetensors reader checks', () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
  it.each([
    ['a short file', new Uint8Array(4), /shorter than the 8-byte/],
    ['a header over the cap', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true); return b; })(), /over the 100000000-byte limit/],
    ['a header past the end', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 100n, true); return b; })(), /runs past the end/],
    ['a header not starting with {', raw('[1,2]'), /does not start with "\{"/],
    ['invalid JSON', raw('{"a": '), /not valid JSON/],
    ['invalid UTF-8', raw(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8/],
    ['duplicate names', raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(2)), /duplicate key "a"/],
    ['an unsupported dtype', raw({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)), /dtype F16 is not supported/],
    ['an unknown dtype', raw({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)), /unknown dtype "Q7"/],
    ['a negative dim', raw({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /non-negative integers/],
    ['a size mismatch', raw({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, f32(3)), /needs 16 bytes, data_offsets \[0, 12\] give 12/],
    ['offsets not starting at 0', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /start at 4, expected 0/],
    ['a gap', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), /start at 8, expected 4/],
    ['overlapping tensors', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /overlap the previous tensor/],
    ['offsets past the end', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)), /cover 8 bytes but the file has 4/],
    ['trailing bytes', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /cover 4 bytes but the file has 8/],
    ['end before begin', raw({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /end before they begin/],
    ['non-string metadata', raw({ __metadata__: { a: 1 } }), /"__metadata__.a" must be a string/],
    ['an unknown field', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, f32(1)), /unknown field "extra"/],
  ])('rejects %s', (_what, bytes, message) => {
    expectError(bytes, message);
  });

  it('reports I64 values that do not fit int32', () => {
    const file = readSafetensors(writeSafetensors([['n', { shape: [1], data: new BigInt64Array([1n << 40n]) }]]));
    expect(() => toStateEntries(file)).toThrow(/does not fit in int32/);
  });
});

describe('safetensors reader on mutated files', () => {
  const good = writeSafetensors(
    [
      ['a', { shape: [2, 3], data: new Float32Array(6).fill(1) }],
      ['b', { shape: [1], data: new BigInt64Array([3n]) }],
      ['c', { shape: [2], data: new Int32Array([1, 2]) }],
    ],
    { k: 'v' },
  );
  it('throws only SafetensorsError, with a message', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (flips, cut) => {
        const b = good.slice(0, good.length - (cut % 8 === 0 ? cut % good.length : 0));
        for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
        try {
          readSafetensors(b);
        } catch (err) {
          expect(err).toBeInstanceOf(SafetensorsError);
          expect((err as Error).message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
