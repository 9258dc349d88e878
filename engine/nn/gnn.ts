/**
 * Graph neural network layers with PyTorch Geometric's names, layouts and conventions
 * (edge_index int32 [2, E], row 0 = source, row 1 = target; see engine/ops/graph.ts), a
 * readout module and a DeepSets block.
 */
import { fromValues } from '../core/engine.ts';
import type { Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { leakyRelu } from '../ops/activation.ts';
import { zeros } from '../ops/creation.ts';
import { dropout } from '../ops/dropout.ts';
import { add, mul, where } from '../ops/elementwise.ts';
import { addSelfLoops, type Aggregation, edgeEnds, gcnNorm, globalAddPool, globalMaxPool, globalMeanPool, propagate, scatter, scatterSoftmax, selfLoopMask } from '../ops/graph.ts';
import { cat, indexSelect, reshape, unsqueeze } from '../ops/layout.ts';
import { max, mean, sum } from '../ops/reduce.ts';
import { xavierUniform } from './init.ts';
import { Linear } from './linear.ts';
import { Module, parameter } from './module.ts';

function glorotLinear(inF: number, outF: number, gen?: Generator): Linear {
  const lin = new Linear(inF, outF, { bias: false, generator: gen });
  lin.weight.assign(fromValues(xavierUniform([outF, inF], 1, gen), [outF, inF]));
  return lin;
}

function checkNodes(x: Tensor, inChannels: number, layer: string): void {
  if (x.rank !== 2 || x.shape[1] !== inChannels) {
    throw new Error(`${layer}: node features must be [num_nodes, ${inChannels}], got ${shapeStr(x.shape)}`);
  }
}

/**
 * GCNConv (Kipf and Welling): X' = D^-1/2 (A + I) D^-1/2 X W^T + b, with edge weights when
 * given. x [num_nodes, in] -> [num_nodes, out]. Params lin.weight [out, in] (Glorot), bias [out] (zeros).
 */
export class GCNConv extends Module {
  readonly lin: Linear;
  readonly bias: Tensor | null;
  readonly addSelfLoops: boolean;
  readonly normalize: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: { bias?: boolean; addSelfLoops?: boolean; normalize?: boolean; generator?: Generator } = {},
  ) {
    super();
    this.addSelfLoops = opts.addSelfLoops ?? true;
    this.normalize = opts.normalize ?? true;
    this.bias = opts.bias === false ? null : parameter(new Float32Array(outChannels), [outChannels]);
    this.registerParameter('bias', this.bias);
    this.lin = this.registerModule('lin', glorotLinear(inChannels, outChannels, opts.generator));
  }

  forward(x: Tensor, edgeIndex: Tensor, edgeWeight?: Tensor | null): Tensor {
    checkNodes(x, this.inChannels, 'GCNConv');
    const n = x.shape[0];
    const h = this.lin.forward(x);
    let out: Tensor;
    if (this.normalize) {
      const norm = gcnNorm(edgeIndex, n, edgeWeight ?? null, this.addSelfLoops);
      out = propagate(h, norm.edgeIndex, 'sum', norm.weight);
    } else {
      const ei = this.addSelfLoops ? addSelfLoops(edgeIndex, n, edgeWeight ?? null) : { edgeIndex, edgeWeight: edgeWeight ?? null };
      out = propagate(h, ei.edgeIndex, 'sum', ei.edgeWeight);
    }
    return this.bias ? add(out, this.bias) : out;
  }
}

export interface GatResult {
  /** [num_nodes, heads * out] when concatenating, else [num_nodes, out] */
  output: Tensor;
  /** The edges attended over (the input's, then one self-loop per node), int32 [2, E']. */
  edgeIndex: Tensor;
  /** alpha_ij per edge and head [E', heads]; sums to 1 over each node's incoming edges. Existing self-loops get 0. */
  attention: Tensor;
}

/**
 * GATConv (Velickovic et al.): per head, e_ij = LeakyReLU(a_dst . W h_i + a_src . W h_j)
 * for edges j -> i and the self-loop i -> i, alpha = softmax over i's incoming edges, and
 * h'_i = sum_j alpha_ij W h_j; heads are concatenated or averaged, then the bias is added.
 * x [num_nodes, in] -> [num_nodes, heads*out] (concat) or [num_nodes, out].
 * Params lin.weight [heads*out, in], att_src and att_dst [1, heads, out], bias.
 */
