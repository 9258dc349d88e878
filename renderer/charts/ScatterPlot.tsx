import { extent, scaleLinear } from 'd3';
import { classColour } from './colour.ts';
import { useElementWidth } from './useElementWidth.ts';

export interface ScatterPoint {
  x: number;
  y: number;
  cls: number;
  label?: string;
}

export interface ScatterPlotProps {
  points: ScatterPoint[];
  classNames?: string[];
  title?: string;
  height?: number;
  testId?: string;
}

/** Points coloured by class with a legend: 2-D datasets and embeddings of a layer's outputs. */
export function ScatterPlot({ points, classNames, title, height = 240, testId }: ScatterPlotProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(280);
  const pad = 10;
  const [x0, x1] = (extent(points, (p) => p.x) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
  const [y0, y1] = (extent(points, (p) => p.y) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
  const x = scaleLinear().domain(x1 > x0 ? [x0, x1] : [x0 - 1, x0 + 1]).range([pad, width - pad]);
  const y = scaleLinear().domain(y1 > y0 ? [y0, y1] : [y0 - 1, y0 + 1]).range([height - pad, pad]);
  const classes = [...new Set(points.map((p) => p.cls))].sort((a, b) => a - b);
  return (
    <div className="chart scatter-plot" ref={ref} data-testid={testId} data-count={points.length}>
      <div className="chart-head">
        {title && <span className="chart-title">{title}</span>}
        <span className="chart-legend">
          {classes.map((c) => (
            <span key={c} className="legend-item">
              <svg width="10" height="10" aria-hidden="true">
                <circle cx="5" cy="5" r="4" fill={classColour(c)} />
              </svg>
              {classNames?.[c] ?? String(c)}
            </span>
          ))}
        </span>
      </div>
      <svg width={width} height={height} role="img" aria-label={title ?? 'Scatter plot'} className="scatter-area">
        {points.map((p, i) => (
          <circle key={i} cx={x(p.x)} cy={y(p.y)} r={3} fill={classColour(p.cls)} fillOpacity={0.8}>
            {p.label && <title>{p.label}</title>}
          </circle>
        ))}
      </svg>
    </div>
  );
}
