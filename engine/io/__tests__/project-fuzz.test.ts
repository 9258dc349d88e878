/**
 * Property tests: the reader gets thousands of mutated archives and manifests. It must
 * never crash with anything but a ProjectError, never hang, and always say why.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProjectError, readProject } from '../project.ts';
import { writeZip } from '../zip.ts';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const golden = new Uint8Array(readFileSync(path.join(fixtures, 'project-v2.aps')));
const goldenV1 = new Uint8Array(readFileSync(path.join(fixtures, 'project-v1.aps')));
const manifest = JSON.parse(readFileSync(path.join(fixtures, 'project-v2.json'), 'utf8')) as unknown;

/** Reads; a failure must be a ProjectError with a non-trivial message. */
function readsOrExplains(bytes: Uint8Array): void {
  try {
    readProject(bytes);
  } catch (err) {
    if (!(err instanceof ProjectError)) throw new Error(`unexpected ${String(err)}`);
    expect(err.message.length).toBeGreaterThan(10);
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.nat(), fc.constant(0xffffffff), fc.constant(0), fc.integer({ min: 0, max: 4096 })) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(source: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = source.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'insert') {
      const n = new Uint8Array(b.length + m.bytes.length);
      n.set(b.subarray(0, at));
      n.set(m.bytes, at);
      n.set(b.subarray(at), at + m.bytes.length);
      b = n;
    } else if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, m.value, true);
  }
  return b;
}

/** Mutations aimed at the zip structure: the central directory and end record. */
function structuralOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x02014b50) for (const f of [8, 10, 16, 20, 24, 28, 30, 32, 42]) out.push(i + f);
    if (sig === 0x06054b50) for (const f of [8, 10, 12, 16, 20]) out.push(i + f);
    if (sig === 0x04034b50) for (const f of [18, 22, 26, 28]) out.push(i + f);
  }
  return out;
}

describe('reading untrusted archives', () => {
  it('survives random byte mutations of the golden files', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (v1, ms) => {
        readsOrExplains(mutate(v1 ? goldenV1 : golden, ms));
      }),
      { numRuns: 2000 },
    );
  });

  it('survives mutations of the zip structure fields', () => {
    const offsets = structuralOffsets(golden);
    fc.assert(
      fc.property(
        fc.array(fc.record({ field: fc.constantFrom(...offsets), value: fc.oneof(fc.nat(), fc.integer({ min: 0, max: 70000 }), fc.constant(0xffffffff)), wide: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        (edits) => {
          const b = golden.slice();
          const view = new DataView(b.buffer);
          for (const e of edits) {
            if (e.wide && e.field + 4 <= b.length) view.setUint32(e.field, e.value >>> 0, true);
            else view.setUint16(e.field, e.value & 0xffff, true);
          }
          readsOrExplains(b);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('survives mutated manifests in a well-formed archive', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const pathInto = (doc: unknown, keys: (string | number)[], value: unknown): unknown => {
      const copy = structuredClone(doc) as Record<string | number, unknown>;
      let at: Record<string | number, unknown> = copy;
      for (let i = 0; i < keys.length - 1; i++) {
        const next = at[keys[i]!];
        if (next === null || typeof next !== 'object') return copy;
        at = next as Record<string | number, unknown>;
      }
      at[keys[keys.length - 1]!] = value;
      return copy;
    };
    const key = fc.oneof(
      fc.constantFrom('format', 'version', 'name', 'graph', 'nodes', 'edges', 'params', 'ui', 'positions', 'viewport', 'id', 'source', 'target', 'subgraph', 'data', 'training', 'expanded'),
      fc.nat({ max: 6 }),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(key, { minLength: 1, maxLength: 5 }), json), { minLength: 1, maxLength: 3 }), (edits) => {
        let doc = manifest;
        for (const [keys, value] of edits) doc = pathInto(doc, keys, value);
        readsOrExplains(writeZip([{ name: 'project.json', data: new TextEncoder().encode(JSON.stringify(doc)), compress: true }]));
      }),
      { numRuns: 1500 },
    );
  });

  it('survives arbitrary text as project.json and arbitrary bytes as an archive', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 })), (text) => {
        readsOrExplains(writeZip([{ name: 'project.json', data: new TextEncoder().encode(text), compress: false }]));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => readsOrExplains(bytes)),
      { numRuns: 500 },
    );
  });
});
