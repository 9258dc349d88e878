import { describe, expect, it } from 'vitest';
import { activationView, filterImages, splitMaps, topK } from '../views.ts';

describe('inspection views', () => {
  it('chooses maps for conv outputs, bars for dense, heatmaps for sequences', () => {
    expect(activationView([6, 28, 28])).toEqual({ kind: 'maps', channels: 6, height: 28, width: 28 });
    expect(activationView([120])).toEqual({ kind: 'bars', features: 120 });
    expect(activationView([10, 64])).toEqual({ kind: 'sequence', steps: 10, features: 64 });
    expect(activationView([])).toEqual({ kind: 'scalar' });
    expect(activationView([2, 3, 4, 5])).toEqual({ kind: 'maps', channels: 6, height: 4, width: 5 });
  });

  it('splits [C, H, W] values into per-channel maps in order', () => {
    const values = Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    const maps = splitMaps(values, 2, 2, 3);
    expect(maps.map((m) => Array.from(m))).toEqual([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]);
    expect(splitMaps(values, 2, 2, 3, 1)).toHaveLength(1);
    expect(() => splitMaps([1, 2], 2, 2, 3)).toThrow('Feature maps of shape [2, 2, 3] need 12 values, got 2');
  });

  it('averages a grey filter over input channels and keeps RGB filters as planes', () => {
    // 1 output, 2 inputs, 1x2 kernel: channel 0 = [1, 3], channel 1 = [3, 5] -> mean [2, 4].
    const grey = filterImages([1, 3, 3, 5], [1, 2, 1, 2]);
    expect(grey).toMatchObject({ width: 2, height: 1, rgb: false });
    expect(Array.from(grey.images[0])).toEqual([2, 4]);
    const rgb = filterImages(Array.from({ length: 2 * 3 * 4 }, (_, i) => i), [2, 3, 2, 2]);
    expect(rgb.rgb).toBe(true);
    expect(Array.from(rgb.images[1])).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
  });

  it('shows dense weights over a square input as images', () => {
    const f = filterImages(new Array(2 * 16).fill(0), [2, 16]);
    expect(f).toMatchObject({ width: 4, height: 4 });
    expect(f.images).toHaveLength(2);
    expect(() => filterImages([1], [1])).toThrow('Filters need a weight of shape');
  });

  it('ranks the largest values first', () => {
    expect(topK([0.1, 0.7, 0.2], 2)).toEqual([1, 2]);
  });
});

describe('prediction probabilities', () => {
  it('applies softmax to logits and keeps probabilities that already sum to one', async () => {
    const { toProbabilities } = await import('../inspect-types.ts');
    const p = toProbabilities([1, 2, 3]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(p[2]).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    expect(toProbabilities([0.2, 0.8])).toEqual([0.2, 0.8]);
    // One output: a probability in [0, 1] as is, else a logit through the sigmoid.
    expect(toProbabilities([0.25])).toEqual([0.75, 0.25]);
    expect(toProbabilities([-2])[1]).toBeCloseTo(1 / (1 + Math.exp(2)));
  });
});

describe('hand-drawn samples', () => {
  it('averages canvas pixels down to the model input size, white strokes as 1', async () => {
    const { downsample } = await import('../DrawCanvas.tsx');
    // A 4x2 RGBA canvas: the left half white, the right half black.
    const rgba = new Uint8ClampedArray(4 * 2 * 4);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) rgba.set([255, 255, 255, 255], (y * 4 + x) * 4);
    expect(Array.from(downsample(rgba, 4, 2, 2, 1))).toEqual([1, 0]);
    expect(Array.from(downsample(rgba, 4, 2, 1, 1))).toEqual([0.5]);
  });
});
