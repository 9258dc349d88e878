import { describe, expect, it } from 'vitest';
import { gridSize, parseValues } from '../search-space.ts';

describe('search space fields', () => {
  it('reads comma-separated lists without repeats', () => {
    expect(parseValues('lr', '0.1, 0.01 0.01;0.001')).toEqual({ values: [0.1, 0.01, 0.001] });
    expect(parseValues('lr', '  ')).toEqual({ values: [] });
  });

  it('spreads a log range evenly in the exponent', () => {
    expect(parseValues('lr', '1e-4 .. 1e-1 x4')).toEqual({ values: [0.0001, 0.001, 0.01, 0.1] });
    expect(parseValues('lr', '0 .. 1 x3')).toEqual({ error: 'lr: a log range needs two numbers above 0, like "1e-4 .. 1e-1 x4"' });
    expect(parseValues('lr', '1e-3 .. 1 x1')).toEqual({ error: 'lr: a range takes 2 to 50 values, got 1' });
  });

  it('names the value that is not a number, not whole or not positive', () => {
    expect(parseValues('batch size', '32, abc')).toEqual({ error: 'batch size: "abc" is not a number; write values separated by commas, or a range like "1e-4 .. 1e-1 x4"' });
    expect(parseValues('batch size', '32, 16.5', { integer: true })).toEqual({ error: 'batch size: 16.5 is not a whole number' });
    expect(parseValues('lr', '0.1, -1', { positive: true })).toEqual({ error: 'lr: every value must be above 0, got -1' });
  });

  it('counts grid trials as the product of the axes (an empty axis keeps the base value)', () => {
    expect(gridSize([[1, 2, 3], [16, 32], []])).toBe(6);
  });
});
