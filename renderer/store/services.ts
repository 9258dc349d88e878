/**
 * What the editor's actions need from the engine's layer catalogue. The binding to
 * engine/graph lives in renderer/editor/catalogue.ts; tests pass a small fake, so the
 * store never names a layer itself.
 */
import type { GraphEdge, GraphNode, LayerDef, ModelGraph, ParamValues } from '../../engine/graph/types.ts';

export interface BlockTemplate {
  id: string;
  displayName: string;
  description: string;
}

export interface LayerServices {
  getLayer(type: string): LayerDef | undefined;
  defaultParams(type: string): ParamValues;
  /** Null if the edge may be added, else the reason it is refused. */
  canConnect(graph: ModelGraph, edge: Omit<GraphEdge, 'id'>): string | null;
  /** Ready-made blocks (residual, inception, ...) offered in the palette. */
  blocks(): BlockTemplate[];
  /** A new block node for a ready-made block, with the given id. */
  makeBlock(templateId: string, id: string): GraphNode;
  /** Replaces the given nodes by one block node with the given id. */
  groupNodes(graph: ModelGraph, nodeIds: string[], blockId: string): ModelGraph;
  /** Replaces a block node by its inner nodes; returns the graph and the ids now in its place. */
  ungroupNode(graph: ModelGraph, blockId: string): { graph: ModelGraph; nodeIds: string[] };
}
