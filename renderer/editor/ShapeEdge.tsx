import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import type { ValueType } from '../../engine/graph/types.ts';
import { shapeLabel } from './format.ts';

export interface ShapeEdgeData extends Record<string, unknown> {
  value: ValueType | undefined;
  error: string | undefined;
}

export type ShapeFlowEdge = Edge<ShapeEdgeData, 'shape'>;

/** A connection labelled with the tensor shape it carries; marked red with its reason when invalid. */
export const ShapeEdge = memo(function ShapeEdge(props: EdgeProps<ShapeFlowEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd } = props;
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const error = data?.error;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={error ? 'edge-invalid' : selected ? 'edge-selected' : undefined} />
      <EdgeLabelRenderer>
        <div
          className={`edge-label nodrag nopan${error ? ' invalid' : ''}${selected ? ' selected' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-testid={`edge-label-${id}`}
          title={error ?? undefined}
        >
          {error ? `⚠ ${shapeLabel(data?.value)}` : shapeLabel(data?.value)}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});