export class GATConv extends Module {
  readonly lin: Linear;
  readonly attSrc: Tensor;
  readonly attDst: Tensor;
  readonly bias: Tensor | null;
  readonly heads: number;
  readonly concat: boolean;
  readonly negativeSlope: number;
  readonly dropoutP: number;
  readonly addSelfLoops: boolean;
  private readonly generator: Generator | undefined;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: { heads?: number; concat?: boolean; negativeSlope?: number; dropout?: number; addSelfLoops?: boolean; bias?: boolean; generator?: Generator } = {},
  ) {
    super();
    this.heads = opts.heads ?? 1;
    this.concat = opts.concat ?? true;
    this.negativeSlope = opts.negativeSlope ?? 0.2;
    this.dropoutP = opts.dropout ?? 0;
    this.addSelfLoops = opts.addSelfLoops ?? true;
    this.generator = opts.generator;
    if (!Number.isInteger(this.heads) || this.heads < 1) throw new Error(`GATConv: heads must be a positive integer, got ${this.heads}`);
    const H = this.heads;
    const C = outChannels;
    this.lin = this.registerModule('lin', glorotLinear(inChannels, H * C, opts.generator));
    this.attSrc = parameter(xavierUniform([1, H, C], 1, opts.generator), [1, H, C]);
    this.attDst = parameter(xavierUniform([1, H, C], 1, opts.generator), [1, H, C]);
    this.registerParameter('att_src', this.attSrc);
    this.registerParameter('att_dst', this.attDst);
    const biasSize = this.concat ? H * C : C;
    this.bias = opts.bias === false ? null : parameter(new Float32Array(biasSize), [biasSize]);
    this.registerParameter('bias', this.bias);
  }

  /** The output together with the attention coefficients, for inspection. */
  attend(x: Tensor, edgeIndex: Tensor): GatResult {
    checkNodes(x, this.inChannels, 'GATConv');
    const n = x.shape[0];
    const H = this.heads;
    const C = this.outChannels;
    edgeEnds(edgeIndex, n);
    let ei = edgeIndex;
    // Existing self-loops are dropped (their logits set to -inf) in favour of one fresh loop per node.
    let dropMask: Tensor | null = null;
    if (this.addSelfLoops) {
      dropMask = cat([selfLoopMask(edgeIndex), zeros([n])], 0);
      ei = addSelfLoops(edgeIndex, n).edgeIndex;
    }
    const E = ei.shape[1];
    const { source, target } = edgeEnds(ei);
    const h = reshape(this.lin.forward(x), [n, H, C]);
    const aSrc = sum(mul(h, this.attSrc), -1);
    const aDst = sum(mul(h, this.attDst), -1);
    let logits = leakyRelu(add(indexSelect(aSrc, 0, source), indexSelect(aDst, 0, target)), this.negativeSlope);
    if (dropMask) logits = where(reshape(dropMask, [E, 1]), -Infinity, logits);
    const attention = scatterSoftmax(logits, target, n);
    const alpha = dropout(attention, this.dropoutP, this.training && this.dropoutP > 0, this.generator);
    const messages = mul(indexSelect(h, 0, source), unsqueeze(alpha, 2));
    const agg = scatter(messages, target, n, 'sum');
    let output = this.concat ? reshape(agg, [n, H * C]) : mean(agg, 1);
    if (this.bias) output = add(output, this.bias);
    return { output, edgeIndex: ei, attention };
  }

  forward(x: Tensor, edgeIndex: Tensor): Tensor {
    return this.attend(x, edgeIndex).output;
  }
}

/**
 * Graph readout: pools node features per graph of a batch (global_add/mean/max_pool).
 * x [num_nodes, F], batch int32 [num_nodes] -> [num_graphs, F].
 */
export class GlobalPool extends Module {
  constructor(readonly mode: Aggregation = 'mean') {
    super();
  }

  forward(x: Tensor, batch: Tensor): Tensor {
    return this.pool(x, batch);
  }

  /** As forward, with the number of graphs given (otherwise read from the batch vector). */
  pool(x: Tensor, batch: Tensor, numGraphs?: number): Tensor {
    if (this.mode === 'sum') return globalAddPool(x, batch, numGraphs);
    if (this.mode === 'max') return globalMaxPool(x, batch, numGraphs);
    return globalMeanPool(x, batch, numGraphs);
  }
}

/**
 * DeepSets (Zaheer et al.): rho(pool_{x in set} phi(x)), invariant to the order of the set.
 * `forward` takes equal-size sets x [N, set_size, F]; `forwardBatch` takes sets of any size as
 * elements [M, F] with an int32 set index [M]. phi maps [*, F] -> [*, P], rho [N, P] -> [N, out].
 */
export class DeepSets extends Module {
  readonly phi: Module;
  readonly rho: Module;

  constructor(phi: Module, rho: Module, readonly pool: Aggregation = 'sum') {
    super();
    this.phi = this.registerModule('phi', phi);
    this.rho = this.registerModule('rho', rho);
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 3) throw new Error(`DeepSets: input must be [batch, set_size, features], got ${shapeStr(x.shape)}`);
    const e = this.phi.forward(x);
    const pooled = this.pool === 'sum' ? sum(e, 1) : this.pool === 'mean' ? mean(e, 1) : max(e, 1).values;
    return this.rho.forward(pooled);
  }

  forwardBatch(x: Tensor, setIndex: Tensor, numSets?: number): Tensor {
    const e = this.phi.forward(x);
    const pooled = this.pool === 'sum' ? globalAddPool(e, setIndex, numSets) : this.pool === 'mean' ? globalMeanPool(e, setIndex, numSets) : globalMaxPool(e, setIndex, numSets);
    return this.rho.forward(pooled);
  }
}
