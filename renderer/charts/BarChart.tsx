import { scaleLinear } from 'd3';
import { useElementWidth } from './useElementWidth.ts';

export interface Bar {
  label: string;
  value: number;
  colour?: string;
  highlight?: boolean;
}

export interface BarChartProps {
  bars: Bar[];
  title?: string;
  /** Fixed domain (probabilities: [0, 1]); else from the values, including 0. */
  domain?: [number, number];
  format?: (v: number) => string;
  testId?: string;
}

/** Horizontal bars with labels and values: class probabilities, class balance, dense activations. */
export function BarChart({ bars, title, domain, format = (v) => String(+v.toPrecision(3)), testId }: BarChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(280);
  const rowH = bars.length > 24 ? 8 : 18;
  const labelW = Math.min(110, 10 + 7 * Math.max(1, ...bars.map((b) => b.label.length)));
  const valueW = rowH >= 18 ? 56 : 0;
  const lo = domain?.[0] ?? Math.min(0, ...bars.map((b) => b.value));
  const hi = domain?.[1] ?? Math.max(0, ...bars.map((b) => b.value));
  const x = scaleLinear().domain([lo, hi > lo ? hi : lo + 1]).range([labelW, Math.max(labelW + 10, width - valueW)]);
  const zero = x(Math.max(lo, Math.min(0, hi)));
  return (
    <div className="chart bar-chart" ref={ref} data-testid={testId} data-count={bars.length}>
      {title && <div className="chart-head"><span className="chart-title">{title}</span></div>}
      <svg width={width} height={bars.length * rowH + 4} role="img" aria-label={title ?? 'Bar chart'}>
        {bars.map((b, i) => {
          const xv = x(b.value);
          return (
            <g key={i} data-testid={testId ? `${testId}-bar-${i}` : undefined} data-value={b.value}>
              {rowH >= 18 && (
                <text className="tick-label" x={labelW - 4} y={i * rowH + rowH / 2 + 2} textAnchor="end" dominantBaseline="middle" fontWeight={b.highlight ? 700 : undefined}>
                  {b.label}
                </text>
              )}
              <rect
                x={Math.min(zero, xv)}
                y={i * rowH + 2}
                width={Math.max(1, Math.abs(xv - zero))}
                height={rowH - 3}
                fill={b.colour ?? (b.highlight ? 'var(--accent, #3b82f6)' : 'color-mix(in srgb, currentColor 45%, transparent)')}
              >
                <title>{`${b.label}: ${format(b.value)}`}</title>
              </rect>
              {valueW > 0 && (
                <text className="tick-label" x={width - valueW + 4} y={i * rowH + rowH / 2 + 2} dominantBaseline="middle">
                  {format(b.value)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
