/**
 * From a project's data settings to the train/validation/test splits the trainer takes:
 * load the source, keep `limit` samples, split with the split seed, standardise with
 * statistics fitted on the training split.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Generator } from '../core/random.ts';
import { importCsv } from '../data/csv.ts';
import { type Dataset, subset } from '../data/dataset.ts';
import { readImageFolder } from '../data/images.node.ts';
import { applyStandardizer, type DatasetSplits, fitStandardizer, splitDataset } from '../data/pipeline.ts';
import { useNodeMnistFiles } from '../data/mnist.node.ts';
import { loadDataset } from '../data/registry.ts';
import type { DataSettings } from '../train/settings.ts';

// The CLI runs in Node: read the MNIST digit files directly.
useNodeMnistFiles();

/** Loads the data source; relative file paths are resolved against `baseDir` (the project's folder). */
export async function loadSource(settings: DataSettings, baseDir: string): Promise<Dataset> {
  const src = settings.source;
  switch (src.kind) {
    case 'builtin':
      return loadDataset(src.id, src.options ?? {});
    case 'csv': {
      const file = path.resolve(baseDir, src.file);
      const opts: Record<string, unknown> = { name: path.basename(file) };
      if (src.target !== undefined) opts.target = src.target;
      if (src.ignore) opts.ignore = src.ignore;
      if (src.categorical) opts.categorical = src.categorical;
      if (src.task) opts.task = src.task;
      return importCsv(readFileSync(file, 'utf8'), opts as Parameters<typeof importCsv>[1]);
    }
    case 'images':
      return readImageFolder(path.resolve(baseDir, src.folder), { width: src.width, height: src.height, channels: src.channels } as Parameters<typeof readImageFolder>[1]);
    case 'text':
      throw new Error('Text files as a data source are not supported by the command line yet; use a built-in text dataset');
    case 'mode':
      throw new Error('The samples of this project are made by its training mode (training.mode), not loaded from a data source');
  }
}

export async function prepareData(settings: DataSettings, baseDir: string): Promise<DatasetSplits> {
  let ds = await loadSource(settings, baseDir);
  if (settings.limit !== null && settings.limit < ds.length && !ds.meta.nodeLevel) {
    ds = subset(ds, Array.from({ length: settings.limit }, (_, i) => i));
  }
  const splits = splitDataset(ds, settings.split, new Generator(settings.splitSeed));
  if (!settings.standardize || ds.meta.inputDtype !== 'float32' || ds.meta.task === 'graph') return splits;
  const s = fitStandardizer(splits.train);
  return { train: applyStandardizer(splits.train, s), val: applyStandardizer(splits.val, s), test: applyStandardizer(splits.test, s) };
}
