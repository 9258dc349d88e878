import { describe, expect, it } from 'vitest';
import { vaeGraph } from '../graphs.ts';
import { VaeMode } from '../vae.ts';
import { digits, mean } from './fixtures.ts';

describe('VAE mode', { timeout: 30_000 }, () => {
  it('trains with the weighted KL term reported beside the reconstruction loss; samples and interpolations are shaped images', async () => {
    const data = await digits(300);
    const mode = new VaeMode({ graph: vaeGraph({ hidden: 32, latent: 2, klWeight: 0.005 }), data, batchSize: 32, optimizer: { lr: 3e-3 }, seed: 4 });
    expect(mode.klWeight).toBe(0.005);
    const steps = Array.from({ length: 40 }, () => mode.step());
    for (const s of steps) {
      expect(Object.keys(s.losses).sort()).toEqual(['kl', 'recon_loss']);
      // The total is the reconstruction loss plus the weighted KL term.
      expect(s.total).toBeCloseTo(s.losses.recon_loss + 0.005 * s.losses.kl, 4);
      expect(s.losses.kl).toBeGreaterThanOrEqual(0);
    }
    const recon = steps.map((s) => s.losses.recon_loss);
    expect(mean(recon.slice(-10))).toBeLessThan(0.85 * mean(recon.slice(0, 5)));

    const { grid, samples } = mode.samplePrior(6, 3, 1);
    expect(samples).toHaveLength(6);
    expect([grid.width, grid.height]).toEqual([3 * 28 + 2, 2 * 28 + 1]);
    // Different prior codes decode to different images.
    expect(samples[0].values.some((v, i) => Math.abs(v - samples[1].values[i]) > 1e-3)).toBe(true);

    const { strip, frames, codes } = mode.interpolate(data, 0, 1, 5);
    expect(frames).toHaveLength(5);
    expect([strip.width, strip.height]).toEqual([5 * 28 + 4, 28]);
    // The ends of the path are the two inputs' latent means; the middle lies halfway.
    const { codes: mus } = mode.encode(data, [0, 1]);
    expect(codes[0][0]).toBeCloseTo(mus[0], 5);
    expect(codes[4][1]).toBeCloseTo(mus[3], 5);
    expect(codes[2][0]).toBeCloseTo((mus[0] + mus[2]) / 2, 5);
  });

  it('the KL weight pulls the latent means towards the prior', async () => {
    const data = await digits(200);
    const spread = (klWeight: number) => {
      const mode = new VaeMode({ graph: vaeGraph({ hidden: 16, latent: 2, klWeight }), data, batchSize: 32, optimizer: { lr: 3e-3 }, seed: 5 });
      for (let i = 0; i < 25; i++) mode.step();
      const { codes } = mode.encode(data, Array.from({ length: 100 }, (_, i) => i));
      return mean(Array.from(codes, (v) => v * v));
    };
    expect(spread(0.5)).toBeLessThan(spread(0));
  });
});
