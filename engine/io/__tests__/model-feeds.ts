/** Random weights and random batches for comparing a compiled model with its exports. */
import { tensor } from '../../core/engine.ts';
import type { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import { outputPorts } from '../../graph/catalogue.ts';
import type { GraphModel } from '../../graph/compile.ts';

/**
 * Replaces every state entry with random values: floats in [-0.6, 0.6], variances in
 * [0.5, 1.5], counters 3. Trained-looking weights make the comparisons stronger than the
 * initial ones (zero biases, unit variances).
 */
export function randomiseState(model: GraphModel, gen: Generator): void {
  const state = new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  for (const [name, t] of model.stateDict()) {
    const n = t.size;
    if (t.dtype === 'int32') state.set(name, { shape: [...t.shape], values: new Int32Array(n).fill(3) });
    else if (name.endsWith('running_var')) state.set(name, { shape: [...t.shape], values: Float32Array.from({ length: n }, () => 0.5 + gen.random()) });
    else state.set(name, { shape: [...t.shape], values: Float32Array.from({ length: n }, () => gen.uniform(-0.6, 0.6)) });
  }
  model.loadStateDict(state);
}

export interface RandomFeed {
  tensor: Tensor;
  shape: number[];
  values: Float32Array | Int32Array;
}

/**
 * A batch for every input (normal floats, or integers below `ints`) and, with `targets`,
 * for every target: class indices below the class count of the loss's prediction, or
 * values in [0, 1].
 */
export function randomFeeds(model: GraphModel, gen: Generator, batch: number, opts: { ints?: number; targets?: boolean } = {}): Record<string, RandomFeed> {
  const feeds: Record<string, RandomFeed> = {};
  const ids = opts.targets ? [...model.inputIds, ...model.targetIds] : model.inputIds;
  const byId = new Map(model.graph.nodes.map((n) => [n.id, n]));
  for (const id of ids) {
    const type = model.analysis.nodes[id]!.outputs[0]!;
    const shape = [batch, ...type.shape];
    const n = shape.reduce((a, b) => a * b, 1);
    if (type.dtype === 'int32') {
      let bound = opts.ints ?? 10;
      if (model.targetIds.includes(id)) {
        // The loss this target feeds: its prediction's last dimension is the class count.
        const lossEdge = model.graph.edges.find((e) => e.source === id);
        const pred = lossEdge && model.graph.edges.find((e) => e.target === lossEdge.target && e.targetPort !== lossEdge.targetPort);
        if (pred) {
          const port = outputPorts(byId.get(pred.source)!).findIndex((p) => p.name === pred.sourcePort);
          const predType = model.analysis.nodes[pred.source]!.outputs[port]!;
          bound = predType.shape[predType.shape.length - 1] ?? bound;
        }
      }
      const values = Int32Array.from({ length: n }, () => gen.int(bound));
      feeds[id] = { tensor: tensor(values, shape, 'int32'), shape, values };
    } else {
      const values = Float32Array.from({ length: n }, () => (model.targetIds.includes(id) ? gen.random() : gen.normal(0, 1)));
      feeds[id] = { tensor: tensor(values, shape), shape, values };
    }
  }
  return feeds;
}

/** Largest |a - b| / (1 + |a|) over two arrays of the same length. */
export function worstRelative(want: ArrayLike<number>, got: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i]! - got[i]!) / (1 + Math.abs(want[i]!)));
  return worst;
}
