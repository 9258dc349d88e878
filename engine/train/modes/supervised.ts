/**
 * Supervised classification over a graph, with every loss reported separately: the base
 * for auxiliary losses and deep supervision (an intermediate classifier whose weighted loss
 * joins the total), for fine-tuning a transferred encoder, and for linear probes.
 */
import { Generator } from '../../core/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { accuracyOf, BatchCursor, evalRun, floats, gatherInputs, gatherTargets, graphStep, ints, type OptimizerChoice, optimizerFor, outputOf, type StepLosses } from './common.ts';

export interface ClassifierOptions {
  /** One input, one class Target, one or more CrossEntropy losses (each on its own head). */
  graph: ModelGraph;
  data: Dataset;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
  /** Turns a batch of inputs into the inputs the model sees (augmentation, pretext transforms). */
  transform?: (x: Float32Array, labels: Int32Array, gen: Generator) => { x: Float32Array; labels: Int32Array };
}

export interface ClassifierStep extends StepLosses {
  epoch: number;
}

export interface HeadAccuracy {
  /** The loss node of the head. */
  lossId: string;
  /** The node whose class scores it reads. */
  nodeId: string;
  weight: number;
  accuracy: number;
  loss: number;
}

export class ClassifierMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly inputId: string;
  readonly targetId: string;
  readonly heads: { lossId: string; nodeId: string; weight: number }[];
  readonly shape: number[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;

  constructor(readonly opts: ClassifierOptions) {
    this.model = compileGraph(opts.graph, { seed: opts.seed ?? 0 });
    if (this.model.inputIds.length !== 1) throw new Error(`A classifier needs one input node; this graph has ${this.model.inputIds.join(', ') || 'none'}`);
    if (this.model.targetIds.length !== 1) throw new Error('A classifier needs one Target node (class indices) shared by its losses');
    this.inputId = this.model.inputIds[0];
    this.targetId = this.model.targetIds[0];
    this.shape = this.model.analysis.nodes[this.inputId].outputs[0]!.shape;
    const order = (id: string) => opts.graph.nodes.findIndex((n) => n.id === id);
    // Heads in the graph's node order: the first loss node is the main head.
    this.heads = [...this.model.lossIds].sort((a, b) => order(a) - order(b)).map((lossId) => {
      const e = opts.graph.edges.find((x) => x.target === lossId && x.targetPort === 'prediction');
      if (!e) throw new Error(`The loss "${lossId}" has no prediction connected`);
      return { lossId, nodeId: e.source, weight: Number(opts.graph.nodes.find((n) => n.id === lossId)!.params.weight ?? 1) };
    });
    if (!this.heads.length) throw new Error('A classifier needs a loss node (CrossEntropyLoss) on its class scores');
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 32, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  /** One optimisation step; `losses` holds each loss node's value (unweighted) by node id. */
  step(): ClassifierStep {
    const idx = this.cursor.next();
    let x = gatherInputs(this.opts.data, idx);
    let y = gatherTargets(this.opts.data, idx);
    if (this.opts.transform) ({ x, labels: y } = this.opts.transform(x, y, this.gen));
    const n = y.length;
    const r = graphStep(this.model, this.optimizer, () => ({ [this.inputId]: floats(x, [n, ...this.shape]), [this.targetId]: ints(y, [n]) }), this.gen);
    return { ...r, epoch: this.cursor.epoch };
  }

  /** Accuracy and loss of every head on a dataset (evaluation mode). */
  evaluate(ds: Dataset, batchSize = 128, transform = this.opts.transform): HeadAccuracy[] {
    const sums = this.heads.map(() => ({ correct: 0, loss: 0 }));
    let count = 0;
    const gen = new Generator(777);
    for (let start = 0; start < ds.length; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, ds.length - start) }, (_, k) => start + k);
      let x = gatherInputs(ds, idx);
      let y = gatherTargets(ds, idx);
      if (transform) ({ x, labels: y } = transform(x, y, gen));
      const n = y.length;
      evalRun(
        this.model,
        () => ({ [this.inputId]: floats(x, [n, ...this.shape]), [this.targetId]: ints(y, [n]) }),
        (r) => {
          this.heads.forEach((h, i) => {
            const scores = outputOf(r, h.nodeId);
            const classes = scores.shape[scores.shape.length - 1];
            sums[i].correct += accuracyOf(scores.dataSync() as Float32Array, y, classes) * n;
            sums[i].loss += r.losses.find((l) => l.nodeId === h.lossId)!.value.item() * n;
          });
        },
        true,
      );
      count += n;
    }
    return this.heads.map((h, i) => ({ ...h, accuracy: sums[i].correct / count, loss: sums[i].loss / count }));
  }

  /** Accuracy of the main head (the first loss node) on a dataset. */
  accuracy(ds: Dataset): number {
    return this.evaluate(ds)[0].accuracy;
  }
}
