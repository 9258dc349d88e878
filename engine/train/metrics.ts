/**
 * Evaluation metrics as pure functions over plain arrays: confusion matrix, accuracy,
 * precision, recall and F1 (per class and macro-averaged, as scikit-learn with
 * zero_division=0), and MSE / MAE for regression. `MetricAccumulator` gathers them over the
 * batches of an epoch.
 */

/** Rows are true classes, columns predicted classes (as sklearn's confusion_matrix). */
export function confusionMatrix(predicted: ArrayLike<number>, actual: ArrayLike<number>, numClasses: number): number[][] {
  if (predicted.length !== actual.length) throw new Error(`confusionMatrix: ${predicted.length} predictions for ${actual.length} targets`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = predicted[i];
    if (a < 0 || a >= numClasses || p < 0 || p >= numClasses) throw new Error(`confusionMatrix: class ${a < 0 || a >= numClasses ? a : p} at ${i} is outside 0..${numClasses - 1}`);
    m[a][p]++;
  }
  return m;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of the class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClass: ClassMetrics[];
  confusion: number[][];
}

/** Metrics from a confusion matrix. A class never predicted (or absent) scores 0 where undefined. */
export function classificationMetrics(confusion: number[][]): ClassificationMetrics {
  const k = confusion.length;
  let correct = 0;
  let total = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += confusion[j][c];
      actual += confusion[c][j];
    }
    correct += tp;
    total += actual;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = actual > 0 ? tp / actual : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support: actual });
  }
  const avg = (f: (m: ClassMetrics) => number) => (k > 0 ? perClass.reduce((a, m) => a + f(m), 0) / k : 0);
  return {
    accuracy: total > 0 ? correct / total : 0,
    macroPrecision: avg((m) => m.precision),
    macroRecall: avg((m) => m.recall),
    macroF1: avg((m) => m.f1),
    perClass,
    confusion,
  };
}

/** Index of the largest value in each row of a [rows, cols] array. */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  const rows = Math.floor(values.length / cols);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

export interface RegressionMetrics {
  mse: number;
  mae: number;
}

export function regressionMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): RegressionMetrics {
  if (predicted.length !== actual.length) throw new Error(`regressionMetrics: ${predicted.length} predictions for ${actual.length} targets`);
  let se = 0;
  let ae = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = predicted[i] - actual[i];
    se += d * d;
    ae += Math.abs(d);
  }
  const n = Math.max(1, actual.length);
  return { mse: se / n, mae: ae / n };
}

/** Metrics of one pass over a split, as plain JSON (stored in history.json). */
export interface EpochMetrics {
  loss: number;
  accuracy?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  perClass?: ClassMetrics[];
  confusion?: number[][];
  mse?: number;
  mae?: number;
}

/** The metric names a run can monitor (early stopping, search ranking). */
export type MetricName = 'loss' | 'accuracy' | 'precision' | 'recall' | 'f1' | 'mse' | 'mae';

/** Whether larger values of a metric are better. */
export function higherIsBetter(metric: MetricName): boolean {
  return metric === 'accuracy' || metric === 'precision' || metric === 'recall' || metric === 'f1';
}

/**
 * Gathers the loss and predictions of the batches of one pass. Classification outputs are
 * scores [N, C] (or [N, T, C] against targets [N, T]); regression outputs match the targets.
 */
export class MetricAccumulator {
  private lossSum = 0;
  private lossCount = 0;
  private readonly predicted: number[] = [];
  private readonly actual: number[] = [];

  constructor(readonly kind: 'classification' | 'regression' | 'none', readonly numClasses = 0) {}

  addLoss(loss: number, samples: number): void {
    this.lossSum += loss * samples;
    this.lossCount += samples;
  }

  /** Adds a batch: `output` scores or values, `targets` class ids or values. */
  addBatch(output: ArrayLike<number>, targets: ArrayLike<number>): void {
    if (this.kind === 'classification') {
      const cols = output.length / targets.length;
      if (!Number.isInteger(cols) || cols !== this.numClasses) {
        throw new Error(`metrics: ${output.length} output values for ${targets.length} targets do not give ${this.numClasses} class scores each`);
      }
      const p = argmaxRows(output, cols);
      for (let i = 0; i < p.length; i++) {
        this.predicted.push(p[i]);
        this.actual.push(targets[i]);
      }
    } else if (this.kind === 'regression') {
      if (output.length !== targets.length) throw new Error(`metrics: ${output.length} outputs for ${targets.length} regression targets`);
      for (let i = 0; i < targets.length; i++) {
        this.predicted.push(output[i]);
        this.actual.push(targets[i]);
      }
    }
  }

  /** The gathered values, for checkpoints taken in the middle of an epoch. */
  getState(): { lossSum: number; lossCount: number; predicted: number[]; actual: number[] } {
    return { lossSum: this.lossSum, lossCount: this.lossCount, predicted: [...this.predicted], actual: [...this.actual] };
  }

  setState(s: { lossSum: number; lossCount: number; predicted: number[]; actual: number[] }): void {
    this.lossSum = s.lossSum;
    this.lossCount = s.lossCount;
    this.predicted.splice(0, this.predicted.length, ...s.predicted);
    this.actual.splice(0, this.actual.length, ...s.actual);
  }

  result(): EpochMetrics {
    const loss = this.lossCount > 0 ? this.lossSum / this.lossCount : Number.NaN;
    if (this.kind === 'classification' && this.actual.length > 0) {
      const m = classificationMetrics(confusionMatrix(this.predicted, this.actual, this.numClasses));
      return { loss, accuracy: m.accuracy, precision: m.macroPrecision, recall: m.macroRecall, f1: m.macroF1, perClass: m.perClass, confusion: m.confusion };
    }
    if (this.kind === 'regression' && this.actual.length > 0) return { loss, ...regressionMetrics(this.predicted, this.actual) };
    return { loss };
  }
}
