import { describe, expect, it } from 'vitest';
import { colourOf, planesToRgba, symmetricRange, toRgba, unit, valueRange } from '../colour.ts';
import { cellSize } from '../Heatmap.tsx';
import { lineLayout } from '../line-layout.ts';

describe('value ranges and colour maps', () => {
  it('ignores non-finite values when finding the range', () => {
    expect(valueRange([3, NaN, -2, Infinity, 5])).toEqual({ min: -2, max: 5 });
    expect(valueRange([])).toEqual({ min: 0, max: 0 });
    expect(symmetricRange([-1, 4, 2])).toEqual({ min: -4, max: 4 });
  });

  it('maps values into 0..1, clamping and centring a flat range', () => {
    expect(unit(5, { min: 0, max: 10 })).toBe(0.5);
    expect(unit(-3, { min: 0, max: 10 })).toBe(0);
    expect(unit(30, { min: 0, max: 10 })).toBe(1);
    expect(unit(7, { min: 7, max: 7 })).toBe(0.5);
  });

  it('greyscale RGBA runs from black at the minimum to white at the maximum', () => {
    const px = toRgba([0, 0.5, 1, 2], 2, 2, 'grey');
    expect(Array.from(px.slice(0, 4))).toEqual([0, 0, 0, 255]);
    expect(Array.from(px.slice(12, 16))).toEqual([255, 255, 255, 255]);
    expect(px[4]).toBeGreaterThan(50);
    expect(px[4]).toBeLessThan(80);
  });

  it('diverging maps put zero in the middle: positive red, negative blue', () => {
    const px = toRgba([-1, 0, 1], 3, 1, 'diverging');
    const [r0, , b0] = px.slice(0, 3);
    const [r2, , b2] = px.slice(8, 11);
    expect(b0).toBeGreaterThan(r0);
    expect(r2).toBeGreaterThan(b2);
    // White-ish in the middle.
    expect(Math.min(px[4], px[5], px[6])).toBeGreaterThan(200);
    expect(colourOf(1, { min: -1, max: 1 }, 'diverging')).toBe(`rgb(${r2}, ${px[9]}, ${b2})`);
  });

  it('refuses too few values for the image size, naming both numbers', () => {
    expect(() => toRgba([1, 2, 3], 2, 2)).toThrow('A 2x2 image needs 4 values, got 3');
  });

  it('reads [3, H, W] planes as RGB pixels', () => {
    // One pixel: R plane 1, G plane 0, B plane 0.5.
    const px = planesToRgba([1, 0, 0.5], 1, 1, { min: 0, max: 1 });
    expect(Array.from(px)).toEqual([255, 0, 128, 255]);
  });
});

describe('line chart layout', () => {
  const series = (ys: number[]) => [{ id: 'loss', label: 'loss', colour: 'red', points: ys.map((y, i) => ({ x: i + 1, y })) }];

  it('has no data until a finite point arrives', () => {
    expect(lineLayout([], 300, 200).hasData).toBe(false);
    expect(lineLayout(series([NaN]), 300, 200).hasData).toBe(false);
  });

  it('puts larger values higher and the last point at the right edge', () => {
    const layout = lineLayout(series([2, 1, 0.5]), 300, 200);
    expect(layout.hasData).toBe(true);
    const path = layout.paths[0];
    expect(path.d.startsWith('M')).toBe(true);
    expect(path.last!.x).toBeCloseTo(layout.plot.x + layout.plot.width);
    const ys = layout.yTicks.map((t) => t.pos);
    // Ticks increase in value and go up the screen.
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThan(ys[i - 1]);
  });

  it('breaks the line at a diverged (NaN) loss instead of dropping the chart', () => {
    const layout = lineLayout(series([1, NaN, 0.5, 0.4]), 300, 200);
    // Two segments: two move-to commands.
    expect(layout.paths[0].d.match(/M/g)?.length).toBe(2);
  });

  it('keeps a requested y range (accuracy from 0 to 1)', () => {
    const layout = lineLayout(series([0.5, 0.6]), 300, 200, { yMin: 0, yMax: 1 });
    const values = layout.yTicks.map((t) => t.value);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(1);
  });

  it('log scale drops non-positive values', () => {
    const layout = lineLayout(series([1, 0, 0.01]), 300, 200, { logY: true });
    expect(layout.paths[0].d.match(/M/g)?.length).toBe(2);
  });
});

describe('heatmap cells', () => {
  it('shrinks cells to fit and keeps them readable', () => {
    expect(cellSize(10, 10)).toBe(36);
    expect(cellSize(2, 2)).toBe(40);
    expect(cellSize(200, 200)).toBe(4);
  });
});
