import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { applyGraphParams, gridConfigs, hyperparameterSearch, randomConfigs, type TrialResult } from '../search.ts';
import { withTrainingDefaults } from '../settings.ts';
import { mlp } from './helpers.ts';

describe('hyperparameter search', () => {
  const base = withTrainingDefaults({ epochs: 3, batchSize: 16, optimizer: { type: 'sgd', lr: 0.1 } });

  it('a grid holds every combination; random search draws distinct ones, reproducibly', () => {
    const space = { lr: [0.1, 0.01], optimizer: ['sgd', 'adam'] as ('sgd' | 'adam')[], graphParams: [{ nodeId: 'fc1', param: 'out_features', values: [4, 8, 16] }] };
    const grid = gridConfigs(space, base);
    expect(grid).toHaveLength(12);
    expect(new Set(grid.map((c) => JSON.stringify(c))).size).toBe(12);
    expect(grid.every((c) => c.batchSize === 16)).toBe(true);
    const r1 = randomConfigs(space, base, 5, 3);
    expect(r1).toEqual(randomConfigs(space, base, 5, 3));
    expect(new Set(r1.map((c) => JSON.stringify(c))).size).toBe(5);
    expect(r1.every((c) => grid.some((g) => JSON.stringify(g) === JSON.stringify(c)))).toBe(true);
  });

  it('graph overrides change a parameter or swap an activation type', () => {
    const g = applyGraphParams(mlp(), { 'fc1.out_features': 7, 'act1.type': 'ReLU' });
    expect(g.nodes.find((n) => n.id === 'fc1')!.params.out_features).toBe(7);
    expect(g.nodes.find((n) => n.id === 'act1')!.type).toBe('ReLU');
    expect(mlp().nodes.find((n) => n.id === 'act1')!.type).toBe('Tanh');
    expect(() => applyGraphParams(mlp(), { 'fc1.nope': 1 })).toThrow(/Linear \("fc1"\) has no parameter "nope"/);
    expect(() => applyGraphParams(mlp(), { 'zz.units': 1 })).toThrow(/no node "zz"/);
  });

  it('ranks trials by validation accuracy on a training subset; failed trials come last', async () => {
    const ds = await loadDataset('blobs', { samples: 240 });
    const data = splitDataset(ds, { train: 0.6, val: 0.4, test: 0 }, new Generator(0));
    const seen: TrialResult[] = [];
    const ranked = await hyperparameterSearch({
      graph: mlp(8, 3),
      data,
      training: base,
      space: { lr: [1e-5, 0.1], graphParams: [{ nodeId: 'act1', param: 'type', values: ['Tanh', 'NoSuchLayer'] }] },
      options: { strategy: 'grid', metric: 'accuracy', subset: 60 },
      onTrial: (r) => seen.push(r),
    });
    expect(seen).toHaveLength(4);
    expect(ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    expect(ranked.slice(2).every((r) => r.status === 'failed' && /NoSuchLayer/.test(r.error!))).toBe(true);
    expect(ranked[0].config.lr).toBe(0.1);
    expect(ranked[0].score!).toBeGreaterThan(ranked[1].score!);
    expect(ranked[0].score!).toBeGreaterThan(0.9);
    expect(ranked[0].final!.accuracy).toBeDefined();
  });
});
