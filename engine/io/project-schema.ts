/**
 * The `.aps` project.json schema, one per file version, and the migrations between them.
 * These are the saved format, kept apart from runtime objects: plain data with its own
 * validation. Version 2 is current.
 *
 * Version 1 kept each node's canvas position inside the node (`node.position`) and had no
 * list of expanded blocks; version 2 keeps the whole editor layout in `ui`.
 */
import { z } from 'zod';
import type { GraphEdge, GraphNode, ModelGraph, ParamValues } from '../graph/types.ts';

export const CURRENT_VERSION = 2;

const MAX_ID = 200;
const MAX_NODES = 10_000;
const MAX_EDGES = 50_000;

/** Node ids prefix state_dict names, so they cannot hold the "." separator. */
const nodeId = z
  .string()
  .min(1, 'expected a non-empty node id')
  .max(MAX_ID, `expected a node id of at most ${MAX_ID} characters`)
  .regex(/^[^.\s]+$/, 'expected a node id without dots or spaces');

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const paramValue = z.union([finite, z.string().max(10_000), z.boolean(), z.array(finite).max(64)]);
const params = z.record(z.string().max(MAX_ID), paramValue);

const edgeSchema = z.strictObject({
  id: z.string().min(1).max(2 * MAX_ID + 10),
  source: nodeId,
  sourcePort: z.string().min(1).max(MAX_ID),
  target: nodeId,
  targetPort: z.string().min(1).max(MAX_ID),
});

const portRef = z.strictObject({ name: z.string().min(1).max(MAX_ID), node: nodeId, port: z.string().min(1).max(MAX_ID) });

/** Graph-level checks: unique ids, edges between existing nodes, one edge per input port. */
function checkGraph(graph: { nodes: { id: string }[]; edges: GraphEdge[] }, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  graph.nodes.forEach((n, i) => {
    if (ids.has(n.id)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'id'], message: `node id "${n.id}" is used twice` });
    ids.add(n.id);
  });
  const edgeIds = new Set<string>();
  const fed = new Set<string>();
  graph.edges.forEach((e, i) => {
    if (edgeIds.has(e.id)) ctx.addIssue({ code: 'custom', path: ['edges', i, 'id'], message: `edge id "${e.id}" is used twice` });
    edgeIds.add(e.id);
    if (!ids.has(e.source)) ctx.addIssue({ code: 'custom', path: ['edges', i, 'source'], message: `edge "${e.id}" starts at unknown node "${e.source}"` });
    if (!ids.has(e.target)) ctx.addIssue({ code: 'custom', path: ['edges', i, 'target'], message: `edge "${e.id}" ends at unknown node "${e.target}"` });
    const port = `${e.target}\u0000${e.targetPort}`;
    if (fed.has(port)) ctx.addIssue({ code: 'custom', path: ['edges', i], message: `input "${e.targetPort}" of node "${e.target}" has more than one edge` });
    fed.add(port);
  });
}

function nodeSchemaFor(extra: z.ZodRawShape): z.ZodType<GraphNode> {
  const self: z.ZodType<GraphNode> = z.lazy(() =>
    z.strictObject({
      id: nodeId,
      type: z.string().min(1).max(MAX_ID),
      params,
      label: z.string().max(MAX_ID).optional(),
      frozen: z.boolean().optional(),
      lrScale: finite.min(0).optional(),
      pretrained: z.string().min(1).max(2 * MAX_ID + 8).optional(),
      subgraph: blockGraph.optional(),
      ...extra,
    }),
  ) as unknown as z.ZodType<GraphNode>;
  const blockGraph = z
    .strictObject({
      nodes: z.array(self).max(MAX_NODES),
      edges: z.array(edgeSchema).max(MAX_EDGES),
      inputs: z.array(portRef).max(64),
      outputs: z.array(portRef).max(64),
    })
    .superRefine((g, ctx) => checkGraph(g, ctx));
  return self;
}

function graphSchemaFor(node: z.ZodType<GraphNode>) {
  return z
    .strictObject({ nodes: z.array(node).max(MAX_NODES), edges: z.array(edgeSchema).max(MAX_EDGES) })
    .superRefine((g, ctx) => checkGraph(g, ctx));
}

