/** Text for shapes, counts and parameter values as the canvas and inspector show them. */
import type { ParamValue, ValueType } from '../../engine/graph/types.ts';

/** "N×6×28×28": the symbolic batch first, then the per-sample shape; symbolic sizes print as "n". */
export function shapeLabel(type: ValueType | undefined): string {
  if (!type) return '?';
  const dims = type.shape.map((d) => (d < 0 ? 'n' : String(d)));
  return ['N', ...dims].join('×') + (type.dtype === 'int32' ? ' int' : '');
}

const grouped = new Intl.NumberFormat('en-US');

/** "61,706". */
export function countLabel(n: number): string {
  return grouped.format(n);
}

/** "1.2M", "340K", "12": short form for cards. */
export function shortCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(abs >= 1e10 ? 0 : 1)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}K`;
  return String(n);
}

/** "4.3 MB". */
export function bytesLabel(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

export function paramValueLabel(value: ParamValue | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join('×');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
