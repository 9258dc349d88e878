/**
 * Variational autoencoders: the encoder gives mu and logvar, a Reparameterize node samples
 * z = mu + exp(logvar / 2) * eps, and a GaussianKL loss node (its weight is the KL weight,
 * beta) joins the reconstruction loss. Views add sampling from the prior N(0, I) and the
 * interpolation between two inputs' latent means, decoded as a strip.
 */
import { Generator } from '../../core/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { AutoencoderMode, type AutoencoderOptions } from './autoencoder.ts';
import { type ImageView, imageGrid } from './common.ts';

export interface VaeOptions extends Omit<AutoencoderOptions, 'latentId' | 'latentPort' | 'decodeFrom'> {
  graph: ModelGraph;
  /** The node giving mu (default "mu"). */
  muId?: string;
  /** The Reparameterize node (default: the graph's only one). */
  reparameterizeId?: string;
}

export class VaeMode extends AutoencoderMode {
  readonly reparameterizeId: string;
  readonly klLossId: string | null;

  constructor(opts: VaeOptions) {
    const rep = opts.reparameterizeId ?? opts.graph.nodes.find((n) => n.type === 'Reparameterize')?.id;
    if (!rep) throw new Error('A VAE needs a Reparameterize node (mu, logvar -> z)');
    super({ ...opts, latentId: opts.muId ?? 'mu', decodeFrom: { id: rep, port: 'z' } });
    this.reparameterizeId = rep;
    this.klLossId = opts.graph.nodes.find((n) => n.type === 'GaussianKL')?.id ?? null;
  }

  /** The weight of the KL term in the total loss (the GaussianKL node's weight). */
  get klWeight(): number {
    const n = this.opts.graph.nodes.find((x) => x.id === this.klLossId);
    return n ? Number(n.params.weight ?? 1) : 0;
  }

  /** Latent codes drawn from the prior N(0, I). */
  priorCodes(count: number, seed = 0): number[][] {
    const g = new Generator(seed);
    const d = this.latentDim();
    return Array.from({ length: count }, () => Array.from({ length: d }, () => g.normal()));
  }

  /** New images decoded from prior samples, tiled `cols` per row. */
  samplePrior(count: number, cols: number, seed = 0): { grid: ImageView; samples: ImageView[] } {
    const samples = this.decode(this.priorCodes(count, seed));
    return { grid: imageGrid(samples, cols), samples };
  }

  /**
   * The latent means of samples `a` and `b`, linearly interpolated in `steps` codes (ends
   * included), decoded and joined as a strip from a to b.
   */
  interpolate(ds: Dataset, a: number, b: number, steps: number): { strip: ImageView; frames: ImageView[]; codes: number[][] } {
    if (!Number.isInteger(steps) || steps < 2) throw new Error(`interpolate: steps must be a whole number of at least 2, got ${steps}`);
    const { codes, dim } = this.encode(ds, [a, b]);
    const za = Array.from(codes.subarray(0, dim));
    const zb = Array.from(codes.subarray(dim, 2 * dim));
    const path = Array.from({ length: steps }, (_, k) => za.map((v, i) => v + ((zb[i] - v) * k) / (steps - 1)));
    const frames = this.decode(path);
    return { strip: imageGrid(frames, steps), frames, codes: path };
  }
}
