import { useMemo, useState } from 'react';
import type { Augmentation, AugmentationType } from '../../engine/data/augment.ts';
import type { DatasetPreview } from '../../engine/data/registry.ts';
import type { DataSettings } from '../../engine/train/settings.ts';
import { BarChart } from '../charts/BarChart.tsx';
import { classColour } from '../charts/colour.ts';
import { ImageGrid } from '../charts/ImageGrid.tsx';
import { ScatterPlot } from '../charts/ScatterPlot.tsx';
import { useEditor, useEditorState } from '../editor/EditorContext.tsx';
import { dataSettingsOf, setDataSettings } from '../store/training-actions.ts';
import { CheckField, NumberField, SelectField, SettingsGroup } from './fields.tsx';
import type { DataPreviewResult, DataPreviewState, TrainingSession } from './useTrainingSession.ts';

/** Default settings of each augmentation, as offered by the checkboxes. */
export const AUGMENTATIONS: { type: AugmentationType; label: string; make: () => Augmentation }[] = [
  { type: 'crop', label: 'Random crop (pad 2)', make: () => ({ type: 'crop', padding: 2 }) },
  { type: 'flip', label: 'Horizontal flip', make: () => ({ type: 'flip', p: 0.5 }) },
  { type: 'rotate', label: 'Rotation (±15°)', make: () => ({ type: 'rotate', degrees: 15 }) },
  { type: 'jitter', label: 'Colour jitter', make: () => ({ type: 'jitter', brightness: 0.2, contrast: 0.2 }) },
  { type: 'blur', label: 'Gaussian blur', make: () => ({ type: 'blur', sigma: 1, p: 0.5 }) },
  { type: 'noise', label: 'Noise', make: () => ({ type: 'noise', std: 0.05 }) },
  { type: 'cutout', label: 'Cutout (8 px)', make: () => ({ type: 'cutout', size: 8, p: 0.5 }) },
];

