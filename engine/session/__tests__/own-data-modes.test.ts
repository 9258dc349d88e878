/**
 * Projects whose training mode makes its own samples (data source kind "mode"): the
 * setting is saved and read back, older files still load, the bundled seq2seq and word2vec
 * examples train through the session as `aps train` runs them, and report their quality.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_MODE_EXAMPLES } from '../../../scripts/build-examples.ts';
import { EXIT_OK, main } from '../../cli/main.ts';
import { prepareData } from '../../data/prepare.ts';
import { dataSettingsOf, parseProjectJson, ProjectError, readProject, writeProject } from '../../io/project.ts';
import { seq2seqGraph } from '../../train/modes/graphs.ts';
import { validateDataSettings, withDataDefaults } from '../../train/settings.ts';
import { commandLineModeOf, trainModeProject } from '../mode-session.ts';

const examplesDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples');
const example = (id: string) => readProject(new Uint8Array(readFileSync(path.join(examplesDir, `${id}.aps`))));

describe('data source "mode": the training mode makes the samples', { timeout: 30_000 }, () => {
  it('is valid, survives saving and reading, and older projects without it still load', async () => {
    const data = withDataDefaults({ source: { kind: 'mode' }, split: { train: 0.8, val: 0.1, test: 0.1 } });
    expect(validateDataSettings(data)).toEqual([]);
    const graph = seq2seqGraph({ vocab: 13, srcLength: 5, tgtLength: 6, embed: 8, hidden: 16 });
    const bytes = writeProject({ name: 's2s', graph, data, training: { mode: { kind: 'seq2seq' } }, ui: { positions: {}, expanded: [] } });
    expect(dataSettingsOf(readProject(bytes)).source).toEqual({ kind: 'mode' });
    // A version-1 document with a built-in source reads as before.
    const v1 = parseProjectJson({ format: 'aps', version: 1, name: 'old', graph: { nodes: [], edges: [] }, data: { source: { kind: 'builtin', id: 'spirals' } }, training: null, ui: {} });
    expect(dataSettingsOf(v1).source).toEqual({ kind: 'builtin', id: 'spirals' });
    // An unknown kind is refused with the kinds there are.
    expect(() => parseProjectJson({ format: 'aps', version: 2, name: 'bad', graph: { nodes: [], edges: [] }, data: { source: { kind: 'made-up' } }, training: null, ui: { positions: {}, expanded: [] } })).toThrow(ProjectError);
    expect(validateDataSettings(withDataDefaults({ source: { kind: 'made-up' } as never }))[0]).toBe('source.kind must be one of builtin, csv, images, text, mode, got "made-up"');
    // The ordinary data pipeline says where such samples come from instead of loading anything.
    await expect(prepareData(data)).rejects.toThrow('made by its training mode');
  });

  it('the seq2seq and word2vec examples are in the app\'s list and the command line trains them through their mode', () => {
    const index = JSON.parse(readFileSync(path.join(examplesDir, 'index.json'), 'utf8')) as { id: string }[];
    for (const id of ['seq2seq-reverse-digits', 'word2vec-skipgram', 'word2vec-cbow']) {
      expect(index.some((e) => e.id === id), id).toBe(true);
      expect(APP_MODE_EXAMPLES.some((e) => e.id === id), id).toBe(true);
      const project = example(id);
      expect(dataSettingsOf(project).source).toEqual({ kind: 'mode' });
      expect(commandLineModeOf(project.training)).toBe(id.startsWith('seq2seq') ? 'seq2seq' : 'word2vec');
    }
    expect(commandLineModeOf(example('vae-mnist').training)).toBeNull();
  });

  it('seq2seq example: a few steps, then token and sequence accuracy on held-out strings never seen in training', async () => {
    const project = example('seq2seq-reverse-digits');
    const r = await trainModeProject(project, { steps: 20 });
    expect(r.status).toBe('completed');
    expect(r.steps).toBe(20);
    const q = r.quality.metrics;
    // 4000 strings, 10% held out; strings that also occur in training are left out.
    expect(q.heldOutStrings).toBeGreaterThan(250);
    expect(q.heldOutStrings).toBeLessThanOrEqual(400);
    for (const k of ['tokenAccuracy', 'sequenceAccuracy', 'sequenceAccuracyBeam3']) expect(q[k], k).toBeGreaterThanOrEqual(0);
    expect(q.tokenAccuracy).toBeLessThanOrEqual(1);
    expect(r.quality.lines[1]).toMatch(/^token accuracy \d+\.\d%, sequence accuracy \d+\.\d% \(greedy\), \d+\.\d% \(beam width 3\)$/);
    expect([...r.model.stateDict().keys()].length).toBeGreaterThan(4);
  });

  it('skip-gram example trained as the command line does: word groups are nearest neighbours, as its description states', async () => {
    const project = example('word2vec-skipgram');
    const epochs: number[] = [];
    const r = await trainModeProject(project, { onEpoch: (_, losses) => epochs.push(Object.values(losses)[0]!) });
    expect(r.status).toBe('completed');
    expect(epochs).toHaveLength(3);
    expect(epochs[2]).toBeLessThan(epochs[0]!);
    // The description states 28 of 30 by cosine and 30 of 30 by euclidean distance (chance: 5 of 75).
    expect(r.quality.metrics.groupNeighbour_cosine).toBeGreaterThanOrEqual(27 / 30);
    expect(r.quality.metrics.groupNeighbour_euclidean).toBeGreaterThanOrEqual(27 / 30);
    const description = APP_MODE_EXAMPLES.find((e) => e.id === 'word2vec-skipgram')!.description;
    expect(description).toContain(`${Math.round(30 * r.quality.metrics.groupNeighbour_cosine!)} of the 30 group words`);
  });

  it('aps train runs the CBOW example through its mode, prints the measured quality and saves weights and history', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aps-mode-'));
    try {
      const out = path.join(dir, 'cbow.aps');
      const lines: string[] = [];
      const code = await main(['train', path.join(examplesDir, 'word2vec-cbow.aps'), '--epochs', '1', '--out', out], { out: (t) => lines.push(t), err: (t) => lines.push(t), isTTY: false });
      expect(code).toBe(EXIT_OK);
      expect(lines[0]).toMatch(/^training Word vectors \(CBOW word2vec\) \(word2vec mode\): \d+ training samples, 0 validation, 0 test; 40 steps$/);
      expect(lines).toContainEqual(expect.stringMatching(/^epoch 1: loss \d+\.\d{4}$/));
      expect(lines).toContainEqual(expect.stringMatching(/^nearest word in the same group \(cosine\): \d+ of 30 \(\d+\.\d%\)$/));
      expect(lines.at(-1)).toBe(`completed after 40 steps; saved to ${out}`);
      const saved = readProject(new Uint8Array(readFileSync(out)));
      expect(saved.weights!.tensors.get('embed.weight')!.shape).toEqual([76, 16]);
      expect(saved.history!.runs).toHaveLength(1);
      expect(saved.history!.runs[0]!.epochs.map((e) => e.epoch)).toEqual([1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
