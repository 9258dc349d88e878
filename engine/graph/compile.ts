/**
 * The compiler: a valid graph becomes a runnable model. Each node's module is registered
 * under the node id, so state_dict names are `<nodeId>.<param>` (e.g. `conv1.weight`) and
 * stay stable across save and load. The forward pass walks the DAG in topological order.
 */
import { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import { shapeStr } from '../core/shape.ts';
import { add, mul } from '../ops/elementwise.ts';
import { Module } from '../nn/module.ts';
import { getLayer, inputPorts, outputPorts, resolvedParams } from './catalogue.ts';
import { type ExternalInputs, inferGraph, nodeTitle } from './infer.ts';
import { attachGraph, type GraphStructure, hasGraph, graphOf } from './layers/graph-value.ts';
import type { BuiltLayer, GraphAnalysis, GraphEdge, GraphNode, ModelGraph, PortSpec, ValueType } from './types.ts';

/** A batch of graphs fed to a Graph input: node features plus structure. */
export interface GraphFeed extends GraphStructure {
  /** [num_nodes, F] */
  x: Tensor;
}
export type Feed = Tensor | GraphFeed;

export interface CompileOptions {
  /** Seeds weight initialisation and, unless run() is given one, dropout and sampling. */
  seed?: number;
  generator?: Generator;
}

export interface RunOptions {
  training?: boolean;
  /** Keep every node's outputs in `activations` (for inspection). */
  capture?: boolean;
  generator?: Generator;
}

export interface LossValue {
  nodeId: string;
  value: Tensor;
  weight: number;
}

export interface RunResult {
  /** Outputs of the model's output nodes (sinks, and what feeds a loss's prediction). */
  outputs: Record<string, Tensor[]>;
  losses: LossValue[];
  /** Sum of weight x value over the losses that could be computed; null without losses. */
  totalLoss: Tensor | null;
  /** Every computed node's outputs, when `capture` is set. */
  activations?: Record<string, Tensor[]>;
}

export interface ParamGroup {
  /** Multiplier on the optimiser's learning rate for these parameters. */
  lrScale: number;
  nodeIds: string[];
  params: Tensor[];
}

export class GraphCompileError extends Error {
  constructor(readonly problems: GraphAnalysis['problems']) {
    super(`The model cannot be built:\n${problems.map((p) => `- ${p.message}`).join('\n')}`);
  }
}

interface Step {
  node: GraphNode;
  built: BuiltLayer;
  ins: PortSpec[];
  outs: PortSpec[];
  /** For each input port: the edge feeding it, or the external key. */
  sources: ({ node: string; output: number } | { external: string } | undefined)[];
  outTypes: (ValueType | undefined)[];
  isInput: boolean;
  isTarget: boolean;
  isLoss: boolean;
}

/** A compiled graph: a Module whose children are the nodes' modules. */
export class GraphModel extends Module {
  readonly analysis: GraphAnalysis;
  readonly inputIds: string[];
  readonly targetIds: string[];
  readonly lossIds: string[];
  readonly outputIds: string[];
  private readonly steps: Step[];
  private readonly generator: Generator;

  constructor(
    readonly graph: ModelGraph,
    opts: CompileOptions & { external?: ExternalInputs; externalKeys?: Map<string, string> } = {},
  ) {
    super();
    this.generator = opts.generator ?? new Generator(opts.seed ?? 0);
    this.analysis = inferGraph(graph, opts.external);
    if (!this.analysis.valid) throw new GraphCompileError(this.analysis.problems);
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const fed = new Map<string, GraphEdge>();
    for (const e of graph.edges) fed.set(`${e.target}:${e.targetPort}`, e);
    this.steps = this.analysis.order.map((id) => {
      const node = byId.get(id)!;
      const def = getLayer(node.type);
      const ins = inputPorts(node);
      const outs = outputPorts(node);
      const info = this.analysis.nodes[id];
      const sources = ins.map((p) => {
        const key = `${id}:${p.name}`;
        const e = fed.get(key);
        if (e) return { node: e.source, output: outputPorts(byId.get(e.source)!).findIndex((o) => o.name === e.sourcePort) };
        return opts.external?.has(key) ? { external: key } : undefined;
      });
      const built = def.build({ inputs: info.inputs, params: resolvedParams(node), node, generator: this.generator, sources: [] });
      if (built.module) {
        this.registerModule(id, built.module);
        if (node.frozen) built.module.requiresGrad_(false);
      }
      return { node, built, ins, outs, sources, outTypes: info.outputs, isInput: !!def.isInput, isTarget: !!def.isTarget, isLoss: !!def.isLoss };
    });
    this.inputIds = this.steps.filter((s) => s.isInput && !s.isTarget).map((s) => s.node.id);
    this.targetIds = this.steps.filter((s) => s.isTarget).map((s) => s.node.id);
    this.lossIds = this.steps.filter((s) => s.isLoss).map((s) => s.node.id);
    const consumed = new Set(graph.edges.map((e) => e.source));
    const lossById = new Set(this.lossIds);
    const predictionSources = new Set(graph.edges.filter((e) => lossById.has(e.target) && e.targetPort === getLayer(byId.get(e.target)!.type).inputs({})[0]?.name).map((e) => e.source));
    this.outputIds = this.steps
      .filter((s) => !s.isLoss && !s.isInput && (!consumed.has(s.node.id) || predictionSources.has(s.node.id)))
      .map((s) => s.node.id);
  }

  /** The module built for a node, or null for parameter-free layers. */
  nodeModule(id: string): Module | null {
    return this.steps.find((s) => s.node.id === id)?.built.module ?? null;
  }

  /** Trainable parameters grouped by learning-rate scale; frozen nodes are left out. */
  paramGroups(): ParamGroup[] {
    const groups = new Map<number, ParamGroup>();
    for (const s of this.steps) {
      const m = s.built.module;
      if (!m || s.node.frozen) continue;
      const params = m.parameters().filter((p) => p.requiresGrad);
      if (!params.length) continue;
      const scale = s.node.lrScale ?? 1;
      let g = groups.get(scale);
      if (!g) groups.set(scale, (g = { lrScale: scale, nodeIds: [], params: [] }));
      g.nodeIds.push(s.node.id);
      g.params.push(...params);
    }
    return [...groups.values()];
  }

  /**
   * Runs the graph. Inputs without a feed are an error; Target nodes may be left out, and
   * then the losses that need them are skipped (inference).
   */
  run(feeds: Record<string, Feed>, opts: RunOptions = {}): RunResult {
    return this.execute(feeds, new Map(), opts);
  }

  /** Runs with values for exposed inner ports (composite blocks). */
  execute(feeds: Record<string, Feed>, external: ReadonlyMap<string, Tensor>, opts: RunOptions = {}): RunResult {
    const training = opts.training ?? this.training;
    if (training !== this.training) this.train(training);
    const state = { training, generator: opts.generator ?? this.generator };
    const values = new Map<string, Tensor[]>();
    const activations: Record<string, Tensor[]> = {};
    for (const id of Object.keys(feeds)) {
      if (!this.steps.some((s) => s.node.id === id && s.isInput)) {
        throw new Error(`run: "${id}" is not an input node of this model; its inputs are ${[...this.inputIds, ...this.targetIds].join(', ') || 'none'}`);
      }
    }
    for (const s of this.steps) {
      const id = s.node.id;
      let outs: Tensor[] | null;
      if (s.isInput) {
        const feed = feeds[id];
        if (!feed) {
          if (s.isTarget) continue;
          throw new Error(`run: no data for input ${nodeTitle(s.node)}`);
        }
        outs = [this.checkFeed(s, feed)];
      } else {
        const ins: Tensor[] = [];
        let missing = false;
        s.sources.forEach((src, i) => {
          if (!src) return;
          const v = 'external' in src ? external.get(src.external) : values.get(src.node)?.[src.output];
          if (v) ins[i] = v;
          else if (!s.ins[i].optional) missing = true;
        });
        if (missing) continue;
        // Port order is kept: an unconnected optional port stays undefined.
        outs = s.built.run(Array.from({ length: s.ins.length }, (_, i) => ins[i]), state);
        const graphIn = ins.find((x) => x && hasGraph(x));
        if (graphIn) s.outTypes.forEach((t, i) => t?.kind === 'graph' && outs![i] && !hasGraph(outs![i]) && attachGraph(outs![i], graphOf(graphIn, id)));
      }
      values.set(id, outs);
      if (opts.capture) activations[id] = outs;
    }
    const outputs: Record<string, Tensor[]> = {};
    for (const id of this.outputIds) {
      const v = values.get(id);
      if (v) outputs[id] = v;
    }
    const losses: LossValue[] = [];
    let totalLoss: Tensor | null = null;
    for (const id of this.lossIds) {
      const v = values.get(id);
      if (!v) continue;
      const node = this.steps.find((s) => s.node.id === id)!.node;
      const weight = Number(resolvedParams(node).weight ?? 1);
      losses.push({ nodeId: id, value: v[0], weight });
      const term = weight === 1 ? v[0] : mul(v[0], weight);
      totalLoss = totalLoss ? add(totalLoss, term) : term;
    }
    return { outputs, losses, totalLoss, ...(opts.capture ? { activations } : {}) };
  }

  /** Module's single-tensor call: inputs in `inputIds` order; the total loss if any, else the first output. */
  forward(...xs: Tensor[]): Tensor {
    const feeds: Record<string, Tensor> = {};
    [...this.inputIds, ...this.targetIds].forEach((id, i) => {
      if (xs[i]) feeds[id] = xs[i];
    });
    const r = this.run(feeds);
    if (r.totalLoss) return r.totalLoss;
    const first = this.outputIds.find((id) => r.outputs[id]);
    if (!first) throw new Error('forward: the model produced no output');
    return r.outputs[first][0];
  }

  private checkFeed(s: Step, feed: Feed): Tensor {
    const t = s.outTypes[0]!;
    const isGraphFeed = !('shape' in feed && 'dtype' in feed && !('x' in feed));
    if (t.kind === 'graph') {
      if (!isGraphFeed) throw new Error(`run: ${nodeTitle(s.node)} needs a batch of graphs ({ x, edgeIndex, batch, numGraphs })`);
      const g = feed as GraphFeed;
      if (g.x.rank !== 2 || g.x.shape[1] !== t.shape[1]) throw new Error(`run: ${nodeTitle(s.node)} expects node features [nodes, ${t.shape[1]}], got ${shapeStr(g.x.shape)}`);
      return attachGraph(g.x, g);
    }
    if (isGraphFeed) throw new Error(`run: ${nodeTitle(s.node)} takes a tensor, got a graph batch`);
    const x = feed as Tensor;
    const want = t.shape;
    const ok = x.rank === want.length + 1 && want.every((d, i) => d === x.shape[i + 1]);
    if (!ok) throw new Error(`run: ${nodeTitle(s.node)} expects a batch of shape [N, ${want.join(', ')}], got ${shapeStr(x.shape)}`);
    if (x.dtype !== t.dtype) throw new Error(`run: ${nodeTitle(s.node)} expects ${t.dtype} values, got ${x.dtype}`);
    return x;
  }
}

/** Compiles a graph; throws GraphCompileError listing every problem when it is not valid. */
export function compileGraph(graph: ModelGraph, opts: CompileOptions = {}): GraphModel {
  return new GraphModel(graph, opts);
}
