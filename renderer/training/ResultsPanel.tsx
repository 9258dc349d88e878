import { useState } from 'react';
import type { EpochMetrics } from '../../engine/train/metrics.ts';
import { Heatmap } from '../charts/Heatmap.tsx';
import { ImageGrid } from '../charts/ImageGrid.tsx';
import type { DataSettings, TrainingSettings } from '../../engine/train/settings.ts';
import { lastValues, type SavedRun, savedSettings } from './history.ts';
import type { RunRecord } from './run-state.ts';
import type { TrainingSession } from './useTrainingSession.ts';

const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | undefined) => (v === undefined ? '–' : String(+v.toPrecision(4)));

/** Test metrics, the confusion matrix (click a cell for its samples), per-class scores and past runs. */
export function ResultsPanel({ session }: { session: TrainingSession }) {
  const { run } = session;
  const current = run.current && run.phase !== 'running' && run.phase !== 'starting' ? run.current : (run.runs[0] ?? null);
  const metrics = current?.testMetrics ?? current?.history.at(-1)?.val ?? null;
  const fromTest = Boolean(current?.testMetrics);
  return (
    <div className="results-panel" data-testid="results-panel">
      {!current || !metrics ? (
        <p className="panel-empty">Train a model to see its test metrics, confusion matrix and per-class scores here.</p>
      ) : (
        <div className="results-grid">
          <section>
            <h3 className="section-title">{fromTest ? 'Test set' : 'Validation set (no test split)'}</h3>
            <MetricSummary metrics={metrics} />
            {metrics.perClass && <PerClassTable metrics={metrics} classNames={session.classNames} />}
          </section>
          {metrics.confusion && <ConfusionSection confusion={metrics.confusion} session={session} />}
        </div>
      )}
      <RunHistory runs={run.runs} saved={session.savedRuns} />
    </div>
  );
}

