import { useEffect, useState } from 'react';
import type { ParamValue } from '../../engine/graph/types.ts';
import { clearPretrained, editParam, group, setLabel, setParam, setTraining, ungroup } from '../store/actions.ts';
import { findNode } from '../store/document.ts';
import { layerServices } from './catalogue.ts';
import { useAnalysis, useEditor, useEditorState } from './EditorContext.tsx';
import { bytesLabel, countLabel, shapeLabel, shortCount } from './format.ts';
import { ParamField } from './ParamField.tsx';

/** The right panel: the selected layer's parameters and the graph's totals. */
export function Inspector() {
  return (
    <div className="inspector">
      <SelectionDetails />
      <GraphTotals />
    </div>
  );
}

function SelectionDetails() {
  const { store, notify } = useEditor();
  const graph = useEditorState((s) => s.doc.graph);
  const selection = useEditorState((s) => s.selection);
  const analysis = useAnalysis();
  const selectedNodes = selection.map((id) => findNode(graph, id)).filter((n) => n !== undefined);

  if (selectedNodes.length === 0) return <p className="panel-empty">Select a layer to see its properties.</p>;
  if (selectedNodes.length > 1) {
    return (
      <section className="inspector-section" data-testid="inspector-multi">
        <h3>{selectedNodes.length} layers selected</h3>
        <button
          type="button"
          data-testid="inspector-group"
          onClick={() => {
            const r = store.dispatch(group, { ids: selectedNodes.map((n) => n.id) });
            if (!r.ok) notify(r.message);
          }}
        >
          Group into a block
        </button>
      </section>
    );
  }

  const node = selectedNodes[0];
  const def = layerServices.getLayer(node.type);
  const info = analysis.nodes.get(node.id);
  const edit = (name: string, value: ParamValue): void => {
    store.dispatch(editParam, { nodeId: node.id, name, value });
  };
  const commit = (name: string, value?: ParamValue): void => {
    if (value === undefined) store.commit();
    else store.dispatch(setParam, { nodeId: node.id, name, value });
  };
  const crossField = def?.validate?.(node.params) ?? [];

  return (
    <section className="inspector-section" data-testid="inspector-node" data-node-id={node.id}>
      <h3 className="inspector-node-title">
        {node.label || def?.displayName || node.type} <small>{node.id}</small>
      </h3>
      {def && <p className="inspector-description">{def.description}</p>}
      <NameField nodeId={node.id} label={node.label ?? ''} placeholder={def?.displayName ?? node.type} />
      {def && (
        <form className="param-form" onSubmit={(e) => e.preventDefault()} aria-label={`${def.displayName} parameters`}>
          {Object.entries(def.params).map(([name, spec]) => (
            <ParamField
              key={`${node.id}:${name}`}
              name={name}
              spec={spec}
              value={node.params[name]}
              onEdit={(v) => edit(name, v)}
              onCommit={(v) => commit(name, v)}
            />
          ))}
        </form>
      )}
      {[...crossField, ...(info?.errors ?? [])].map((m) => (
        <p key={m} className="inspector-error" role="note">
          {m}
        </p>
      ))}
      <dl className="inspector-facts">
        <dt>Output</dt>
        <dd data-testid="inspector-output">{info?.outputs.length ? info.outputs.map(shapeLabel).join(', ') : '—'}</dd>
        <dt>Parameters</dt>
        <dd data-testid="inspector-node-params">{countLabel(info?.paramCount ?? 0)}</dd>
        <dt>FLOPs</dt>
        <dd>{shortCount(info?.flops ?? 0)}</dd>
      </dl>
      {node.pretrained && (
        <div className="inspector-pretrained" data-testid="inspector-pretrained">
          <p>
            Starts from imported weights: <strong>{node.pretrained}</strong>
          </p>
          <button type="button" data-testid="inspector-clear-pretrained" onClick={() => store.dispatch(clearPretrained, { nodeId: node.id })}>
            Start from random values
          </button>
        </div>
      )}
      {(info?.paramCount ?? 0) > 0 && <TrainingFields nodeId={node.id} frozen={node.frozen === true} lrScale={node.lrScale ?? 1} />}
      {node.subgraph && (
        <button type="button" data-testid="inspector-ungroup" onClick={() => store.dispatch(ungroup, { id: node.id })}>
          Ungroup block
        </button>
      )}
    </section>
  );
}

