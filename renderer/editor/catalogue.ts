/**
 * The editor's view of the engine's layer catalogue and shape inference. Everything the
 * palette, cards, edges and forms know about layers comes through here from engine/graph.
 */
import { categories, defaultParams, getLayer, hasLayer, inputPorts, outputPorts } from '../../engine/graph/catalogue.ts';
import { inferGraph } from '../../engine/graph/infer.ts';
import type { ModelGraph } from '../../engine/graph/types.ts';
import type { LayerServices } from '../store/services.ts';
import type { GraphAnalysis, NodeInfo } from './analysis.ts';

export interface PaletteItem {
  kind: 'layer' | 'block';
  id: string;
  name: string;
  description: string;
}

export interface PaletteSection {
  title: string;
  items: PaletteItem[];
}

export function paletteSections(): PaletteSection[] {
  const sections: PaletteSection[] = categories().map(({ category, types }) => ({
    title: category,
    items: types.map((t) => {
      const def = getLayer(t);
      return { kind: 'layer' as const, id: t, name: def.displayName, description: def.description };
    }),
  }));
  const blocks = layerServices.blocks();
  if (blocks.length) sections.push({ title: 'Ready-made blocks', items: blocks.map((b) => ({ kind: 'block', id: b.id, name: b.displayName, description: b.description })) });
  return sections;
}

export const layerServices: LayerServices = {
  getLayer: (type) => (hasLayer(type) ? getLayer(type) : undefined),
  defaultParams,
  canConnect(graph, edge) {
    const source = graph.nodes.find((n) => n.id === edge.source);
    const target = graph.nodes.find((n) => n.id === edge.target);
    if (!source || !target) return 'Both ends of a connection must be layers on the canvas.';
    if (!hasLayer(source.type) || !hasLayer(target.type)) return 'Unknown layer type.';
    const out = outputPorts(source).find((p) => p.name === edge.sourcePort);
    const inp = inputPorts(target).find((p) => p.name === edge.targetPort);
    if (!out || !inp) return 'That port does not exist.';
    const accepts = [inp.kind, ...(inp.accepts ?? [])];
    if (!accepts.includes(out.kind)) return `${target.id}.${inp.name} takes ${accepts.join(' or ')}, ${source.id} gives ${out.kind}.`;
    return null;
  },
  blocks: () => [],
  makeBlock: (templateId) => {
    throw new Error(`There is no ready-made block "${templateId}".`);
  },
  groupNodes: () => {
    throw new Error('Grouping layers into blocks is not available yet.');
  },
  ungroupNode: () => {
    throw new Error('Ungrouping blocks is not available yet.');
  },
};

const cache = new WeakMap<ModelGraph, GraphAnalysis>();

/** Shape inference over the whole graph; cached per graph object, since the store never mutates one. */
export function analyse(graph: ModelGraph): GraphAnalysis {
  let result = cache.get(graph);
  if (!result) {
    result = inferAll(graph);
    cache.set(graph, result);
  }
  return result;
}

function inferAll(graph: ModelGraph): GraphAnalysis {
  const result = inferGraph(graph);
  const nodes = new Map<string, NodeInfo>(Object.entries(result.nodes));
  const edges = new Map(Object.entries(result.edges));
  const edgeErrors = new Map<string, string>();
  for (const p of result.problems) if (p.edgeId) edgeErrors.set(p.edgeId, p.message);
  // A layer that refuses the values it was given marks the connections that bring them.
  for (const e of graph.edges) {
    const target = result.nodes[e.target];
    if (!target?.errors.length || edgeErrors.has(e.id)) continue;
    if (target.inputs.length > 0 && target.inputs.every((t) => t !== undefined) && result.edges[e.id]) edgeErrors.set(e.id, target.errors[0]);
  }
  return {
    nodes,
    edges,
    edgeErrors,
    problems: result.problems,
    totals: {
      params: result.totals.params,
      flops: result.totals.flops,
      weightBytes: result.totals.params * 4,
      activationBytes: result.totals.activationMemoryBytes,
    },
  };
}