function MetricSummary({ metrics: m }: { metrics: EpochMetrics }) {
  const items: [string, string, string][] = [['loss', 'Loss', num(m.loss)]];
  if (m.accuracy !== undefined) items.push(['accuracy', 'Accuracy', pct(m.accuracy)]);
  if (m.precision !== undefined) items.push(['precision', 'Precision (macro)', pct(m.precision)]);
  if (m.recall !== undefined) items.push(['recall', 'Recall (macro)', pct(m.recall)]);
  if (m.f1 !== undefined) items.push(['f1', 'F1 (macro)', pct(m.f1)]);
  if (m.mse !== undefined) items.push(['mse', 'MSE', num(m.mse)]);
  if (m.mae !== undefined) items.push(['mae', 'MAE', num(m.mae)]);
  return (
    <dl className="metric-summary">
      {items.map(([key, label, value]) => (
        <div key={key} className="metric">
          <dt>{label}</dt>
          <dd data-testid={`metric-${key}`}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function PerClassTable({ metrics, classNames }: { metrics: EpochMetrics; classNames: string[] }) {
  return (
    <table className="per-class" data-testid="per-class-table">
      <thead>
        <tr>
          <th>Class</th>
          <th>Precision</th>
          <th>Recall</th>
          <th>F1</th>
          <th>Support</th>
        </tr>
      </thead>
      <tbody>
        {metrics.perClass!.map((c, i) => (
          <tr key={i}>
            <td>{classNames[i] ?? i}</td>
            <td>{pct(c.precision)}</td>
            <td>{pct(c.recall)}</td>
            <td>{pct(c.f1)}</td>
            <td>{c.support}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConfusionSection({ confusion, session }: { confusion: number[][]; session: TrainingSession }) {
  const [cell, setCell] = useState<{ row: number; col: number } | null>(null);
  const k = confusion.length;
  const labels = Array.from({ length: k }, (_, i) => session.classNames[i] ?? String(i));
  const samples = session.cellSamples;
  return (
    <section>
      <h3 className="section-title">Confusion matrix</h3>
      <Heatmap
        label="Confusion matrix: rows are true classes, columns predicted classes"
        testId="confusion"
        values={confusion.flat()}
        rows={k}
        cols={k}
        rowLabels={labels}
        colLabels={labels}
        rowTitle="true class"
        colTitle="predicted class"
        showValues
        selected={cell}
        onCellClick={(row, col) => {
          setCell({ row, col });
          session.requestCellSamples(row, col);
        }}
      />
      {cell && (
        <div className="cell-samples" data-testid="cell-samples">
          <h4>
            True {labels[cell.row]}, predicted {labels[cell.col]}: {confusion[cell.row][cell.col]} sample{confusion[cell.row][cell.col] === 1 ? '' : 's'}
          </h4>
          {samples && samples.row === cell.row && samples.col === cell.col ? (
            samples.error ? (
              <p className="status-error">{samples.error}</p>
            ) : samples.images.length > 0 && samples.shape.length === 3 ? (
              <ImageGrid testId="cell-samples-grid" images={samples.images.map((values, i) => ({ values, label: `#${samples.indices[i]}` }))} width={samples.shape[2]} height={samples.shape[1]} rgb={samples.shape[0] === 3} colourMap="grey" size={40} />
            ) : samples.indices.length > 0 ? (
              <p>Samples {samples.indices.slice(0, 40).map((i) => `#${i}`).join(', ')}</p>
            ) : (
              <p className="panel-empty">No samples in this cell.</p>
            )
          ) : (
            <p className="panel-empty">Loading samples…</p>
          )}
        </div>
      )}
    </section>
  );
}

function describeSettings(r: { data: DataSettings; training: TrainingSettings }): string {
  const t = r.training;
  const o = t.optimizer;
  const source = r.data.source.kind === 'builtin' ? r.data.source.id : r.data.source.kind;
  return `${source}${r.data.limit ? ` (${r.data.limit})` : ''} · ${o.type} lr ${o.lr} · batch ${t.batchSize} · ${t.epochs} epochs${t.schedule.type !== 'none' ? ` · ${t.schedule.type}` : ''}${t.earlyStopping ? ' · early stop' : ''} · seed ${t.seed}`;
}

/** A saved run's settings in words; runs saved before settings were recorded say so. */
function describeSaved(r: SavedRun): string {
  const s = savedSettings(r);
  if (!s) return 'not recorded';
  try {
    return describeSettings(s);
  } catch {
    return 'not readable';
  }
}

function RunHistory({ runs, saved }: { runs: RunRecord[]; saved: SavedRun[] }) {
  const live = new Set(runs.map((r) => r.id));
  const older = saved.filter((r) => !live.has(r.id)).reverse();
  if (runs.length === 0 && older.length === 0) return null;
  return (
    <section>
      <h3 className="section-title">Runs in this project</h3>
      <table className="run-history" data-testid="run-history">
        <thead>
          <tr>
            <th>Started</th>
            <th>Outcome</th>
            <th>Epochs</th>
            <th>Val. loss</th>
            <th>Val. accuracy</th>
            <th>Test accuracy</th>
            <th>Settings</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const last = r.history.at(-1);
            return (
              <tr key={r.id} data-testid={`run-${r.id}`}>
                <td>{r.startedAt ? new Date(r.startedAt).toLocaleTimeString() : '–'}</td>
                <td title={r.reason}>{r.status}</td>
                <td>{r.history.length}</td>
                <td>{num(last?.val?.loss)}</td>
                <td>{pct(last?.val?.accuracy)}</td>
                <td>{pct(r.testMetrics?.accuracy)}</td>
                <td className="run-settings">{describeSettings(r)}</td>
              </tr>
            );
          })}
          {older.map((r) => {
            const v = lastValues(r);
            return (
              <tr key={r.id} data-testid={`run-${r.id}`}>
                <td>{r.startedAt ? new Date(r.startedAt).toLocaleString() : '–'}</td>
                <td>{r.status ?? '–'}</td>
                <td>{v.epochs}</td>
                <td>{num(v.valLoss)}</td>
                <td>{pct(v.valAccuracy)}</td>
                <td>{pct(v.testAccuracy)}</td>
                <td className="run-settings">{describeSaved(r)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
