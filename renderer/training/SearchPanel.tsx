import { useState } from 'react';
import type { MetricName } from '../../engine/train/metrics.ts';
import type { OptimizerType } from '../../engine/train/settings.ts';
import type { GraphParamAxis, SearchSpace, TrialResult } from '../../engine/train/search.ts';
import { useEditor, useEditorState } from '../editor/EditorContext.tsx';
import { trainingSettingsOf } from '../store/training-actions.ts';
import { NumberField, SelectField, SettingsGroup } from './fields.tsx';
import { gridSize, parseValues } from './search-space.ts';
import type { SearchController } from './useSearch.ts';

const OPTIMIZERS: OptimizerType[] = ['sgd', 'adam', 'adamw', 'rmsprop'];
const METRICS: { value: MetricName; label: string }[] = [
  { value: 'loss', label: 'validation loss' },
  { value: 'accuracy', label: 'validation accuracy' },
  { value: 'f1', label: 'validation F1' },
];

interface AxisDraft {
  nodeId: string;
  param: string;
  text: string;
}

/** Ranges for learning rate, batch size, optimiser and layer parameters; run; rank; apply the best. */
export function SearchPanel({ search }: { search: SearchController }) {
  const { store, notify } = useEditor();
  const doc = useEditorState((s) => s.doc);
  const base = trainingSettingsOf(doc);
  const [lr, setLr] = useState(`${base.optimizer.lr / 10}, ${base.optimizer.lr}, ${base.optimizer.lr * 10}`);
  const [batch, setBatch] = useState(String(base.batchSize));
  const [optimizers, setOptimizers] = useState<OptimizerType[]>([base.optimizer.type]);
  const [axes, setAxes] = useState<AxisDraft[]>([]);
  const [strategy, setStrategy] = useState<'grid' | 'random'>('grid');
  const [trials, setTrials] = useState(6);
  const [metric, setMetric] = useState<MetricName>('loss');
  const [subset, setSubset] = useState(0);
  const { state } = search;
  const running = state.phase === 'running' || state.phase === 'stopping';

  const numericNodes = doc.graph.nodes
    .map((n) => ({ node: n, def: store.layers.getLayer(n.type) }))
    .filter(({ def }) => def && Object.values(def.params).some((p) => p.kind === 'int' || p.kind === 'float' || p.kind === 'choice'));

  const parsedLr = parseValues('Learning rates', lr, { positive: true });
  const parsedBatch = parseValues('Batch sizes', batch, { integer: true, positive: true });
  const parsedAxes = axes.map((a) => {
    const spec = store.layers.getLayer(doc.graph.nodes.find((n) => n.id === a.nodeId)?.type ?? '')?.params[a.param];
    if (!spec) return { error: `${a.nodeId}.${a.param}: choose a layer parameter` };
    if (spec.kind === 'choice') {
      const values = a.text.split(/[\s,]+/).filter(Boolean);
      const bad = values.find((v) => !spec.options.includes(v));
      return bad ? { error: `${a.nodeId}.${a.param}: "${bad}" is not one of ${spec.options.join(', ')}` } : { values };
    }
    return parseValues(`${a.nodeId}.${a.param}`, a.text, { integer: spec.kind === 'int' });
  });
  const errors = [parsedLr, parsedBatch, ...parsedAxes].flatMap((p) => ('error' in p ? [p.error] : []));
  const values = (p: { values: (number | string)[] } | { error: string }) => ('values' in p ? p.values : []);
  const count = gridSize([values(parsedLr), values(parsedBatch), optimizers, ...parsedAxes.map(values)]);

  const run = (): void => {
    if (errors.length) return;
    const space: SearchSpace = {};
    if (values(parsedLr).length) space.lr = values(parsedLr) as number[];
    if (values(parsedBatch).length) space.batchSize = values(parsedBatch) as number[];
    if (optimizers.length) space.optimizer = optimizers;
    const graphParams: GraphParamAxis[] = axes.map((a, i) => ({ nodeId: a.nodeId, param: a.param, values: values(parsedAxes[i]) }));
    if (graphParams.length) space.graphParams = graphParams;
    search.start(space, { strategy, metric, seed: base.seed, ...(strategy === 'random' ? { trials } : {}), ...(subset > 0 ? { subset } : {}) });
  };

  const best = state.phase === 'finished' ? state.results.find((r) => r.rank === 1 && r.score !== null) : undefined;

  return (
    <div className="search-panel" data-testid="search-panel">
      <div className="inspect-row">
        <SettingsGroup title="What to try">
          <TextSetting label="Learning rates" testId="search-lr" value={lr} onChange={setLr} help='Values separated by commas, or a log range like "1e-4 .. 1e-1 x4"' />
          <TextSetting label="Batch sizes" testId="search-batch" value={batch} onChange={setBatch} />
          <div className="setting">
            <span className="setting-label">Optimisers</span>
            <span>
              {OPTIMIZERS.map((o) => (
                <label key={o} style={{ marginRight: 8 }}>
                  <input type="checkbox" data-testid={`search-opt-${o}`} checked={optimizers.includes(o)} onChange={(e) => setOptimizers((list) => (e.target.checked ? [...list, o] : list.filter((x) => x !== o)))} /> {o}
                </label>
              ))}
            </span>
          </div>
          {axes.map((a, i) => {
            const node = doc.graph.nodes.find((n) => n.id === a.nodeId);
            const def = node ? store.layers.getLayer(node.type) : undefined;
            return (
              <div key={i} className="setting" style={{ gridTemplateColumns: '120px 1fr 1fr auto' }}>
                <select value={a.nodeId} data-testid={`search-axis-node-${i}`} onChange={(e) => setAxes((xs) => xs.map((x, j) => (j === i ? { ...x, nodeId: e.target.value, param: '' } : x)))}>
                  {numericNodes.map(({ node: n }) => (
                    <option key={n.id} value={n.id}>
                      {n.label ?? n.id}
                    </option>
                  ))}
                </select>
                <select value={a.param} data-testid={`search-axis-param-${i}`} onChange={(e) => setAxes((xs) => xs.map((x, j) => (j === i ? { ...x, param: e.target.value } : x)))}>
                  <option value="">parameter…</option>
                  {Object.entries(def?.params ?? {})
                    .filter(([, p]) => p.kind === 'int' || p.kind === 'float' || p.kind === 'choice')
                    .map(([name, p]) => (
                      <option key={name} value={name}>
                        {p.label ?? name}
                      </option>
                    ))}
                </select>
                <input type="text" value={a.text} placeholder="values" data-testid={`search-axis-values-${i}`} onChange={(e) => setAxes((xs) => xs.map((x, j) => (j === i ? { ...x, text: e.target.value } : x)))} />
                <button type="button" onClick={() => setAxes((xs) => xs.filter((_, j) => j !== i))} aria-label="Remove">
                  ×
                </button>
              </div>
            );
          })}
          {numericNodes.length > 0 && (
            <button type="button" data-testid="search-add-axis" onClick={() => setAxes((xs) => [...xs, { nodeId: numericNodes[0].node.id, param: '', text: '' }])}>
              Add a layer parameter…
            </button>
          )}
        </SettingsGroup>
        <SettingsGroup title="How">
          <SelectField label="Strategy" testId="search-strategy" value={strategy} options={[{ value: 'grid', label: 'Grid (every combination)' }, { value: 'random', label: 'Random' }]} onChange={setStrategy} />
          {strategy === 'random' && <NumberField label="Trials" testId="search-trials" integer min={1} max={200} value={trials} onCommit={setTrials} />}
          <SelectField label="Rank by" testId="search-metric" value={metric} options={METRICS} onChange={setMetric} />
          <NumberField label="Training samples per trial" testId="search-subset" integer min={0} value={subset} help="0 uses the whole training split" onCommit={setSubset} />
          <p className="panel-empty">
            {strategy === 'grid' ? `${count} trial${count === 1 ? '' : 's'}` : `${Math.min(trials, count)} of ${count} combinations`}, {base.epochs} epoch{base.epochs === 1 ? '' : 's'} each.
          </p>
        </SettingsGroup>
      </div>
      {errors.length > 0 && (
        <p className="setting-error" role="alert" data-testid="search-errors">
          {errors[0]}
        </p>
      )}
      <div className="run-controls">
        <button type="button" className="primary" data-testid="search-run" disabled={running || errors.length > 0} onClick={run}>
          Run search
        </button>
        <button type="button" data-testid="search-stop" disabled={state.phase !== 'running'} onClick={search.stop}>
          Stop
        </button>
        {best && (
          <button
            type="button"
            data-testid="search-apply-best"
            onClick={() => {
              const problems = search.apply(best);
              notify(problems.length ? problems[0] : `Applied the best trial: lr ${best.config.lr}, batch ${best.config.batchSize}, ${best.config.optimizer}`);
            }}
          >
            Apply the best
          </button>
        )}
        <span data-testid="search-progress">
          {state.phase === 'running' || state.phase === 'stopping' ? `Trial ${Math.min(state.done + 1, state.total || 1)} of ${state.total || '…'}` : state.phase === 'finished' ? `Finished: ${state.results.length} trials` : ''}
        </span>
      </div>
      {state.error && (
        <div className="run-banner run-banner-error" role="alert">
          {state.error}
        </div>
      )}
      {state.results.length > 0 && <ResultsTable results={state.results} metric={metric} onApply={(r) => notify(search.apply(r)[0] ?? `Applied trial ${r.trial + 1}`)} />}
    </div>
  );
}

