/**
 * Geometry of a line chart, computed with d3 scales and line generators, separate from
 * drawing so it can be tested: paths per series, axis ticks and the plotted extent.
 */
import { extent, line, scaleLinear, scaleLog } from 'd3';

export interface Series {
  id: string;
  label: string;
  points: { x: number; y: number }[];
  colour: string;
  dashed?: boolean;
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Tick {
  value: number;
  pos: number;
  label: string;
}

export interface LineLayout {
  paths: { id: string; d: string; colour: string; dashed: boolean; last?: { x: number; y: number } }[];
  xTicks: Tick[];
  yTicks: Tick[];
  plot: { x: number; y: number; width: number; height: number };
  /** False when no series has a finite point: the chart shows its empty message. */
  hasData: boolean;
}

export const DEFAULT_MARGINS: Margins = { top: 10, right: 12, bottom: 26, left: 44 };

function finite(p: { x: number; y: number }, logY: boolean): boolean {
  return Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0);
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

/**
 * Lays out the series in a `width` x `height` box. Non-finite points (a diverged loss) are
 * left out of the scale and break the line; `logY` plots y on a log scale.
 */
export function lineLayout(series: Series[], width: number, height: number, options: { logY?: boolean; yMin?: number; yMax?: number; xMin?: number; margins?: Margins } = {}): LineLayout {
  const m = options.margins ?? DEFAULT_MARGINS;
  const logY = options.logY ?? false;
  const plot = { x: m.left, y: m.top, width: Math.max(1, width - m.left - m.right), height: Math.max(1, height - m.top - m.bottom) };
  const pts = series.flatMap((s) => s.points.filter((p) => finite(p, logY)));
  if (pts.length === 0) return { paths: [], xTicks: [], yTicks: [], plot, hasData: false };
  const [x0, x1] = extent(pts, (p) => p.x) as [number, number];
  let [y0, y1] = extent(pts, (p) => p.y) as [number, number];
  if (options.yMin !== undefined) y0 = Math.min(y0, options.yMin);
  if (options.yMax !== undefined) y1 = Math.max(y1, options.yMax);
  const xLo = options.xMin ?? x0;
  const x = scaleLinear().domain([xLo, x1 > xLo ? x1 : xLo + 1]).range([plot.x, plot.x + plot.width]);
  const yDomain: [number, number] = y1 > y0 ? [y0, y1] : [y0 - (Math.abs(y0) || 1) * 0.5, y1 + (Math.abs(y1) || 1) * 0.5];
  const y = (logY ? scaleLog().domain(yDomain.map((v) => Math.max(v, 1e-12)) as [number, number]) : scaleLinear().domain(yDomain))
    .range([plot.y + plot.height, plot.y])
    .nice();
  const gen = line<{ x: number; y: number }>()
    .defined((p) => finite(p, logY))
    .x((p) => x(p.x))
    .y((p) => y(p.y));
  const paths = series.map((s) => {
    const lastPoint = [...s.points].reverse().find((p) => finite(p, logY));
    return {
      id: s.id,
      d: gen(s.points) ?? '',
      colour: s.colour,
      dashed: s.dashed ?? false,
      last: lastPoint ? { x: x(lastPoint.x), y: y(lastPoint.y) } : undefined,
    };
  });
  const xTicks = x.ticks(Math.max(2, Math.floor(plot.width / 70))).map((v) => ({ value: v, pos: x(v), label: fmt(v) }));
  const yTicks = y.ticks(Math.max(2, Math.floor(plot.height / 30))).map((v) => ({ value: v, pos: y(v), label: fmt(v) }));
  return { paths, xTicks, yTicks, plot, hasData: true };
}
