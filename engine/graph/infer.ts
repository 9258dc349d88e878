/**
 * Shape inference and validation over a whole graph: every edge gets its value type, every
 * node its parameter count, FLOPs and messages a student can act on. Runs on every edit.
 */
import { getLayer, hasLayer, inputPorts, outputPorts, resolvedParams, validateParams } from './catalogue.ts';
import { fmt, kindName } from './layers/util.ts';
import type { GraphAnalysis, GraphEdge, GraphNode, GraphProblem, ModelGraph, NodeAnalysis, PortSpec, ValueType } from './types.ts';

/** What the student sees: label if set, else id. */
export function displayName(node: GraphNode): string {
  return node.label?.trim() || node.id;
}

/** "conv2 (Conv2d)" */
export function nodeTitle(node: GraphNode): string {
  return `${displayName(node)} (${node.type})`;
}

export function accepts(port: PortSpec, kind: ValueType['kind']): boolean {
  return port.kind === kind || (port.accepts?.includes(kind) ?? false);
}

/** Types fed into a graph from outside, by "<nodeId>:<port>" (composite blocks). */
export type ExternalInputs = ReadonlyMap<string, { type: ValueType | undefined; source: string }>;

interface Indexed {
  byId: Map<string, GraphNode>;
  incoming: Map<string, GraphEdge[]>;
  outgoing: Map<string, GraphEdge[]>;
}

function index(graph: ModelGraph): Indexed {
  const byId = new Map<string, GraphNode>();
  const incoming = new Map<string, GraphEdge[]>();
  const outgoing = new Map<string, GraphEdge[]>();
  for (const n of graph.nodes) {
    byId.set(n.id, n);
    incoming.set(n.id, []);
    outgoing.set(n.id, []);
  }
  for (const e of graph.edges) {
    incoming.get(e.target)?.push(e);
    outgoing.get(e.source)?.push(e);
  }
  return { byId, incoming, outgoing };
}

/** Kahn's algorithm; returns the order and the nodes left on cycles. */
export function topoOrder(graph: ModelGraph): { order: string[]; cyclic: string[] } {
  const { byId, outgoing } = index(graph);
  const indeg = new Map<string, number>();
  for (const n of graph.nodes) indeg.set(n.id, 0);
  for (const e of graph.edges) if (byId.has(e.source) && byId.has(e.target)) indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
  const queue = graph.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    order.push(id);
    for (const e of outgoing.get(id) ?? []) {
      if (!byId.has(e.target)) continue;
      const d = (indeg.get(e.target) ?? 0) - 1;
      indeg.set(e.target, d);
      if (d === 0) queue.push(e.target);
    }
  }
  const done = new Set(order);
  return { order, cyclic: graph.nodes.filter((n) => !done.has(n.id)).map((n) => n.id) };
}

function emptyNode(): NodeAnalysis {
  return { inputs: [], outputs: [], paramCount: 0, flops: 0, errors: [] };
}

/**
 * Infers every value type in the graph and collects every problem. Never throws on a bad
 * graph: unknown layers, bad params, cycles and dangling edges become messages.
 */
