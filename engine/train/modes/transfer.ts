/**
 * Transfer learning and pretraining: take nodes (with their weights) from a trained graph
 * into another, freeze them or fine-tune them with a smaller learning rate, and cut a graph
 * into the part upstream or downstream of a node (an autoencoder's encoder or decoder).
 * Weights travel by state_dict name (`<nodeId>.<param>`), so copied nodes keep their ids.
 */
import type { Dataset } from '../../data/dataset.ts';
import { getLayer } from '../../graph/catalogue.ts';
import type { GraphModel } from '../../graph/compile.ts';
import type { GraphEdge, GraphNode, ModelGraph } from '../../graph/types.ts';
import { node as makeNode } from './build.ts';
import type { OptimizerChoice } from './common.ts';
import { ClassifierMode } from './supervised.ts';

function cloneNode(n: GraphNode): GraphNode {
  return JSON.parse(JSON.stringify(n)) as GraphNode;
}

function byId(graph: ModelGraph): Map<string, GraphNode> {
  return new Map(graph.nodes.map((n) => [n.id, n]));
}

function requireNode(graph: ModelGraph, id: string, what: string): GraphNode {
  const n = graph.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`${what}: the graph has no node "${id}"; its nodes are ${graph.nodes.map((x) => x.id).join(', ')}`);
  return n;
}

/** The node and every node it depends on (its ancestors). */
export function upstreamOf(graph: ModelGraph, id: string): Set<string> {
  requireNode(graph, id, 'upstreamOf');
  const seen = new Set<string>([id]);
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const e of graph.edges) {
      if (e.target === cur && !seen.has(e.source)) {
        seen.add(e.source);
        stack.push(e.source);
      }
    }
  }
  return seen;
}

/** The nodes `ids` and the edges between them, as a graph. */
export function subgraph(graph: ModelGraph, ids: Iterable<string>): ModelGraph {
  const keep = new Set(ids);
  for (const id of keep) requireNode(graph, id, 'subgraph');
  return {
    nodes: graph.nodes.filter((n) => keep.has(n.id)).map((n) => cloneNode(n)),
    edges: graph.edges.filter((e) => keep.has(e.source) && keep.has(e.target)).map((e) => ({ ...e })),
  };
}

/**
 * The encoder of a graph: everything upstream of `id` (loss and Target nodes left out), so
 * `id`'s output becomes the encoder's output.
 */
export function encoderGraph(graph: ModelGraph, id: string): ModelGraph {
  const nodes = byId(graph);
  const ids = [...upstreamOf(graph, id)].filter((n) => {
    const def = getLayer(nodes.get(n)!.type);
    return !def.isLoss && !def.isTarget;
  });
  return subgraph(graph, ids);
}

/**
 * The decoder of a graph: everything downstream of `id`'s output `port`, fed by a new
 * Vector input that takes `id`'s place (same id, so `id`'s latent codes can be fed by node
 * id). Loss and Target nodes, and nodes that need values from outside, are left out.
 */
export function decoderGraph(graph: ModelGraph, id: string, port: string, features: number): ModelGraph {
  requireNode(graph, id, 'decoderGraph');
  const nodes = byId(graph);
  const keep = new Set<string>();
  const frontier = graph.edges.filter((e) => e.source === id && e.sourcePort === port).map((e) => e.target);
  if (!frontier.length) throw new Error(`decoderGraph: nothing is connected to output "${port}" of node "${id}"`);
  while (frontier.length) {
    const cur = frontier.pop()!;
    if (keep.has(cur)) continue;
    const def = getLayer(nodes.get(cur)!.type);
    if (def.isLoss || def.isTarget) continue;
    keep.add(cur);
    for (const e of graph.edges) if (e.source === cur) frontier.push(e.target);
  }
  // Drop nodes that need an input from outside the decoder (other than the latent).
  let changed = true;
  while (changed) {
    changed = false;
    for (const n of [...keep]) {
      const feeding = graph.edges.filter((e) => e.target === n);
      if (feeding.some((e) => !(keep.has(e.source) || (e.source === id && e.sourcePort === port)))) {
        keep.delete(n);
        changed = true;
      }
    }
  }
  const edges: GraphEdge[] = [];
  for (const e of graph.edges) {
    if (!keep.has(e.target)) continue;
    if (keep.has(e.source)) edges.push({ ...e });
    else if (e.source === id && e.sourcePort === port) edges.push({ ...e, id: `${id}.y->${e.target}.${e.targetPort}`, sourcePort: 'y' });
  }
  return { nodes: [makeNode(id, 'VectorInput', { features }), ...graph.nodes.filter((n) => keep.has(n.id)).map((n) => cloneNode(n))], edges };
}

export interface TransferOptions {
  /** Freeze the copied nodes (no training), or fine-tune them. */
  mode: 'freeze' | 'finetune';
  /** Learning-rate multiplier of the copied nodes when fine-tuning (e.g. 0.1). */
  lrScale?: number;
}

/**
 * Marks nodes of a graph as frozen, or as fine-tuned with a learning-rate multiplier; the
 * compiler and the trainer's optimiser read these fields.
 */