/**
 * The layer's display name. Typing changes nothing until Enter or leaving the field, so a
 * rename is one undoable step; Escape puts the current name back; an empty name returns the
 * layer to its type's name.
 */
function NameField({ nodeId, label, placeholder }: { nodeId: string; label: string; placeholder: string }) {
  const { store, notify } = useEditor();
  const [text, setText] = useState(label);
  useEffect(() => setText(label), [nodeId, label]);
  const commit = (): void => {
    if (text.trim() === label) return;
    const r = store.dispatch(setLabel, { nodeId, label: text });
    if (!r.ok) notify(r.message);
  };
  return (
    <label className="param-field inspector-name">
      <span className="param-label">Name</span>
      <input
        type="text"
        data-testid="inspector-name"
        value={text}
        placeholder={placeholder}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') setText(label);
        }}
      />
    </label>
  );
}

/**
 * Transfer learning per layer: freeze it (its weights stay as loaded or trained) or give
 * it its own learning-rate scale (e.g. 0.1 to fine-tune a pretrained encoder gently).
 */
function TrainingFields({ nodeId, frozen, lrScale }: { nodeId: string; frozen: boolean; lrScale: number }) {
  const { store, notify } = useEditor();
  const [text, setText] = useState(String(lrScale));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(String(lrScale));
    setError(null);
  }, [nodeId, lrScale]);
  const dispatch = (args: { frozen?: boolean; lrScale?: number }): void => {
    const r = store.dispatch(setTraining, { nodeId, ...args });
    if (!r.ok && r.message !== 'Nothing to change.') notify(r.message);
  };
  const commitScale = (): void => {
    const v = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(v) || v < 0) {
      setError(`The learning-rate scale must be a number of at least 0${text.trim() ? `, got "${text.trim()}"` : ''}`);
      return;
    }
    setError(null);
    if (v !== lrScale) dispatch({ lrScale: v });
  };
  return (
    <fieldset className="inspector-training" data-testid="inspector-training">
      <legend>Training</legend>
      <label className="param-field param-bool">
        <input type="checkbox" data-testid="inspector-frozen" checked={frozen} onChange={(e) => dispatch({ frozen: e.target.checked })} />
        <span>Freeze (keep these weights; do not train them)</span>
      </label>
      <label className={`param-field${error ? ' invalid' : ''}`}>
        <span className="param-label">Learning-rate scale</span>
        <input
          type="text"
          inputMode="decimal"
          data-testid="inspector-lr-scale"
          value={text}
          disabled={frozen}
          aria-invalid={error ? true : undefined}
          onChange={(e) => setText(e.target.value)}
          onBlur={commitScale}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commitScale();
            if (e.key === 'Escape') {
              setText(String(lrScale));
              setError(null);
            }
          }}
        />
        <small className="param-help">{error ?? 'Multiplies the learning rate for this layer: below 1 fine-tunes gently'}</small>
      </label>
    </fieldset>
  );
}

function GraphTotals() {
  const { totals } = useAnalysis();
  const layers = useEditorState((s) => s.doc.graph.nodes.length);
  return (
    <section className="inspector-section inspector-totals" data-testid="graph-totals" aria-label="Network totals">
      <h3>Network</h3>
      <dl className="inspector-facts">
        <dt>Layers</dt>
        <dd>{layers}</dd>
        <dt>Parameters</dt>
        <dd data-testid="total-params">{countLabel(totals.params)}</dd>
        {totals.trainableParams !== totals.params && (
          <>
            <dt>Trainable</dt>
            <dd data-testid="total-trainable">{countLabel(totals.trainableParams)}</dd>
          </>
        )}
        <dt>FLOPs / sample</dt>
        <dd data-testid="total-flops">{shortCount(totals.flops)}</dd>
        <dt>Weights</dt>
        <dd>{bytesLabel(totals.weightBytes)}</dd>
        <dt>Activations / sample</dt>
        <dd>{bytesLabel(totals.activationBytes)}</dd>
      </dl>
    </section>
  );
}
