/**
 * Every bundled example opens, is valid, matches its definition in
 * scripts/build-examples.ts, and trains a few steps.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_MODE_EXAMPLES, EXAMPLES, exampleBytes } from '../../../scripts/build-examples.ts';
import { compileGraph } from '../../graph/compile.ts';
import { inferGraph } from '../../graph/infer.ts';
import { dataSettingsOf, readProject, trainingSettingsOf } from '../../io/project.ts';
import { Trainer } from '../../train/trainer.ts';
import { prepareData } from '../data.ts';

const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples');
const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { id: string; title: string; description: string; file: string }[];

describe('bundled examples', () => {
  it('index.json lists every example, the starter LeNet-5 first among them', () => {
    // The course-mode examples (checked in engine/session/__tests__/modes.test.ts) follow.
    expect(index.map((e) => e.id)).toEqual([...EXAMPLES, ...APP_MODE_EXAMPLES].map((e) => e.id));
    expect(index[0]!.id).toBe('lenet5-mnist');
    for (const e of index) {
      expect(e.file).toBe(`${e.id}.aps`);
      if (EXAMPLES.some((x) => x.id === e.id)) expect(e.description).toMatch(/\d+%|MSE/);
    }
  });

  it.each(EXAMPLES.map((e) => [e.id]))('%s is committed as generated, valid, and trains a few steps', async (id) => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, `${id}.aps`)));
    expect(bytes).toEqual(exampleBytes(EXAMPLES.find((e) => e.id === id)!));
    const project = readProject(bytes);
    const analysis = inferGraph(project.graph);
    expect(analysis.problems).toEqual([]);
    const settings = { ...trainingSettingsOf(project), epochs: 1, batchSize: 16 };
    const dataSettings = dataSettingsOf(project);
    // A few samples are enough to show that it trains; built-in sets load only what they need.
    const source = dataSettings.source.kind === 'builtin' && dataSettings.source.options?.samples !== undefined ? { ...dataSettings.source, options: { ...dataSettings.source.options, samples: 60 } } : dataSettings.source;
    const data = await prepareData({ ...dataSettings, source, limit: 48 }, dir);
    const model = compileGraph(project.graph, { seed: settings.seed });
    const result = await new Trainer({ model, data, settings }).run();
    expect(result.status).toBe('completed');
    expect(Number.isFinite(result.history[0]!.train.loss)).toBe(true);
  }, 60_000);
});