export function setTransferMode(graph: ModelGraph, ids: Iterable<string>, opts: TransferOptions): ModelGraph {
  const set = new Set(ids);
  for (const id of set) requireNode(graph, id, 'setTransferMode');
  if (opts.lrScale !== undefined && !(opts.lrScale > 0)) throw new Error(`setTransferMode: lrScale must be above 0, got ${opts.lrScale}`);
  return {
    nodes: graph.nodes.map((n) => {
      if (!set.has(n.id)) return n;
      const out: GraphNode = { ...n };
      delete out.frozen;
      delete out.lrScale;
      if (opts.mode === 'freeze') out.frozen = true;
      else if (opts.lrScale !== undefined && opts.lrScale !== 1) out.lrScale = opts.lrScale;
      return out;
    }),
    edges: graph.edges,
  };
}

/**
 * Copies the nodes `ids` of `source` (and the edges between them) into `target`, which
 * must not already use those ids; then wires `connect` edges. The copied nodes are frozen
 * or fine-tuned as `opts` says.
 */
export function transplantNodes(source: ModelGraph, ids: readonly string[], target: ModelGraph, connect: GraphEdge[], opts: TransferOptions): ModelGraph {
  const taken = new Set(target.nodes.map((n) => n.id));
  const clash = ids.filter((id) => taken.has(id));
  if (clash.length) throw new Error(`transplantNodes: the target graph already has nodes ${clash.join(', ')}; rename them first`);
  const part = subgraph(source, ids);
  const merged: ModelGraph = { nodes: [...part.nodes, ...target.nodes], edges: [...part.edges, ...target.edges, ...connect] };
  return setTransferMode(merged, ids, opts);
}

/**
 * Copies the weights of the nodes `ids` (every node both models have, by default) from one
 * compiled graph to another by state_dict name; returns the names copied. A shape mismatch
 * names the weight and both shapes.
 */
export function copyWeights(from: GraphModel, to: GraphModel, ids?: Iterable<string>): string[] {
  const only = ids ? new Set(ids) : null;
  const src = from.stateDict();
  const copied: string[] = [];
  const entries = new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  for (const [name, t] of to.stateDict()) {
    const nodeId = name.slice(0, name.indexOf('.'));
    if (only && !only.has(nodeId)) continue;
    const s = src.get(name);
    if (!s) {
      if (only) throw new Error(`copyWeights: the source model has no weight "${name}"`);
      continue;
    }
    if (s.shape.join() !== t.shape.join()) throw new Error(`copyWeights: "${name}" is [${s.shape.join(', ')}] in the source model and [${t.shape.join(', ')}] in the target`);
    entries.set(name, { shape: [...s.shape], values: s.dataSync() as Float32Array | Int32Array });
    copied.push(name);
  }
  to.loadStateDict(entries, false);
  return copied;
}

/**
 * A classifier built on a (transferred) encoder: the encoder graph, then a Linear head from
 * `fromId`'s output to `classes` scores, a class Target and a cross-entropy loss. The head
 * is named "head"; the encoder's nodes keep their ids so their weights load by name.
 */
export function classifierOnEncoder(encoder: ModelGraph, fromId: string, classes: number, opts?: TransferOptions): ModelGraph {
  requireNode(encoder, fromId, 'classifierOnEncoder');
  const head: ModelGraph = {
    nodes: [makeNode('head', 'Linear', { out_features: classes }), makeNode('label', 'Target'), makeNode('loss', 'CrossEntropyLoss')],
    edges: [
      { id: 'head.y->loss.prediction', source: 'head', sourcePort: 'y', target: 'loss', targetPort: 'prediction' },
      { id: 'label.y->loss.target', source: 'label', sourcePort: 'y', target: 'loss', targetPort: 'target' },
    ],
  };
  const ids = encoder.nodes.filter((n) => !getLayer(n.type).isInput).map((n) => n.id);
  const inputs = encoder.nodes.filter((n) => getLayer(n.type).isInput).map((n) => n.id);
  const merged = transplantNodes(encoder, [...inputs, ...ids], head, [{ id: `${fromId}.y->head.x`, source: fromId, sourcePort: 'y', target: 'head', targetPort: 'x' }], opts ?? { mode: 'finetune' });
  return setTransferMode(merged, inputs, { mode: 'finetune' });
}

export interface ProbeOptions {
  /** Labelled training data for the probe. */
  data: Dataset;
  classes: number;
  /** 'freeze' (default): a linear probe on fixed features; 'finetune': the encoder trains too. */
  mode?: TransferOptions['mode'];
  /** Learning-rate multiplier of the encoder when fine-tuning. */
  lrScale?: number;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

/**
 * A classifier on the features of a trained model's node `featureId`: the model's encoder
 * (everything upstream of `featureId`), its weights copied in, and a Linear head. With the
 * default 'freeze' it is a linear probe: only the head trains, so its accuracy measures how
 * well the features separate the classes.
 */
export function linearProbe(source: GraphModel, featureId: string, opts: ProbeOptions): ClassifierMode {
  const encoder = encoderGraph(source.graph, featureId);
  const transfer: TransferOptions = opts.mode === 'finetune' ? { mode: 'finetune', ...(opts.lrScale !== undefined ? { lrScale: opts.lrScale } : {}) } : { mode: 'freeze' };
  const probe = new ClassifierMode({ graph: classifierOnEncoder(encoder, featureId, opts.classes, transfer), data: opts.data, batchSize: opts.batchSize, optimizer: opts.optimizer, seed: opts.seed });
  copyWeights(source, probe.model, encoder.nodes.map((n) => n.id));
  return probe;
}
