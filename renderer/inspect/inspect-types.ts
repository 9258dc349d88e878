/**
 * What the inspection views show. Most results are the engine's own (engine/train/inspect.ts);
 * the prediction view combines three activations: the input sample, the prediction node's
 * scores (as probabilities) and the target.
 */
import type { InspectResult, SplitName } from '../../engine/train/inspect.ts';

export type { InspectResult, SplitName };

export type InspectKind = 'activations' | 'filters' | 'attention' | 'saliency' | 'embeddings' | 'predict';

export interface SampleChoice {
  split: SplitName;
  index: number;
  /** A sample drawn by hand (image models), fed in place of the split's sample. */
  values?: number[];
}

export interface Prediction {
  kind: 'predict';
  /** The sample as the model sees it (after standardisation), with its per-sample shape. */
  input: { shape: number[]; values: number[] } | null;
  probabilities: number[];
  classNames: string[];
  /** The sample's true class, when the model has a class Target. */
  target?: number;
}

export type InspectView = InspectResult | Prediction;

/** Scores as probabilities: kept when they already are (a softmax output), else softmax. */
export function toProbabilities(scores: readonly number[]): number[] {
  if (scores.length === 1) {
    const s = scores[0];
    const p = s >= 0 && s <= 1 ? s : 1 / (1 + Math.exp(-s));
    return [1 - p, p];
  }
  const sum = scores.reduce((a, b) => a + b, 0);
  if (scores.every((s) => s >= 0 && s <= 1) && Math.abs(sum - 1) < 1e-3) return [...scores];
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}
