/**
 * Self-supervised pretraining by rotation prediction: every unlabelled image is turned by
 * 0, 90, 180 or 270 degrees and the network learns to tell which; to do so it has to learn
 * what digits (or objects) look like upright. The learned features are then judged by a
 * linear probe on a few labelled samples (transfer.ts `linearProbe`).
 */
import type { Generator } from '../../core/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { ModelGraph } from '../../graph/types.ts';
import type { OptimizerChoice } from './common.ts';
import { ClassifierMode, type ClassifierStep } from './supervised.ts';

/** One [C, H, W] image turned counter-clockwise by k x 90 degrees (H must equal W for odd k). */
export function rotate90(x: ArrayLike<number>, shape: readonly number[], k: number): Float32Array {
  const [c, h, w] = shape;
  const turns = ((k % 4) + 4) % 4;
  if (turns % 2 === 1 && h !== w) throw new Error(`rotate90: turning by 90 or 270 degrees needs a square image, got ${h}x${w}`);
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    const o = ch * h * w;
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        // Source pixel of output (y, xx) for a counter-clockwise turn.
        let sy = y;
        let sx = xx;
        if (turns === 1) [sy, sx] = [xx, w - 1 - y];
        else if (turns === 2) [sy, sx] = [h - 1 - y, w - 1 - xx];
        else if (turns === 3) [sy, sx] = [h - 1 - xx, y];
        out[o + y * w + xx] = x[o + sy * w + sx];
      }
    }
  }
  return out;
}

/**
 * The rotation pretext transform of a batch: with `all`, every image appears in all four
 * rotations (4x the batch, labels 0..3 in turn); otherwise each image gets one random
 * rotation. The labels are the number of quarter turns; the batch's own labels are ignored.
 */
export function rotationTransform(shape: readonly number[], all = true) {
  const per = shape.reduce((a, b) => a * b, 1);
  return (x: Float32Array, _labels: Int32Array, gen: Generator): { x: Float32Array; labels: Int32Array } => {
    const n = x.length / per;
    const copies = all ? 4 : 1;
    const out = new Float32Array(n * copies * per);
    const labels = new Int32Array(n * copies);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < copies; r++) {
        const k = all ? r : gen.int(4);
        out.set(rotate90(x.subarray(i * per, (i + 1) * per), shape, k), (i * copies + r) * per);
        labels[i * copies + r] = k;
      }
    }
    return { x: out, labels };
  };
}

export interface RotationOptions {
  /** Image input -> encoder -> a Linear head with 4 outputs -> CrossEntropyLoss against a class Target (e.g. rotationPretextGraph). */
  graph: ModelGraph;
  /** Images; their labels are not used. */
  data: Dataset;
  /** Show each image in all four rotations per step (default true) or in one random rotation. */
  allRotations?: boolean;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

/** Rotation prediction as a classifier whose labels come from the rotation transform. */
export class RotationPretextMode {
  readonly classifier: ClassifierMode;

  constructor(readonly opts: RotationOptions) {
    const shape = opts.data.meta.inputShape;
    if (shape.length !== 3) throw new Error(`Rotation prediction needs images [C, H, W], the dataset's samples have shape [${shape.join(', ')}]`);
    this.classifier = new ClassifierMode({ graph: opts.graph, data: opts.data, batchSize: opts.batchSize, optimizer: opts.optimizer, seed: opts.seed, transform: rotationTransform(shape, opts.allRotations ?? true) });
    const head = this.classifier.heads[0];
    const scores = this.classifier.model.analysis.nodes[head.nodeId].outputs[0]!.shape;
    if (scores.join() !== '4') throw new Error(`Rotation prediction needs 4 class scores (0, 90, 180, 270 degrees) at "${head.nodeId}", it gives [${scores.join(', ')}]`);
  }

  get model() {
    return this.classifier.model;
  }

  get stepsPerEpoch(): number {
    return this.classifier.stepsPerEpoch;
  }

  step(): ClassifierStep {
    return this.classifier.step();
  }

  /** Fraction of rotations told right, every image shown in all four rotations (chance: 0.25). */
  accuracy(ds: Dataset): number {
    return this.classifier.evaluate(ds, 128, rotationTransform(ds.meta.inputShape, true))[0].accuracy;
  }
}
