import { describe, expect, it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import type { Dataset } from '../../../data/dataset.ts';
import { AutoencoderMode } from '../autoencoder.ts';
import { convAutoencoderGraph, denseAutoencoderGraph } from '../graphs.ts';
import { digits, mean } from './fixtures.ts';

function train(mode: AutoencoderMode, steps: number): number[] {
  return Array.from({ length: steps }, () => mode.step().total);
}

describe('autoencoder mode', { timeout: 30_000 }, () => {
  it('a dense autoencoder with a 2-D latent learns to reconstruct digits; views are shaped for the UI', async () => {
    const data = await digits(400);
    const mode = new AutoencoderMode({ graph: denseAutoencoderGraph({ hidden: 64, latent: 2 }), data, latentId: 'code', batchSize: 32, optimizer: { lr: 3e-3 }, seed: 1 });
    const losses = train(mode, 80);
    expect(mean(losses.slice(-10))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));

    const recs = mode.reconstructions(data, [0, 1, 2]);
    expect(recs).toHaveLength(3);
    for (const r of recs) {
      expect([r.input.width, r.input.height, r.input.channels, r.input.values.length]).toEqual([28, 28, 1, 784]);
      expect([r.output.width, r.output.height, r.output.values.length]).toEqual([28, 28, 784]);
      expect(r.noisy).toBeUndefined();
      expect(r.error).toBeGreaterThan(0);
    }

    const { points, projected } = mode.latentPoints(data, [0, 1, 2, 3, 4]);
    expect(projected).toBe(false);
    expect(points.map((p) => p.label)).toEqual([0, 1, 2, 3, 4].map((i) => data.targets[i]));
    expect(points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true);

    const grid = mode.latentGrid(3, -2, 2);
    expect([grid.width, grid.height]).toEqual([3 * 28 + 2, 3 * 28 + 2]);
    // Decoding the latent code of a sample gives back (nearly) its reconstruction.
    const { codes } = mode.encode(data, [5]);
    const decoded = mode.decode([Array.from(codes)])[0];
    const rec = mode.reconstructions(data, [5])[0].output;
    expect(Math.max(...decoded.values.map((v, i) => Math.abs(v - rec.values[i])))).toBeLessThan(1e-5);
  });

  it('anomaly scores: noise images score far higher than digits', async () => {
    const data = await digits(300);
    const mode = new AutoencoderMode({ graph: denseAutoencoderGraph({ hidden: 64, latent: 8 }), data, batchSize: 32, optimizer: { lr: 3e-3 }, seed: 2 });
    train(mode, 60);
    const g = new Generator(3);
    const noise: Dataset = { meta: data.meta, length: 20, inputs: Float32Array.from({ length: 20 * 784 }, () => g.random()), targets: new Int32Array(20) };
    const digitScores = mode.anomalyScores(data);
    const noiseScores = mode.anomalyScores(noise);
    expect(digitScores).toHaveLength(300);
    expect(noiseScores).toHaveLength(20);
    expect(Math.min(...noiseScores)).toBeGreaterThan(Math.max(...digitScores.slice(0, 100)));
  });

  it('a convolutional autoencoder restores the exact 28x28 size with output_padding and trains; denoising adds noise to the input only', async () => {
    const data = await digits(128);
    const mode = new AutoencoderMode({ graph: convAutoencoderGraph({ channels: [4, 8] }), data, batchSize: 16, noiseStd: 0.3, optimizer: { lr: 5e-3 }, seed: 3 });
    expect(mode.model.analysis.nodes[mode.outputId].outputs[0]!.shape).toEqual([1, 28, 28]);
    const losses = train(mode, 16);
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 2)));
    const [r] = mode.reconstructions(data, [0]);
    expect(r.noisy).toBeDefined();
    const diff = r.noisy!.values.reduce((a, v, i) => a + Math.abs(v - r.input.values[i]), 0);
    expect(diff).toBeGreaterThan(10);
    // The clean input is what the error is measured against.
    const err = r.output.values.reduce((a, v, i) => a + (v - r.input.values[i]) ** 2, 0) / 784;
    expect(r.error).toBeCloseTo(err, 4);
  });

  it('refuses a decoder that does not restore the input size, naming both shapes', async () => {
    const data = await digits(16);
    const graph = convAutoencoderGraph({ channels: [4, 8], outputPadding: 0 });
    expect(() => new AutoencoderMode({ graph, data })).toThrow(/1x25x25[\s\S]*1x28x28/);
  });
});
