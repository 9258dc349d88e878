/**
 * Every edit to a project is one of these named actions: a pure function from the
 * current document to the next, plus how it enters undo history. React Flow and the
 * panels only dispatch actions; they never change the document themselves.
 */
import type { GraphEdge, GraphNode, ModelGraph, ParamValue } from '../../engine/graph/types.ts';
import { edgeId, findNode, freshId, type Point, type ProjectDocument } from './document.ts';
import { arrangedLayout, layeredLayout, ROW_HEIGHT } from './layout.ts';
import type { LayerServices } from './services.ts';

/**
 * How an action enters undo history: `immediately` makes one entry; `eventually`
 * changes the document now and joins the entry made by the next `commit` (one entry
 * per drag, not per pixel); `never` leaves history alone.
 */
export type Capture = 'immediately' | 'eventually' | 'never';

export interface ActionContext {
  layers: LayerServices;
  selection: readonly string[];
}

export interface ActionResult {
  doc: ProjectDocument;
  /** The selection after the action; unchanged if left out. */
  selection?: string[];
}

export interface Action<A> {
  /** Shown in the Edit menu and the status bar ("Undo Add Conv2d"). */
  name: string | ((args: A, doc: ProjectDocument) => string);
  capture: Capture;
  /** Returns the next state, or a message saying why the edit is refused. */
  perform(doc: ProjectDocument, args: A, ctx: ActionContext): ActionResult | string;
}

function withGraph(doc: ProjectDocument, graph: ModelGraph, positions = doc.ui.positions): ProjectDocument {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const kept: Record<string, Point> = {};
  for (const [id, p] of Object.entries(positions)) if (ids.has(id)) kept[id] = p;
  return { ...doc, graph, ui: { ...doc.ui, positions: kept, expanded: doc.ui.expanded.filter((id) => ids.has(id)) } };
}

// ---------------------------------------------------------------------------------------
// Layers and blocks

export const addLayer: Action<{ type: string; position: Point }> = {
  name: ({ type }) => `Add ${type}`,
  capture: 'immediately',
  perform(doc, { type, position }, ctx) {
    if (!ctx.layers.getLayer(type)) return `There is no layer type "${type}" in the catalogue.`;
    const id = freshId(doc.graph, type);
    const node: GraphNode = { id, type, params: ctx.layers.defaultParams(type) };
    const graph = { ...doc.graph, nodes: [...doc.graph.nodes, node] };
    return { doc: withGraph(doc, graph, { ...doc.ui.positions, [id]: position }), selection: [id] };
  },
};

export const addBlock: Action<{ template: string; position: Point }> = {
  name: ({ template }) => `Add ${template} block`,
  capture: 'immediately',
  perform(doc, { template, position }, ctx) {
    const def = ctx.layers.blocks().find((b) => b.id === template);
    if (!def) return `There is no ready-made block "${template}".`;
    const id = freshId(doc.graph, def.id);
    const node = ctx.layers.makeBlock(def.id, id);
    const graph = { ...doc.graph, nodes: [...doc.graph.nodes, node] };
    return { doc: withGraph(doc, graph, { ...doc.ui.positions, [id]: position }), selection: [id] };
  },
};

/** Removes nodes (with their edges) and edges, given by id; unknown ids are ignored. */
export const removeItems: Action<{ ids: readonly string[] }> = {
  name: ({ ids }, doc) => {
    const nodes = doc.graph.nodes.filter((n) => ids.includes(n.id)).length;
    return nodes > 0 ? `Delete ${nodes === 1 ? 'layer' : `${nodes} layers`}` : 'Delete connection';
  },
  capture: 'immediately',
  perform(doc, { ids }) {
    const gone = new Set(ids);
    const nodes = doc.graph.nodes.filter((n) => !gone.has(n.id));
    if (nodes.length === doc.graph.nodes.length && !doc.graph.edges.some((e) => gone.has(e.id))) return 'Nothing is selected to delete.';
    const kept = new Set(nodes.map((n) => n.id));
    const edges = doc.graph.edges.filter((e) => !gone.has(e.id) && kept.has(e.source) && kept.has(e.target));
    return { doc: withGraph(doc, { nodes, edges }), selection: [] };
  },
};