const point = z.strictObject({ x: finite, y: finite });
const viewport = z.strictObject({ x: finite, y: finite, zoom: finite.positive() });

/**
 * Dataset and training settings: JSON objects here; their fields are checked after
 * migration by the training service's validators (engine/train/settings.ts), which fill in
 * defaults for fields left out. A missing or null object means all defaults.
 */
const settingsObject = z.record(z.string().max(MAX_ID), z.unknown()).nullable().optional();

const header = {
  format: z.literal('aps', { error: 'expected "aps" (this is not an APS Studio project)' }),
  name: z.string().max(500),
};

// ---------------------------------------------------------------------------------------
// Version 1: node positions inside the nodes.

const nodeV1 = nodeSchemaFor({ position: point.optional() });
export const projectV1Schema = z.strictObject({
  ...header,
  version: z.literal(1),
  graph: graphSchemaFor(nodeV1),
  data: settingsObject,
  training: settingsObject,
  ui: z.strictObject({ viewport: viewport.optional() }),
});
export type ProjectJsonV1 = z.infer<typeof projectV1Schema>;

// ---------------------------------------------------------------------------------------
// Version 2 (current): the editor layout lives in `ui`.

const nodeV2 = nodeSchemaFor({});
export const uiSchema = z.strictObject({
  /** Canvas position of each top-level node, by node id. */
  positions: z.record(nodeId, point),
  /** Block nodes shown expanded on the canvas. */
  expanded: z.array(nodeId).max(MAX_NODES),
  viewport: viewport.optional(),
});
export type ProjectUi = z.infer<typeof uiSchema>;

export const projectV2Schema = z.strictObject({
  ...header,
  version: z.literal(2),
  graph: graphSchemaFor(nodeV2),
  data: settingsObject,
  training: settingsObject,
  ui: uiSchema,
});
export type ProjectJsonV2 = z.infer<typeof projectV2Schema>;

export const versionSchemas: Record<number, z.ZodType> = { 1: projectV1Schema, 2: projectV2Schema };

/** Each migration takes a valid version-N document to a valid version-N+1 document. */
export const migrations: Record<number, (doc: unknown) => unknown> = {
  1: (doc) => {
    const v1 = doc as ProjectJsonV1;
    const positions: Record<string, { x: number; y: number }> = {};
    const strip = (n: GraphNode & { position?: { x: number; y: number } }): GraphNode => {
      const { position: _position, subgraph, ...rest } = n;
      return subgraph ? { ...rest, subgraph: { ...subgraph, nodes: subgraph.nodes.map(strip) } } : rest;
    };
    for (const n of v1.graph.nodes as (GraphNode & { position?: { x: number; y: number } })[]) {
      if (n.position) positions[n.id] = n.position;
    }
    const v2: ProjectJsonV2 = {
      format: 'aps',
      version: 2,
      name: v1.name,
      graph: { nodes: v1.graph.nodes.map(strip), edges: v1.graph.edges },
      data: v1.data,
      training: v1.training,
      ui: { positions, expanded: [], ...(v1.ui.viewport ? { viewport: v1.ui.viewport } : {}) },
    };
    return v2;
  },
};

// ---------------------------------------------------------------------------------------
// history.json: finished runs with their per-epoch metrics.

export const historySchema = z.strictObject({
  runs: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(MAX_ID),
        startedAt: z.string().max(100).optional(),
        /** Why the run ended: "completed", "stopped", "early-stopped", "diverged". */
        status: z.string().max(100).optional(),
        /** The data and training settings the run used (as in project.json), so a later session can show them. */
        settings: z.strictObject({ data: settingsObject, training: settingsObject }).optional(),
        epochs: z
          .array(z.strictObject({ epoch: z.number().int().min(0), metrics: z.record(z.string().max(MAX_ID), finite.nullable()) }))
          .max(1_000_000),
      }),
    )
    .max(10_000),
});
export type ProjectHistory = z.infer<typeof historySchema>;

export type { ModelGraph, ParamValues };
