import { describe, expect, it } from 'vitest';
import type { ModelGraph } from '../../../engine/graph/types.ts';
import { arrangedLayout, BAND_GAP, COLUMN_WIDTH, layeredLayout, ROW_HEIGHT } from '../layout.ts';

/** A graph from `[source, target]` pairs; nodes are listed in order of first mention. */
function graph(edges: [string, string][], extra: string[] = []): ModelGraph {
  const ids = [...new Set([...edges.flat(), ...extra])];
  return {
    nodes: ids.map((id) => ({ id, type: 'Unit', params: {} })),
    edges: edges.map(([source, target], i) => ({ id: `e${i}`, source, sourcePort: 'y', target, targetPort: 'x' })),
  };
}

/** LeNet-5's shape: a chain of 13 layers into a loss, with the Target as a second source. */
function lenetLike(): ModelGraph {
  const chain = Array.from({ length: 13 }, (_, i) => `l${i}`);
  const edges: [string, string][] = chain.slice(1).map((id, i) => [chain[i], id]);
  edges.push([chain[12], 'loss'], ['target', 'loss']);
  return graph(edges);
}

describe('layered layout', () => {
  it('keeps a chain on one row, hangs a branch below it and merges on the highest row', () => {
    const p = layeredLayout(graph([['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd'], ['d', 'e']]));
    expect([p.a.y, p.b.y, p.d.y, p.e.y]).toEqual([0, 0, 0, 0]);
    expect(p.c).toEqual({ x: p.b.x, y: ROW_HEIGHT });
    expect([p.a.x, p.b.x, p.d.x, p.e.x]).toEqual([0, 1, 2, 3].map((c) => c * COLUMN_WIDTH));
  });

  it('puts a source in the column before the first layer it feeds, below the layers there', () => {
    const p = layeredLayout(lenetLike());
    expect(p.target.x).toBe(p.loss.x - COLUMN_WIDTH);
    expect(p.target.x).toBe(p.l12.x);
    expect(p.target.y).toBe(p.l12.y + ROW_HEIGHT);
  });

  it('stacks several inputs of the first column in their order', () => {
    const p = layeredLayout(graph([['x1', 'cat'], ['x2', 'cat']]));
    expect(p.x1).toEqual({ x: 0, y: 0 });
    expect(p.x2).toEqual({ x: 0, y: ROW_HEIGHT });
    expect(p.cat).toEqual({ x: COLUMN_WIDTH, y: 0 });
  });
});

describe('arranged layout', () => {
  it('leaves a short network on one band', () => {
    const g = graph([['a', 'b'], ['b', 'c'], ['c', 'd']]);
    expect(arrangedLayout(g)).toEqual(layeredLayout(g));
  });

  it('wraps a long chain into bands read like lines of text', () => {
    const g = lenetLike();
    const p = arrangedLayout(g);
    const order = [...Array.from({ length: 13 }, (_, i) => `l${i}`), 'loss'];
    const bandWidth = Math.max(...Object.values(p).map((q) => q.x)) + COLUMN_WIDTH;
    expect(bandWidth).toBeLessThan(14 * COLUMN_WIDTH);
    let bands = 1;
    for (let i = 1; i < order.length; i++) {
      const [prev, next] = [p[order[i - 1]], p[order[i]]];
      if (next.x > prev.x) {
        expect(next.y).toBe(prev.y); // same band, same row
      } else {
        bands++;
        expect(next.x).toBe(0); // a new band starts at the left
        expect(next.y).toBeGreaterThanOrEqual(prev.y + ROW_HEIGHT + BAND_GAP);
      }
    }
    expect(bands).toBeGreaterThan(1);
    // The Target stays beside the loss's input layer, below it, in the same band.
    expect(p.target).toEqual({ x: p.l12.x, y: p.l12.y + ROW_HEIGHT });
    // No two nodes share a place.
    const places = new Set(Object.values(p).map((q) => `${q.x},${q.y}`));
    expect(places.size).toBe(g.nodes.length);
  });

  it('gives a wrapped drawing a larger fitted zoom than the single row', () => {
    const zoom = (p: Record<string, { x: number; y: number }>) => {
      const xs = Object.values(p).map((q) => q.x);
      const ys = Object.values(p).map((q) => q.y);
      const w = Math.max(...xs) - Math.min(...xs) + COLUMN_WIDTH;
      const h = Math.max(...ys) - Math.min(...ys) + ROW_HEIGHT;
      return Math.min(1000 / w, 640 / h);
    };
    const g = lenetLike();
    expect(zoom(arrangedLayout(g))).toBeGreaterThan(2 * zoom(layeredLayout(g)));
  });

  it('arranges an empty graph to nothing', () => {
    expect(arrangedLayout({ nodes: [], edges: [] })).toEqual({});
  });
});
