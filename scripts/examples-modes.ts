/**
 * Example projects for the special training modes, in the format of build-examples.ts
 * (`{ id, title, description, graph, data, training }`) plus `mode`: which mode drives the
 * project and its settings, as plain data. Projects whose mode is "trainer" train with the
 * ordinary training loop (the CLI's `aps train`); the others need their mode class from
 * engine/train/modes/ (the session wires them; `aps train` runs the modes whose data source
 * is "mode" through the session too). GANs hold two graphs: `graph` is the generator and
 * `mode.discriminator` the discriminator.
 */
import type { ModelGraph } from '../engine/graph/types.ts';
import type { PartialDataSettings, PartialTrainingSettings } from '../engine/train/settings.ts';
import type { DigitSeq2SeqOptions } from '../engine/data/modes-text.ts';
import {
  charLanguageModelGraph,
  contrastiveGraph,
  convAutoencoderGraph,
  deepSupervisionGraph,
  denseAutoencoderGraph,
  ganDiscriminatorGraph,
  ganGeneratorGraph,
  mlpClassifierGraph,
  rotationPretextGraph,
  seq2seqGraph,
  vaeGraph,
  word2vecGraph,
} from '../engine/train/modes/graphs.ts';
import type { GenerateOptions } from '../engine/train/modes/tokens.ts';
import { DENSE_ENCODER_LAYERS, denseClassifierGraph, denseFeatureAutoencoderGraph } from '../engine/train/modes/transfer-pretrain.ts';

export type ModeSpec =
  | { kind: 'autoencoder'; latentId?: string; noiseStd?: number }
  | { kind: 'vae' }
  | { kind: 'gan'; discriminator: ModelGraph; kDiscriminator: number; conditional: boolean }
  | { kind: 'adversarial'; epsilon: number; steps: number; targetClass?: number }
  | { kind: 'trainer' }
  /** Seq2SeqMode on digit strings made by makeDigitSeq2Seq(dataset); tokens DIGIT_BOS/EOS/PAD. */
  | { kind: 'seq2seq'; dataset: DigitSeq2SeqOptions; generate: GenerateOptions; sample: string }
  /** LanguageModelMode; generate(prompt, generate) shows text. */
  | { kind: 'language-model'; prompt: string; generate: GenerateOptions & { length: number } }
  /** Word2VecMode on makeWordCorpus(corpus); the graph's context length follows method and window. */
  | { kind: 'word2vec'; method: 'skipgram' | 'cbow'; window: number; corpus: { sentences: number; seed: number }; query: string[] }
  /** RotationPretextMode, then linearProbe(model, probe.featureId) on `probe.labels` labelled samples. */
  | { kind: 'rotation'; probe: { featureId: string; labels: number } }
  /** ContrastiveMode (NT-Xent at `temperature`), then a linear probe like rotation. */
  | { kind: 'contrastive'; temperature: number; probe: { featureId: string; labels: number } }
  /**
   * AutoencoderMode on the unlabelled images (denoising with `noiseStd`), then
   * comparePretraining (engine/train/modes/transfer-pretrain.ts) on the label set `seed`:
   * `perClass` labels per class of the training split with `valPerClass` more for early
   * stopping; `classifier` from scratch against a linear probe on the copied encoder
   * `encoderIds` for `probeSteps`, then `finetuneSteps` fine-tuning at `lrScale`, scratch for
   * as many steps in all.
   */
  | {
      kind: 'pretrain-transfer';
      classifier: ModelGraph;
      noiseStd?: number;
      compare?: { encoderIds: string[]; perClass: number; valPerClass: number; probeSteps: number; finetuneSteps: number; lrScale: number; batchSize: number; optimizer: PartialTrainingSettings['optimizer']; seed: number };
    };

export interface ModeExample {
  id: string;
  title: string;
  description: string;
  graph: ModelGraph;
  /** Source kind "mode" when the mode makes its own data (seq2seq's `dataset`, word2vec's `corpus`). */
  data?: PartialDataSettings;
  training: PartialTrainingSettings;
  mode: ModeSpec;
}

