/**
 * The search form's text fields as a search space: lists like "0.1, 0.01, 0.001" or a
 * log range "1e-4 .. 1e-1 x4" (four values evenly spaced on a log scale).
 */

/** Parses a list of numbers or a log range; the message names the field and the bad text. */
export function parseValues(label: string, text: string, opts: { integer?: boolean; positive?: boolean } = {}): { values: number[] } | { error: string } {
  const t = text.trim();
  if (t === '') return { values: [] };
  const range = /^(\S+)\s*\.\.\s*(\S+)\s*x\s*(\d+)$/i.exec(t);
  let values: number[];
  if (range) {
    const [lo, hi, n] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!(lo > 0) || !(hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { error: `${label}: a log range needs two numbers above 0, like "1e-4 .. 1e-1 x4"` };
    if (n < 2 || n > 50) return { error: `${label}: a range takes 2 to 50 values, got ${n}` };
    values = Array.from({ length: n }, (_, i) => +Math.exp(Math.log(lo) + ((Math.log(hi) - Math.log(lo)) * i) / (n - 1)).toPrecision(3));
  } else {
    const parts = t.split(/[\s,;]+/).filter(Boolean);
    const bad = parts.find((p) => !Number.isFinite(Number(p)));
    if (bad !== undefined) return { error: `${label}: "${bad}" is not a number; write values separated by commas, or a range like "1e-4 .. 1e-1 x4"` };
    values = parts.map(Number);
  }
  if (opts.integer) {
    const frac = values.find((v) => !Number.isInteger(v));
    if (frac !== undefined) return { error: `${label}: ${frac} is not a whole number` };
  }
  if (opts.positive) {
    const low = values.find((v) => !(v > 0));
    if (low !== undefined) return { error: `${label}: every value must be above 0, got ${low}` };
  }
  return { values: [...new Set(values)] };
}

/** How many trials a grid over these axes runs. */
export function gridSize(axes: readonly (readonly unknown[])[]): number {
  return axes.reduce((n, a) => n * Math.max(1, a.length), 1);
}