export const setParam: Action<{ nodeId: string; name: string; value: ParamValue }> = {
  name: ({ name }) => `Change ${name}`,
  capture: 'immediately',
  perform(doc, { nodeId, name, value }) {
    const node = findNode(doc.graph, nodeId);
    if (!node) return `There is no layer "${nodeId}".`;
    if (node.params[name] === value) return `${name} is already ${String(value)}.`;
    const nodes = doc.graph.nodes.map((n) => (n.id === nodeId ? { ...n, params: { ...n.params, [name]: value } } : n));
    return { doc: withGraph(doc, { ...doc.graph, nodes }) };
  },
};

/** The same change while the user types: joins one history entry that `commit` closes (on blur). */
export const editParam: Action<{ nodeId: string; name: string; value: ParamValue }> = { ...setParam, capture: 'eventually' };

export const setLabel: Action<{ nodeId: string; label: string }> = {
  name: 'Rename layer',
  capture: 'immediately',
  perform(doc, { nodeId, label }) {
    if (!findNode(doc.graph, nodeId)) return `There is no layer "${nodeId}".`;
    const nodes = doc.graph.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const { label: _old, ...rest } = n;
      return label.trim() ? { ...rest, label: label.trim() } : rest;
    });
    return { doc: withGraph(doc, { ...doc.graph, nodes }) };
  },
};

/**
 * How a layer trains (transfer learning): `frozen` keeps its weights as they are;
 * `lrScale` multiplies the optimiser's learning rate for its weights (1 = unchanged).
 */
export const setTraining: Action<{ nodeId: string; frozen?: boolean; lrScale?: number }> = {
  name: ({ frozen, lrScale }) => (frozen !== undefined ? (frozen ? 'Freeze layer' : 'Unfreeze layer') : `Set learning-rate scale ${lrScale}`),
  capture: 'immediately',
  perform(doc, { nodeId, frozen, lrScale }) {
    const node = findNode(doc.graph, nodeId);
    if (!node) return `There is no layer "${nodeId}".`;
    if (lrScale !== undefined && !(Number.isFinite(lrScale) && lrScale >= 0)) return `The learning-rate scale must be a number of at least 0, got ${lrScale}.`;
    if ((frozen === undefined || (node.frozen ?? false) === frozen) && (lrScale === undefined || (node.lrScale ?? 1) === lrScale)) return 'Nothing to change.';
    const nodes = doc.graph.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const { frozen: wasFrozen, lrScale: wasScale, ...rest } = n;
      const f = frozen ?? wasFrozen ?? false;
      const s = lrScale ?? wasScale ?? 1;
      return { ...rest, ...(f ? { frozen: true } : {}), ...(s !== 1 ? { lrScale: s } : {}) };
    });
    return { doc: withGraph(doc, { ...doc.graph, nodes }) };
  },
};

/**
 * Adds layers imported from another project (`graph` is the current graph with them added,
 * as engine/train/import-layers.ts builds it) and lays them out below the current layers.
 */
export const importLayers: Action<{ graph: ModelGraph; added: readonly string[]; source: string }> = {
  name: ({ source }) => `Import layers from ${source}`,
  capture: 'immediately',
  perform(doc, { graph, added }) {
    if (added.length === 0) return 'There are no layers to import.';
    const missing = doc.graph.nodes.filter((n) => !graph.nodes.some((m) => m.id === n.id));
    if (missing.length) return `The import would remove ${missing.map((n) => n.id).join(', ')}; import again.`;
    const fresh = new Set(added);
    // Layers without a place yet (a project written by a script) are laid out first.
    const placed = doc.graph.nodes.every((n) => doc.ui.positions[n.id]) ? doc.ui.positions : { ...layeredLayout(doc.graph), ...doc.ui.positions };
    const laid = layeredLayout(graph, fresh);
    const old = doc.graph.nodes.map((n) => placed[n.id]!);
    const top = old.length ? Math.max(...old.map((p) => p.y)) + ROW_HEIGHT : 0;
    const left = old.length ? Math.min(...old.map((p) => p.x)) : 0;
    const minY = Math.min(...added.map((id) => laid[id]?.y ?? 0));
    const positions = { ...placed };
    for (const id of added) positions[id] = { x: left + (laid[id]?.x ?? 0), y: top + (laid[id]?.y ?? 0) - minY };
    return { doc: withGraph(doc, graph, positions), selection: [...added] };
  },
};

