import { useMemo } from 'react';
import { lineLayout, type Series } from './line-layout.ts';
import { useElementWidth } from './useElementWidth.ts';

export interface LineChartProps {
  title: string;
  series: Series[];
  xLabel?: string;
  height?: number;
  logY?: boolean;
  yMin?: number;
  yMax?: number;
  xMin?: number;
  empty?: string;
  testId?: string;
}

/** Curves over epochs or steps (loss, accuracy) with axes and a legend; grows as points arrive. */
export function LineChart({ title, series, xLabel, height = 180, logY, yMin, yMax, xMin, empty = 'No data yet', testId }: LineChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(320);
  const layout = useMemo(() => lineLayout(series, width, height, { logY, yMin, yMax, xMin }), [series, width, height, logY, yMin, yMax, xMin]);
  const { plot } = layout;
  const points = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <div className="chart line-chart" ref={ref} data-testid={testId} data-points={points}>
      <div className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.id} className="legend-item">
              <svg width="18" height="8" aria-hidden="true">
                <line x1="0" y1="4" x2="18" y2="4" stroke={s.colour} strokeWidth="2" strokeDasharray={s.dashed ? '4 3' : undefined} />
              </svg>
              {s.label}
            </span>
          ))}
        </span>
      </div>
      <svg width={width} height={height} role="img" aria-label={title}>
        {layout.hasData ? (
          <>
            {layout.yTicks.map((t) => (
              <g key={`y${t.value}`}>
                <line className="grid-line" x1={plot.x} x2={plot.x + plot.width} y1={t.pos} y2={t.pos} />
                <text className="tick-label" x={plot.x - 4} y={t.pos} textAnchor="end" dominantBaseline="middle">
                  {t.label}
                </text>
              </g>
            ))}
            {layout.xTicks.map((t) => (
              <text key={`x${t.value}`} className="tick-label" x={t.pos} y={plot.y + plot.height + 14} textAnchor="middle">
                {t.label}
              </text>
            ))}
            <line className="axis-line" x1={plot.x} x2={plot.x + plot.width} y1={plot.y + plot.height} y2={plot.y + plot.height} />
            {layout.paths.map((p) => (
              <g key={p.id} data-series={p.id}>
                <path d={p.d} fill="none" stroke={p.colour} strokeWidth="2" strokeDasharray={p.dashed ? '5 4' : undefined} />
                {p.last && <circle cx={p.last.x} cy={p.last.y} r="3" fill={p.colour} />}
              </g>
            ))}
            {xLabel && (
              <text className="axis-label" x={plot.x + plot.width} y={height - 2} textAnchor="end">
                {xLabel}
              </text>
            )}
          </>
        ) : (
          <text className="chart-empty" x={width / 2} y={height / 2} textAnchor="middle">
            {empty}
          </text>
        )}
      </svg>
    </div>
  );
}
