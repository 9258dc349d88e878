import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { int32, randn } from '../../ops/creation.ts';
import { defaultParams } from '../catalogue.ts';
import { compileGraph, GraphCompileError } from '../compile.ts';
import { inferGraph } from '../infer.ts';
import type { GraphNode, ModelGraph } from '../types.ts';
import { chain, edge, lenet, node } from './fixtures.ts';

const gen = new Generator(11);

function mlp(): ModelGraph {
  const g = chain([node('in', 'VectorInput', { features: 4 }), node('fc1', 'Linear', { out_features: 8 }), node('act', 'ReLU'), node('fc2', 'Linear', { out_features: 3 })]);
  g.nodes.push(node('label', 'Target'), node('loss', 'CrossEntropyLoss'));
  g.edges.push(edge('fc2', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target'));
  return g;
}

describe('compiler', () => {
  it('LeNet-5 compiles to 61,706 parameters named conv1.weight ... fc3.bias and trains a step', () => {
    const m = compileGraph(lenet(), { seed: 0 });
    expect(m.numParameters()).toBe(61706);
    expect([...m.stateDict().keys()]).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    const r = m.run({ input: randn([2, 1, 28, 28], 0, 1, gen), label: int32([3, 7]) }, { training: true });
    expect(r.outputs.fc3[0].shape).toEqual([2, 10]);
    r.totalLoss!.backward();
    expect(m.stateDict().get('conv1.weight')!.grad!.shape).toEqual([6, 1, 5, 5]);
  });

  it('names weights by node id and runs forward and backward', () => {
    const m = compileGraph(mlp(), { seed: 1 });
    expect([...m.stateDict().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.outputIds).toEqual(['fc2']);
    const r = m.run({ in: randn([5, 4], 0, 1, gen), label: int32([0, 1, 2, 0, 1]) }, { training: true });
    expect(r.outputs.fc2[0].shape).toEqual([5, 3]);
    expect(r.losses.map((l) => l.nodeId)).toEqual(['loss']);
    r.totalLoss!.backward();
    expect(m.parameters().every((p) => p.grad && p.grad.shape.join() === p.shape.join())).toBe(true);
  });

  it('same seed, same weights; weights reload by name into a fresh model', () => {
    const a = compileGraph(mlp(), { seed: 5 });
    const b = compileGraph(mlp(), { seed: 5 });
    expect(Array.from(a.stateDict().get('fc1.weight')!.dataSync())).toEqual(Array.from(b.stateDict().get('fc1.weight')!.dataSync()));
    const c = compileGraph(mlp(), { seed: 6 });
    c.loadStateDict(new Map([...a.stateDict()].map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() }])));
    const x = randn([2, 4], 0, 1, gen);
    expect(Array.from(c.run({ in: x }).outputs.fc2[0].dataSync())).toEqual(Array.from(a.run({ in: x }).outputs.fc2[0].dataSync()));
  });

  it('skips losses without targets, weights auxiliary losses and captures activations', () => {
    const g = mlp();
    g.nodes.push(node('aux', 'CrossEntropyLoss', { weight: 0.3 }));
    g.edges.push(edge('fc2', 'aux', 'y', 'prediction'), edge('label', 'aux', 'y', 'target'));
    const m = compileGraph(g);
    const x = randn([3, 4], 0, 1, gen);
    const infer = m.run({ in: x }, { training: false, capture: true });
    expect(infer.losses).toEqual([]);
    expect(infer.totalLoss).toBeNull();
    expect(Object.keys(infer.activations!)).toEqual(['in', 'fc1', 'act', 'fc2']);
    const r = m.run({ in: x, label: int32([0, 1, 2]) });
    expect(r.losses.map((l) => l.weight)).toEqual([1, 0.3]);
    expect(r.totalLoss!.item()).toBeCloseTo(1.3 * r.losses[0].value.item(), 5);
  });

  it('freezes nodes and groups parameters by learning-rate scale', () => {
    const g = mlp();
    g.nodes.find((n) => n.id === 'fc1')!.frozen = true;
    g.nodes.find((n) => n.id === 'fc2')!.lrScale = 0.1;
    const m = compileGraph(g);
    expect(m.nodeModule('fc1')!.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(m.paramGroups().map((pg) => [pg.lrScale, pg.nodeIds])).toEqual([[0.1, ['fc2']]]);
    expect(inferGraph(g).totals.trainableParams).toBe(8 * 3 + 3);
  });

  it('refuses invalid graphs listing every problem, and bad feeds naming the shapes', () => {
    const bad = chain([node('in', 'VectorInput'), node('fc', 'Linear'), node('c', 'Conv2d')]);
    expect(() => compileGraph(bad)).toThrow(GraphCompileError);
    expect(() => compileGraph(bad)).toThrow(/c \(Conv2d\): needs an image-shaped input/);
    const m = compileGraph(mlp());
    expect(() => m.run({ in: randn([2, 5], 0, 1, gen) })).toThrow('run: in (VectorInput) expects a batch of shape [N, 4], got [2, 5]');
    expect(() => m.run({})).toThrow('run: no data for input in (VectorInput)');
  });

  it('runs a DAG with a skip connection and a VAE head', () => {
    const g: ModelGraph = {
      nodes: [
        node('in', 'VectorInput', { features: 6 }),
        node('mu', 'Linear', { out_features: 2 }),
        node('logvar', 'Linear', { out_features: 2 }),
        node('z', 'Reparameterize'),
        node('dec', 'Linear', { out_features: 6 }),
        node('skip', 'Add'),
        node('rec', 'MSELoss'),
        node('kl', 'GaussianKL', { weight: 0.5 }),
      ],
      edges: [
        edge('in', 'mu'),
        edge('in', 'logvar'),
        edge('mu', 'z', 'y', 'mu'),
        edge('logvar', 'z', 'y', 'logvar'),
        edge('z', 'dec', 'z', 'x'),
        edge('dec', 'skip', 'y', 'in0'),
        edge('in', 'skip', 'y', 'in1'),
        edge('skip', 'rec', 'y', 'prediction'),
        edge('in', 'rec', 'y', 'target'),
        edge('mu', 'kl', 'y', 'mu'),
        edge('logvar', 'kl', 'y', 'logvar'),
      ],
    };
    const m = compileGraph(g, { seed: 2 });
    const r = m.run({ in: randn([4, 6], 0, 1, gen) }, { training: true });
    expect(r.losses.map((l) => [l.nodeId, l.value.shape.length]).sort()).toEqual([
      ['kl', 0],
      ['rec', 0],
    ]);
    r.totalLoss!.backward();
    expect(m.stateDict().get('mu.weight')!.grad).toBeTruthy();
  });
});

/** Layers that keep any shape and can follow each other in a random chain. */
const vectorSteps: ((f: number) => { type: string; params: Record<string, number | boolean | string> })[] = [
  () => ({ type: 'ReLU', params: {} }),
  () => ({ type: 'Tanh', params: {} }),
  () => ({ type: 'Sigmoid', params: {} }),
  () => ({ type: 'Dropout', params: { p: 0.2 } }),
  () => ({ type: 'GELU', params: {} }),
  () => ({ type: 'LeakyReLU', params: { negative_slope: 0.1 } }),
];

describe('property: random chains', () => {
  it('valid random MLP/CNN chains compile and run with the inferred shapes', () => {
    fc.assert(
      fc.property(
        fc.record({
          channels: fc.integer({ min: 1, max: 3 }),
          size: fc.integer({ min: 6, max: 12 }),
          convs: fc.array(fc.record({ out: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 3 }), pool: fc.boolean(), max: fc.boolean(), act: fc.integer({ min: 0, max: 5 }) }), { maxLength: 2 }),
          dense: fc.array(fc.record({ out: fc.integer({ min: 1, max: 6 }), act: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 3 }),
        }),
        ({ channels, size, convs, dense }) => {
          const nodes: GraphNode[] = [node('in', 'ImageInput', { channels, height: size, width: size })];
          let h = size;
          convs.forEach((c, i) => {
            if (h < c.k + 1) return;
            nodes.push(node(`conv${i}`, 'Conv2d', { out_channels: c.out, kernel_size: [c.k], padding: [c.k > 1 ? 1 : 0] }));
            h = h + (c.k > 1 ? 2 : 0) - c.k + 1;
            if (c.pool && h >= 2) {
              nodes.push(node(`pool${i}`, c.max ? 'MaxPool2d' : 'AvgPool2d', { kernel_size: [2] }));
              h = Math.floor(h / 2);
            }
            nodes.push(node(`act_c${i}`, vectorSteps[c.act](0).type, vectorSteps[c.act](0).params));
          });
          nodes.push(node('flat', 'Flatten'));
          dense.forEach((d, i) => {
            nodes.push(node(`fc${i}`, 'Linear', { out_features: d.out }));
            nodes.push(node(`act_d${i}`, vectorSteps[d.act](0).type, vectorSteps[d.act](0).params));
          });
          const g = chain(nodes);
          const a = inferGraph(g);
          expect(a.problems).toEqual([]);
          const m = compileGraph(g, { seed: 3 });
          const r = m.run({ in: randn([2, channels, size, size], 0, 1, gen) }, { training: true, capture: true });
          for (const n of g.nodes) expect(r.activations![n.id][0].shape).toEqual([2, ...a.nodes[n.id].outputs[0]!.shape]);
          expect(m.numParameters()).toBe(a.totals.params);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('random edits never crash the validator', () => {
    const types = ['ImageInput', 'VectorInput', 'SequenceInput', 'GraphInput', 'Target', 'Linear', 'Conv2d', 'MaxPool2d', 'ReLU', 'Flatten', 'Add', 'Concat', 'LSTM', 'MultiheadAttention', 'GCNConv', 'CrossEntropyLoss', 'Reparameterize', 'Unknown'];
    const ports = ['x', 'y', 'in0', 'in1', 'prediction', 'target', 'query', 'output', 'hidden', 'mu', 'z'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constantFrom(...types), param: fc.constantFrom('out_features', 'kernel_size', 'inputs', 'dim', 'hidden_size', 'bogus'), value: fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constant('x'), fc.constant([0, 2])) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ s: fc.nat(), t: fc.nat(), sp: fc.constantFrom(...ports), tp: fc.constantFrom(...ports) }), { maxLength: 20 }),
        (ns, es) => {
          const nodes: GraphNode[] = ns.map((n, i) => ({ id: `n${i}`, type: n.type, params: n.type === 'Unknown' ? {} : { ...defaultParams(n.type), [n.param]: n.value } as GraphNode['params'] }));
          const edges = es.map((e, i) => ({ id: `e${i}`, source: `n${e.s % (nodes.length + 1)}`, sourcePort: e.sp, target: `n${e.t % nodes.length}`, targetPort: e.tp }));
          const a = inferGraph({ nodes, edges });
          expect(typeof a.valid).toBe('boolean');
          for (const p of a.problems) expect(p.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