/** Forgets where a layer's weights came from: fresh runs start it from random values again. */
export const clearPretrained: Action<{ nodeId: string }> = {
  name: 'Start layer from random values',
  capture: 'immediately',
  perform(doc, { nodeId }) {
    const node = findNode(doc.graph, nodeId);
    if (!node) return `There is no layer "${nodeId}".`;
    if (!node.pretrained) return `"${nodeId}" already starts from random values.`;
    const nodes = doc.graph.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const { pretrained: _from, ...rest } = n;
      return rest;
    });
    return { doc: withGraph(doc, { ...doc.graph, nodes }) };
  },
};

// ---------------------------------------------------------------------------------------
// Connections

export type ConnectArgs = Omit<GraphEdge, 'id'>;

/** Connects an output port to an input port; an input takes one connection, so it replaces any there. */
export const connect: Action<ConnectArgs> = {
  name: 'Connect',
  capture: 'immediately',
  perform(doc, edge, ctx) {
    if (edge.source === edge.target) return 'A layer cannot be connected to itself.';
    const without = { ...doc.graph, edges: doc.graph.edges.filter((e) => !(e.target === edge.target && e.targetPort === edge.targetPort)) };
    const refused = ctx.layers.canConnect(without, edge);
    if (refused) return refused;
    const graph = { ...without, edges: [...without.edges, { id: edgeId(edge), ...edge }] };
    return { doc: withGraph(doc, graph) };
  },
};

// ---------------------------------------------------------------------------------------
// Moving and layout

export const moveNodes: Action<{ positions: Record<string, Point> }> = {
  name: (args) => (Object.keys(args.positions).length === 1 ? 'Move layer' : 'Move layers'),
  capture: 'eventually',
  perform(doc, { positions }) {
    const known = Object.fromEntries(Object.entries(positions).filter(([id]) => findNode(doc.graph, id)));
    if (Object.keys(known).length === 0) return 'Nothing to move.';
    return { doc: { ...doc, ui: { ...doc.ui, positions: { ...doc.ui.positions, ...known } } } };
  },
};

export const autoLayout: Action<Record<string, never>> = {
  name: 'Arrange layers',
  capture: 'immediately',
  perform(doc) {
    if (doc.graph.nodes.length === 0) return 'There are no layers to arrange.';
    return { doc: { ...doc, ui: { ...doc.ui, positions: arrangedLayout(doc.graph) } } };
  },
};

// ---------------------------------------------------------------------------------------
// Copy, paste, duplicate

/** What Copy puts on the clipboard: nodes, the edges among them, and their positions. */
export interface Clip {
  nodes: GraphNode[];
  edges: GraphEdge[];
  positions: Record<string, Point>;
}

export function copyClip(doc: ProjectDocument, ids: readonly string[]): Clip | null {
  const chosen = new Set(ids);
  const nodes = doc.graph.nodes.filter((n) => chosen.has(n.id));
  if (nodes.length === 0) return null;
  const edges = doc.graph.edges.filter((e) => chosen.has(e.source) && chosen.has(e.target));
  const positions: Record<string, Point> = {};
  for (const n of nodes) positions[n.id] = doc.ui.positions[n.id] ?? { x: 0, y: 0 };
  return structuredClone({ nodes, edges, positions });
}

export const PASTE_OFFSET = 40;

export const paste: Action<{ clip: Clip; offset?: Point }> = {
  name: ({ clip }) => (clip.nodes.length === 1 ? 'Paste layer' : `Paste ${clip.nodes.length} layers`),
  capture: 'immediately',
  perform(doc, { clip, offset = { x: PASTE_OFFSET, y: PASTE_OFFSET } }) {
    if (clip.nodes.length === 0) return 'The clipboard holds no layers.';
    let graph = doc.graph;
    const renamed = new Map<string, string>();
    const positions = { ...doc.ui.positions };
    for (const n of clip.nodes) {
      const id = freshId(graph, n.type);
      renamed.set(n.id, id);
      // A copy starts from random values: imported weights belong to the original layer.
      const { pretrained: _imported, ...copy } = structuredClone(n);
      graph = { ...graph, nodes: [...graph.nodes, { ...copy, id }] };
      const p = clip.positions[n.id] ?? { x: 0, y: 0 };
      positions[id] = { x: p.x + offset.x, y: p.y + offset.y };
    }
    const edges = clip.edges.map((e) => {
      const edge = { source: renamed.get(e.source) ?? e.source, sourcePort: e.sourcePort, target: renamed.get(e.target) ?? e.target, targetPort: e.targetPort };
      return { id: edgeId(edge), ...edge };
    });
    graph = { ...graph, edges: [...graph.edges, ...edges] };
    return { doc: withGraph(doc, graph, positions), selection: [...renamed.values()] };
  },
};

