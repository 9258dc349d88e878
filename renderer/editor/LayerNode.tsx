import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { GraphNode, LayerDef, PortSpec } from '../../engine/graph/types.ts';
import type { NodeInfo } from './analysis.ts';
import { countLabel, paramValueLabel, shapeLabel, shortCount } from './format.ts';

export interface LayerNodeData extends Record<string, unknown> {
  node: GraphNode;
  def: LayerDef | undefined;
  info: NodeInfo | undefined;
  expanded: boolean;
  onToggleExpanded: (id: string) => void;
}

export type LayerFlowNode = Node<LayerNodeData, 'layer'>;

const MAX_KEY_PARAMS = 4;

/** The parameters worth showing on the card: the first in the schema plus any changed from its default. */
export function keyParams(node: GraphNode, def: LayerDef | undefined): [string, string][] {
  if (!def) return [];
  const entries = Object.entries(def.params);
  const shown = entries.filter(([name, spec], i) => i === 0 || JSON.stringify(node.params[name]) !== JSON.stringify(spec.default));
  return shown.slice(0, MAX_KEY_PARAMS).map(([name]) => [name, paramValueLabel(node.params[name])]);
}

function handleTop(i: number, n: number): string {
  return `${((i + 1) / (n + 1)) * 100}%`;
}

function Ports({ ports, type }: { ports: PortSpec[]; type: 'source' | 'target' }) {
  return (
    <>
      {ports.map((p, i) => (
        <Handle
          key={p.name}
          id={p.name}
          type={type}
          position={type === 'target' ? Position.Left : Position.Right}
          style={{ top: handleTop(i, ports.length) }}
          className={`port port-${p.kind}`}
          data-testid={`port-${type === 'target' ? 'in' : 'out'}-${p.name}`}
          title={`${p.label ?? p.name} (${p.kind}${p.optional ? ', optional' : ''})`}
        />
      ))}
    </>
  );
}

/** A layer on the canvas: name, key parameters, output shape and parameter count. */
export const LayerNode = memo(function LayerNode({ id, data, selected }: NodeProps<LayerFlowNode>) {
  const { node, def, info, expanded } = data;
  const inputs = def ? def.inputs(node.params, node) : [];
  const outputs = def ? def.outputs(node.params, node) : [];
  const errors = def ? (info?.errors ?? []) : [`"${node.type}" is not a layer type in the catalogue.`];
  const title = node.label || def?.displayName || node.type;
  const inner = node.subgraph?.nodes ?? [];
  return (
    <div
      className={`layer-node${errors.length ? ' invalid' : ''}${selected ? ' selected' : ''}${node.subgraph ? ' block' : ''}${node.frozen ? ' frozen' : ''}`}
      data-testid={`node-${id}`}
      data-type={node.type}
      title={errors.length ? errors.join('\n') : def?.description}
    >
      <Ports ports={inputs} type="target" />
      <div className="layer-node-header">
        <span className="layer-node-name">{title}</span>
        {node.pretrained && (
          <span className="layer-node-badge pretrained" data-testid="node-pretrained" title={`Starts from imported weights: ${node.pretrained}`}>
            pretrained
          </span>
        )}
        {node.frozen && (
          <span className="layer-node-badge" data-testid="node-frozen" title="Frozen: its weights are not trained">
            frozen
          </span>
        )}
        {!node.frozen && node.lrScale !== undefined && node.lrScale !== 1 && (
          <span className="layer-node-badge" data-testid="node-lr-scale" title="Learning-rate scale of this layer">
            lr×{node.lrScale}
          </span>
        )}
        {node.subgraph && (
          <button
            type="button"
            className="nodrag layer-node-toggle"
            aria-label={expanded ? 'Collapse block' : 'Expand block'}
            data-testid="block-toggle"
            onClick={() => data.onToggleExpanded(id)}
          >
            {expanded ? '−' : '+'}
          </button>
        )}
      </div>
      {node.label && def && <div className="layer-node-type">{def.displayName}</div>}
      {keyParams(node, def).length > 0 && (
        <div className="layer-node-params">
          {keyParams(node, def).map(([k, v]) => (
            <span key={k}>
              {k}={v}
            </span>
          ))}
        </div>
      )}
      {node.subgraph && (
        <div className="layer-node-block" data-testid="block-contents">
          {expanded ? (
            <ol>
              {inner.map((n) => (
                <li key={n.id}>{n.label || n.type}</li>
              ))}
            </ol>
          ) : (
            <span>{inner.length} layers</span>
          )}
        </div>
      )}
      <div className="layer-node-footer">
        <span className="layer-node-shape" data-testid="node-shape">
          {info?.outputs.some((o) => o) ? info.outputs.map(shapeLabel).join(', ') : '—'}
        </span>
        <span className="layer-node-count" data-testid="node-params" title={`${countLabel(info?.paramCount ?? 0)} parameters`}>
          {info && info.paramCount > 0 ? `${shortCount(info.paramCount)} params` : ''}
        </span>
      </div>
      {errors.length > 0 && (
        <div className="layer-node-error" role="note" data-testid="node-error">
          {errors[0]}
        </div>
      )}
      <Ports ports={outputs} type="source" />
    </div>
  );
});
