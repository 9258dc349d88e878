/**
 * Per-class sample counts of a classification dataset (class-index targets), for showing
 * class balance before training.
 */
import type { Dataset } from './dataset.ts';

export interface ClassCounts {
  classNames: string[];
  /** Samples per class over the whole loaded dataset (after `limit`), by class index. */
  total: number[];
  /** Samples per class in each split. */
  splits?: { train: number[]; val: number[]; test: number[] };
}

/** Whether a dataset's targets are one class index per sample. */
export function hasClassTargets(ds: Dataset): boolean {
  const { meta } = ds;
  return meta.numClasses !== undefined && meta.numClasses > 0 && meta.targetShape.reduce((a, b) => a * b, 1) === 1 && meta.targetDtype === 'int32';
}

/**
 * Samples per class, by class index; null for data whose targets are not class indices.
 * A target outside [0, numClasses) is refused by sample index and value.
 */
export function countClasses(ds: Dataset): number[] | null {
  if (!hasClassTargets(ds)) return null;
  const k = ds.meta.numClasses!;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < ds.length; i++) {
    const c = ds.targets[i];
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new Error(`Sample ${i} of "${ds.meta.name}" has class ${c}, outside 0..${k - 1}`);
    counts[c]++;
  }
  return counts;
}

/** Class counts of a dataset and (when given) its splits; null for non-classification data. */
export function classCounts(full: Dataset, splits?: { train: Dataset; val: Dataset; test: Dataset }): ClassCounts | null {
  const total = countClasses(full);
  if (!total) return null;
  const k = full.meta.numClasses!;
  const classNames = Array.from({ length: k }, (_, i) => full.meta.classNames?.[i] ?? String(i));
  if (!splits) return { classNames, total };
  return { classNames, total, splits: { train: countClasses(splits.train)!, val: countClasses(splits.val)!, test: countClasses(splits.test)! } };
}
