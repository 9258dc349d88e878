import { BaseEdge, EdgeLabelRenderer, getBezierPath, getSmoothStepPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import type { ValueType } from '../../engine/graph/types.ts';
import { shapeLabel } from './format.ts';

export interface ShapeEdgeData extends Record<string, unknown> {
  value: ValueType | undefined;
  error: string | undefined;
}

export type ShapeFlowEdge = Edge<ShapeEdgeData, 'shape'>;

/** How far left (and up or down) a target must lie for its wire to be routed as a return. */
const RETURN_MARGIN = 40;
/** How far above the target port a downward return wire runs across: the gutter above the target's row. */
const RETURN_GUTTER = 60;

/** A connection labelled with the tensor shape it carries; marked red with its reason when invalid. */
export const ShapeEdge = memo(function ShapeEdge(props: EdgeProps<ShapeFlowEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd } = props;
  // A wire that returns to the left (into the next band of a wrapped drawing) is routed in
  // right angles around the cards, through the space between the bands, instead of a curve
  // across them.
  const returning = targetX < sourceX - RETURN_MARGIN && Math.abs(targetY - sourceY) > RETURN_MARGIN;
  const [path, labelX, labelY] = returning
    ? getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: 10, offset: 16, ...(targetY > sourceY ? { centerY: targetY - RETURN_GUTTER } : {}) })
    : getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
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
