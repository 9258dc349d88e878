import { useMemo, useState } from 'react';
import { getLayer } from '../../engine/graph/catalogue.ts';
import type { ModelGraph } from '../../engine/graph/types.ts';
import { readProject, type Project } from '../../engine/io/project.ts';
import type { SafetensorsFile } from '../../engine/io/safetensors.ts';
import { importableOutputs, importLayers, type ImportedLayers, suggestedOutput } from '../../engine/train/import-layers.ts';
import type { HostApi } from '../../main/api/host-api.ts';
import { importLayers as importLayersAction } from '../store/actions.ts';
import type { EditorStore } from '../store/store.ts';

interface ImportLayersDialogProps {
  host: HostApi;
  store: EditorStore;
  /** The open project's imported weights so far, and where the new ones go. */
  pretrained: () => SafetensorsFile | undefined;
  setPretrained: (file: SafetensorsFile) => void;
  notify: (message: string) => void;
  onClose: () => void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The input ports of the open project's layers that imported layers could feed. */
function inputPorts(graph: ModelGraph): { node: string; port: string }[] {
  const out: { node: string; port: string }[] = [];
  for (const n of graph.nodes) {
    const def = getLayer(n.type);
    if (def.isInput || def.isTarget) continue;
    for (const p of def.inputs(n.params, n)) out.push({ node: n.id, port: p.name });
  }
  return out;
}

/**
 * Transfer learning from another project: choose a trained `.aps` file and the layer its
 * imported part ends with (an autoencoder's code, a classifier's features); everything
 * upstream comes into the open project with its trained weights, frozen or fine-tuned at
 * a learning-rate scale, optionally feeding one of its layers.
 */
export function ImportLayersDialog({ host, store, pretrained, setPretrained, notify, onClose }: ImportLayersDialogProps) {
  const [source, setSource] = useState<{ name: string; project: Project } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outputId, setOutputId] = useState('');
  const [connect, setConnect] = useState('');
  const [mode, setMode] = useState<'freeze' | 'finetune'>('freeze');
  const [scaleText, setScaleText] = useState('0.1');
  const target = store.getState().doc.graph;
  const ports = useMemo(() => inputPorts(target), [target]);

  const choose = (): void => {
    setError(null);
    host.readProjectFile().then(
      (file) => {
        if (!file) return;
        let project: Project;
        try {
          project = readProject(file.bytes);
        } catch (err) {
          setSource(null);
          setError(`${file.name} cannot be read: ${errorText(err)}`);
          return;
        }
        const latent = (project.training.mode as { latentId?: unknown } | undefined)?.latentId;
        setSource({ name: file.name, project });
        setOutputId(suggestedOutput(project.graph, typeof latent === 'string' ? latent : undefined) ?? '');
      },
      (err: unknown) => setError(`Could not read the project: ${errorText(err)}`),
    );
  };

  const scale = Number(scaleText.trim());
  const scaleProblem = mode === 'finetune' && !(scaleText.trim() !== '' && Number.isFinite(scale) && scale > 0) ? `The learning-rate scale must be a number above 0, got "${scaleText.trim()}"` : null;
  const preview = useMemo((): { result: ImportedLayers } | { problem: string } | null => {
    if (!source || !outputId) return null;
    if (scaleProblem) return { problem: scaleProblem };
    const [node, port] = connect ? connect.split('\u0000') : [];
    try {
      const result = importLayers({ name: source.name, graph: source.project.graph, weights: source.project.weights, pretrained: source.project.pretrained }, target, {
        outputId,
        mode,
        ...(mode === 'finetune' ? { lrScale: scale } : {}),
        ...(node && port ? { connectTo: { node, port } } : {}),
      });
      return { result };
    } catch (err) {
      return { problem: errorText(err) };
    }
  }, [source, outputId, connect, mode, scale, scaleProblem, target]);