/** The mode makes the samples; the split still applies to them. */
const ownData = (split: { train: number; val: number; test: number }): PartialDataSettings => ({ source: { kind: 'mode' }, split });

const mnist = (samples: number): PartialDataSettings => ({ source: { kind: 'builtin', id: 'mnist', options: { samples } }, split: { train: 0.8, val: 0.1, test: 0.1 } });

export const MODE_EXAMPLES: ModeExample[] = [
  {
    id: 'autoencoder-2d-latent',
    title: 'Dense autoencoder with a 2-D latent space',
    description: 'Squeezes each digit through two numbers and rebuilds it. Browse the 2-D latent space: digits of the same class gather together, and decoding points of the plane shows how the network draws.',
    graph: denseAutoencoderGraph({ hidden: 128, latent: 2 }),
    data: mnist(3000),
    training: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } },
    mode: { kind: 'autoencoder', latentId: 'code' },
  },
  {
    id: 'denoising-conv-autoencoder',
    title: 'Denoising convolutional autoencoder',
    description: 'Strided convolutions shrink 28x28 digits to 7x7 feature maps; transposed convolutions with output padding 1 restore exactly 28x28. Noise is added to the input only, so the network learns to clean digits up. The reconstruction error per digit is its anomaly score.',
    graph: convAutoencoderGraph({ channels: [8, 16] }),
    data: mnist(3000),
    training: { epochs: 5, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } },
    mode: { kind: 'autoencoder', noiseStd: 0.3 },
  },
  {
    id: 'vae-mnist',
    title: 'Variational autoencoder',
    description: 'The encoder gives a mean and a log-variance; the Reparameterize node samples a latent code; the KL term (weight 0.002) keeps codes close to a standard normal, so decoding random normal codes draws new digits, and walking between two digits\' codes morphs one into the other.',
    graph: vaeGraph({ hidden: 256, latent: 2, klWeight: 0.002 }),
    data: mnist(3000),
    training: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 2e-3 } },
    mode: { kind: 'vae' },
  },
  {
    id: 'conditional-gan-mnist',
    title: 'Conditional GAN on digits',
    description: 'A generator turns noise and a one-hot digit label into an image; a discriminator judges image and label together. They train in turn with separate optimisers; every epoch shows a grid of generated digits (one column per class) and both losses.',
    graph: ganGeneratorGraph({ noise: 32, hidden: 128, outShape: [1, 28, 28], classes: 10 }),
    data: mnist(3000),
    training: { epochs: 10, batchSize: 64, optimizer: { type: 'adam', lr: 2e-4, betas: [0.5, 0.999] } },
    mode: { kind: 'gan', discriminator: ganDiscriminatorGraph({ inShape: [1, 28, 28], hidden: 128, classes: 10 }), kDiscriminator: 1, conditional: true },
  },
  {
    id: 'adversarial-mnist',
    title: 'Adversarial examples',
    description: 'Train a small digit classifier, then nudge test digits by at most epsilon = 0.15 per pixel in the direction that hurts it most (FGSM, or 10 smaller steps for PGD) and watch its predictions flip while the digits look unchanged.',
    graph: mlpClassifierGraph({ hidden: 64 }),
    data: mnist(3000),
    training: { epochs: 5, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } },
    mode: { kind: 'adversarial', epsilon: 0.15, steps: 10 },
  },
  {
    id: 'deep-supervision-mnist',
    title: 'Deep supervision (auxiliary classifier)',
    description: 'An extra classifier on the first hidden layer adds its cross-entropy, weighted 0.3, to the main loss; both losses are reported separately, and each head\'s accuracy can be compared.',
    graph: deepSupervisionGraph({ hidden: 64, auxWeight: 0.3 }),
    data: mnist(3000),
    training: { epochs: 5, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 } },
    mode: { kind: 'trainer' },
  },
  {
    id: 'seq2seq-reverse-digits',
    title: 'Sequence to sequence: reversing digit strings',
    description: 'A GRU encoder reads 3 to 5 digits; a GRU decoder writes them back reversed, one token at a time, looking at the encoder through attention, and stops with an end token. Training feeds the decoder the true previous digit (teacher forcing); generation feeds it its own, by greedy search, beam search or sampling. Trained with "aps train" for 600 steps (batch 32) and measured on the 302 held-out strings that never occur in training: 97.6% of answer tokens right and 87.7% of whole answers right by greedy search, 89.1% by beam search of width 3.',
    graph: seq2seqGraph({ vocab: 13, srcLength: 5, tgtLength: 6, embed: 16, hidden: 48 }),
    data: ownData({ train: 0.8, val: 0.1, test: 0.1 }),
    training: { epochs: 6, batchSize: 32, optimizer: { type: 'adam', lr: 5e-3 } },
    mode: { kind: 'seq2seq', dataset: { task: 'reverse', samples: 4000, minLength: 3, maxLength: 5, seed: 1 }, generate: { method: 'beam', beamWidth: 3 }, sample: '3141' },
  },
  {
    id: 'char-language-model',
    title: 'Character-level language model',
    description: 'A GRU reads the lighthouse story 16 characters at a time and predicts each next character. After 100 steps its loss was about 1.4 nats per character, against 2.9 for letter frequencies alone; it then continues a prompt. Lower temperatures give safer, more repetitive text, higher ones more surprising text.',
    graph: charLanguageModelGraph({ vocab: 35, length: 16, embed: 16, hidden: 64 }),
    data: { source: { kind: 'builtin', id: 'text-chars', options: { seqLen: 16, stride: 4 } }, split: { train: 1, val: 0, test: 0 } },
    training: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 1e-2 } },
    mode: { kind: 'language-model', prompt: 'The keeper ', generate: { method: 'sample', temperature: 0.7, seed: 1, length: 80 } },
  },
  {
    id: 'word2vec-skipgram',
    title: 'Word vectors (skip-gram word2vec)',
    description: 'Learns a 16-number vector for each word of a small corpus by predicting the words around it. Animals, colours, numbers, foods and places each appear in their own kinds of sentences; trained with "aps train" for 336 steps, the nearest word of 28 of the 30 group words (93%) is one of its own group by cosine similarity, and of all 30 by euclidean distance (e.g. cat: dog, cow; three: six, five). The 2-D projection shows the groups apart.',
    graph: word2vecGraph({ vocab: 76, dim: 16, contextLength: 1, paddingIdx: 0 }),
    data: ownData({ train: 1, val: 0, test: 0 }),
    training: { epochs: 3, batchSize: 128, optimizer: { type: 'adam', lr: 1e-2 } },
    mode: { kind: 'word2vec', method: 'skipgram', window: 2, corpus: { sentences: 1000, seed: 0 }, query: ['cat', 'red', 'three', 'bread', 'garden'] },
  },
  {
    id: 'word2vec-cbow',
    title: 'Word vectors (CBOW word2vec)',
    description: 'Learns word vectors by predicting each word from the mean of the four words around it. On the same grouped corpus, trained with "aps train" for 240 steps, the nearest word of 29 of the 30 group words (97%) is one of its own group by cosine similarity, and of all 30 by euclidean distance.',
    graph: word2vecGraph({ vocab: 76, dim: 16, contextLength: 4, paddingIdx: 0 }),
    data: ownData({ train: 1, val: 0, test: 0 }),
    training: { epochs: 6, batchSize: 128, optimizer: { type: 'adam', lr: 1e-2 } },
    mode: { kind: 'word2vec', method: 'cbow', window: 2, corpus: { sentences: 1000, seed: 0 }, query: ['cat', 'red', 'three', 'bread', 'garden'] },
  },
  {
    id: 'rotation-pretext-mnist',
    title: 'Self-supervised: predicting rotations',
    description: 'Every unlabelled digit is shown turned by 0, 90, 180 and 270 degrees and a small CNN learns which turn it sees. Trained with "aps train" for 150 steps, it told 96% of the turns of 200 held-out digits right (chance 25%). A linear classifier on its frozen features, trained 300 steps on 100 labelled digits, then reached 53.5% on those digits, against 27.0% on the features of the untrained network (chance 10%).',
    graph: rotationPretextGraph({ channels: [8, 16], features: 64 }),
    data: mnist(2000),
    training: { epochs: 3, batchSize: 32, optimizer: { type: 'adam', lr: 2e-3 } },
    mode: { kind: 'rotation', probe: { featureId: 'features', labels: 100 } },
  },
  {
    id: 'contrastive-mnist',
    title: 'Contrastive learning (SimCLR-style)',
    description: 'Two random views of each digit (shifted, slightly turned, noisy, partly cut out) go through the same CNN; the NT-Xent loss pulls the two views together and pushes other digits away. Trained with "aps train" for 125 steps, the partner view of 64 held-out digits was the nearest of the 127 others 25% of the time (chance under 1%), and a linear classifier on the frozen features, trained 300 steps on 100 labelled digits, reached 54.0% on 200 held-out digits, against 27.0% on the features of the untrained network (chance 10%).',
    graph: contrastiveGraph({ channels: [8, 16], features: 64 }),
    data: mnist(2000),
    training: { epochs: 5, batchSize: 64, optimizer: { type: 'adam', lr: 2e-3 } },
    mode: { kind: 'contrastive', temperature: 0.5, probe: { featureId: 'features', labels: 100 } },
  },
  {
    id: 'pretrain-autoencoder-few-labels',
    title: 'Pretraining on unlabelled digits, then 100 labels',
    description:
      'A dense denoising autoencoder (784-256-64 sigmoid encoder, noise 0.3) learns from the 8000 training digits of 10,000, without their labels, for 4000 steps; its encoder has exactly the layers of a dense classifier, so its weights load by name. Then only 100 labelled digits (10 per class, drawn from the training digits by the label-set seed) train the classifier, with 200 more for early stopping, and the 2000 test digits score it: from scratch, as a linear probe on the pretrained encoder (100 steps), and the probe then fine-tuned (500 more steps), all with the same optimiser and early stopping, scratch for as many steps. Trained with "aps train" (about 3 minutes on two cores; reconstruction loss 0.0148), label set 0: from scratch 70.5%, linear probe 64.1%, probe then fine-tuned 74.9%, a gain of 4.4 points. Measured by runPretrainExperiment over 8 seeded label sets (pretraining on the first 8000 digits, testing on the other 2000): the pretrained classifier reached 74.5-83.0% (mean 80.2%), the same classifier trained from scratch 72.2-80.7% (mean 78.0%), the linear probe alone 62.4-75.1% (mean 69.5%). Pretraining won on all 8 label sets, by 0.9 to 3.1 points (mean 2.1). With 50 labels the mean gain was 3.0 points but one label set of 8 lost 0.6.',
    graph: denseFeatureAutoencoderGraph({ hidden: 256, features: 64 }),
    data: { source: { kind: 'builtin', id: 'mnist', options: { samples: 10000 } }, split: { train: 0.8, val: 0, test: 0.2 } },
    training: { epochs: 32, batchSize: 64, optimizer: { type: 'adam', lr: 2e-3 } },
    mode: {
      kind: 'pretrain-transfer',
      classifier: denseClassifierGraph({ hidden: 256, features: 64 }),
      noiseStd: 0.3,
      compare: { encoderIds: [...DENSE_ENCODER_LAYERS], perClass: 10, valPerClass: 20, probeSteps: 100, finetuneSteps: 500, lrScale: 1, batchSize: 32, optimizer: { type: 'adam', lr: 3e-3 }, seed: 0 },
    },
  },
];
