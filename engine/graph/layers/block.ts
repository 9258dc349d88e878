/**
 * Composite blocks: a node holding a subgraph with exposed ports. Inference and the module
 * come from the inner graph; inner weights are named `<blockId>.<innerId>.<param>`.
 */
import type { Tensor } from '../../core/tensor.ts';
import { inputPorts, outputPorts } from '../catalogue.ts';
import { GraphModel } from '../compile.ts';
import { type ExternalInputs, inferGraph } from '../infer.ts';
import type { BlockGraph, GraphNode, InferContext, LayerDef, PortSpec, ValueType } from '../types.ts';
import { ShapeError } from '../types.ts';
import { port } from './util.ts';

function subgraphOf(node: GraphNode | undefined): BlockGraph {
  if (!node?.subgraph) throw new ShapeError('this block has no inner graph');
  return node.subgraph;
}

function innerPort(sub: BlockGraph, nodeId: string, name: string, side: 'in' | 'out'): PortSpec | undefined {
  const inner = sub.nodes.find((n) => n.id === nodeId);
  if (!inner) return undefined;
  try {
    return (side === 'in' ? inputPorts(inner) : outputPorts(inner)).find((p) => p.name === name);
  } catch {
    return undefined;
  }
}

/** One exposed input per distinct name (an input may feed several inner ports). */
function exposedInputs(node: GraphNode | undefined): BlockGraph['inputs'] {
  const seen = new Set<string>();
  return (node?.subgraph?.inputs ?? []).filter((p) => !seen.has(p.name) && seen.add(p.name));
}

function external(ctx: InferContext): ExternalInputs {
  const sub = subgraphOf(ctx.node);
  const map = new Map<string, { type: ValueType | undefined; source: string }>();
  const names = exposedInputs(ctx.node).map((p) => p.name);
  for (const p of sub.inputs) {
    const i = names.indexOf(p.name);
    map.set(`${p.node}:${p.port}`, { type: ctx.inputs[i], source: ctx.sources?.[i] ?? `block input ${p.name}` });
  }
  return map;
}

function analyse(ctx: InferContext) {
  const sub = subgraphOf(ctx.node);
  const a = inferGraph(sub, external(ctx));
  if (!a.valid) throw new ShapeError(`inside the block: ${a.problems[0].message}${a.problems.length > 1 ? ` (and ${a.problems.length - 1} more)` : ''}`);
  return { sub, a };
}

export const blockLayer: LayerDef = {
  type: 'Block',
  category: 'Blocks',
  displayName: 'Block',
  description: 'A group of layers shown as one node, such as a residual or inception block; open it to see the layers inside.',
  inputs: (_p, node) =>
    exposedInputs(node).map((p) => {
      const inner = node?.subgraph ? innerPort(node.subgraph, p.node, p.port, 'in') : undefined;
      return port(p.name, inner?.kind ?? 'tensor', { ...(inner?.accepts ? { accepts: inner.accepts } : {}), ...(inner?.optional ? { optional: true } : {}) });
    }),
  outputs: (_p, node) =>
    (node?.subgraph?.outputs ?? []).map((p) => port(p.name, (node?.subgraph && innerPort(node.subgraph, p.node, p.port, 'out')?.kind) || 'tensor')),
  params: {},
  infer(ctx) {
    const { sub, a } = analyse(ctx);
    return sub.outputs.map((o) => {
      const inner = sub.nodes.find((n) => n.id === o.node)!;
      const i = outputPorts(inner).findIndex((p) => p.name === o.port);
      const t = a.nodes[o.node]?.outputs[i];
      if (!t) throw new ShapeError(`block output "${o.name}" refers to ${o.node}:${o.port}, which has no value`);
      return t;
    });
  },
  paramCount: (ctx) => analyse(ctx).a.totals.params,
  flops: (ctx) => analyse(ctx).a.totals.flops,
  build(ctx) {
    const sub = subgraphOf(ctx.node);
    const ext = external(ctx);
    const model = new GraphModel(sub, { generator: ctx.generator, external: ext });
    const outIdx = sub.outputs.map((o) => ({ node: o.node, index: outputPorts(sub.nodes.find((n) => n.id === o.node)!).findIndex((p) => p.name === o.port) }));
    return {
      module: model,
      run(xs, state) {
        const values = new Map<string, Tensor>();
        const names = exposedInputs(ctx.node).map((p) => p.name);
        for (const p of sub.inputs) {
          const x = xs[names.indexOf(p.name)];
          if (x) values.set(`${p.node}:${p.port}`, x);
        }
        const r = model.execute({}, values, { ...state, capture: true });
        return outIdx.map(({ node, index }) => r.activations![node][index]);
      },
    };
  },
  inspect: ['activations'],
};
