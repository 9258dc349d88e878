/**
 * Automatic layout: a layered drawing from left to right. Each node goes in the column
 * of its longest path from a source (a source goes just before the first layer it feeds,
 * so a Target sits beside its loss), and in the row of its highest predecessor where that is
 * free, else the next free row below: chains run straight and branches hang beneath them.
 * `arrangedLayout` then wraps a long drawing into bands, read like lines of text, so that
 * the whole network fits a canvas at a readable zoom.
 */
import type { ModelGraph } from '../../engine/graph/types.ts';
import type { Point } from './document.ts';

/** Column pitch: the widest card (220 px and its padding) and room for the shape label on its wire. */
export const COLUMN_WIDTH = 320;
export const ROW_HEIGHT = 150;
/** Extra space between two bands of a wrapped drawing, where the wires return to the left. */
export const BAND_GAP = 70;
/** The canvas a drawing is fitted to when choosing where to wrap it (a typical editor canvas). */
const VIEW = { width: 1000, height: 640 };
/** The widest card, the last column's share of a band's width. */
const CARD_WIDTH = 240;
/** A drawing that fits the canvas at this zoom or more on one band is left unwrapped. */
const READABLE_ZOOM = 0.7;

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
  // A source goes in the column before the first layer it feeds.
  for (const id of order) {
    if (preds.get(id)!.length === 0 && succs.get(id)!.length) layer.set(id, Math.min(...succs.get(id)!.map((s) => layer.get(s)!)) - 1);
  }

  const columns: string[][] = [];
  for (const id of [...order, ...ids.filter((i) => !order.includes(i))]) {
    const l = layer.get(id)!;
    (columns[l] ??= []).push(id);
  }
  // Rows on a grid: each node takes the first free row at or below the highest row of its
  // predecessors, so a chain stays on one line and branches hang below it; a source placed
  // beside other layers goes below them.
  const row = new Map<string, number>();
  const positions: Record<string, Point> = {};
  columns.forEach((column, x) => {
    const keyed = column.map((id, i) => {
      const rows = preds.get(id)!.map((p) => row.get(p)).filter((r): r is number => r !== undefined);
      return { id, i, key: rows.length ? Math.min(...rows) : column.length > 1 && preds.get(id)!.length === 0 ? Infinity : 0 };
    });
    keyed.sort((a, b) => (a.key === b.key ? a.i - b.i : a.key - b.key));
    let next = 0;
    for (const { id, key } of keyed) {
      const r = key === Infinity ? next : Math.max(key, next);
      row.set(id, r);
      next = r + 1;
      positions[id] = { x: x * COLUMN_WIDTH, y: r * ROW_HEIGHT };
    }
  });
  return positions;
}

/**
 * The layered drawing, wrapped into bands of consecutive columns where that lets the whole
 * network fit a canvas at a larger zoom: band after band from top to bottom, each starting
 * again at the left. A drawing that is not too wide stays one band.
 */
export function arrangedLayout(graph: ModelGraph): Record<string, Point> {
  const laid = layeredLayout(graph);
  const ids = Object.keys(laid);
  if (ids.length === 0) return laid;
  const column = (id: string) => Math.round(laid[id].x / COLUMN_WIDTH);
  const columns = Math.max(...ids.map(column)) + 1;
  // Each band's vertical extent, for a given number of columns per band.
  const bandsOf = (perBand: number) => {
    const bands: { top: number; bottom: number }[] = [];
    for (const id of ids) {
      const b = Math.floor(column(id) / perBand);
      const band = (bands[b] ??= { top: Infinity, bottom: -Infinity });
      band.top = Math.min(band.top, laid[id].y);
      band.bottom = Math.max(band.bottom, laid[id].y);
    }
    return bands;
  };
  const zoomFor = (perBand: number) => {
    const bands = bandsOf(perBand);
    const height = bands.reduce((h, b) => h + b.bottom - b.top + ROW_HEIGHT, 0) + (bands.length - 1) * BAND_GAP;
    return Math.min(1, VIEW.width / ((perBand - 1) * COLUMN_WIDTH + CARD_WIDTH), VIEW.height / height);
  };
  // The widest bands among those that give the largest zoom.
  let best = columns;
  let bestZoom = zoomFor(columns);
  if (bestZoom >= READABLE_ZOOM) return laid;
  for (let perBand = columns - 1; perBand >= 1; perBand--) {
    const zoom = zoomFor(perBand);
    if (zoom > bestZoom + 1e-9) {
      best = perBand;
      bestZoom = zoom;
    }
  }
  if (best === columns) return laid;
  const bands = bandsOf(best);
  const tops: number[] = [];
  let y = 0;
  for (const band of bands) {
    tops.push(y);
    y += band.bottom - band.top + ROW_HEIGHT + BAND_GAP;
  }
  const out: Record<string, Point> = {};
  for (const id of ids) {
    const c = column(id);
    const b = Math.floor(c / best);
    out[id] = { x: (c % best) * COLUMN_WIDTH, y: tops[b] + laid[id].y - bands[b].top };
  }
  return out;
}