/** Choose a dataset or import one, see samples, class balance, the split and augmentations. */
export function DataPanel({ session }: { session: TrainingSession }) {
  const { datasets } = session;
  const { store, notify } = useEditor();
  const doc = useEditorState((s) => s.doc);
  const settings = dataSettingsOf(doc);
  const change = (next: DataSettings, what: string): void => {
    const r = store.dispatch(setDataSettings, { settings: next, what });
    if (!r.ok) notify(r.message);
  };
  const src = settings.source;
  const builtin = src.kind === 'builtin' ? datasets.find((d) => d.id === src.id) : undefined;
  const sampleOption = builtin && typeof builtin.options.samples === 'number' ? 'samples' : null;
  const has = (t: AugmentationType) => settings.augmentation.some((a) => a.type === t);

  return (
    <div className="data-panel" data-testid="data-panel">
      <div>
        <SettingsGroup title="Dataset">
          <ul className="dataset-list" data-testid="dataset-list">
            {datasets.map((d) => (
              <li key={d.id}>
                <button
                  type="button"
                  aria-pressed={src.kind === 'builtin' && src.id === d.id}
                  data-testid={`dataset-${d.id}`}
                  onClick={() => change({ ...settings, source: { kind: 'builtin', id: d.id, options: {} }, augmentation: d.preview === 'image' ? settings.augmentation : [] }, 'dataset')}
                >
                  {d.name}
                  <small>{d.description}</small>
                </button>
              </li>
            ))}
          </ul>
          <div className="run-controls" style={{ flexWrap: 'wrap', marginTop: 4 }}>
            <button type="button" data-testid="import-csv" onClick={() => session.importData('csv')}>
              Import CSV…
            </button>
            <button type="button" data-testid="import-images" onClick={() => session.importData('images')}>
              Import image folder…
            </button>
            <button type="button" data-testid="import-text" onClick={() => session.importData('text')}>
              Import text…
            </button>
          </div>
          {src.kind === 'mode' && <p data-testid="mode-source">The project's training mode makes its own samples: train it in the Mode tab.</p>}
          {src.kind !== 'builtin' && src.kind !== 'mode' && (
            <p data-testid="imported-source">
              Imported {src.kind === 'images' ? `image folder ${src.folder}` : src.kind === 'csv' ? `CSV ${src.file}` : `text ${src.file}`}
            </p>
          )}
          {src.kind === 'images' && (
            <>
              <NumberField label="Width" testId="import-width" integer min={1} max={512} value={src.width} onCommit={(width) => change({ ...settings, source: { ...src, width } }, 'image size')} />
              <NumberField label="Height" testId="import-height" integer min={1} max={512} value={src.height} onCommit={(height) => change({ ...settings, source: { ...src, height } }, 'image size')} />
              <SelectField
                label="Colour"
                testId="import-channels"
                value={String(src.channels) as '1' | '3'}
                options={[
                  { value: '1', label: 'greyscale' },
                  { value: '3', label: 'RGB' },
                ]}
                onChange={(c) => change({ ...settings, source: { ...src, channels: c === '3' ? 3 : 1 } }, 'image colour')}
              />
            </>
          )}
          {src.kind === 'csv' && (
            <label className="setting">
              <span className="setting-label">Target column</span>
              <input
                type="text"
                data-testid="import-target"
                defaultValue={src.target === undefined ? '' : String(src.target)}
                placeholder="last column"
                onBlur={(e) => {
                  const t = e.target.value.trim();
                  const { target: _old, ...rest } = src;
                  change({ ...settings, source: t === '' ? rest : { ...rest, target: /^\d+$/.test(t) ? Number(t) : t } }, 'target column');
                }}
              />
            </label>
          )}
          {src.kind === 'text' && (
            <NumberField label="Sequence length" testId="import-seq-len" integer min={2} value={src.seqLen ?? 32} onCommit={(seqLen) => change({ ...settings, source: { ...src, seqLen } }, 'sequence length')} />
          )}
        </SettingsGroup>
        <SettingsGroup title="Samples and split">
          {builtin && sampleOption && (
            <NumberField
              label="Samples to load"
              testId="data-samples"
              integer
              min={10}
              value={Number(src.kind === 'builtin' ? (src.options?.samples ?? builtin.options.samples) : 0)}
              onCommit={(samples) => src.kind === 'builtin' && change({ ...settings, source: { ...src, options: { ...src.options, samples } } }, 'samples')}
            />
          )}
          <NumberField label="Use at most" testId="data-limit" integer min={2} value={settings.limit ?? 0} help="0 uses every sample" onCommit={(limit) => change({ ...settings, limit: limit === 0 ? null : limit }, 'sample limit')} />
          <NumberField label="Train fraction" testId="split-train" min={0} max={1} minExclusive value={settings.split.train} onCommit={(train) => change({ ...settings, split: { ...settings.split, train } }, 'split')} />
          <NumberField label="Validation fraction" testId="split-val" min={0} max={1} value={settings.split.val} onCommit={(val) => change({ ...settings, split: { ...settings.split, val } }, 'split')} />
          <NumberField label="Test fraction" testId="split-test" min={0} max={1} value={settings.split.test} onCommit={(test) => change({ ...settings, split: { ...settings.split, test } }, 'split')} />
          <NumberField label="Split seed" testId="split-seed" integer min={0} value={settings.splitSeed} onCommit={(splitSeed) => change({ ...settings, splitSeed }, 'split seed')} />
          <CheckField label="Standardise inputs" testId="data-standardize" checked={settings.standardize} onChange={(standardize) => change({ ...settings, standardize }, 'standardisation')} />
        </SettingsGroup>
        {session.dataPreview.result?.preview.kind === 'image' && (
          <SettingsGroup title="Augmentation (training only)">
            {AUGMENTATIONS.map((a) => (
              <CheckField
                key={a.type}
                label={a.label}
                testId={`augment-${a.type}`}
                checked={has(a.type)}
                onChange={(on) => change({ ...settings, augmentation: on ? [...settings.augmentation, a.make()] : settings.augmentation.filter((x) => x.type !== a.type) }, 'augmentation')}
              />
            ))}
          </SettingsGroup>
        )}
      </div>
      <DataPreviewView state={session.dataPreview} settings={settings} testSupport={testSupport(session)} />
    </div>
  );
}

function DataPreviewView({ state, settings, testSupport }: { state: DataPreviewState; settings: DataSettings; testSupport: number[] | null }) {
  const r = state.result;
  const [balanceOf, setBalanceOf] = useState<BalanceScope>('all');
  const balance = r ? classBalance(r, testSupport, balanceOf) : null;
  if (state.error) {
    return (
      <div className="data-preview">
        <div className="run-banner run-banner-error" role="alert" data-testid="data-error">
          {state.error}
        </div>
      </div>
    );
  }
  if (!r) return <div className="data-preview panel-empty">{state.loading ? 'Loading the dataset…' : 'Choose a dataset.'}</div>;
  const total = r.splits.train + r.splits.val + r.splits.test;
  return (
    <div className="data-preview" data-testid="data-preview" aria-busy={state.loading}>
      <div className="data-facts">
        <strong>{r.meta.name}</strong>
        <span data-testid="data-length">{r.length.toLocaleString()} samples</span>
        <span>input [{r.meta.inputShape.join(' × ')}]</span>
        <span>{r.meta.task}</span>
        {r.meta.numClasses !== undefined && <span>{r.meta.numClasses} classes</span>}
      </div>
      <div>
        <h3 className="section-title">Split</h3>
        <div className="split-bar" data-testid="split-bar">
          {(['train', 'val', 'test'] as const).map((k, i) =>
            r.splits[k] > 0 ? (
              <span key={k} style={{ flex: r.splits[k] / Math.max(1, total), background: ['#2f6fde', '#e8590c', '#2b8a3e'][i] }} data-testid={`split-${k}-count`} title={`${k}: ${r.splits[k]}`}>
                {k} {r.splits[k].toLocaleString()}
              </span>
            ) : null,
          )}
        </div>
      </div>
      <div className="inspect-row">
        <div>
          <h3 className="section-title">Samples</h3>
          <PreviewSamples preview={r.preview} />
        </div>
        {balance && (
          <div style={{ minWidth: 220, flex: 1 }}>
            <h3 className="section-title">Class balance ({balance.of})</h3>
            {r.classCounts?.splits && (
              <SelectField<BalanceScope>
                label="Show"
                testId="class-balance-scope"
                value={balanceOf}
                options={[
                  { value: 'all', label: 'Whole dataset' },
                  { value: 'train', label: 'Train split' },
                  { value: 'val', label: 'Validation split' },
                  { value: 'test', label: 'Test split' },
                ]}
                onChange={setBalanceOf}
              />
            )}
            <BarChart testId="class-balance" bars={balance.counts.map((n, c) => ({ label: balance.classNames[c] ?? r.meta.classNames?.[c] ?? String(c), value: n, colour: classColour(c) }))} format={(v) => String(v)} />
          </div>
        )}
      </div>
      {r.augmented && r.augmented.length > 0 && r.preview.kind === 'image' && (
        <div>
          <h3 className="section-title">Augmented versions of the first sample ({settings.augmentation.map((a) => a.type).join(', ')})</h3>
          <ImageGrid testId="augment-preview" images={r.augmented.map((values) => ({ values }))} width={r.preview.width} height={r.preview.height} rgb={r.preview.channels === 3} colourMap="grey" size={56} />
        </div>
      )}
    </div>
  );
}

function PreviewSamples({ preview }: { preview: DatasetPreview }) {
  const images = useMemo(() => (preview.kind === 'image' ? preview.samples.map((s) => ({ values: s.pixels, label: s.label })) : []), [preview]);
  switch (preview.kind) {
    case 'image':
      return <ImageGrid testId="sample-images" images={images} width={preview.width} height={preview.height} rgb={preview.channels === 3} colourMap="grey" size={56} />;
    case 'points':
      return (
        <div style={{ width: 300 }}>
          <ScatterPlot testId="sample-points" points={preview.points.map((p) => ({ x: p.x, y: p.y, cls: p.cls, label: p.label }))} classNames={[...new Set(preview.points.map((p) => p.label))]} height={220} />
        </div>
      );
    case 'rows':
      return (
        <table className="per-class" data-testid="sample-rows">
          <thead>
            <tr>
              {preview.columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
              <th>target</th>
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, i) => (
              <tr key={i}>
                {row.values.map((v, j) => (
                  <td key={j}>{+v.toPrecision(4)}</td>
                ))}
                <td>{row.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
      );
    case 'sequence':
      return (
        <ul className="text-samples" data-testid="sample-sequences">
          {preview.samples.map((s, i) => (
            <li key={i}>
              {s.values
                .slice(0, 16)
                .map((v) => v.map((x) => +x.toFixed(2)).join('/'))
                .join(' ')}
              {s.values.length > 16 ? ' …' : ''} → {s.target}
            </li>
          ))}
        </ul>
      );
    case 'text':
      return (
        <ul className="text-samples" data-testid="sample-text">
          {preview.samples.map((s, i) => (
            <li key={i}>
              {JSON.stringify(s.input)} → {JSON.stringify(s.target)}
            </li>
          ))}
        </ul>
      );
    case 'graph':
      return (
        <ul data-testid="sample-graphs">
          {preview.graphs.map((g, i) => (
            <li key={i}>
              {g.label}: {g.nodes} nodes, {g.edges.length} edges
            </li>
          ))}
        </ul>
      );
  }
}

/** Which samples the class balance counts: the whole dataset or one split. */
export type BalanceScope = 'all' | 'train' | 'val' | 'test';

/**
 * Samples per class: the engine's counts over the whole dataset or a split when the preview
 * carries them, else every sample of a 2-D set (its preview holds them all), else the test
 * split's support from the last run's metrics.
 */
export function classBalance(r: DataPreviewResult, testSupport: number[] | null, scope: BalanceScope = 'all'): { counts: number[]; of: string; classNames: string[] } | null {
  const k = r.meta.numClasses;
  if (!k) return null;
  const names = r.meta.classNames ?? [];
  const cc = r.classCounts;
  if (cc) {
    if (scope !== 'all' && cc.splits) {
      const counts = cc.splits[scope];
      const sum = counts.reduce((a, b) => a + b, 0);
      return { counts, of: `${scope === 'val' ? 'validation' : scope} split, ${sum.toLocaleString()} samples`, classNames: cc.classNames };
    }
    return { counts: cc.total, of: `all ${r.length.toLocaleString()} samples`, classNames: cc.classNames };
  }
  if (r.preview.kind === 'points' && r.preview.points.length === r.length) {
    const counts = new Array<number>(k).fill(0);
    for (const p of r.preview.points) if (p.cls >= 0 && p.cls < k) counts[p.cls]++;
    return { counts, of: `all ${r.length} samples`, classNames: names };
  }
  if (testSupport && testSupport.length === k) return { counts: testSupport, of: 'test split of the last run', classNames: names };
  return null;
}

function testSupport(session: TrainingSession): number[] | null {
  const run = session.run.current ?? session.run.runs[0];
  const m = run?.testMetrics ?? run?.history.at(-1)?.val;
  return m?.perClass ? m.perClass.map((c) => c.support) : null;
}
