/**
 * Importing trained layers from another project (transfer learning in the editor): the
 * layers upstream of a chosen node of the source graph (an autoencoder's encoder, a
 * classifier's feature extractor) are copied into the target graph with their trained
 * weights. Copied nodes are marked `pretrained` (where they came from); every fresh run of
 * the target starts them from those weights, which the project keeps by state_dict name
 * (`<nodeId>.<param>`) apart from the weights of its own runs.
 */
import { getLayer } from '../graph/catalogue.ts';
import { inferGraph } from '../graph/infer.ts';
import type { GraphModel } from '../graph/compile.ts';
import type { GraphEdge, GraphNode, ModelGraph } from '../graph/types.ts';
import type { SafetensorsFile } from '../io/safetensors.ts';
import { toStateEntries } from '../io/safetensors.ts';
import { upstreamOf } from './modes/transfer.ts';
import type { NamedValues } from './trainer.ts';

export interface LayerSource {
  /** Shown to the user and kept on the imported nodes, e.g. "digits-autoencoder.aps". */
  name: string;
  graph: ModelGraph;
  /** The source project's trained weights; importing needs them. */
  weights?: SafetensorsFile;
  /** The source's own pretrained weights, for nodes it imported itself and never trained. */
  pretrained?: SafetensorsFile;
}

export interface ImportOptions {
  /** The node whose output the imported layers end with. */
  outputId: string;
  /** 'freeze' keeps the imported weights fixed; 'finetune' trains them (at `lrScale` times the learning rate). */
  mode: 'freeze' | 'finetune';
  lrScale?: number;
  /** Connect the imported output to this port of a target node (replacing what fed it). */
  connectTo?: { node: string; port: string };
}

export interface ImportedLayers {
  graph: ModelGraph;
  /** Weights of the imported nodes under their (possibly renamed) target ids. */
  weights: SafetensorsFile;
  /** Source node id -> id in the target graph, for every node that was copied. */
  ids: Map<string, string>;
  /** Source input nodes that became existing input nodes of the target. */
  reusedInputs: Map<string, string>;
  /** The imported output node's id in the target graph. */
  outputId: string;
  /** Number of imported parameter values. */
  parameters: number;
}

/** Nodes of a graph whose output can end an import: anything but inputs, targets and losses. */
export function importableOutputs(graph: ModelGraph): GraphNode[] {
  return graph.nodes.filter((n) => {
    const def = getLayer(n.type);
    return !def.isInput && !def.isTarget && !def.isLoss;
  });
}

/**
 * The node an import most likely wants: an autoencoder's latent (`latentId`), else a node
 * named "features", "latent" or "code", else the node that feeds the last layer before the loss.
 */
export function suggestedOutput(graph: ModelGraph, latentId?: string): string | null {
  const candidates = importableOutputs(graph);
  if (!candidates.length) return null;
  if (latentId && candidates.some((n) => n.id === latentId)) return latentId;
  for (const name of ['features', 'latent', 'code', 'encoder']) {
    const hit = candidates.find((n) => n.id === name);
    if (hit) return hit.id;
  }
  const loss = graph.nodes.find((n) => getLayer(n.type).isLoss);
  if (loss) {
    const head = graph.edges.find((e) => e.target === loss.id && candidates.some((n) => n.id === e.source));
    const feeding = head && graph.edges.find((e) => e.target === head.source && candidates.some((n) => n.id === e.source));
    if (feeding) return feeding.source;
  }
  return candidates[candidates.length - 1]!.id;
}

function sameParams(a: GraphNode, b: GraphNode): boolean {
  return a.type === b.type && JSON.stringify(Object.entries(a.params).sort()) === JSON.stringify(Object.entries(b.params).sort());
}

