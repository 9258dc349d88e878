/**
 * The editor's view of the engine's layer catalogue and shape inference. Everything the
 * palette, cards, edges and forms know about layers comes through here from engine/graph.
 */
import { categories, defaultParams, getLayer, hasLayer } from '../../engine/graph/catalogue.ts';
import { decoderBlock, encoderBlock, groupNodes, inceptionBlock, residualBlock, ungroupNode, vggBlock } from '../../engine/graph/blocks.ts';
import { canConnect, inferGraph } from '../../engine/graph/infer.ts';
import type { GraphNode, ModelGraph } from '../../engine/graph/types.ts';
import type { BlockTemplate, LayerServices } from '../store/services.ts';
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

/** The ready-made blocks offered in the palette, with the sizes they start with. */
const BLOCK_TEMPLATES: (BlockTemplate & { make: (id: string) => GraphNode })[] = [
  {
    id: 'residual',
    displayName: 'Residual block',
    description: 'Two 3x3 convolutions with batch norm whose output is added to the input (ResNet), 16 channels.',
    make: (id) => residualBlock(id, { inChannels: 16, outChannels: 16 }),
  },
  {
    id: 'inception',
    displayName: 'Inception block',
    description: 'Parallel 1x1, 3x3, 5x5 convolutions and pooling, concatenated along the channels.',
    make: (id) => inceptionBlock(id, { c1: 16, c3reduce: 16, c3: 24, c5reduce: 4, c5: 8, poolProj: 8 }),
  },
  {
    id: 'vgg',
    displayName: 'VGG block',
    description: 'Two 3x3 convolutions with ReLU and a 2x2 max pool, 32 channels.',
    make: (id) => vggBlock(id, { convs: 2, channels: 32 }),
  },
  {
    id: 'encoder',
    displayName: 'Encoder',
    description: 'Strided convolutions that shrink an image to a small feature map (16, then 32 channels).',
    make: (id) => encoderBlock(id, { channels: [16, 32] }),
  },
  {
    id: 'decoder',
    displayName: 'Decoder',
    description: 'Transposed convolutions that grow a feature map back to image size (32, then 16 channels).',
    make: (id) => decoderBlock(id, { channels: [32, 16] }),
  },
];

export const layerServices: LayerServices = {
  getLayer: (type) => (hasLayer(type) ? getLayer(type) : undefined),
  defaultParams,
  canConnect(graph, edge) {
    const result = canConnect(graph, edge, inferred(graph));
    return result.ok ? null : result.reason;
  },
  blocks: () => BLOCK_TEMPLATES.map(({ id, displayName, description }) => ({ id, displayName, description })),
  makeBlock(templateId, id) {
    const template = BLOCK_TEMPLATES.find((b) => b.id === templateId);
    if (!template) throw new Error(`There is no ready-made block "${templateId}".`);
    return template.make(id);
  },
  groupNodes: (graph, nodeIds, blockId) => groupNodes(graph, nodeIds, blockId),
  ungroupNode(graph, blockId) {
    const before = new Set(graph.nodes.filter((n) => n.id !== blockId).map((n) => n.id));
    const next = ungroupNode(graph, blockId);
    return { graph: next, nodeIds: next.nodes.filter((n) => !before.has(n.id)).map((n) => n.id) };
  },
};

const cache = new WeakMap<ModelGraph, GraphAnalysis>();
const rawCache = new WeakMap<ModelGraph, ReturnType<typeof inferGraph>>();

function inferred(graph: ModelGraph): ReturnType<typeof inferGraph> {
  let result = rawCache.get(graph);
  if (!result) {
    result = inferGraph(graph);
    rawCache.set(graph, result);
  }
  return result;
}

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
  const result = inferred(graph);
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
      trainableParams: result.totals.trainableParams,
      flops: result.totals.flops,
      weightBytes: result.totals.params * 4,
      activationBytes: result.totals.activationMemoryBytes,
    },
  };
}
