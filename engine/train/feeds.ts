/**
 * How batches meet a compiled model: which input node gets the samples and which Target
 * node the labels (with the reshaping and dtype conversions a student would expect), and
 * which output the metrics read.
 */
import { fromValues } from '../core/engine.ts';
import type { Tensor } from '../core/tensor.ts';
import { shapeStr, sizeOf } from '../core/shape.ts';
import type { DatasetMeta } from '../data/dataset.ts';
import type { Batch } from '../data/pipeline.ts';
import { outputPorts } from '../graph/catalogue.ts';
import type { Feed, GraphModel, RunResult } from '../graph/compile.ts';
import type { ValueType } from '../graph/types.ts';
import { cast } from '../ops/elementwise.ts';
import { indexSelect } from '../ops/layout.ts';

/** Ignored by cross-entropy (torch's default ignore_index): node-level graph nodes outside the batch. */
const IGNORE_INDEX = -100;

export type MetricKind = 'classification' | 'regression' | 'none';

export class FeedPlan {
  readonly inputId: string;
  readonly inputType: ValueType;
  readonly targetId: string | null;
  readonly targetType: ValueType | null;
  /** The output the first loss compares with the target (or the model's first output). */
  readonly prediction: { nodeId: string; output: number } | null;
  readonly metricKind: MetricKind;
  readonly numClasses: number;
  /** A single sigmoid/logit output scored as two classes: the decision threshold. */
  readonly binaryThreshold: number | null = null;
  /** The Target takes the input itself (autoencoders). */
  readonly targetIsInput: boolean;

  constructor(
    readonly model: GraphModel,
    readonly meta: DatasetMeta,
  ) {
    if (model.inputIds.length !== 1) {
      throw new Error(`Training needs a model with exactly one data input node; this one has ${model.inputIds.length}${model.inputIds.length ? ` (${model.inputIds.join(', ')})` : ''}`);
    }
    this.inputId = model.inputIds[0];
    this.inputType = model.analysis.nodes[this.inputId].outputs[0]!;
    this.targetId = model.targetIds[0] ?? null;
    this.targetType = this.targetId ? (model.analysis.nodes[this.targetId].outputs[0] ?? null) : null;
    const graph = model.graph;
    const lossId = model.lossIds[0];
    const predEdge = lossId ? graph.edges.find((e) => e.target === lossId && e.targetPort === 'prediction') : undefined;
    if (predEdge) {
      const src = graph.nodes.find((n) => n.id === predEdge.source)!;
      this.prediction = { nodeId: src.id, output: Math.max(0, outputPorts(src).findIndex((p) => p.name === predEdge.sourcePort)) };
    } else {
      this.prediction = model.outputIds.length ? { nodeId: model.outputIds[0], output: 0 } : null;
    }
    const predType = this.prediction ? model.analysis.nodes[this.prediction.nodeId].outputs[this.prediction.output] : undefined;
    const lastDim = predType?.shape[predType.shape.length - 1];
    this.targetIsInput = !!this.targetType && this.targetType.dtype === 'float32' && sizeOf(this.targetType.shape) === sizeOf(meta.inputShape) && sizeOf(meta.targetShape) !== sizeOf(this.targetType.shape);
    this.numClasses = meta.numClasses ?? 0;
    if (this.targetIsInput) this.metricKind = 'regression';
    else if (meta.targetDtype === 'int32' && meta.numClasses !== undefined && lastDim === meta.numClasses) this.metricKind = 'classification';
    else if (meta.targetDtype === 'int32' && meta.numClasses === 2 && lastDim === 1) {
      this.metricKind = 'classification';
      const lossType = graph.nodes.find((n) => n.id === lossId)?.type;
      this.binaryThreshold = lossType === 'BCELoss' ? 0.5 : 0;
    } else if (meta.targetDtype === 'float32' && predType && sizeOf(predType.shape) === sizeOf(meta.targetShape)) this.metricKind = 'regression';
    else this.metricKind = 'none';
    const classTargets = meta.targetDtype === 'int32' && meta.numClasses !== undefined && this.targetType?.dtype === 'int32';
    if (classTargets && lastDim !== undefined && lastDim !== meta.numClasses && this.metricKind !== 'classification') {
      throw new Error(`The dataset "${meta.name}" has ${meta.numClasses} classes; the prediction from "${this.prediction!.nodeId}" gives ${lastDim} scores per sample. Set its output size to ${meta.numClasses}`);
    }
    this.checkShapes();
  }

