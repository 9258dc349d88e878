/**
 * Turning numbers into colours and pixels for the charts: value ranges, d3 colour maps
 * and float maps (feature maps, filters, saliency, attention) into RGBA bytes for a canvas.
 */
import { interpolateRdBu, interpolateViridis, schemeTableau10 } from 'd3';

export type ColourMap = 'viridis' | 'diverging' | 'grey';

export interface ValueRange {
  min: number;
  max: number;
}

/** The finite minimum and maximum of the values; [0, 0] when there are none. */
export function valueRange(values: ArrayLike<number>): ValueRange {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/** A range centred on zero that holds every value (for weights and signed activations). */
export function symmetricRange(values: ArrayLike<number>): ValueRange {
  const { min, max } = valueRange(values);
  const m = Math.max(Math.abs(min), Math.abs(max));
  return { min: -m, max: m };
}

/** Where `v` sits in the range, from 0 to 1; a flat range maps everything to 0.5. */
export function unit(v: number, range: ValueRange): number {
  if (!Number.isFinite(v)) return 0;
  const span = range.max - range.min;
  if (span <= 0) return 0.5;
  return Math.min(1, Math.max(0, (v - range.min) / span));
}

function parseRgb(css: string): [number, number, number] {
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(css);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const hex = /^#([0-9a-f]{6})$/i.exec(css);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  throw new Error(`Cannot read the colour "${css}"`);
}

const LUT_SIZE = 256;
const luts = new Map<ColourMap, Uint8Array>();

/** 256 RGB entries for a colour map, built once. */
function lut(map: ColourMap): Uint8Array {
  let table = luts.get(map);
  if (table) return table;
  table = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = i / (LUT_SIZE - 1);
    // RdBu runs red to blue; reversed so positive values are red.
    const rgb: [number, number, number] = map === 'grey' ? [i, i, i] : parseRgb(map === 'viridis' ? interpolateViridis(t) : interpolateRdBu(1 - t));
    table.set(rgb, i * 3);
  }
  luts.set(map, table);
  return table;
}

/** The CSS colour of a value in a range. */
export function colourOf(v: number, range: ValueRange, map: ColourMap = 'viridis'): string {
  const i = Math.round(unit(v, range) * (LUT_SIZE - 1)) * 3;
  const t = lut(map);
  return `rgb(${t[i]}, ${t[i + 1]}, ${t[i + 2]})`;
}

/**
 * Row-major values of a `width` x `height` map as RGBA bytes (for `ImageData`). The range
 * defaults to the values' own; `diverging` maps default to a range centred on zero.
 */
export function toRgba(values: ArrayLike<number>, width: number, height: number, map: ColourMap = 'viridis', range?: ValueRange): Uint8ClampedArray {
  if (values.length < width * height) {
    throw new Error(`A ${width}x${height} image needs ${width * height} values, got ${values.length}`);
  }
  const r = range ?? (map === 'diverging' ? symmetricRange(values) : valueRange(values));
  const t = lut(map);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const i = Math.round(unit(values[p], r) * (LUT_SIZE - 1)) * 3;
    out[p * 4] = t[i];
    out[p * 4 + 1] = t[i + 1];
    out[p * 4 + 2] = t[i + 2];
    out[p * 4 + 3] = 255;
  }
  return out;
}

/**
 * An RGB image stored as [3, H, W] planes (the engine's layout) as RGBA bytes, each channel
 * scaled by the common range.
 */
export function planesToRgba(values: ArrayLike<number>, width: number, height: number, range?: ValueRange): Uint8ClampedArray {
  const plane = width * height;
  if (values.length < plane * 3) throw new Error(`A ${width}x${height} RGB image needs ${plane * 3} values, got ${values.length}`);
  const r = range ?? valueRange(values);
  const out = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = Math.round(unit(values[c * plane + p], r) * 255);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** A categorical colour per class (cycles after ten). */
export function classColour(cls: number): string {
  return schemeTableau10[((cls % 10) + 10) % 10];
}