function uniqueId(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}_${i}`;
    if (!taken.has(id)) return id;
  }
}

function nodePrefix(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/**
 * Copies the layers upstream of `opts.outputId` (inputs included, losses and targets left
 * out) from `source` into `target` with their trained weights. A source input node becomes
 * the target's input node of the same type and settings when it has one; ids the target
 * already uses are renamed ("enc1" -> "enc1_2"), and so are their weights.
 */
export function importLayers(source: LayerSource, target: ModelGraph, opts: ImportOptions): ImportedLayers {
  const srcNodes = new Map(source.graph.nodes.map((n) => [n.id, n]));
  const out = srcNodes.get(opts.outputId);
  if (!out) throw new Error(`${source.name} has no layer "${opts.outputId}"`);
  const outDef = getLayer(out.type);
  if (outDef.isInput || outDef.isLoss || outDef.isTarget) throw new Error(`"${opts.outputId}" in ${source.name} is ${outDef.isInput ? 'an input' : outDef.isLoss ? 'a loss' : 'a target'}: choose the layer whose output the imported layers should end with`);
  if (opts.lrScale !== undefined && !(opts.lrScale > 0 && Number.isFinite(opts.lrScale))) throw new Error(`The learning-rate scale must be a number above 0, got ${opts.lrScale}`);
  const trained = source.weights ? toStateEntries(source.weights) : new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  const ownPretrained = source.pretrained ? toStateEntries(source.pretrained) : new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();

  const picked = [...upstreamOf(source.graph, opts.outputId)].map((id) => srcNodes.get(id)!).filter((n) => {
    const def = getLayer(n.type);
    return !def.isLoss && !def.isTarget;
  });
  // Source order, so the imported graph reads as it did.
  picked.sort((a, b) => source.graph.nodes.indexOf(a) - source.graph.nodes.indexOf(b));

  const taken = new Set<string>([...target.nodes.map((n) => n.id), ...target.edges.map((e) => e.id)]);
  const ids = new Map<string, string>();
  const reusedInputs = new Map<string, string>();
  const copied: GraphNode[] = [];
  for (const n of picked) {
    if (getLayer(n.type).isInput) {
      const match = target.nodes.find((t) => getLayer(t.type).isInput && sameParams(t, n) && ![...reusedInputs.values()].includes(t.id));
      if (match) {
        reusedInputs.set(n.id, match.id);
        continue;
      }
    }
    const id = uniqueId(n.id, taken);
    taken.add(id);
    ids.set(n.id, id);
    copied.push(n);
  }
  const rename = (id: string) => ids.get(id) ?? reusedInputs.get(id)!;

  const weights: SafetensorsFile = { tensors: new Map(), metadata: { source: source.name } };
  let parameters = 0;
  const untrained: string[] = [];
  const analysis = inferGraph(source.graph);
  const nodes: GraphNode[] = copied.map((n) => {
    const id = ids.get(n.id)!;
    const copy = JSON.parse(JSON.stringify(n)) as GraphNode;
    copy.id = id;
    delete copy.frozen;
    delete copy.lrScale;
    if (getLayer(n.type).isInput) return copy;
    let found = false;
    for (const [from, store] of [['weights', trained], ['pretrained', ownPretrained]] as const) {
      if (found) break;
      for (const [name, t] of store) {
        if (nodePrefix(name) !== n.id) continue;
        // A node the source imported itself but never trained keeps its own pretrained weights.
        if (from === 'pretrained' && !n.pretrained) continue;
        found = true;
        const isInt = t.values instanceof Int32Array;
        weights.tensors.set(`${id}${name.slice(n.id.length)}`, isInt ? { dtype: 'I64', shape: [...t.shape], data: BigInt64Array.from(t.values, (v) => BigInt(v)) } : { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.values) });
        if (!isInt) parameters += t.values.length;
      }
    }
    if (found) {
      copy.pretrained = n.pretrained ?? `${source.name} › ${n.id}`;
      if (opts.mode === 'freeze') copy.frozen = true;
      else if (opts.lrScale !== undefined && opts.lrScale !== 1) copy.lrScale = opts.lrScale;
    } else if ((analysis.nodes[n.id]?.paramCount ?? 0) > 0) untrained.push(n.id);
    return copy;
  });
  if (!source.weights && !weights.tensors.size) throw new Error(`${source.name} has no trained weights: train it (and save it) before importing its layers`);
  if (untrained.length) throw new Error(`${source.name} has no trained weights for ${untrained.map((id) => `"${id}"`).join(', ')}: its saved weights come from a different model; train it again and save it before importing`);

  const edges: GraphEdge[] = source.graph.edges
    .filter((e) => (ids.has(e.source) || reusedInputs.has(e.source)) && ids.has(e.target))
    .map((e) => {
      const s = rename(e.source);
      const t = rename(e.target);
      const id = uniqueId(`${s}.${e.sourcePort}->${t}.${e.targetPort}`, taken);
      taken.add(id);
      return { id, source: s, sourcePort: e.sourcePort, target: t, targetPort: e.targetPort };
    });
  const outputId = rename(opts.outputId);
  let targetEdges = target.edges;
  if (opts.connectTo) {
    const { node, port } = opts.connectTo;
    const dest = target.nodes.find((n) => n.id === node);
    if (!dest) throw new Error(`The project has no layer "${node}" to connect the imported layers to`);
    const ports = getLayer(dest.type).inputs(dest.params, dest).map((p) => p.name);
    if (!ports.includes(port)) throw new Error(`Layer "${node}" has no input "${port}"; its inputs are ${ports.join(', ') || 'none'}`);
    targetEdges = target.edges.filter((e) => !(e.target === node && e.targetPort === port));
    const id = uniqueId(`${outputId}.y->${node}.${port}`, taken);
    edges.push({ id, source: outputId, sourcePort: outputPortOf(source.graph, opts.outputId), target: node, targetPort: port });
  }
  return { graph: { nodes: [...target.nodes, ...nodes], edges: [...targetEdges, ...edges] }, weights, ids, reusedInputs, outputId, parameters };
}

/** The output port the source graph reads from `id` (its first used one, else "y"). */
function outputPortOf(graph: ModelGraph, id: string): string {
  const used = graph.edges.find((e) => e.source === id);
  if (used) return used.sourcePort;
  const def = getLayer(graph.nodes.find((x) => x.id === id)!.type);
  const n = graph.nodes.find((x) => x.id === id)!;
  return def.outputs(n.params, n)[0]?.name ?? 'y';
}

/**
 * The pretrained weights a fresh run starts from: the entries of `pretrained` that belong to
 * nodes marked `pretrained`. A marked node without weights is an error naming it.
 */
export function pretrainedStart(graph: ModelGraph, pretrained: SafetensorsFile | null | undefined): NamedValues[] {
  const marked = graph.nodes.filter((n) => n.pretrained);
  if (!marked.length) return [];
  const entries = pretrained ? toStateEntries(pretrained) : new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  const out: NamedValues[] = [];
  const missing: string[] = [];
  for (const n of marked) {
    let found = false;
    for (const [name, t] of entries) {
      if (nodePrefix(name) !== n.id) continue;
      found = true;
      out.push({ name, shape: [...t.shape], values: Array.from(t.values) });
    }
    if (!found) missing.push(n.id);
  }
  if (missing.length) {
    throw new Error(`${missing.map((id) => `"${id}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} marked pretrained but the project holds no pretrained weights for ${missing.length === 1 ? 'it' : 'them'}: import the layers again, or start ${missing.length === 1 ? 'it' : 'them'} from random values in the inspector`);
  }
  return out;
}

/**
 * Loads weights for some of a model's parameters and buffers (the rest keep their
 * initial values). Every name must be one of the model's, with the same shape.
 */
export function loadInitialWeights(model: GraphModel, weights: readonly NamedValues[]): string[] {
  const own = model.stateDict();
  const entries = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const w of weights) {
    const t = own.get(w.name);
    if (!t) throw new Error(`The pretrained weight "${w.name}" belongs to no layer of this model (its layers' weights are ${[...own.keys()].slice(0, 8).join(', ')}${own.size > 8 ? ', ...' : ''})`);
    if (t.shape.join() !== w.shape.join()) {
      throw new Error(`The pretrained weight "${w.name}" is [${w.shape.join(', ')}], the model's layer needs [${t.shape.join(', ')}]: the layer's settings changed since it was imported; import it again or start it from random values`);
    }
    entries.set(w.name, { shape: w.shape, values: Float32Array.from(w.values) });
  }
  model.loadStateDict(entries, false);
  return [...entries.keys()];
}
