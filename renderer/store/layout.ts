/**
 * Automatic layout: a layered drawing from left to right. Each node goes in the column
 * of its longest path from a source, and nodes in a column are ordered by the mean row
 * of their predecessors so that edges cross as little as a single sweep allows.
 */
import type { ModelGraph } from '../../engine/graph/types.ts';
import type { Point } from './document.ts';

export const COLUMN_WIDTH = 260;
export const ROW_HEIGHT = 150;

export function layeredLayout(graph: ModelGraph, only?: ReadonlySet<string>): Record<string, Point> {
  const ids = graph.nodes.map((n) => n.id).filter((id) => !only || only.has(id));
  const inSet = new Set(ids);
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  const succs = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of graph.edges) {
    if (!inSet.has(e.source) || !inSet.has(e.target) || e.source === e.target) continue;
    preds.get(e.target)!.push(e.source);
    succs.get(e.source)!.push(e.target);
  }

  // Longest-path layering over a topological order (Kahn); nodes left on a cycle go last.
  const indegree = new Map(ids.map((id) => [id, preds.get(id)!.length]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  const layer = new Map<string, number>();
  const order: string[] = [];
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    const l = Math.max(0, ...preds.get(id)!.map((p) => (layer.get(p) ?? -1) + 1));
    layer.set(id, l);
    for (const s of succs.get(id)!) {
      indegree.set(s, indegree.get(s)! - 1);
      if (indegree.get(s) === 0) queue.push(s);
    }
  }
  const maxLayer = Math.max(-1, ...layer.values());
  for (const id of ids) if (!layer.has(id)) layer.set(id, maxLayer + 1);

  const columns: string[][] = [];
  for (const id of [...order, ...ids.filter((i) => !order.includes(i))]) {
    const l = layer.get(id)!;
    (columns[l] ??= []).push(id);
  }
  const row = new Map<string, number>();
  const positions: Record<string, Point> = {};
  columns.forEach((column, x) => {
    const keyed = column.map((id, i) => {
      const rows = preds.get(id)!.map((p) => row.get(p)).filter((r): r is number => r !== undefined);
      return { id, key: rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : i };
    });
    keyed.sort((a, b) => a.key - b.key);
    const top = -((keyed.length - 1) * ROW_HEIGHT) / 2;
    keyed.forEach(({ id }, i) => {
      row.set(id, i - (keyed.length - 1) / 2);
      positions[id] = { x: x * COLUMN_WIDTH, y: top + i * ROW_HEIGHT };
    });
  });
  return positions;
}
