/**
 * ONNX export (opset 17) of a compiled model with its trained weights. The exported
 * graph is the inference part of the model: the input nodes, and every node that leads to
 * one of the model's outputs; targets and losses are left out. Inputs and outputs are
 * named by node id and carry a symbolic batch dimension "N".
 */
import { getLayer, hasLayer, inputPorts, outputPorts, resolvedParams } from '../../graph/catalogue.ts';
import type { GraphModel } from '../../graph/compile.ts';
import { inferGraph } from '../../graph/infer.ts';
import type { ModelGraph, ValueType } from '../../graph/types.ts';
import { type EmitContext, type OnnxBuilder, OnnxExportError, onnxLayers, onnxNodeProblem, type OnnxWeight, unsupportedReasons } from './layers.ts';
import { type AttrValue, DataType, encodeModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.ts';

export { OnnxExportError };

export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17. */
export const ONNX_IR_VERSION = 8;

export interface OnnxExportOptions {
  name?: string;
  producerVersion?: string;
}

export interface OnnxExportResult {
  bytes: Uint8Array;
  /** ONNX input names (the input node ids) with their per-sample types. */
  inputs: { name: string; type: ValueType }[];
  /** ONNX output names with their per-sample types. */
  outputs: { name: string; nodeId: string; port: number; type: ValueType }[];
}

/** Layer types the exporter can write. */
export function onnxSupportedTypes(): string[] {
  return Object.keys(onnxLayers);
}

/** The node ids the inference graph needs, in topological order. */
function inferenceNodes(model: GraphModel): string[] {
  const needed = new Set<string>();
  const stack = [...model.outputIds];
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    for (const e of model.graph.edges) if (e.target === id) stack.push(e.source);
  }
  return model.analysis.order.filter((id) => needed.has(id));
}

/**
 * The layers of a graph that ONNX export cannot write, one message each ("id (type): why").
 * Without `nodeIds`, every layer except targets and losses is checked.
 */
export function onnxProblems(graph: ModelGraph, nodeIds?: string[]): string[] {
  const analysis = inferGraph(graph);
  const problems: string[] = [];
  for (const node of graph.nodes) {
    if (nodeIds && !nodeIds.includes(node.id)) continue;
    if (!hasLayer(node.type)) {
      problems.push(`${node.id} (${node.type}): unknown layer type`);
      continue;
    }
    const def = getLayer(node.type);
    if (def.isTarget || def.isLoss) continue;
    if (def.isInput) {
      if (analysis.nodes[node.id]?.outputs[0]?.kind === 'graph') problems.push(`${node.id} (${node.type}): a batch of graphs has no ONNX tensor form`);
      continue;
    }
    if (!onnxLayers[node.type]) problems.push(`${node.id} (${node.type}): ${unsupportedReasons[node.type] ?? 'no ONNX form is defined for this layer type'}`);
    else {
      const why = onnxNodeProblem(node);
      if (why) problems.push(`${node.id} (${node.type}): ${why}`);
    }
  }
  return problems;
}

export function exportOnnx(model: GraphModel, options: OnnxExportOptions = {}): OnnxExportResult {
  const byId = new Map(model.graph.nodes.map((n) => [n.id, n]));
  const order = inferenceNodes(model);
  if (!model.outputIds.length) throw new OnnxExportError('The model has no output to export (every layer feeds a loss or nothing)');

  const problems = onnxProblems(model.graph, order);
  if (problems.length) {
    throw new OnnxExportError(`ONNX export cannot express ${problems.length === 1 ? 'this layer' : 'these layers'}:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }

  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const used = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const builderFor = (prefix: string): OnnxBuilder => ({
    op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
      const name = unique(`${prefix}/${opType}`);
      const outs = Array.from({ length: outputs }, (_, i) => unique(`${name}${outputs > 1 ? `:${i}` : ''}:out`));
      nodes.push({ opType, name, inputs, outputs: outs, attrs });
      return outs;
    },
    floats(hint: string, dims: number[], values: ArrayLike<number>): string {
      const name = unique(`${prefix}.${hint}`);
      const data = Float32Array.from(values);
      initializers.push({ name, dims, dataType: DataType.FLOAT, raw: new Uint8Array(data.buffer) });
      return name;
    },
    int64s(hint: string, dims: number[], values: readonly number[]): string {
      const name = unique(`${prefix}.${hint}`);
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      initializers.push({ name, dims, dataType: DataType.INT64, raw: new Uint8Array(data.buffer) });
      return name;
    },
  });

  const values = new Map<string, string>(); // "<node>:<output index>" -> ONNX value name
  const inputs: OnnxValueInfo[] = [];
  const inputTypes: OnnxExportResult['inputs'] = [];
  for (const id of order) {
    const node = byId.get(id)!;
    const def = getLayer(node.type);
    const info = model.analysis.nodes[id]!;
    if (def.isInput) {
      const t = info.outputs[0]!;
      const name = unique(id);
      inputs.push({ name, elemType: t.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT, dims: ['N', ...t.shape] });
      inputTypes.push({ name, type: t });
      values.set(`${id}:0`, name);
      continue;
    }
    const ports = inputPorts(node);
    const ins = ports.map((p) => {
      const e = model.graph.edges.find((edge) => edge.target === id && edge.targetPort === p.name);
      if (!e) return '';
      const srcIndex = outputPorts(byId.get(e.source)!).findIndex((o) => o.name === e.sourcePort);
      return values.get(`${e.source}:${srcIndex}`) ?? '';
    });
    const state = model.nodeModule(id)?.stateDict();
    const ctx: EmitContext = {
      node,
      params: resolvedParams(node),
      inputs: ins,
      inputTypes: info.inputs,
      outputTypes: info.outputs,
      weight(name: string): OnnxWeight | undefined {
        const t = state?.get(name);
        if (!t) return undefined;
        return { shape: [...t.shape], values: Float32Array.from(t.dataSync() as ArrayLike<number>) };
      },
      b: builderFor(id),
    };
    const outs = onnxLayers[node.type]!(ctx);
    outs.forEach((name, i) => values.set(`${id}:${i}`, name));
  }

  // Outputs: every port of every model output node that was produced, named by node id.
  const outputs: OnnxValueInfo[] = [];
  const outputTypes: OnnxExportResult['outputs'] = [];
  for (const id of model.outputIds) {
    const node = byId.get(id)!;
    const ports = outputPorts(node);
    ports.forEach((port, i) => {
      const value = values.get(`${id}:${i}`);
      const t = model.analysis.nodes[id]!.outputs[i];
      if (!value || !t) return;
      const name = unique(ports.length === 1 ? id : `${id}.${port.name}`);
      nodes.push({ opType: 'Identity', name: unique(`${id}/output${i}`), inputs: [value], outputs: [name], attrs: {} });
      outputs.push({ name, elemType: t.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT, dims: ['N', ...t.shape] });
      outputTypes.push({ name, nodeId: id, port: i, type: t });
    });
  }

  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'APS Studio',
    producerVersion: options.producerVersion ?? '',
    graphName: options.name ?? 'model',
    nodes,
    initializers,
    inputs,
    outputs,
  });
  return { bytes, inputs: inputTypes, outputs: outputTypes };
}
