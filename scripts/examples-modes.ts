/**
 * Example projects for the special training modes, in the format of build-examples.ts
 * (`{ id, title, description, graph, data, training }`) plus `mode`: which mode drives the
 * project and its settings, as plain data. Projects whose mode is "trainer" train with the
 * ordinary training loop (the CLI's `aps train`); the others need their mode class from
 * engine/train/modes/ (the session wires them). GANs hold two graphs: `graph` is the
 * generator and `mode.discriminator` the discriminator.
 */
import type { ModelGraph } from '../engine/graph/types.ts';
import type { PartialDataSettings, PartialTrainingSettings } from '../engine/train/settings.ts';
import { convAutoencoderGraph, deepSupervisionGraph, denseAutoencoderGraph, ganDiscriminatorGraph, ganGeneratorGraph, mlpClassifierGraph, vaeGraph } from '../engine/train/modes/graphs.ts';

export type ModeSpec =
  | { kind: 'autoencoder'; latentId?: string; noiseStd?: number }
  | { kind: 'vae' }
  | { kind: 'gan'; discriminator: ModelGraph; kDiscriminator: number; conditional: boolean }
  | { kind: 'adversarial'; epsilon: number; steps: number; targetClass?: number }
  | { kind: 'trainer' };

export interface ModeExample {
  id: string;
  title: string;
  description: string;
  graph: ModelGraph;
  data: PartialDataSettings;
  training: PartialTrainingSettings;
  mode: ModeSpec;
}

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
];
