/**
 * The project the editor works on, as plain data. It mirrors the `.aps` project.json
 * (`name`, `graph`, `data`, `training`, `ui`); the editor only edits `graph` and the
 * layout kept in `ui`, and carries `data` and `training` through unchanged.
 */
import type { GraphEdge, GraphNode, ModelGraph } from '../../engine/graph/types.ts';

export interface Point {
  x: number;
  y: number;
}

export interface EditorUi {
  /** Canvas position of each top-level node, by node id. */
  positions: Record<string, Point>;
  /** Block nodes shown expanded (their inner layers listed on the canvas card). */
  expanded: string[];
  viewport?: { x: number; y: number; zoom: number };
}

export interface ProjectDocument {
  name: string;
  graph: ModelGraph;
  ui: EditorUi;
  /** Dataset settings, owned by the data panel; kept as-is by the editor. */
  data: Record<string, unknown>;
  /** Training settings, owned by the training panel; kept as-is by the editor. */
  training: Record<string, unknown>;
}

export function emptyDocument(name = 'Untitled'): ProjectDocument {
  return { name, graph: { nodes: [], edges: [] }, ui: { positions: {}, expanded: [] }, data: {}, training: {} };
}

export function findNode(graph: ModelGraph, id: string): GraphNode | undefined {
  return graph.nodes.find((n) => n.id === id);
}

/** A fresh id like "conv2d_3" that is not used by any node or edge in the graph. */
export function freshId(graph: ModelGraph, base: string): string {
  const stem = base.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'node';
  const used = new Set<string>();
  for (const n of graph.nodes) used.add(n.id);
  for (const e of graph.edges) used.add(e.id);
  for (let i = 1; ; i++) {
    const id = `${stem}_${i}`;
    if (!used.has(id)) return id;
  }
}

export function edgeId(e: Pick<GraphEdge, 'source' | 'sourcePort' | 'target' | 'targetPort'>): string {
  return `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`;
}
