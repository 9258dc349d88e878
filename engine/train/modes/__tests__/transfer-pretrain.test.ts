import { describe, expect, it } from 'vitest';
import { inferGraph } from '../../../graph/infer.ts';
import { AutoencoderMode } from '../autoencoder.ts';
import { ClassifierMode } from '../supervised.ts';
import { copyWeights, encoderGraph } from '../transfer.ts';
import { comparePretraining, DENSE_ENCODER_LAYERS, denseClassifierGraph, denseFeatureAutoencoderGraph, fewLabelSplit, runPretrainExperiment } from '../transfer-pretrain.ts';
import { digits } from './fixtures.ts';

const small = { hidden: 64, features: 32 } as const;

describe('dense autoencoder pretraining compared with training from scratch', { timeout: 30_000 }, () => {
  it('the autoencoder encoder is node for node the classifier encoder, so its weights load by name', async () => {
    const ae = denseFeatureAutoencoderGraph(small);
    const cls = denseClassifierGraph(small);
    expect(inferGraph(ae).problems).toEqual([]);
    expect(inferGraph(cls).problems).toEqual([]);
    expect(encoderGraph(ae, 'features').nodes.map((n) => n.id)).toEqual(encoderGraph(cls, 'features').nodes.map((n) => n.id));
    const mode = new AutoencoderMode({ graph: ae, data: await digits(64), noiseStd: 0.3, batchSize: 32 });
    const first = mode.step().total;
    for (let i = 0; i < 20; i++) mode.step();
    expect(mode.step().total).toBeLessThan(first);
    const tuned = new ClassifierMode({ graph: cls, data: await digits(32) });
    expect(copyWeights(mode.model, tuned.model, DENSE_ENCODER_LAYERS).sort()).toEqual(['enc1.bias', 'enc1.weight', 'enc2.bias', 'enc2.weight']);
    expect(Array.from(tuned.model.stateDict().get('enc2.weight')!.dataSync())).toEqual(Array.from(mode.model.stateDict().get('enc2.weight')!.dataSync()));
  });

  it('few-label splits: balanced, disjoint, inside the pool, fixed by the seed', async () => {
    const ds = await digits(600);
    const pool = Array.from({ length: 400 }, (_, i) => i);
    const a = fewLabelSplit(ds, 3, 2, 1, pool);
    const counts = (t: ArrayLike<number>) => Array.from({ length: 10 }, (_, c) => Array.from(t).filter((y) => y === c).length);
    expect(counts(a.train.targets)).toEqual(new Array(10).fill(3));
    expect(counts(a.val.targets)).toEqual(new Array(10).fill(2));
    const key = (d: typeof ds, i: number) => Array.from(d.inputs.subarray(i * 784, (i + 1) * 784)).join();
    const inPool = new Set(pool.map((i) => key(ds, i)));
    const trainKeys = Array.from({ length: 30 }, (_, i) => key(a.train, i));
    const valKeys = Array.from({ length: 20 }, (_, i) => key(a.val, i));
    expect([...trainKeys, ...valKeys].every((k) => inPool.has(k))).toBe(true);
    expect(valKeys.some((k) => trainKeys.includes(k))).toBe(false);
    expect(fewLabelSplit(ds, 3, 2, 1, pool).train.inputs).toEqual(a.train.inputs);
    expect(fewLabelSplit(ds, 3, 2, 2, pool).train.inputs).not.toEqual(a.train.inputs);
    expect(() => fewLabelSplit(ds, 30, 20, 1, pool.slice(0, 100))).toThrow(/class 0 has 10 samples, 30 \+ 20 are needed/);
  });

  it('the comparison gives both classifiers the same steps and early stopping, and measures what the transferred weights know', async () => {
    const ds = await digits(1400);
    // An encoder that already knows the digits: a classifier trained on 1000 labelled digits.
    const teacher = new ClassifierMode({ graph: denseClassifierGraph(small), data: await digits(1000), batchSize: 50, optimizer: { type: 'adam', lr: 3e-3 }, seed: 3 });
    for (let i = 0; i < 200; i++) teacher.step();
    const pool = Array.from({ length: 200 }, (_, i) => 1000 + i);
    const test = await digits(200, 1200);
    const opts = { pretrained: teacher.model, classifier: denseClassifierGraph(small), encoderIds: DENSE_ENCODER_LAYERS, split: fewLabelSplit(ds, 2, 5, 0, pool), test, probeSteps: 40, finetuneSteps: 40, batchSize: 20, optimizer: { type: 'adam' as const, lr: 3e-3 }, evalEvery: 10 };
    const r = comparePretraining(opts);
    expect(r.probe.step).toBeLessThanOrEqual(40);
    expect(r.pretrained.step).toBeLessThanOrEqual(80);
    expect(r.scratch.step).toBeLessThanOrEqual(80);
    expect(r.pretrained.val).toBeGreaterThanOrEqual(r.probe.val);
    expect(r.gain).toBeCloseTo(r.pretrained.test - r.scratch.test, 10);
    // 20 labels: the teacher's features carry what 1000 labels taught, scratch only what 20 do.
    expect(r.probe.test).toBeGreaterThan(0.6);
    expect(r.gain).toBeGreaterThan(0.15);
    // Deterministic for fixed seeds.
    expect(comparePretraining(opts)).toEqual(r);
    expect(() => comparePretraining({ ...opts, split: { ...opts.split, val: fewLabelSplit(ds, 1, 0, 0, pool).val } })).toThrow(/needs validation samples/);
  });

  it('the whole experiment pretrains once and compares on every seeded label set', async () => {
    const ds = await digits(700);
    const pool = Array.from({ length: 500 }, (_, i) => i);
    const r = runPretrainExperiment({
      data: ds, pool, test: await digits(100, 600), autoencoder: denseFeatureAutoencoderGraph(small), classifier: denseClassifierGraph(small), encoderIds: DENSE_ENCODER_LAYERS,
      noiseStd: 0.3, pretrainSteps: 60, pretrainBatchSize: 32, pretrainOptimizer: { type: 'adam', lr: 3e-3 },
      perClass: 2, valPerClass: 3, labelSeeds: [4, 9], probeSteps: 10, finetuneSteps: 10, lrScale: 0.5, batchSize: 20, optimizer: { type: 'adam', lr: 3e-3 }, evalEvery: 5,
    });
    expect(r.runs.map((x) => x.labelSeed)).toEqual([4, 9]);
    // The 60 steps moved the reconstruction loss below its start (about 0.23 for digits against a 0.5 grey output).
    expect(r.pretrainLoss).toBeLessThan(0.15);
    expect(r.meanGain).toBeCloseTo((r.runs[0].gain + r.runs[1].gain) / 2, 10);
    expect(r.minGain).toBe(Math.min(r.runs[0].gain, r.runs[1].gain));
    expect(r.runs[0].pretrained).not.toEqual(r.runs[1].pretrained);
    expect(() => runPretrainExperiment({ ...({} as Parameters<typeof runPretrainExperiment>[0]), labelSeeds: [] })).toThrow(/at least one label seed/);
  });
});