export const duplicate: Action<{ ids: readonly string[] }> = {
  name: 'Duplicate',
  capture: 'immediately',
  perform(doc, { ids }, ctx) {
    const clip = copyClip(doc, ids);
    if (!clip) return 'Select the layers to duplicate first.';
    return paste.perform(doc, { clip }, ctx);
  },
};

// ---------------------------------------------------------------------------------------
// Blocks

function centroid(points: Point[]): Point {
  if (points.length === 0) return { x: 0, y: 0 };
  const sum = points.reduce((a, p) => ({ x: a.x + p.x, y: a.y + p.y }), { x: 0, y: 0 });
  return { x: sum.x / points.length, y: sum.y / points.length };
}

export const group: Action<{ ids: readonly string[] }> = {
  name: ({ ids }) => `Group ${ids.length} layers into a block`,
  capture: 'immediately',
  perform(doc, { ids }, ctx) {
    const members = doc.graph.nodes.filter((n) => ids.includes(n.id));
    if (members.length < 2) return 'Select at least two layers to group into a block.';
    const imported = members.filter((n) => n.pretrained);
    if (imported.length) return `${imported.map((n) => n.id).join(', ')} ${imported.length === 1 ? 'starts' : 'start'} from imported weights, kept by layer id: a block would rename ${imported.length === 1 ? 'it' : 'them'}. Start ${imported.length === 1 ? 'it' : 'them'} from random values first, or leave ${imported.length === 1 ? 'it' : 'them'} out of the block.`;
    const blockId = freshId(doc.graph, 'block');
    let graph: ModelGraph;
    try {
      graph = ctx.layers.groupNodes(doc.graph, members.map((n) => n.id), blockId);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    const at = centroid(members.map((n) => doc.ui.positions[n.id] ?? { x: 0, y: 0 }));
    return { doc: withGraph(doc, graph, { ...doc.ui.positions, [blockId]: at }), selection: [blockId] };
  },
};

export const ungroup: Action<{ id: string }> = {
  name: 'Ungroup block',
  capture: 'immediately',
  perform(doc, { id }, ctx) {
    const block = findNode(doc.graph, id);
    if (!block?.subgraph) return 'Select a block to ungroup.';
    let result: { graph: ModelGraph; nodeIds: string[] };
    try {
      result = ctx.layers.ungroupNode(doc.graph, id);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    // Lay the inner layers out as they sit inside the block, anchored where the block was.
    const inner = layeredLayout(result.graph, new Set(result.nodeIds));
    const origin = doc.ui.positions[id] ?? { x: 0, y: 0 };
    const first = centroid(result.nodeIds.map((n) => inner[n] ?? { x: 0, y: 0 }));
    const positions = { ...doc.ui.positions };
    for (const n of result.nodeIds) {
      const p = inner[n] ?? { x: 0, y: 0 };
      positions[n] = { x: origin.x + p.x - first.x, y: origin.y + p.y - first.y };
    }
    return { doc: withGraph(doc, result.graph, positions), selection: result.nodeIds };
  },
};

export const toggleExpanded: Action<{ id: string }> = {
  name: ({ id }, doc) => (doc.ui.expanded.includes(id) ? 'Collapse block' : 'Expand block'),
  capture: 'immediately',
  perform(doc, { id }) {
    if (!findNode(doc.graph, id)?.subgraph) return 'Only blocks can be expanded or collapsed.';
    const expanded = doc.ui.expanded.includes(id) ? doc.ui.expanded.filter((e) => e !== id) : [...doc.ui.expanded, id];
    return { doc: { ...doc, ui: { ...doc.ui, expanded } } };
  },
};
