import { describe, expect, it } from 'vitest';
import { argmaxRows, classificationMetrics, confusionMatrix, MetricAccumulator, regressionMetrics } from '../metrics.ts';

describe('metrics', () => {
  // Worked by hand: actual   = [0, 0, 0, 1, 1, 2, 2, 2, 2]
  //                 predicted = [0, 0, 1, 1, 2, 2, 2, 0, 2]
  const actual = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 0, 1, 1, 2, 2, 2, 0, 2];

  it('confusion matrix rows are true classes', () => {
    expect(confusionMatrix(predicted, actual, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
  });

  it('accuracy, per-class and macro precision / recall / F1', () => {
    const m = classificationMetrics(confusionMatrix(predicted, actual, 3));
    expect(m.accuracy).toBeCloseTo(6 / 9, 12);
    // class 0: tp 2, predicted 3, actual 3 -> P 2/3, R 2/3, F1 2/3
    // class 1: tp 1, predicted 2, actual 2 -> P 1/2, R 1/2, F1 1/2
    // class 2: tp 3, predicted 4, actual 4 -> P 3/4, R 3/4, F1 3/4
    expect(m.perClass.map((c) => c.precision)).toEqual([2 / 3, 1 / 2, 3 / 4]);
    expect(m.perClass.map((c) => c.recall)).toEqual([2 / 3, 1 / 2, 3 / 4]);
    expect(m.perClass.map((c) => c.support)).toEqual([3, 2, 4]);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 1 / 2 + 3 / 4) / 3, 12);
  });

  it('asymmetric precision and recall, and a never-predicted class scores 0', () => {
    // actual [0,0,0,1], predicted [0,0,0,0]: class 0 P 3/4 R 1 F1 6/7; class 1 P 0 R 0 F1 0.
    const m = classificationMetrics(confusionMatrix([0, 0, 0, 0], [0, 0, 0, 1], 2));
    expect(m.perClass[0]).toEqual({ precision: 0.75, recall: 1, f1: 6 / 7, support: 3 });
    expect(m.perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.macroPrecision).toBe(0.375);
    expect(m.macroRecall).toBe(0.5);
  });

  it('MSE and MAE', () => {
    expect(regressionMetrics([1, 2, 4], [1, 0, 1])).toEqual({ mse: (0 + 4 + 9) / 3, mae: (0 + 2 + 3) / 3 });
  });

  it('argmax over rows takes the first maximum', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 3, 3, 1], 3))).toEqual([1, 0]);
  });

  it('the accumulator weights the loss by batch size and pools predictions', () => {
    const acc = new MetricAccumulator('classification', 2);
    acc.addLoss(1, 3);
    acc.addLoss(4, 1);
    acc.addBatch([2, 1, 0, 5, 1, 0], [0, 1, 1]);
    acc.addBatch([0, 1], [1]);
    const r = acc.result();
    expect(r.loss).toBe(7 / 4);
    expect(r.accuracy).toBe(3 / 4);
    expect(r.confusion).toEqual([
      [1, 0],
      [1, 2],
    ]);
    expect(() => acc.addBatch([1, 2, 3], [0])).toThrow(/2 class scores/);
    const reg = new MetricAccumulator('regression');
    reg.addLoss(2, 2);
    reg.addBatch([1, 3], [0, 3]);
    expect(reg.result()).toEqual({ loss: 2, mse: 0.5, mae: 0.5 });
  });
});
