import { readFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { type Project, ProjectError, readProject, writeProject } from '../project.ts';
import { writeSafetensors } from '../safetensors.ts';
import { writeZip } from '../zip.ts';
import { DEFAULT_DATA_SETTINGS, DEFAULT_TRAINING_SETTINGS } from '../../train/settings.ts';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(fixtures, name)));
const manifest = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as Record<string, unknown>;
const archive = (json: unknown, extra: { name: string; data: Uint8Array; compress: boolean }[] = []): Uint8Array =>
  writeZip([{ name: 'project.json', data: new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json)), compress: true }, ...extra]);

function readError(bytes: Uint8Array): string {
  try {
    readProject(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ProjectError);
    return (err as Error).message;
  }
  throw new Error('expected readProject to fail');
}

describe('golden fixtures', () => {
  it('reads the current version (2) with weights and history', () => {
    const p = readProject(fixture('project-v2.aps'));
    expect(p.name).toBe('Spiral classifier');
    expect(p.graph.nodes.map((n) => n.id)).toEqual(['input', 'fc1', 'act', 'head', 'labels', 'loss']);
    expect(p.graph.nodes[3]!.subgraph!.nodes[0]!.id).toBe('fc2');
    expect(p.ui.positions.fc1).toEqual({ x: 200, y: 0 });
    expect(p.ui.viewport).toEqual({ x: -20, y: 10, zoom: 1.25 });
    expect([...p.weights!.tensors.keys()]).toEqual(['fc1.weight', 'fc1.bias', 'head.fc2.weight', 'head.fc2.bias']);
    expect([...p.weights!.tensors.get('head.fc2.bias')!.data]).toEqual([1, 2, 3]);
    expect(p.history!.runs[0]!.epochs[1]!.metrics.accuracy).toBe(0.8);
    expect(p.training).toEqual({ ...DEFAULT_TRAINING_SETTINGS, epochs: 5, batchSize: 32, optimizer: { ...DEFAULT_TRAINING_SETTINGS.optimizer, type: 'adam', lr: 0.01 } });
    expect(p.data.source).toEqual({ kind: 'builtin', id: 'spirals', options: { samples: 300 } });
    expect(p.data.split).toEqual({ train: 0.8, val: 0.2, test: 0 });
  });

  it('migrates version 1 (positions inside nodes) to the same project as version 2', () => {
    const v1 = readProject(fixture('project-v1.aps'));
    const v2 = readProject(fixture('project-v2.aps'));
    expect(v1).toEqual(v2);
    expect(v1.graph.nodes.some((n) => 'position' in n)).toBe(false);
    expect(v1.ui.expanded).toEqual([]);
    expect(v1.ui.positions.labels).toBeUndefined();
  });

  it('writes the current version byte for byte like the golden file', () => {
    const p = readProject(fixture('project-v2.aps'));
    const again = writeProject(p);
    expect(readProject(again)).toEqual(p);
    // The writer is deterministic, so saving an unchanged project gives the same bytes.
    expect(writeProject(readProject(again))).toEqual(again);
  });
});