export function inferGraph(graph: ModelGraph, external?: ExternalInputs): GraphAnalysis {
  const problems: GraphProblem[] = [];
  const nodes: Record<string, NodeAnalysis> = {};
  const edges: Record<string, ValueType | undefined> = {};
  const { byId, outgoing } = index(graph);
  const ports = new Map<string, { ins: PortSpec[]; outs: PortSpec[] }>();
  const nodeProblem = (node: GraphNode, message: string) => {
    nodes[node.id].errors.push(message);
    problems.push({ nodeId: node.id, message: `${nodeTitle(node)}: ${message}` });
  };

  const seen = new Set<string>();
  for (const n of graph.nodes) {
    nodes[n.id] = emptyNode();
    if (seen.has(n.id)) problems.push({ nodeId: n.id, message: `two nodes share the id "${n.id}"; ids must be unique` });
    seen.add(n.id);
    if (!hasLayer(n.type)) {
      nodeProblem(n, `unknown layer type "${n.type}"`);
      continue;
    }
    if (n.id.includes('.') || n.id === '') nodeProblem(n, `the id "${n.id}" cannot be empty or contain "." (it names the node's weights)`);
    try {
      ports.set(n.id, { ins: inputPorts(n), outs: outputPorts(n) });
    } catch (err) {
      nodeProblem(n, (err as Error).message);
    }
  }

  // Edges: endpoints, ports, kinds, one edge per input port.
  const fed = new Map<string, GraphEdge>();
  const goodEdges = new Set<string>();
  for (const e of graph.edges) {
    const s = byId.get(e.source);
    const t = byId.get(e.target);
    if (!s || !t) {
      problems.push({ edgeId: e.id, message: `connection ${e.id} refers to a missing node "${!s ? e.source : e.target}"` });
      continue;
    }
    const sp = ports.get(s.id);
    const tp = ports.get(t.id);
    if (!sp || !tp) continue;
    if (!sp.outs.some((p) => p.name === e.sourcePort)) {
      problems.push({ edgeId: e.id, nodeId: s.id, message: `${nodeTitle(s)} has no output "${e.sourcePort}" (it has ${sp.outs.map((p) => p.name).join(', ') || 'none'})` });
      continue;
    }
    if (!tp.ins.some((p) => p.name === e.targetPort)) {
      problems.push({ edgeId: e.id, nodeId: t.id, message: `${nodeTitle(t)} has no input "${e.targetPort}" (it has ${tp.ins.map((p) => p.name).join(', ') || 'none'})` });
      continue;
    }
    const key = `${e.target}:${e.targetPort}`;
    const prev = fed.get(key);
    if (prev) {
      problems.push({ edgeId: e.id, nodeId: t.id, message: `${nodeTitle(t)}: input "${e.targetPort}" is connected twice (from ${prev.source} and ${e.source}); use an Add or Concat node to merge them` });
      continue;
    }
    fed.set(key, e);
    goodEdges.add(e.id);
  }

  const { order, cyclic } = topoOrder(graph);
  if (cyclic.length) {
    const names = cyclic.map((id) => nodeTitle(byId.get(id)!)).join(', ');
    for (const id of cyclic) {
      nodes[id].errors.push(`is part of a cycle (${names}); a network must flow one way, so remove one of these connections`);
      problems.push({ nodeId: id, message: `${nodeTitle(byId.get(id)!)}: is part of a cycle (${names}); remove one of these connections` });
    }
  }

  for (const id of order) {
    const node = byId.get(id)!;
    const p = ports.get(id);
    const info = nodes[id];
    if (!p) continue;
    const def = getLayer(node.type);
    const paramErrors = validateParams(node);
    for (const m of paramErrors) nodeProblem(node, m);
    let blocked = paramErrors.length > 0;
    const ins: (ValueType | undefined)[] = [];
    const sources: (string | undefined)[] = [];
    for (const port of p.ins) {
      const e = fed.get(`${id}:${port.name}`);
      const ext = external?.get(`${id}:${port.name}`);
      if (!e && !ext) {
        ins.push(undefined);
        sources.push(undefined);
        if (!port.optional) {
          nodeProblem(node, `input "${port.label ?? port.name}" is not connected`);
          blocked = true;
        }
        continue;
      }
      const src = e ? byId.get(e.source)! : undefined;
      const t = e ? edges[e.id] : ext!.type;
      const srcName = src ? displayName(src) : ext!.source;
      ins.push(t);
      sources.push(srcName);
      if (!t) {
        blocked = true; // upstream problem, already reported there
        continue;
      }
      if (!accepts(port, t.kind)) {
        nodeProblem(node, `input "${port.name}" takes ${[port.kind, ...(port.accepts ?? [])].map(kindName).join(' or ')}, but ${srcName} gives ${kindName(t.kind)} (shape ${fmt(t.shape)})`);
        blocked = true;
      }
    }
    info.inputs = ins;
    if (blocked) {
      info.outputs = p.outs.map(() => undefined);
      continue;
    }
    const ctx = { inputs: ins, params: resolvedParams(node), sources, node };
    try {
      info.outputs = def.infer(ctx);
      info.paramCount = def.paramCount(ctx);
      info.flops = def.flops(ctx);
    } catch (err) {
      info.outputs = p.outs.map(() => undefined);
      info.paramCount = 0;
      info.flops = 0;
      nodeProblem(node, (err as Error).message);
      continue;
    }
    for (const e of outgoing.get(id) ?? []) {
      if (!goodEdges.has(e.id)) continue;
      const i = p.outs.findIndex((o) => o.name === e.sourcePort);
      edges[e.id] = info.outputs[i];
    }
  }

  let params = 0;
  let trainableParams = 0;
  let flops = 0;
  let activationMemoryBytes = 0;
  for (const n of graph.nodes) {
    const a = nodes[n.id];
    params += a.paramCount;
    if (!n.frozen) trainableParams += a.paramCount;
    flops += a.flops;
    for (const o of a.outputs) if (o) activationMemoryBytes += 4 * o.shape.reduce((k, d) => k * (d < 0 ? 1 : d), 1);
  }
  return { edges, nodes, totals: { params, trainableParams, flops, activationMemoryBytes }, problems, order, valid: problems.length === 0 };
}

