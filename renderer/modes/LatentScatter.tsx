import { extent, scaleLinear } from 'd3';
import { useMemo, useState } from 'react';
import type { PointView } from '../../engine/train/modes/common.ts';
import { classColour } from '../charts/colour.ts';
import { useElementWidth } from '../charts/useElementWidth.ts';

export interface LatentScatterProps {
  points: PointView[];
  classNames: string[];
  title: string;
  height?: number;
  /** The sample under the pointer (null when it leaves). */
  onHover?: (point: PointView | null) => void;
  onPick?: (point: PointView) => void;
  /** Samples to mark (e.g. the two ends of an interpolation). */
  marked?: { index: number; label: string }[];
  testId?: string;
}

/** Latent codes in 2-D coloured by class; hovering a point names its sample, clicking picks it. */
export function LatentScatter({ points, classNames, title, height = 240, onHover, onPick, marked = [], testId }: LatentScatterProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(280);
  const [hover, setHover] = useState<number | null>(null);
  const pad = 10;
  const { x, y } = useMemo(() => {
    const [x0, x1] = (extent(points, (p) => p.x) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
    const [y0, y1] = (extent(points, (p) => p.y) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
    return {
      x: scaleLinear().domain(x1 > x0 ? [x0, x1] : [x0 - 1, x0 + 1]).range([pad, width - pad]),
      y: scaleLinear().domain(y1 > y0 ? [y0, y1] : [y0 - 1, y0 + 1]).range([height - pad, pad]),
    };
  }, [points, width, height]);
  const classes = useMemo(() => [...new Set(points.map((p) => p.label ?? 0))].sort((a, b) => a - b), [points]);
  const enter = (i: number | null) => {
    setHover(i);
    onHover?.(i === null ? null : points[i]);
  };
  return (
    <div className="chart latent-scatter" ref={ref} data-testid={testId} data-count={points.length}>
      <div className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {classes.map((c) => (
            <span key={c} className="legend-item">
              <svg width="10" height="10" aria-hidden="true">
                <circle cx="5" cy="5" r="4" fill={classColour(c)} />
              </svg>
              {classNames[c] ?? String(c)}
            </span>
          ))}
        </span>
      </div>
      <svg width={width} height={height} role="img" aria-label={title} onMouseLeave={() => enter(null)}>
        {points.map((p, i) => (
          <circle
            key={i}
            cx={x(p.x)}
            cy={y(p.y)}
            r={hover === i ? 6 : 3.5}
            fill={classColour(p.label ?? 0)}
            fillOpacity={hover === i ? 1 : 0.75}
            stroke={hover === i ? 'CanvasText' : 'none'}
            data-index={p.index}
            className={onPick ? 'latent-point clickable' : 'latent-point'}
            onMouseEnter={() => enter(i)}
            onClick={onPick ? () => onPick(p) : undefined}
          >
            <title>{`sample ${p.index ?? i}${p.label !== undefined ? `: ${classNames[p.label] ?? p.label}` : ''}`}</title>
          </circle>
        ))}
        {marked.map((m) => {
          const p = points.find((q) => q.index === m.index);
          if (!p) return null;
          return (
            <g key={m.label} pointerEvents="none">
              <circle cx={x(p.x)} cy={y(p.y)} r={8} fill="none" stroke="CanvasText" strokeWidth={1.5} />
              <text x={x(p.x) > width - 24 ? x(p.x) - 9 : x(p.x) + 9} y={y(p.y) - 6} textAnchor={x(p.x) > width - 24 ? 'end' : 'start'} className="tick-label">
                {m.label}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