  private checkShapes(): void {
    const want = this.inputType;
    const meta = this.meta;
    if (meta.task === 'graph') {
      if (want.kind !== 'graph') throw new Error(`The dataset "${meta.name}" holds graphs; the model's input node "${this.inputId}" must be a Graph input`);
      if (want.shape[1] !== meta.inputShape[0]) throw new Error(`The dataset's nodes have ${meta.inputShape[0]} features; the Graph input "${this.inputId}" expects ${want.shape[1]}`);
      return;
    }
    if (sizeOf(want.shape) !== sizeOf(meta.inputShape)) {
      throw new Error(`The dataset "${meta.name}" gives samples of shape ${shapeStr(meta.inputShape)} (${sizeOf(meta.inputShape)} values); the input node "${this.inputId}" expects ${shapeStr(want.shape)} (${sizeOf(want.shape)} values)`);
    }
    if (want.dtype !== meta.inputDtype) throw new Error(`The dataset "${meta.name}" gives ${meta.inputDtype === 'int32' ? 'token ids' : 'numbers'}; the input node "${this.inputId}" expects ${want.dtype === 'int32' ? 'token ids' : 'numbers'}`);
    const t = this.targetType;
    if (t && !this.targetIsInput && sizeOf(t.shape) !== sizeOf(meta.targetShape)) {
      throw new Error(`The dataset "${meta.name}" gives targets of shape ${shapeStr(meta.targetShape)}; the Target node "${this.targetId}" expects ${shapeStr(t.shape)}`);
    }
  }

  /** Tensors for one batch (create inside a scope); `inputs` replaces the batch's (augmented) samples. */
  feeds(batch: Batch, inputs: Float32Array | Int32Array = batch.inputs): Record<string, Feed> {
    const feeds: Record<string, Feed> = {};
    const n = batch.size;
    if (batch.graph) {
      const g = batch.graph;
      const e = g.edgeSrc.length;
      const edgeIndex = new Int32Array(2 * e);
      edgeIndex.set(g.edgeSrc, 0);
      edgeIndex.set(g.edgeDst, e);
      feeds[this.inputId] = {
        x: fromValues(g.x.slice(), [g.numNodes, this.meta.inputShape[0]]),
        edgeIndex: fromValues(edgeIndex, [2, e], 'int32'),
        batch: fromValues(g.batch.slice(), [g.numNodes], 'int32'),
        numGraphs: g.numGraphs,
      };
      if (this.targetId && this.targetType) {
        if (g.nodeIndex) {
          const t = new Int32Array(g.numNodes).fill(IGNORE_INDEX);
          g.nodeIndex.forEach((node, k) => (t[node] = batch.targets[k]));
          feeds[this.targetId] = fromValues(t, [g.numNodes], 'int32');
        } else {
          feeds[this.targetId] = this.targetTensor(batch.targets, n);
        }
      }
      return feeds;
    }
    const x = inputs === batch.inputs ? inputs.slice() : inputs;
    feeds[this.inputId] = fromValues(x, [n, ...this.inputType.shape], this.inputType.dtype);
    if (this.targetId && this.targetType) feeds[this.targetId] = this.targetIsInput ? fromValues(Float32Array.from(x), [n, ...this.targetType.shape]) : this.targetTensor(batch.targets, n);
    return feeds;
  }

  private targetTensor(values: Float32Array | Int32Array, n: number): Tensor {
    const t = this.targetType!;
    const data = t.dtype === 'int32' ? (values instanceof Int32Array ? values.slice() : Int32Array.from(values)) : Float32Array.from(values);
    return fromValues(data, [n, ...t.shape], t.dtype);
  }

  /** The prediction tensor of a run, restricted to the batch's nodes for node-level graphs. */
  predictionOf(result: RunResult, batch: Batch): Tensor | null {
    if (!this.prediction) return null;
    const outs = result.outputs[this.prediction.nodeId] ?? result.activations?.[this.prediction.nodeId];
    const p = outs?.[this.prediction.output];
    if (!p) return null;
    if (batch.graph?.nodeIndex) return indexSelect(p, 0, fromValues(batch.graph.nodeIndex.slice(), [batch.graph.nodeIndex.length], 'int32'));
    return p;
  }

  /** Prediction values in the form the metric accumulator reads (class scores or values). */
  metricOutputs(pred: Tensor): Float32Array {
    const v = (pred.dtype === 'float32' ? pred : cast(pred, 'float32')).dataSync() as Float32Array;
    if (this.binaryThreshold === null) return v;
    const out = new Float32Array(v.length * 2);
    for (let i = 0; i < v.length; i++) {
      out[2 * i] = this.binaryThreshold;
      out[2 * i + 1] = v[i];
    }
    return out;
  }

  /** Targets in the form the metric accumulator reads. */
  metricTargets(batch: Batch, inputs: Float32Array | Int32Array = batch.inputs): ArrayLike<number> {
    return this.targetIsInput ? inputs : batch.targets;
  }
}