function TextSetting({ label, value, onChange, testId, help }: { label: string; value: string; onChange: (v: string) => void; testId: string; help?: string }) {
  return (
    <label className="setting" title={help}>
      <span className="setting-label">{label}</span>
      <input type="text" data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

function ResultsTable({ results, metric, onApply }: { results: TrialResult[]; metric: MetricName; onApply: (r: TrialResult) => void }) {
  const axes = [...new Set(results.flatMap((r) => Object.keys(r.config.graphParams)))];
  const sorted = [...results].sort((a, b) => a.rank - b.rank || a.trial - b.trial);
  return (
    <table className="search-results" data-testid="search-results">
      <thead>
        <tr>
          <th>Rank</th>
          <th>lr</th>
          <th>Batch</th>
          <th>Optimiser</th>
          {axes.map((a) => (
            <th key={a}>{a}</th>
          ))}
          <th>Best {metric}</th>
          <th>Epoch</th>
          <th>Outcome</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {sorted.map((r) => (
          <tr key={r.trial} data-testid={`trial-${r.trial}`}>
            <td>{r.rank || '…'}</td>
            <td>{r.config.lr}</td>
            <td>{r.config.batchSize}</td>
            <td>{r.config.optimizer}</td>
            {axes.map((a) => (
              <td key={a}>{String(r.config.graphParams[a] ?? '–')}</td>
            ))}
            <td>{r.score === null ? '–' : +r.score.toPrecision(4)}</td>
            <td>{r.bestEpoch ?? '–'}</td>
            <td title={r.error}>{r.status}</td>
            <td>
              <button type="button" disabled={r.score === null} onClick={() => onApply(r)}>
                Apply
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
