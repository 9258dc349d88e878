import { useEffect, useState } from 'react';
import type { Inspectable } from '../../engine/graph/types.ts';
import { BarChart } from '../charts/BarChart.tsx';
import { MapImage } from '../charts/MapImage.tsx';
import { ScatterPlot } from '../charts/ScatterPlot.tsx';
import { useEditor, useEditorState } from '../editor/EditorContext.tsx';
import { findNode } from '../store/document.ts';
import { ActivationView } from './ActivationView.tsx';
import { AttentionView } from './AttentionView.tsx';
import { DrawCanvas } from './DrawCanvas.tsx';
import { FilterGrid } from './FilterGrid.tsx';
import type { InspectKind, InspectResult, Prediction, SampleChoice } from './inspect-types.ts';
import type { InspectionState } from '../training/useTrainingSession.ts';

export interface InspectApi {
  inspection: InspectionState;
  /** A model is there to inspect (a finished or paused run of this session). */
  ready: boolean;
  /** Why nothing can be inspected yet. */
  notReady: string;
  inspect(kind: InspectKind, sample: SampleChoice, nodeId?: string): void;
  classNames: string[];
  /** Per-sample input shape of the model being inspected; [C, H, W] images can be drawn by hand. */
  inputShape: number[] | null;
  isImage: boolean;
  /**
   * The project's saved weights: `canLoad` when it has some and nothing else can be
   * inspected (the panel then loads them into the engine), `failed` after a load failed
   * (the panel offers to try again).
   */
  saved?: { canLoad: boolean; failed: boolean; load(): void };
}

const KIND_LABEL: Record<Inspectable, string> = { activations: 'Activations', filters: 'Filters', attention: 'Attention' };

/**
 * Look inside the network for one sample: what the selected node can show (from the
 * catalogue's `inspect` list), the predicted probabilities, a saliency map over the input
 * and a 2-D embedding of a node's outputs coloured by class.
 */