export type ConnectResult = { ok: true } | { ok: false; reason: string };

/**
 * Whether `edge` may be added: both ports exist, the target port is free, the value kinds
 * fit, and no cycle forms. Shape problems are left to inference (they may be fixed later).
 */
export function canConnect(graph: ModelGraph, edge: Omit<GraphEdge, 'id'> & { id?: string }, analysis?: GraphAnalysis): ConnectResult {
  const s = graph.nodes.find((n) => n.id === edge.source);
  const t = graph.nodes.find((n) => n.id === edge.target);
  if (!s || !t) return { ok: false, reason: `there is no node "${!s ? edge.source : edge.target}"` };
  if (s.id === t.id) return { ok: false, reason: `${nodeTitle(s)} cannot feed itself` };
  if (!hasLayer(s.type) || !hasLayer(t.type)) return { ok: false, reason: `unknown layer type "${!hasLayer(s.type) ? s.type : t.type}"` };
  let outs: PortSpec[];
  let ins: PortSpec[];
  try {
    outs = outputPorts(s);
    ins = inputPorts(t);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const op = outs.findIndex((p) => p.name === edge.sourcePort);
  const ip = ins.find((p) => p.name === edge.targetPort);
  if (op < 0) return { ok: false, reason: `${nodeTitle(s)} has no output "${edge.sourcePort}"` };
  if (!ip) return { ok: false, reason: `${nodeTitle(t)} has no input "${edge.targetPort}"` };
  const taken = graph.edges.find((e) => e.target === t.id && e.targetPort === ip.name);
  if (taken) return { ok: false, reason: `input "${ip.name}" of ${nodeTitle(t)} is already connected to ${taken.source}; remove that connection first or merge with Add/Concat` };
  const known = analysis?.nodes[s.id]?.outputs[op];
  const kind = known?.kind ?? outs[op].kind;
  if (!accepts(ip, kind)) {
    return { ok: false, reason: `${nodeTitle(t)} input "${ip.name}" takes ${[ip.kind, ...(ip.accepts ?? [])].map(kindName).join(' or ')}, but ${nodeTitle(s)} gives ${kindName(kind)}` };
  }
  // A path target -> ... -> source would close a cycle.
  const next = new Map<string, string[]>();
  for (const e of graph.edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const stack = [t.id];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === s.id) return { ok: false, reason: `connecting ${displayName(s)} to ${displayName(t)} would make a cycle; a network must flow one way` };
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return { ok: true };
}
