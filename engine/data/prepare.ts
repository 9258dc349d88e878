/**
 * From data settings to ready splits: load (a built-in dataset or an imported file the
 * host has read), limit, split with the split seed, and standardise with statistics from
 * the training split only.
 */
import { Generator } from '../core/random.ts';
import type { DataSettings } from '../train/settings.ts';
import { importCsv } from './csv.ts';
import { type Dataset, subset } from './dataset.ts';
import { type ImageFileEntry, importImageFolder } from './images.ts';
import { applyStandardizer, type DatasetSplits, fitStandardizer, splitDataset, type Standardizer } from './pipeline.ts';
import { loadDataset } from './registry.ts';
import { importText } from './sequences.ts';

/** File contents for imported data sources, read by the host. */
export interface DataPayload {
  /** CSV or plain text. */
  text?: string;
  /** Image folder entries. */
  images?: ImageFileEntry[];
}

export interface PreparedData extends DatasetSplits {
  /** The dataset before splitting (after `limit`). */
  full: Dataset;
  standardizer: Standardizer | null;
}

/** Loads the dataset a data source names. */
export async function loadSource(settings: DataSettings, payload: DataPayload = {}): Promise<Dataset> {
  const src = settings.source;
  switch (src.kind) {
    case 'builtin':
      return loadDataset(src.id, src.options ?? {});
    case 'csv':
      if (payload.text === undefined) throw new Error(`The CSV file "${src.file}" was not sent with the data settings`);
      return importCsv(payload.text, { file: src.file, target: src.target, ignore: src.ignore, categorical: src.categorical, task: src.task });
    case 'text':
      if (payload.text === undefined) throw new Error(`The text file "${src.file}" was not sent with the data settings`);
      return importText(payload.text, { file: src.file, seqLen: src.seqLen, stride: src.stride });
    case 'images':
      if (!payload.images) throw new Error(`The images of "${src.folder}" were not sent with the data settings`);
      return importImageFolder(payload.images, { folder: src.folder, width: src.width, height: src.height, channels: src.channels });
    case 'mode':
      throw new Error('The samples of this project are made by its training mode (training.mode); train it in the Mode tab');
  }
}

/** Limits, splits and standardises a loaded dataset. */
export function prepareSplits(dataset: Dataset, settings: DataSettings): PreparedData {
  const gen = new Generator(settings.splitSeed);
  let full = dataset;
  if (settings.limit !== null && settings.limit < dataset.length) full = subset(dataset, Array.from(gen.permutation(dataset.length).subarray(0, settings.limit)).sort((a, b) => a - b));
  const splits = splitDataset(full, settings.split, gen);
  if (!settings.standardize || full.meta.inputDtype !== 'float32') return { ...splits, full, standardizer: null };
  const s = fitStandardizer(splits.train);
  return { train: applyStandardizer(splits.train, s), val: applyStandardizer(splits.val, s), test: applyStandardizer(splits.test, s), full, standardizer: s };
}

export async function prepareData(settings: DataSettings, payload: DataPayload = {}): Promise<PreparedData> {
  return prepareSplits(await loadSource(settings, payload), settings);
}
