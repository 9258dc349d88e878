/**
 * How an inspected tensor is best drawn, decided from its per-sample shape: conv feature
 * maps [C, H, W] as a grid of images, dense outputs [F] as bars, sequences [T, F] as a
 * heatmap; conv filters [O, I, kh, kw] as one image per output channel (the mean over
 * input channels, or RGB for 3-channel inputs).
 */

export type ActivationView =
  | { kind: 'maps'; channels: number; height: number; width: number }
  | { kind: 'bars'; features: number }
  | { kind: 'sequence'; steps: number; features: number }
  | { kind: 'scalar' };

/** The view for one sample's activation of this shape (no batch dimension). */
export function activationView(shape: readonly number[]): ActivationView {
  if (shape.length === 3) return { kind: 'maps', channels: shape[0], height: shape[1], width: shape[2] };
  if (shape.length === 2) return { kind: 'sequence', steps: shape[0], features: shape[1] };
  if (shape.length === 1) return { kind: 'bars', features: shape[0] };
  if (shape.length === 0) return { kind: 'scalar' };
  // Higher ranks: fold the leading dimensions into channels of the last two.
  const h = shape[shape.length - 2];
  const w = shape[shape.length - 1];
  return { kind: 'maps', channels: shape.slice(0, -2).reduce((a, b) => a * b, 1), height: h, width: w };
}

/** Splits [C, H, W] values into C maps of H x W, at most `limit` of them. */
export function splitMaps(values: ArrayLike<number>, channels: number, height: number, width: number, limit = 64): Float32Array[] {
  const plane = height * width;
  if (values.length < channels * plane) throw new Error(`Feature maps of shape [${channels}, ${height}, ${width}] need ${channels * plane} values, got ${values.length}`);
  const out: Float32Array[] = [];
  for (let c = 0; c < Math.min(channels, limit); c++) out.push(Float32Array.from({ length: plane }, (_, p) => values[c * plane + p]));
  return out;
}

export interface FilterImages {
  images: Float32Array[];
  width: number;
  height: number;
  /** True when each image holds [3, kh, kw] RGB planes. */
  rgb: boolean;
}

/**
 * Conv weights [O, I, kh, kw] (or [O, I, k] for 1-D) as one small image per output
 * channel: RGB when the layer reads 3 channels, else the mean over input channels.
 * Dense weights [out, in] come out as one row image per output unit.
 */
export function filterImages(values: ArrayLike<number>, shape: readonly number[], limit = 64): FilterImages {
  if (shape.length === 2) {
    const [o, i] = shape;
    const side = Math.round(Math.sqrt(i));
    // Dense weights over a square input (28 x 28 pixels) read as images.
    const square = side * side === i && side > 1;
    return {
      images: Array.from({ length: Math.min(o, limit) }, (_, r) => Float32Array.from({ length: i }, (_, c) => values[r * i + c])),
      width: square ? side : i,
      height: square ? side : 1,
      rgb: false,
    };
  }
  if (shape.length !== 3 && shape.length !== 4) throw new Error(`Filters need a weight of shape [out, in, kh, kw], [out, in, k] or [out, in], got [${shape.join(', ')}]`);
  const [o, inCh] = shape;
  const kh = shape.length === 4 ? shape[2] : 1;
  const kw = shape[shape.length - 1];
  const plane = kh * kw;
  const rgb = inCh === 3;
  const images: Float32Array[] = [];
  for (let f = 0; f < Math.min(o, limit); f++) {
    const base = f * inCh * plane;
    if (rgb) {
      images.push(Float32Array.from({ length: 3 * plane }, (_, k) => values[base + k]));
    } else {
      const img = new Float32Array(plane);
      for (let c = 0; c < inCh; c++) for (let p = 0; p < plane; p++) img[p] += values[base + c * plane + p] / inCh;
      images.push(img);
    }
  }
  return { images, width: kw, height: kh, rgb };
}

/** Indices of the `k` largest values, largest first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b] - values[a])
    .slice(0, k);
}
