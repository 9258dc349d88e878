/**
 * Autoencoders (dense, convolutional, denoising): the graph maps an image to itself through
 * a bottleneck; its loss compares the reconstruction with the clean input, fed to the
 * Target. Views: reconstructions beside their inputs, the reconstruction error of each
 * sample as an anomaly score, the latent space in 2-D, and images decoded from latent codes.
 */
import { Generator } from '../../core/random.ts';
import { type Dataset, inputSize } from '../../data/dataset.ts';
import { outputPorts } from '../../graph/catalogue.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, evalRun, floats, gatherInputs, graphStep, type ImageView, imageGrid, type OptimizerChoice, optimizerFor, outputOf, type PointView, type StepLosses, toImage } from './common.ts';
import { pca2d } from './projection.ts';
import { copyWeights, decoderGraph } from './transfer.ts';

export interface AutoencoderOptions {
  /** Image input -> encoder -> latent node -> decoder -> reconstruction -> loss against a Target ("values", the image shape). */
  graph: ModelGraph;
  /** Training images (labels are not used for training; they colour the latent view). */
  data: Dataset;
  /** The node whose output is the latent code (for the latent view and decoding). */
  latentId?: string;
  /** Output port of the latent node (default: its first). */
  latentPort?: string;
  /** Where decoding starts (default: the latent node); a VAE decodes from its Reparameterize node's z. */
  decodeFrom?: { id: string; port: string };
  /** Denoising: standard deviation of gaussian noise added to the input only (the Target stays clean). */
  noiseStd?: number;
  /** Valid range of the input values; noisy inputs are clipped to it. */
  valueRange?: [number, number];
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

export interface Reconstruction {
  index: number;
  input: ImageView;
  /** The corrupted input the network saw (denoising only). */
  noisy?: ImageView;
  output: ImageView;
  /** Mean squared error between reconstruction and clean input. */
  error: number;
}

export interface AutoencoderStep extends StepLosses {
  epoch: number;
  step: number;
}

/** A trainable autoencoder over a compiled graph. */
export class AutoencoderMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly inputId: string;
  readonly targetId: string;
  /** The node whose output is the reconstruction (what the loss compares with the Target). */
  readonly outputId: string;
  readonly shape: number[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private steps = 0;

  constructor(readonly opts: AutoencoderOptions) {
    this.model = compileGraph(opts.graph, { seed: opts.seed ?? 0 });
    if (this.model.inputIds.length !== 1) throw new Error(`An autoencoder needs exactly one image input node; this graph has ${this.model.inputIds.length}`);
    if (this.model.targetIds.length !== 1) throw new Error('An autoencoder needs one Target node (target "values", shaped like the input) connected to its loss');
    this.inputId = this.model.inputIds[0];
    this.targetId = this.model.targetIds[0];
    const lossEdge = opts.graph.edges.find((e) => this.model.lossIds.includes(e.target) && e.targetPort === 'prediction');
    if (!lossEdge) throw new Error('An autoencoder needs a loss node whose prediction is the reconstruction');
    this.outputId = lossEdge.source;
    this.shape = this.model.analysis.nodes[this.inputId].outputs[0]!.shape;
    const target = this.model.analysis.nodes[this.targetId].outputs[0]!;
    if (target.shape.join() !== this.shape.join()) throw new Error(`The Target must have the input's shape [${this.shape.join(', ')}] to compare the reconstruction with the input, it has [${target.shape.join(', ')}]`);
    const out = this.model.analysis.nodes[this.outputId].outputs[0]!;
    if (out.shape.join() !== this.shape.join()) throw new Error(`The reconstruction from "${this.outputId}" has shape [${out.shape.join(', ')}], the input [${this.shape.join(', ')}]; adjust the decoder (e.g. ConvTranspose2d output_padding) to restore the exact input size`);
    if (inputSize(opts.data.meta) !== out.shape.reduce((a, b) => a * b, 1)) throw new Error(`The dataset's samples have ${inputSize(opts.data.meta)} values, the input node expects [${this.shape.join(', ')}]`);
    if (opts.latentId && !this.model.analysis.nodes[opts.latentId]) throw new Error(`latentId: the graph has no node "${opts.latentId}"`);
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 32, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  /** Adds noise (denoising mode) and clips to the valid range. */
  corrupt(x: Float32Array, gen: Generator = this.gen): Float32Array {
    const std = this.opts.noiseStd ?? 0;
    if (!(std > 0)) return x;
    const [lo, hi] = this.opts.valueRange ?? [0, 1];
    return x.map((v) => Math.min(hi, Math.max(lo, v + gen.normal(0, std))));
  }

  /** One optimisation step on the next mini-batch. */
  step(): AutoencoderStep {
    const idx = this.cursor.next();
    const clean = gatherInputs(this.opts.data, idx);
    const noisy = this.corrupt(clean);
    const n = idx.length;
    const r = graphStep(this.model, this.optimizer, () => ({ [this.inputId]: floats(noisy, [n, ...this.shape]), [this.targetId]: floats(clean.slice(), [n, ...this.shape]) }), this.gen);
    this.steps++;
    return { ...r, epoch: this.cursor.epoch, step: this.steps };
  }

  /** Reconstructions of the given samples, with per-sample error (noise seeded, so views are stable). */
  reconstruct(ds: Dataset, indices: readonly number[]): { inputs: Float32Array; noisy: Float32Array; outputs: Float32Array } {
    const clean = gatherInputs(ds, indices);
    const noisy = this.corrupt(clean, new Generator(12345));
    const outputs = evalRun(this.model, () => ({ [this.inputId]: floats(noisy.slice(), [indices.length, ...this.shape]) }), (r) => Float32Array.from(outputOf(r, this.outputId).dataSync()));
    return { inputs: clean, noisy, outputs };
  }

  /** Inputs and reconstructions side by side, as images. */
  reconstructions(ds: Dataset, indices: readonly number[]): Reconstruction[] {
    const { inputs, noisy, outputs } = this.reconstruct(ds, indices);
    const s = inputSize(ds.meta);
    const range = this.opts.valueRange ?? [0, 1];
    return indices.map((index, k) => {
      const x = inputs.subarray(k * s, (k + 1) * s);
      const y = outputs.subarray(k * s, (k + 1) * s);
      let err = 0;
      for (let i = 0; i < s; i++) err += (x[i] - y[i]) ** 2;
      return {
        index,
        input: toImage(x, this.shape, range),
        ...((this.opts.noiseStd ?? 0) > 0 ? { noisy: toImage(noisy.subarray(k * s, (k + 1) * s), this.shape, range) } : {}),
        output: toImage(y, this.shape, range),
        error: err / s,
      };
    });
  }

  /** Anomaly score of every sample: the mean squared reconstruction error of the clean input. */
  anomalyScores(ds: Dataset, batchSize = 128): number[] {
    const s = inputSize(ds.meta);
    const scores: number[] = [];
    for (let start = 0; start < ds.length; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, ds.length - start) }, (_, k) => start + k);
      const x = gatherInputs(ds, idx);
      const y = evalRun(this.model, () => ({ [this.inputId]: floats(x.slice(), [idx.length, ...this.shape]) }), (r) => outputOf(r, this.outputId).dataSync() as Float32Array);
      for (let k = 0; k < idx.length; k++) {
        let e = 0;
        for (let i = 0; i < s; i++) e += (x[k * s + i] - y[k * s + i]) ** 2;
        scores.push(e / s);
      }
    }
    return scores;
  }

  /** Latent codes [n, d] of samples (clean inputs). */
  encode(ds: Dataset, indices: readonly number[]): { codes: Float32Array; dim: number } {
    const id = this.requireLatent();
    const port = this.latentPort().index;
    const x = gatherInputs(ds, indices);
    const codes = evalRun(this.model, () => ({ [this.inputId]: floats(x, [indices.length, ...this.shape]) }), (r) => {
      const t = r.activations?.[id]?.[port];
      if (!t) throw new Error(`The latent node "${id}" produced no value`);
      return Float32Array.from(t.dataSync());
    }, true);
    return { codes, dim: codes.length / Math.max(1, indices.length) };
  }

  /**
   * The latent space in 2-D: the codes themselves when the latent has 2 dimensions, else
   * their first two principal components. Points carry the sample's class.
   */
  latentPoints(ds: Dataset, indices: readonly number[]): { points: PointView[]; projected: boolean } {
    const { codes, dim } = this.encode(ds, indices);
    const coords = dim === 2 ? Float64Array.from(codes) : pca2d(codes, indices.length, dim).coords;
    const labelled = ds.targets instanceof Int32Array && ds.meta.targetShape.length === 0;
    return {
      points: indices.map((index, k) => ({ x: coords[k * 2], y: coords[k * 2 + 1], index, ...(labelled ? { label: ds.targets[index] } : {}) })),
      projected: dim !== 2,
    };
  }

  private decoder: GraphModel | null = null;

  /** Images decoded from latent codes (rows of `codes`), with the current decoder weights. */
  decode(codes: readonly (readonly number[])[]): ImageView[] {
    const from = this.opts.decodeFrom ?? { id: this.requireLatent(), port: this.latentPort().name };
    const id = from.id;
    const dim = this.latentDim();
    for (const c of codes) if (c.length !== dim) throw new Error(`decode: each latent code needs ${dim} values, got ${c.length}`);
    if (!this.decoder) this.decoder = compileGraph(decoderGraph(this.opts.graph, id, from.port, dim));
    copyWeights(this.model, this.decoder);
    const flat = Float32Array.from(codes.flat());
    const s = this.shape.reduce((a, b) => a * b, 1);
    const outId = this.outputId;
    const values = evalRun(this.decoder, () => ({ [id]: floats(flat, [codes.length, dim]) }), (r) => Float32Array.from(outputOf(r, outId).dataSync()));
    return codes.map((_, k) => toImage(values.subarray(k * s, (k + 1) * s), this.shape, this.opts.valueRange ?? [0, 1]));
  }

  /**
   * Browses a 2-D latent space: decodes a `steps` x `steps` grid of codes spanning
   * [lo, hi] on both axes into one image (rows: second axis, top = hi).
   */
  latentGrid(steps: number, lo: number, hi: number): ImageView {
    if (this.latentDim() !== 2) throw new Error(`latentGrid needs a 2-D latent space, "${this.requireLatent()}" has ${this.latentDim()} dimensions`);
    const codes: number[][] = [];
    for (let r = 0; r < steps; r++) for (let c = 0; c < steps; c++) codes.push([lo + ((hi - lo) * c) / Math.max(1, steps - 1), hi - ((hi - lo) * r) / Math.max(1, steps - 1)]);
    return imageGrid(this.decode(codes), steps);
  }

  latentDim(): number {
    const t = this.model.analysis.nodes[this.requireLatent()].outputs[this.latentPort().index]!;
    if (t.shape.length !== 1) throw new Error(`The latent node "${this.opts.latentId}" must give a flat vector, it gives [${t.shape.join(', ')}]`);
    return t.shape[0];
  }

  private requireLatent(): string {
    if (!this.opts.latentId) throw new Error('Set latentId (the bottleneck node) to look at the latent space');
    return this.opts.latentId;
  }

  private latentPort(): { name: string; index: number } {
    const id = this.requireLatent();
    const ports = outputPorts(this.opts.graph.nodes.find((x) => x.id === id)!);
    const name = this.opts.latentPort ?? ports[0].name;
    const index = ports.findIndex((p) => p.name === name);
    if (index < 0) throw new Error(`latentPort: node "${id}" has no output "${name}"; its outputs are ${ports.map((p) => p.name).join(', ')}`);
    return { name, index };
  }
}
