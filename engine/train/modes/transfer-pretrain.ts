/**
 * Autoencoder pretraining for few labels, measured against training from scratch: a dense
 * autoencoder whose encoder is node for node a dense classifier's, a seeded few-label split,
 * and a comparison that gives both classifiers the same steps, optimiser and early stopping
 * on a validation set (the test accuracy reported is the one at the best validation check).
 */
import { Generator } from '../../core/random.ts';
import { type Dataset, subset } from '../../data/dataset.ts';
import type { GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { edge, graphOf, node } from './build.ts';
import type { OptimizerChoice } from './common.ts';
import { AutoencoderMode } from './autoencoder.ts';
import { ClassifierMode } from './supervised.ts';
import { copyWeights, setTransferMode } from './transfer.ts';

export interface DenseEncoderOptions {
  /** Width of the first hidden layer (default 256). */
  hidden?: number;
  /** Width of the feature layer the classifier head reads (default 64). */
  features?: number;
  /** Activation after both encoder layers (default Sigmoid). */
  activation?: 'Sigmoid' | 'Tanh' | 'ReLU';
}

/** The ids of the encoder's weighted layers, shared by the autoencoder and the classifier. */
export const DENSE_ENCODER_LAYERS = ['enc1', 'enc2'] as const;

function denseEncoder(o: DenseEncoderOptions) {
  const act = o.activation ?? 'Sigmoid';
  return {
    nodes: [
      node('input', 'ImageInput', { channels: 1, height: 28, width: 28 }),
      node('flat', 'Flatten'),
      node('enc1', 'Linear', { out_features: o.hidden ?? 256 }),
      node('enc1_act', act),
      node('enc2', 'Linear', { out_features: o.features ?? 64 }),
      node('features', act),
    ],
    chain: ['input', 'flat', 'enc1', 'enc1_act', 'enc2', 'features'],
  };
}

/**
 * Dense autoencoder for 28x28 digits: 784 -> hidden -> features (the encoder) -> hidden ->
 * 784 (sigmoid), MSE against the clean input. Its encoder is denseClassifierGraph's, so the
 * weights load by name.
 */
export function denseFeatureAutoencoderGraph(o: DenseEncoderOptions = {}): ModelGraph {
  const enc = denseEncoder(o);
  return graphOf(
    [
      ...enc.nodes,
      node('dec1', 'Linear', { out_features: o.hidden ?? 256 }),
      node('dec1_act', 'ReLU'),
      node('dec2', 'Linear', { out_features: 784 }),
      node('dec2_act', 'Sigmoid'),
      node('recon', 'Unflatten', { sizes: [1, 28, 28] }),
      node('clean', 'Target', { target: 'values', shape: [1, 28, 28] }),
      node('loss', 'MSELoss'),
    ],
    [edge('recon', 'loss', 'y', 'prediction'), edge('clean', 'loss', 'y', 'target')],
    [[...enc.chain, 'dec1', 'dec1_act', 'dec2', 'dec2_act', 'recon']],
  );
}

/** The dense digit classifier on the same encoder: features -> Linear "head" -> 10 scores, cross-entropy. */
export function denseClassifierGraph(o: DenseEncoderOptions & { classes?: number } = {}): ModelGraph {
  const enc = denseEncoder(o);
  return graphOf(
    [...enc.nodes, node('head', 'Linear', { out_features: o.classes ?? 10 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    [edge('head', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target')],
    [[...enc.chain, 'head']],
  );
}

export interface FewLabelSplit {
  train: Dataset;
  val: Dataset;
}

/**
 * A seeded labelled subset: `perClass` training and `valPerClass` validation samples of each
 * class, drawn from the samples `from` (all by default) of a classification dataset.
 */
export function fewLabelSplit(ds: Dataset, perClass: number, valPerClass: number, seed: number, from?: readonly number[]): FewLabelSplit {
  const classes = ds.meta.numClasses;
  if (!classes) throw new Error('fewLabelSplit: the dataset has no classes');
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`fewLabelSplit: perClass must be a whole number of at least 1, got ${perClass}`);
  if (!Number.isInteger(valPerClass) || valPerClass < 0) throw new Error(`fewLabelSplit: valPerClass must be a whole number of at least 0, got ${valPerClass}`);
  const pool = from ?? Array.from({ length: ds.length }, (_, i) => i);
  const perm = new Generator(seed).permutation(pool.length);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const k of perm) byClass[ds.targets[pool[k]]].push(pool[k]);
  byClass.forEach((c, label) => {
    if (c.length < perClass + valPerClass) throw new Error(`fewLabelSplit: class ${label} has ${c.length} samples, ${perClass} + ${valPerClass} are needed`);
  });
  return { train: subset(ds, byClass.flatMap((c) => c.slice(0, perClass))), val: subset(ds, byClass.flatMap((c) => c.slice(perClass, perClass + valPerClass))) };
}

export interface PretrainComparisonOptions {
  /** The trained autoencoder (or any model holding the encoder's weights by name). */
  pretrained: GraphModel;
  /** The classifier; its nodes `encoderIds` take the pretrained weights. */
  classifier: ModelGraph;
  encoderIds: readonly string[];
  split: FewLabelSplit;
  test: Dataset;
  /** Steps with the encoder frozen (a linear probe on the pretrained features). */
  probeSteps: number;
  /** Steps after that with the encoder trained too, at `lrScale` times the learning rate. */
  finetuneSteps: number;
  lrScale?: number;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  /** Validation checks every this many steps (and after the last). */
  evalEvery?: number;
  seed?: number;
}

export interface EarlyStopped {
  /** Best validation accuracy and the test accuracy of the weights that had it. */
  val: number;
  test: number;
  /** Steps trained when the best validation accuracy was reached. */
  step: number;
}

export interface PretrainComparison {
  /** The classifier from random weights, probeSteps + finetuneSteps steps. */
  scratch: EarlyStopped;
  /** The linear probe alone (encoder frozen), probeSteps steps. */
  probe: EarlyStopped;
  /** The probe, then fine-tuned: the same number of steps in all as scratch. */
  pretrained: EarlyStopped;
  /** pretrained.test - scratch.test */
  gain: number;
}

/** Where a comparison is: the classifier that trains now and how many of its steps are done. */
export interface ComparisonProgress {
  phase: 'scratch' | 'probe' | 'finetune';
  step: number;
  steps: number;
}

function* trainEarlyStopped(mode: ClassifierMode, phase: ComparisonProgress['phase'], steps: number, every: number, val: Dataset, test: Dataset, best: EarlyStopped, offset = 0): globalThis.Generator<ComparisonProgress, EarlyStopped, void> {
  const out = { ...best };
  for (let i = 1; i <= steps; i++) {
    mode.step();
    if (i % every === 0 || i === steps) {
      const v = mode.accuracy(val);
      if (v > out.val) Object.assign(out, { val: v, test: mode.accuracy(test), step: offset + i });
    }
    yield { phase, step: i, steps };
  }
  return out;
}

function disposeClassifier(mode: ClassifierMode): void {
  mode.optimizer.dispose();
  for (const t of mode.model.stateDict().values()) {
    t.grad?.dispose();
    t.dispose();
  }
}

/**
 * comparePretraining one training step at a time: it yields after every step (so a caller
 * can let other work in, report progress or stop by abandoning it) and returns the
 * comparison. The pretrained weights are copied before the first step; the classifiers it
 * trains are freed when it ends or is abandoned.
 */
export function* comparePretrainingSteps(o: PretrainComparisonOptions): globalThis.Generator<ComparisonProgress, PretrainComparison, void> {
  const every = o.evalEvery ?? 25;
  const seed = o.seed ?? 0;
  if (!(o.probeSteps >= 1) || !(o.finetuneSteps >= 0)) throw new Error(`comparePretraining: probeSteps must be at least 1 and finetuneSteps at least 0, got ${o.probeSteps} and ${o.finetuneSteps}`);
  if (!o.split.val.length) throw new Error('comparePretraining: early stopping needs validation samples; the split has none');
  const common = { data: o.split.train, batchSize: o.batchSize ?? 32, optimizer: o.optimizer, seed };
  const none: EarlyStopped = { val: -1, test: 0, step: 0 };
  const made: ClassifierMode[] = [];
  const make = (graph: ModelGraph) => {
    const m = new ClassifierMode({ graph, ...common });
    made.push(m);
    return m;
  };
  try {
    const fromScratch = make(o.classifier);
    const frozen = make(setTransferMode(o.classifier, o.encoderIds, { mode: 'freeze' }));
    copyWeights(o.pretrained, frozen.model, o.encoderIds);

    const scratch = yield* trainEarlyStopped(fromScratch, 'scratch', o.probeSteps + o.finetuneSteps, every, o.split.val, o.test, none);
    const probe = yield* trainEarlyStopped(frozen, 'probe', o.probeSteps, every, o.split.val, o.test, none);
    let pretrained = probe;
    if (o.finetuneSteps > 0) {
      const tuned = make(setTransferMode(o.classifier, o.encoderIds, { mode: 'finetune', lrScale: o.lrScale ?? 1 }));
      copyWeights(frozen.model, tuned.model);
      pretrained = yield* trainEarlyStopped(tuned, 'finetune', o.finetuneSteps, every, o.split.val, o.test, probe, o.probeSteps);
    }
    return { scratch, probe, pretrained, gain: pretrained.test - scratch.test };
  } finally {
    made.forEach(disposeClassifier);
  }
}

/**
 * Trains the classifier from scratch and from the pretrained encoder (frozen for
 * `probeSteps`, then fine-tuned) on the same labelled samples, with the same optimiser,
 * batch size, total steps and early stopping on `split.val`.
 */
export function comparePretraining(o: PretrainComparisonOptions): PretrainComparison {
  const run = comparePretrainingSteps(o);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

export interface PretrainExperimentOptions {
  /** Labelled digits: the unlabelled pool (labels unused for pretraining) and the test samples are drawn from it by index. */
  data: Dataset;
  /** Indices of the samples the autoencoder learns from; the few labels are drawn from them too. */
  pool: readonly number[];
  test: Dataset;
  autoencoder: ModelGraph;
  classifier: ModelGraph;
  encoderIds: readonly string[];
  noiseStd: number;
  pretrainSteps: number;
  pretrainBatchSize: number;
  pretrainOptimizer: OptimizerChoice;
  perClass: number;
  valPerClass: number;
  /** One seeded label set (and classifier seed) per entry. */
  labelSeeds: readonly number[];
  probeSteps: number;
  finetuneSteps: number;
  lrScale: number;
  batchSize: number;
  optimizer: OptimizerChoice;
  evalEvery?: number;
}

export interface PretrainExperiment {
  /** Mean reconstruction loss of the last 50 pretraining steps. */
  pretrainLoss: number;
  runs: (PretrainComparison & { labelSeed: number })[];
  meanGain: number;
  minGain: number;
}

/**
 * The whole experiment: a denoising autoencoder pretrained on the pool, then
 * comparePretraining on each seeded label set drawn from the pool.
 */
export function runPretrainExperiment(o: PretrainExperimentOptions): PretrainExperiment {
  if (!o.labelSeeds.length) throw new Error('runPretrainExperiment: give at least one label seed');
  const ae = new AutoencoderMode({ graph: o.autoencoder, data: subset(o.data, o.pool), noiseStd: o.noiseStd, batchSize: o.pretrainBatchSize, optimizer: o.pretrainOptimizer, seed: 0 });
  const tail: number[] = [];
  for (let i = 0; i < o.pretrainSteps; i++) {
    const loss = ae.step().total;
    if (i >= o.pretrainSteps - 50) tail.push(loss);
  }
  const runs = o.labelSeeds.map((labelSeed) => ({
    labelSeed,
    ...comparePretraining({
      pretrained: ae.model,
      classifier: o.classifier,
      encoderIds: o.encoderIds,
      split: fewLabelSplit(o.data, o.perClass, o.valPerClass, labelSeed, o.pool),
      test: o.test,
      probeSteps: o.probeSteps,
      finetuneSteps: o.finetuneSteps,
      lrScale: o.lrScale,
      batchSize: o.batchSize,
      optimizer: o.optimizer,
      evalEvery: o.evalEvery,
      seed: labelSeed,
    }),
  }));
  const gains = runs.map((r) => r.gain);
  return { pretrainLoss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length), runs, meanGain: gains.reduce((a, b) => a + b, 0) / gains.length, minGain: Math.min(...gains) };
}