  const apply = (): void => {
    if (!preview || !('result' in preview) || !source) return;
    const { result } = preview;
    const r = store.dispatch(importLayersAction, { graph: result.graph, added: [...result.ids.values()], source: source.name });
    if (!r.ok) {
      setError(r.message);
      return;
    }
    const before = pretrained();
    setPretrained({ tensors: new Map([...(before?.tensors ?? []), ...result.weights.tensors]), metadata: { ...(before?.metadata ?? {}), ...result.weights.metadata } });
    notify(`Imported ${result.ids.size} layer${result.ids.size === 1 ? '' : 's'} (${result.parameters.toLocaleString('en-US')} trained values) from ${source.name}`);
    onClose();
  };

  const outputs = source ? importableOutputs(source.project.graph) : [];
  return (
    <div className="dialog-backdrop" onClick={onClose}>
      <div className="dialog import-layers" role="dialog" aria-label="Import layers" data-testid="import-layers-dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Import layers from a project</h2>
        <p>Bring the trained layers of another project (for example an autoencoder's encoder) into this one, with their weights.</p>
        <button type="button" data-testid="import-choose" onClick={choose}>
          {source ? 'Choose another project…' : 'Choose a project…'}
        </button>
        {source && (
          <p data-testid="import-source">
            <strong>{source.name}</strong>: {source.project.graph.nodes.length} layers, {source.project.weights ? 'trained' : 'not trained yet'}
          </p>
        )}
        {error && (
          <p className="status-error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
        {source && (
          <div className="import-fields">
            <label className="param-field">
              <span className="param-label">Import the layers up to</span>
              <select data-testid="import-output" value={outputId} onChange={(e) => setOutputId(e.target.value)}>
                {outputs.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.id} ({n.type})
                  </option>
                ))}
              </select>
            </label>
            <label className="param-field">
              <span className="param-label">Its output feeds</span>
              <select data-testid="import-connect" value={connect} onChange={(e) => setConnect(e.target.value)}>
                <option value="">nothing yet (connect it on the canvas)</option>
                {ports.map((p) => (
                  <option key={`${p.node}.${p.port}`} value={`${p.node}\u0000${p.port}`}>
                    {p.node} · {p.port}
                  </option>
                ))}
              </select>
            </label>
            <fieldset className="import-mode">
              <legend>While this project trains</legend>
              <label>
                <input type="radio" name="import-mode" data-testid="import-freeze" checked={mode === 'freeze'} onChange={() => setMode('freeze')} /> keep the imported weights (freeze)
              </label>
              <label>
                <input type="radio" name="import-mode" data-testid="import-finetune" checked={mode === 'finetune'} onChange={() => setMode('finetune')} /> fine-tune them at
                <input
                  type="text"
                  inputMode="decimal"
                  className="import-scale"
                  data-testid="import-lr-scale"
                  aria-label="Learning-rate scale"
                  value={scaleText}
                  disabled={mode !== 'finetune'}
                  onChange={(e) => setScaleText(e.target.value)}
                />
                × the learning rate
              </label>
            </fieldset>
            {preview && 'problem' in preview && (
              <p className="status-error" role="alert" data-testid="import-problem">
                {preview.problem}
              </p>
            )}
            {preview && 'result' in preview && (
              <p data-testid="import-summary">
                {preview.result.ids.size} layer{preview.result.ids.size === 1 ? '' : 's'} with {preview.result.parameters.toLocaleString('en-US')} trained values
                {preview.result.reusedInputs.size > 0 && <>, fed by this project's {[...preview.result.reusedInputs.values()].join(', ')}</>}
                {[...preview.result.ids].some(([a, b]) => a !== b) && (
                  <>
                    ; renamed{' '}
                    {[...preview.result.ids]
                      .filter(([a, b]) => a !== b)
                      .map(([a, b]) => `${a} → ${b}`)
                      .join(', ')}
                  </>
                )}
              </p>
            )}
          </div>
        )}
        <div className="dialog-buttons">
          <button type="button" data-testid="import-apply" disabled={!preview || !('result' in preview)} onClick={apply}>
            Import
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
