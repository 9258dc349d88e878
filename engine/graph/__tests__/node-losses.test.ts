/**
 * Node-level graph losses: CrossEntropyLoss and MSELoss take a graph batch's node features
 * [nodes, F] as the prediction, one target per node; class targets of -100 (nodes outside
 * the batch's split) are left out.
 */
import { describe, expect, it } from 'vitest';
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { splitDataset } from '../../data/pipeline.ts';
import { loadDataset } from '../../data/registry.ts';
import { int32, randn } from '../../ops/creation.ts';
import { indexSelect } from '../../ops/layout.ts';
import { crossEntropy, mseLoss } from '../../ops/loss.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { withTrainingDefaults } from '../../train/settings.ts';
import { Trainer } from '../../train/trainer.ts';
import { defaultParams, getLayer } from '../catalogue.ts';
import { compileGraph } from '../compile.ts';
import { inferGraph } from '../infer.ts';
import { attachGraph } from '../layers/graph-value.ts';
import type { ModelGraph, ParamValues, ValueType } from '../types.ts';
import { edge, node } from './fixtures.ts';

const gen = new Generator(3);

/** GraphInput -> GCN -> ReLU -> GCN(out) -> loss against a Target, with no readout. */
function nodeModel(out: number, loss: string, target: ParamValues, hidden = 16): ModelGraph {
  return {
    nodes: [
      node('graph', 'GraphInput', { node_features: 8 }),
      node('gcn1', 'GCNConv', { out_channels: hidden }),
      node('act', 'ReLU'),
      node('gcn2', 'GCNConv', { out_channels: out }),
      node('label', 'Target', target),
      node('loss', loss),
    ],
    edges: [edge('graph', 'gcn1'), edge('gcn1', 'act'), edge('act', 'gcn2'), edge('gcn2', 'loss', 'y', 'prediction'), edge('label', 'loss', 'y', 'target')],
  };
}

/** A graph batch of `nodes` nodes (a ring) carrying `x` as its node features. */
function onRing(x: Tensor): Tensor {
  const n = x.shape[0];
  const src = Array.from({ length: n }, (_, i) => i);
  const dst = src.map((i) => (i + 1) % n);
  return attachGraph(x, { edgeIndex: int32([...src, ...dst], [2, n]), batch: int32(new Array<number>(n).fill(0), [n]), numGraphs: 1 });
}

function runLoss(type: string, params: ParamValues, inputs: ValueType[], pred: Tensor, target: Tensor): Tensor {
  const def = getLayer(type);
  const built = def.build({ inputs, params: { ...defaultParams(type), ...params }, node: { id: 'loss', type, params: {} }, generator: new Generator(0) });
  return built.run([pred, target], { training: true, generator: new Generator(0) })[0];
}

const graphScores = (c: number): ValueType => ({ kind: 'graph', shape: [-1, c], dtype: 'float32' });
const classIndex: ValueType = { kind: 'tensor', shape: [], dtype: 'int32' };