describe('project.json validation messages', () => {
  const v2 = manifest('project-v2.json');
  const edit = (fn: (doc: Record<string, unknown> & { graph: { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] } }) => void): Uint8Array => {
    const doc = structuredClone(v2) as Parameters<typeof fn>[0];
    fn(doc);
    return archive(doc);
  };

  it('refuses a newer version naming both versions', () => {
    expect(readError(edit((d) => (d.version = 3)))).toMatch(/file version 3, newer than version 2/);
  });
  it('names the format', () => {
    expect(readError(edit((d) => (d.format = 'zip')))).toMatch(/format: expected "aps", found "zip"/);
  });
  it('names a bad version', () => {
    expect(readError(edit((d) => (d.version = 1.5)))).toMatch(/version: expected a positive integer, found 1.5/);
  });
  it('names the field path and what was expected', () => {
    expect(readError(edit((d) => (d.graph.nodes[1]!.type = 7)))).toMatch(/^project\.json: graph\.nodes\[1\]\.type: .*string/);
    expect(readError(edit((d) => (d.graph.nodes[1]!.params = { out_features: null })))).toMatch(/graph\.nodes\[1\]\.params\.out_features/);
    expect(readError(edit((d) => ((d.ui as { viewport: { zoom: number } }).viewport.zoom = 0)))).toMatch(/ui\.viewport\.zoom/);
  });
  it('checks the data and training settings by field', () => {
    expect(readError(edit((d) => ((d.training as { optimizer: { lr: number } }).optimizer.lr = -1)))).toMatch(/^project\.json: training\.optimizer\.lr must be a number above 0, got -1/);
    expect(readError(edit((d) => ((d.data as { split: { train: number } }).split.train = 0)))).toMatch(/^project\.json: data\.split\.train must be above 0/);
    const noSettings = structuredClone(v2) as Record<string, unknown>;
    delete noSettings.data;
    noSettings.training = null;
    const p = readProject(archive(noSettings));
    expect(p.training).toEqual(DEFAULT_TRAINING_SETTINGS);
    expect(p.data).toEqual(DEFAULT_DATA_SETTINGS);
  });
  it('rejects unknown fields', () => {
    expect(readError(edit((d) => (d.graph.nodes[0]!.colour = 'red')))).toMatch(/graph\.nodes\[0\].*colour/);
  });
  it('checks the graph: unique ids and edges between known nodes', () => {
    expect(readError(edit((d) => (d.graph.nodes[1]!.id = 'input')))).toMatch(/graph\.nodes\[1\]\.id: node id "input" is used twice/);
    expect(readError(edit((d) => (d.graph.edges[0]!.target = 'nowhere')))).toMatch(/graph\.edges\[0\]\.target: edge "e1" ends at unknown node "nowhere"/);
    expect(readError(edit((d) => (d.graph.nodes[1]!.id = 'a.b')))).toMatch(/without dots/);
  });
  it('reports a version-1 problem against the version-1 schema', () => {
    const v1 = manifest('project-v1.json') as { graph: { nodes: { position?: unknown }[] } };
    v1.graph.nodes[0]!.position = { x: 'left', y: 0 };
    expect(readError(archive(v1))).toMatch(/graph\.nodes\[0\]\.position\.x/);
  });
  it('reports broken JSON, duplicate keys and non-objects', () => {
    expect(readError(archive('{"format": "aps",'))).toMatch(/project\.json: not valid JSON/);
    expect(readError(archive('{"format": "aps", "format": "aps"}'))).toMatch(/duplicate key "format"/);
    expect(readError(archive('[1]'))).toMatch(/expected a JSON object/);
  });
  it('reports bad weights and history with the entry name', () => {
    const bad = writeSafetensors([['w', { shape: [1], data: new Float32Array(1) }]]).slice(0, -1);
    expect(readError(archive(v2, [{ name: 'weights.safetensors', data: bad, compress: false }]))).toMatch(/^weights\.safetensors: .*cover 4 bytes/);
    const history = new TextEncoder().encode(JSON.stringify({ runs: [{ id: 'r', epochs: [{ epoch: -1, metrics: {} }] }] }));
    expect(readError(archive(v2, [{ name: 'history.json', data: history, compress: true }]))).toMatch(/^history\.json: runs\[0\]\.epochs\[0\]\.epoch/);
  });
  it('refuses to save an invalid project', () => {
    const p = readProject(fixture('project-v2.aps'));
    const broken: Project = { ...p, graph: { ...p.graph, nodes: [...p.graph.nodes, { ...p.graph.nodes[0]! }] } };
    expect(() => writeProject(broken)).toThrow(/Cannot save: project\.json: graph\.nodes\[6\]\.id: node id "input" is used twice/);
  });
});

describe('archive checks', () => {
  const json = new TextEncoder().encode(JSON.stringify(manifest('project-v2.json')));
  it('needs project.json', () => {
    expect(readError(writeZip([{ name: 'history.json', data: new TextEncoder().encode('{"runs":[]}'), compress: false }]))).toMatch(/no project\.json entry/);
  });
  it('refuses entries outside the allow-list, path traversal and duplicates', () => {
    expect(readError(archive(manifest('project-v2.json'), [{ name: 'notes.txt', data: new Uint8Array(1), compress: false }]))).toMatch(/"notes\.txt" is not allowed/);
    expect(readError(writeZip([{ name: '../project.json', data: json, compress: false }]))).toMatch(/"\.\.\/project\.json" has an unsafe path/);
    expect(readError(writeZip([{ name: '/etc/passwd', data: json, compress: false }]))).toMatch(/unsafe path/);
    expect(readError(writeZip([{ name: 'project.json', data: json, compress: false }, { name: 'project.json', data: json, compress: false }]))).toMatch(/"project\.json" appears twice/);
  });
  it('checks declared sizes and ratio before inflating', () => {
    // 40 MiB of zeros compresses to ~40 KiB: over the project.json cap and the ratio cap.
    const big = zipSync({ 'project.json': new Uint8Array(40 * 1024 * 1024) });
    expect(readError(big)).toMatch(/"project\.json" declares 41943040 bytes, over its 33554432-byte limit/);
    const bomb = zipSync({ 'history.json': new Uint8Array(8 * 1024 * 1024) });
    expect(readError(bomb)).toMatch(/"history\.json" expands \d+ bytes to 8388608 bytes, a ratio over the 200:1 limit/);
  });
  it('catches an entry that inflates past its declared size', () => {
    const bytes = writeZip([{ name: 'project.json', data: json, compress: true }]);
    // Lower the declared size in the central directory; the inflater must stop at it.
    const view = new DataView(bytes.buffer);
    const cd = bytes.length - 22 - (46 + 'project.json'.length);
    view.setUint32(cd + 24, 100, true);
    expect(readError(bytes)).toMatch(/inflates to more than the 100 bytes it declares/);
  });
  it('catches damaged data through the CRC', () => {
    const bytes = writeZip([{ name: 'project.json', data: json, compress: false }]);
    bytes[30 + 'project.json'.length + 5] ^= 0x20;
    expect(readError(bytes)).toMatch(/CRC-32 mismatch/);
  });
  it('names non-zip input', () => {
    expect(readError(new TextEncoder().encode('hello, this is not a zip file at all'))).toMatch(/not a zip archive/);
    expect(readError(new Uint8Array(3))).toMatch(/too short/);
    const truncated = fixture('project-v2.aps').slice(0, 600);
    expect(readError(truncated)).toMatch(/end-of-central-directory/);
  });
});
