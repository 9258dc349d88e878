import { useMemo } from 'react';
import { colourOf, symmetricRange, valueRange, type ColourMap, type ValueRange } from './colour.ts';

export interface HeatmapProps {
  /** Row-major [rows x cols] values. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  rowLabels?: string[];
  colLabels?: string[];
  rowTitle?: string;
  colTitle?: string;
  colourMap?: ColourMap;
  range?: ValueRange;
  /** Size of one cell in pixels. */
  cell?: number;
  /** Print each value in its cell (confusion matrices). */
  showValues?: boolean;
  format?: (v: number) => string;
  onCellClick?: (row: number, col: number) => void;
  selected?: { row: number; col: number } | null;
  testId?: string;
  label: string;
}

/** Largest cell that fits `rows x cols` into `maxPixels`, between 4 and 40 pixels. */
export function cellSize(rows: number, cols: number, maxPixels = 360): number {
  return Math.max(4, Math.min(40, Math.floor(maxPixels / Math.max(rows, cols, 1))));
}

/** A matrix as coloured cells with row and column labels: confusion matrices, attention maps. */
export function Heatmap({
  values, rows, cols, rowLabels, colLabels, rowTitle, colTitle, colourMap = 'viridis', range, cell, showValues = false,
  format = (v) => String(v), onCellClick, selected, testId, label,
}: HeatmapProps) {
  const size = cell ?? cellSize(rows, cols);
  const r = useMemo(() => range ?? (colourMap === 'diverging' ? symmetricRange(values) : valueRange(values)), [range, values, colourMap]);
  const labelW = rowLabels ? Math.min(90, 8 + 7 * Math.max(...rowLabels.map((l) => l.length), 1)) : 0;
  const labelH = colLabels ? Math.min(90, 8 + 7 * Math.max(...colLabels.map((l) => l.length), 1)) : 0;
  const titleW = rowTitle ? 16 : 0;
  const titleH = colTitle ? 16 : 0;
  const x0 = titleW + labelW;
  const y0 = titleH + labelH;
  const showLabels = size >= 9;
  const cells = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j];
      const fill = colourOf(v, r, colourMap);
      const isSelected = selected?.row === i && selected.col === j;
      cells.push(
        <g
          key={`${i}-${j}`}
          className={onCellClick ? 'heat-cell clickable' : 'heat-cell'}
          data-testid={testId ? `${testId}-cell-${i}-${j}` : undefined}
          onClick={onCellClick ? () => onCellClick(i, j) : undefined}
        >
          <rect x={x0 + j * size} y={y0 + i * size} width={size} height={size} fill={fill} stroke={isSelected ? 'currentColor' : 'none'} strokeWidth={isSelected ? 2 : 0}>
            <title>{`${rowLabels?.[i] ?? i} / ${colLabels?.[j] ?? j}: ${format(v)}`}</title>
          </rect>
          {showValues && size >= 18 && (
            <text
              x={x0 + j * size + size / 2}
              y={y0 + i * size + size / 2}
              textAnchor="middle"
              dominantBaseline="middle"
              className="heat-value"
              fill={colourMap === 'viridis' && (v - r.min) / (r.max - r.min || 1) > 0.6 ? '#000' : '#fff'}
            >
              {format(v)}
            </text>
          )}
        </g>,
      );
    }
  }
  return (
    <svg className="chart heatmap" width={x0 + cols * size + 2} height={y0 + rows * size + 2} role="img" aria-label={label} data-testid={testId} data-rows={rows} data-cols={cols}>
      {rowTitle && (
        <text className="axis-label" transform={`translate(11, ${y0 + (rows * size) / 2}) rotate(-90)`} textAnchor="middle">
          {rowTitle}
        </text>
      )}
      {colTitle && (
        <text className="axis-label" x={x0 + (cols * size) / 2} y={11} textAnchor="middle">
          {colTitle}
        </text>
      )}
      {showLabels &&
        rowLabels?.map((l, i) => (
          <text key={`r${i}`} className="tick-label" x={x0 - 4} y={y0 + i * size + size / 2} textAnchor="end" dominantBaseline="middle">
            {l}
          </text>
        ))}
      {showLabels &&
        colLabels?.map((l, j) => (
          <text key={`c${j}`} className="tick-label" transform={`translate(${x0 + j * size + size / 2}, ${y0 - 4}) rotate(-60)`} textAnchor="start">
            {l}
          </text>
        ))}
      {cells}
    </svg>
  );
}
