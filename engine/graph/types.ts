/**
 * The model graph as plain, serialisable data, and the contract every layer type in the
 * catalogue fulfils. The editor, the compiler, the trainer and the exporters all read
 * layers through `LayerDef`; nothing outside the catalogue knows about a particular layer.
 */
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';
import type { Module } from '../nn/module.ts';

// ---------------------------------------------------------------------------------------
// Graph data (what `.aps` files store and the editor edits)

export type ParamValue = number | string | boolean | number[];
export type ParamValues = Record<string, ParamValue>;

export interface GraphNode {
  /** Stable identifier, unique in the graph; also the prefix of its state_dict names. */
  id: string;
  /** Layer type id in the catalogue, e.g. "Conv2d". */
  type: string;
  params: ParamValues;
  label?: string;
  /** Excluded from training (transfer learning). */
  frozen?: boolean;
  /** Per-node learning-rate multiplier (fine-tuning). */
  lrScale?: number;
  /**
   * Where the node's weights were imported from (e.g. "digits-autoencoder.aps › enc1"): fresh
   * runs start it from the project's pretrained weights instead of random values.
   */
  pretrained?: string;
  /** For composite blocks: the inner graph, with its exposed ports. */
  subgraph?: BlockGraph;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface ModelGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * A block's inner graph; `inputs`/`outputs` map exposed port names to inner node ports. Several
 * `inputs` entries may share a name: that exposed input then feeds each of those inner ports.
 */
export interface BlockGraph extends ModelGraph {
  inputs: { name: string; node: string; port: string }[];
  outputs: { name: string; node: string; port: string }[];
}

// ---------------------------------------------------------------------------------------
// Values on edges

export type PortKind = 'tensor' | 'sequence' | 'graph';

/**
 * The type of a value on an edge. `shape` is per sample: the batch dimension is symbolic
 * and left out ("N x ..."). Sequences are [time, features] (or [time] for token ids).
 * Graph batches carry node features [nodes, features]; their node count is symbolic (-1).
 */
export interface ValueType {
  kind: PortKind;
  shape: number[];
  dtype: 'float32' | 'int32';
}

// ---------------------------------------------------------------------------------------
// Parameter schema

interface ParamBase {
  label?: string;
  help?: string;
}
export type ParamSpec =
  | (ParamBase & { kind: 'int'; default: number; min?: number; max?: number })
  | (ParamBase & { kind: 'float'; default: number; min?: number; max?: number; step?: number })
  | (ParamBase & { kind: 'bool'; default: boolean })
  | (ParamBase & { kind: 'choice'; default: string; options: readonly string[] })
  /** A list of whole numbers, or one of `keywords` (Conv2d's padding takes 'same' and 'valid'). */
  | (ParamBase & { kind: 'ints'; default: number[]; length?: number; min?: number; keywords?: readonly string[] })
  | (ParamBase & { kind: 'string'; default: string });

export interface PortSpec {
  name: string;
  kind: PortKind;
  /** Other kinds this input also takes (activations take tensors, sequences and graph batches). */
  accepts?: readonly PortKind[];
  optional?: boolean;
  label?: string;
}

export type Category =
  | 'Input'
  | 'Dense'
  | 'Convolution'
  | 'Pooling'
  | 'Normalization'
  | 'Regularization'
  | 'Activation'
  | 'Recurrent'
  | 'Attention'
  | 'Graph'
  | 'Merge'
  | 'Reshape'
  | 'Generative'
  | 'Loss'
  | 'Blocks';

export type Inspectable = 'activations' | 'filters' | 'attention';

/** Thrown by shape inference with a message a student can act on. */
export class ShapeError extends Error {}

export interface InferContext {
  /** Types of the connected inputs, in the order of `inputs(params)`; undefined if unconnected. */
  inputs: (ValueType | undefined)[];
  params: ParamValues;
  /** Display names of the nodes feeding each input (for messages like "add Flatten after pool2"). */
  sources?: (string | undefined)[];
  /** The node itself (composite blocks read their subgraph from it). */
  node?: GraphNode;
}

export interface BuildContext extends InferContext {
  generator: Generator;
}

/** A built layer: a module plus how to call it on the node's input values. */
export interface BuiltLayer {
  module: Module | null;
  /** Runs the layer; returns one tensor per output port. `training` mirrors module.training. */
  run(inputs: Tensor[], state: { training: boolean; generator: Generator }): Tensor[];
}

export interface LayerDef {
  type: string;
  category: Category;
  displayName: string;
  /** One sentence a student understands. */
  description: string;
  /** Input ports; `node` is passed where ports depend on more than params (composite blocks). */
  inputs(params: ParamValues, node?: GraphNode): PortSpec[];
  outputs(params: ParamValues, node?: GraphNode): PortSpec[];
  params: Record<string, ParamSpec>;
  /** Extra cross-field checks; each string is one message. */
  validate?(params: ParamValues): string[];
  /** Output types from input types; throws ShapeError. */
  infer(ctx: InferContext): ValueType[];
  /** Number of trainable parameters for these inputs and params. */
  paramCount(ctx: InferContext): number;
  /** Multiply-accumulates x2 per sample (approximate FLOPs). */
  flops(ctx: InferContext): number;
  build(ctx: BuildContext): BuiltLayer;
  inspect: readonly Inspectable[];
  /** Loss nodes: their scalar outputs are weighted and summed into the training loss. */
  isLoss?: boolean;
  /** Input nodes: fed from the dataset. */
  isInput?: boolean;
  /** Target nodes: fed from the dataset labels (an input node whose value only losses use). */
  isTarget?: boolean;
  /**
   * PyTorch code for the exporter: a constructor expression for layers with a module
   * (`nn.Conv2d(1, 6, kernel_size=5, padding=2)`), or, with `functional: true`, a forward
   * expression over the input names in `ctx.args` (`torch.cat([a, b], dim=1)`).
   */
  torch?(ctx: TorchContext): TorchCode;
}

export interface TorchContext extends InferContext {
  /** Python expressions for the node's inputs, in port order. */
  args: string[];
}

export type TorchCode = { functional: false; module: string } | { functional: true; expr: string };

// ---------------------------------------------------------------------------------------
// Whole-graph analysis (shape inference and validation), produced by `inferGraph`

export interface NodeAnalysis {
  /** Types arriving at each input port, in port order; undefined where unconnected or unknown. */
  inputs: (ValueType | undefined)[];
  /** Types on each output port; undefined where the node could not be inferred. */
  outputs: (ValueType | undefined)[];
  paramCount: number;
  /** FLOPs per sample (graph batches: per graph node). */
  flops: number;
  errors: string[];
}

export interface GraphProblem {
  nodeId?: string;
  edgeId?: string;
  message: string;
}

export interface GraphAnalysis {
  /** Value type carried by each edge, by edge id (absent where unknown). */
  edges: Record<string, ValueType | undefined>;
  nodes: Record<string, NodeAnalysis>;
  totals: { params: number; trainableParams: number; flops: number; activationMemoryBytes: number };
  problems: GraphProblem[];
  /** Node ids in topological order (nodes on a cycle are left out). */
  order: string[];
  /** True when there are no problems. */
  valid: boolean;
}