export function InspectPanel({ api }: { api: InspectApi }) {
  const { store } = useEditor();
  const selection = useEditorState((s) => s.selection);
  const graph = useEditorState((s) => s.doc.graph);
  const node = selection.length === 1 ? findNode(graph, selection[0]) : undefined;
  const def = node ? store.layers.getLayer(node.type) : undefined;
  const inspectable = def?.inspect ?? [];
  const [split, setSplit] = useState<'train' | 'val' | 'test'>('test');
  const [index, setIndex] = useState(0);
  const [drawn, setDrawn] = useState<number[] | null>(null);
  const [drawing, setDrawing] = useState(false);
  const { inspection, inspect, ready } = api;
  const shape = api.inputShape;
  const canDraw = api.isImage && shape !== null && shape.length === 3 && (shape[0] === 1 || shape[0] === 3);
  const sample: SampleChoice = drawing && drawn ? { split, index, values: drawn } : { split, index };
  const sampleKey = JSON.stringify(sample);

  // A reopened project's trained weights are loaded into the engine to be inspected.
  const canLoadSaved = api.saved?.canLoad ?? false;
  const loadSaved = api.saved?.load;
  useEffect(() => {
    if (canLoadSaved && loadSaved) loadSaved();
  }, [canLoadSaved, loadSaved]);

  // A new sample (or a newly trained model) shows its prediction.
  useEffect(() => {
    if (ready) inspect('predict', JSON.parse(sampleKey) as SampleChoice);
  }, [sampleKey, ready, inspect]);
  const res = inspection.results;
  const button = (kind: InspectKind, label: string, nodeId?: string) => (
    <button type="button" key={kind} data-testid={`inspect-${kind}`} disabled={!ready || inspection.loading !== null} onClick={() => inspect(kind, sample, nodeId)}>
      {inspection.loading === kind ? `${label}…` : label}
    </button>
  );

  return (
    <div className="inspect-panel" data-testid="inspect-panel">
      <div>
        <h3 className="section-title">Sample</h3>
        <label className="setting">
          <span className="setting-label">From split</span>
          <select data-testid="inspect-split" value={split} onChange={(e) => setSplit(e.target.value as typeof split)}>
            <option value="train">train</option>
            <option value="val">validation</option>
            <option value="test">test</option>
          </select>
        </label>
        <label className="setting">
          <span className="setting-label">Sample number</span>
          <input type="number" min={0} data-testid="inspect-index" value={index} onChange={(e) => setIndex(Math.max(0, Math.floor(Number(e.target.value) || 0)))} />
        </label>
        {canDraw && (
          <>
            <label className="setting setting-check">
              <input type="checkbox" data-testid="inspect-draw" checked={drawing} onChange={(e) => setDrawing(e.target.checked)} />
              <span className="setting-label">Draw a sample by hand</span>
            </label>
            {drawing && (
              <DrawCanvas
                width={shape[2]}
                height={shape[1]}
                onChange={(pixels) => {
                  // Grey strokes fill every colour channel of an RGB model alike.
                  const plane = Array.from(pixels);
                  setDrawn(shape[0] === 3 ? [...plane, ...plane, ...plane] : plane);
                }}
              />
            )}
          </>
        )}
        {res.predict?.kind === 'predict' && <PredictionView result={res.predict} />}
      </div>
      <div className="inspect-views">
        {!ready && (
          <p className="panel-empty" data-testid="inspect-not-ready">
            {api.notReady}
            {api.saved?.failed && (
              <>
                {' '}
                <button type="button" data-testid="inspect-load-saved" onClick={api.saved.load}>
                  Try again
                </button>
              </>
            )}
          </p>
        )}
        <div className="run-controls" role="toolbar" aria-label="Inspect">
          {node ? (
            <>
              <span data-testid="inspect-node">
                {node.label ?? node.id} ({def?.displayName ?? node.type}):
              </span>
              {inspectable.length === 0 && <span className="panel-empty">nothing to inspect in this layer</span>}
              {inspectable.map((k) => button(k, KIND_LABEL[k], node.id))}
              {inspectable.includes('activations') && button('embeddings', '2-D embedding', node.id)}
            </>
          ) : (
            <span className="panel-empty">Select a layer on the canvas to see its activations, filters or attention.</span>
          )}
          {button('saliency', 'Saliency')}
        </div>
        {inspection.error && (
          <div className="run-banner run-banner-error" role="alert" data-testid="inspect-error">
            {inspection.error}
          </div>
        )}
        {res.activations?.kind === 'activations' && <ActivationView nodeId={res.activations.nodeId} shape={res.activations.shape} values={res.activations.values} />}
        {res.filters?.kind === 'filters' && <FilterGrid nodeId={res.filters.nodeId} shape={res.filters.shape} values={res.filters.values} />}
        {res.attention?.kind === 'attention' && <AttentionView {...res.attention} />}
        {res.saliency?.kind === 'saliency' && <Saliency result={res.saliency} input={res.predict?.kind === 'predict' ? res.predict.input : null} />}
        {res.embeddings?.kind === 'embeddings' && (
          <div style={{ maxWidth: 460 }}>
            <ScatterPlot
              testId="embedding"
              title={`PCA of ${res.embeddings.nodeId} (${res.embeddings.dimension} values per sample; ${(100 * (res.embeddings.explainedVariance[0] + res.embeddings.explainedVariance[1])).toFixed(0)}% of the variance shown)`}
              points={res.embeddings.points.map(([x, y], i) => ({ x, y, cls: res.embeddings!.kind === 'embeddings' ? (res.embeddings as Extract<InspectResult, { kind: 'embeddings' }>).labels[i] : 0 }))}
              classNames={api.classNames}
            />
          </div>
        )}
      </div>
    </div>
  );
}

function SampleImage({ input, shape, size = 84, testId }: { input: number[]; shape: number[]; size?: number; testId?: string }) {
  if (shape.length !== 3 || (shape[0] !== 1 && shape[0] !== 3)) return null;
  return <MapImage values={input} width={shape[2]} height={shape[1]} rgb={shape[0] === 3} colourMap="grey" size={size} testId={testId} />;
}

function PredictionView({ result }: { result: Prediction }) {
  const p = result.probabilities;
  const best = p.indexOf(Math.max(...p));
  const name = (i: number) => result.classNames[i] ?? String(i);
  return (
    <div data-testid="prediction">
      {result.input && <SampleImage input={result.input.values} shape={result.input.shape} testId="inspect-sample" />}
      <p>
        Predicted <strong data-testid="predicted-class">{name(best)}</strong>
        {result.target !== undefined && ` (true: ${name(result.target)})`}
      </p>
      <BarChart testId="probabilities" domain={[0, 1]} bars={p.map((v, i) => ({ label: name(i), value: v, highlight: i === best }))} format={(v) => `${(v * 100).toFixed(1)}%`} />
    </div>
  );
}

function Saliency({ result, input }: { result: Extract<InspectResult, { kind: 'saliency' }>; input: Prediction['input'] }) {
  const { map } = result;
  const [h, w] = map.shape.length === 2 ? map.shape : [1, map.values.length];
  return (
    <div data-testid="saliency-view">
      <h4 className="section-title">Saliency: how strongly each input value moves the score of class {result.classIndex} (predicted {result.predicted})</h4>
      <div className="inspect-row">
        {input && <SampleImage input={input.values} shape={input.shape} size={140} />}
        <MapImage values={map.values} width={w} height={h} colourMap="viridis" size={140} testId="saliency-map" />
      </div>
    </div>
  );
}
