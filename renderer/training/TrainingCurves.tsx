import { useMemo } from 'react';
import { LineChart } from '../charts/LineChart.tsx';
import type { Series } from '../charts/line-layout.ts';
import { epochSeries, type RunState } from './run-state.ts';

const TRAIN = '#2f6fde';
const VAL = '#e8590c';

/** Live loss and accuracy curves: step losses, and per-epoch train and validation values. */
export function TrainingCurves({ run }: { run: RunState }) {
  const history = run.current?.history ?? [];
  const loss = useMemo<Series[]>(
    () => [
      { id: 'step-loss', label: 'train (steps)', colour: 'color-mix(in srgb, #2f6fde 40%, transparent)', points: run.stepLoss },
      { id: 'train-loss', label: 'train', colour: TRAIN, points: epochSeries(history, 'train', 'loss') },
      { id: 'val-loss', label: 'validation', colour: VAL, dashed: true, points: epochSeries(history, 'val', 'loss') },
    ],
    [run.stepLoss, history],
  );
  const accuracy = useMemo<Series[]>(
    () => [
      { id: 'train-acc', label: 'train', colour: TRAIN, points: epochSeries(history, 'train', 'accuracy') },
      { id: 'val-acc', label: 'validation', colour: VAL, dashed: true, points: epochSeries(history, 'val', 'accuracy') },
    ],
    [history],
  );
  const hasAccuracy = accuracy.some((s) => s.points.length > 0) || history.length === 0;
  return (
    <div className="training-curves">
      <LineChart title="Loss" series={loss} xLabel="epoch" xMin={0} testId="chart-loss" empty="Start training to see the loss" />
      {hasAccuracy && <LineChart title="Accuracy" series={accuracy} xLabel="epoch" yMin={0} yMax={1} xMin={0} testId="chart-accuracy" empty="Accuracy appears after the first epoch" />}
    </div>
  );
}