describe('loss nodes on a graph batch (node-level tasks)', () => {
  it('shape inference accepts node scores against one class per node, and names the mismatch otherwise', () => {
    expect(inferGraph(nodeModel(3, 'CrossEntropyLoss', {})).problems).toEqual([]);
    const wrong = inferGraph(nodeModel(3, 'CrossEntropyLoss', { shape: [2] })).problems;
    expect(wrong.map((p) => p.message).join('\n')).toContain('gcn2 gives scores of shape 3, so the target must hold one class index per sample; label gives 2');
    expect(wrong[0]?.nodeId).toBe('loss');
    expect(inferGraph(nodeModel(2, 'MSELoss', { target: 'values', shape: [2] })).problems).toEqual([]);
    const mse = inferGraph(nodeModel(2, 'MSELoss', { target: 'values', shape: [3] })).problems;
    expect(mse.map((p) => p.message).join('\n')).toContain('gcn2 gives 2 per graph node, label gives 3');
    // Other losses still refuse a graph batch at the port.
    const bce = inferGraph(nodeModel(1, 'BCEWithLogitsLoss', { target: 'values', shape: [1] })).problems;
    expect(bce.map((p) => p.message).join('\n')).toContain('takes a tensor or a sequence, but gcn2 gives a graph batch');
  });

  it('cross-entropy leaves nodes labelled -100 out, label smoothing included', () => {
    const logits = randn([6, 3], 0, 1, gen);
    const labels = [2, -100, 0, 1, -100, 1];
    const kept = int32([0, 2, 3, 5], [4]);
    for (const smoothing of [0, 0.2]) {
      const got = runLoss('CrossEntropyLoss', { label_smoothing: smoothing }, [graphScores(3), classIndex], onRing(logits), int32(labels, [6])).item();
      const want = crossEntropy(indexSelect(logits, 0, kept), int32([2, 0, 1, 1], [4]), { labelSmoothing: smoothing }).item();
      expect(got).toBeCloseTo(want, 5);
    }
    // With every node labelled it is the plain cross-entropy.
    const all = [0, 1, 2, 0, 1, 2];
    expect(runLoss('CrossEntropyLoss', {}, [graphScores(3), classIndex], onRing(logits), int32(all, [6])).item()).toBeCloseTo(crossEntropy(logits, int32(all, [6])).item(), 5);
  });

  it('gradients match finite differences, for several node counts, class counts and smoothings', () => {
    for (const [n, c, smoothing] of [
      [5, 3, 0],
      [7, 2, 0.1],
      [4, 5, 0.3],
    ] as const) {
      const labels = Array.from({ length: n }, (_, i) => (i % 3 === 1 ? -100 : i % c));
      const target = int32(labels, [n]);
      const x = randn([n, c], 0, 1, gen);
      assertGradcheck((p) => runLoss('CrossEntropyLoss', { label_smoothing: smoothing }, [graphScores(c), classIndex], onRing(p), target), [x]);
    }
    const pred = randn([5, 2], 0, 1, gen);
    const values = randn([5, 2], 0, 1, gen);
    assertGradcheck((p) => runLoss('MSELoss', {}, [graphScores(2), { kind: 'tensor', shape: [2], dtype: 'float32' }], onRing(p), values), [pred]);
    expect(runLoss('MSELoss', {}, [graphScores(2), { kind: 'tensor', shape: [2], dtype: 'float32' }], onRing(pred), values).item()).toBeCloseTo(mseLoss(pred, values).item(), 6);
  });

  it('says so when no node of the batch has a label, or the labels do not match the nodes', () => {
    const x = onRing(randn([4, 3], 0, 1, gen));
    expect(() => runLoss('CrossEntropyLoss', {}, [graphScores(3), classIndex], x, int32([-100, -100, -100, -100], [4]))).toThrow('none of the 4 graph nodes has a label (every target is -100, ignored)');
    expect(() => runLoss('CrossEntropyLoss', {}, [graphScores(3), classIndex], x, fromValues(new Int32Array(3), [3], 'int32'))).toThrow('the graph batch has 4 nodes but the target holds 3 labels');
  });

  it('a GCN learns the communities of one graph through compileGraph and the trainer, far above chance', async () => {
    const ds = await loadDataset('communities', {});
    const data = splitDataset(ds, { train: 0.6, val: 0.2, test: 0.2 }, new Generator(0));
    const model = compileGraph(nodeModel(3, 'CrossEntropyLoss', {}));
    const result = await new Trainer({ model, data, settings: withTrainingDefaults({ epochs: 15, batchSize: 24, optimizer: { lr: 0.01 } }) }).run();
    expect(result.status).toBe('completed');
    const test = result.testMetrics!;
    // Chance is 1/3; the metrics read exactly the test nodes.
    expect(test.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(data.test.length);
    expect(test.accuracy).toBeGreaterThan(0.8);
    expect(result.history.at(-1)!.train.loss).toBeLessThan(result.history[0].train.loss);
  });
});
