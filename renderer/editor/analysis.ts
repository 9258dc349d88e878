/** What the canvas, inspector and problems list show about a graph, from shape inference. */
import type { ValueType } from '../../engine/graph/types.ts';

export interface NodeInfo {
  /** One type per output port; undefined where it cannot be inferred (an input is missing or wrong). */
  outputs: (ValueType | undefined)[];
  paramCount: number;
  flops: number;
  /** Messages that explain what is wrong with this node. */
  errors: string[];
}

export interface Problem {
  message: string;
  nodeId?: string;
  edgeId?: string;
}

export interface GraphAnalysis {
  nodes: Map<string, NodeInfo>;
  /** The value each edge carries, by edge id. */
  edges: Map<string, ValueType | undefined>;
  /** Edges whose value the target cannot take, with the reason. */
  edgeErrors: Map<string, string>;
  totals: {
    params: number;
    /** Parameters outside frozen layers. */
    trainableParams: number;
    /** Per sample, forward pass. */
    flops: number;
    /** float32 weights. */
    weightBytes: number;
    /** float32 outputs of every layer for one sample (what training keeps for the backward pass). */
    activationBytes: number;
  };
  problems: Problem[];
}
