import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { relu } from '../../ops/activation.ts';
import { int32, randn } from '../../ops/creation.ts';
import { batchGraphs, globalAddPool, globalMaxPool, globalMeanPool, propagate, scatter, scatterSoftmax } from '../../ops/graph.ts';
import { indexSelect } from '../../ops/layout.ts';
import { linear } from '../../ops/matmul.ts';
import { assertGradcheck, assertParamGradcheck } from '../../testing/gradcheck.ts';
import { DeepSets, GATConv, GCNConv, GlobalPool } from '../gnn.ts';
import { Linear } from '../linear.ts';
import { Module } from '../module.ts';

const gen = new Generator(21);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);

/** Finite differences on module parameters (see assertParamGradcheck). */
function assertParamGrads(params: Tensor[], out: () => Tensor, maxElements = 10, tol = 2e-2): void {
  assertParamGradcheck(params, out, { generator: gen, maxElements, tol });
}

// 0 -> 1, 1 -> 0, 1 -> 2, 2 -> 1 (the path 0 - 1 - 2), plus 3 -> 0 in some tests.
const path = int32([0, 1, 1, 2, 1, 0, 2, 1], [2, 4]);

describe('scatter reductions', () => {
  it('sum, mean and max with empty groups giving 0', () => {
    const src = tensor([1, 10, 2, 20, 3, 30, -4, -40], [4, 2]);
    const index = int32([0, 2, 0, 2]);
    expect(Array.from(scatter(src, index, 3, 'sum').dataSync())).toEqual([4, 40, 0, 0, -2, -20]);
    expect(Array.from(scatter(src, index, 3, 'mean').dataSync())).toEqual([2, 20, 0, 0, -1, -10]);
    expect(Array.from(scatter(src, index, 3, 'max').dataSync())).toEqual([3, 30, 0, 0, 2, 20]);
  });

  it('gradients by finite differences', () => {
    const index = int32([0, 2, 0, 2, 1, 2]);
    for (const reduce of ['sum', 'mean', 'max'] as const) {
      assertGradcheck((s) => scatter(s, index, 4, reduce), [r(6, 3)]);
      assertGradcheck((s) => scatter(s, index, 3, reduce), [r(6, 2, 2)]);
    }
    assertGradcheck((s) => scatterSoftmax(s, index, 3), [r(6, 2)]);
  });

  it('softmax over groups sums to one per group', () => {
    const s = scatterSoftmax(r(6, 1), int32([0, 1, 0, 1, 1, 2]), 3).dataSync();
    expect(s[0] + s[2]).toBeCloseTo(1, 6);
    expect(s[1] + s[3] + s[4]).toBeCloseTo(1, 6);
    expect(s[5]).toBeCloseTo(1, 6);
  });

  it('rejects out-of-range indices and edges with the numbers', () => {
    expect(() => scatter(r(2, 1), int32([0, 5]), 3)).toThrow(/index 5 at position 1 is outside \[0, 3\)/);
    expect(() => propagate(r(3, 2), int32([0, 1, 1, 7], [2, 2]))).toThrow(/target of edge 1 is node 7, but the graph has 3 nodes/);
    expect(() => propagate(r(3, 2), tensor([0, 1], [2, 1]))).toThrow(/edge_index must be int32 \[2, num_edges\]/);
  });
});

describe('GCNConv', () => {
  it('matches the hand-computed D^-1/2 (A+I) D^-1/2 X on a 3-node path', () => {
    const conv = new GCNConv(1, 1);
    conv.lin.weight.assign(tensor([1], [1, 1]));
    const out = conv.forward(tensor([1, 2, 3], [3, 1]), path).dataSync();
    // degrees with self-loops: 2, 3, 2
    const s6 = Math.sqrt(6);
    const expected = [1 / 2 + 2 / s6, 1 / s6 + 2 / 3 + 3 / s6, 2 / s6 + 3 / 2];
    expected.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });

  it('keeps the weight of an existing self-loop and uses edge weights', () => {
    const conv = new GCNConv(1, 1, { bias: false });
    conv.lin.weight.assign(tensor([1], [1, 1]));
    // 0 -> 1 (w 2), 1 -> 0 (w 2), 0 -> 0 (w 3)
    const out = conv.forward(tensor([1, 2], [2, 1]), int32([0, 1, 0, 1, 0, 0], [2, 3]), tensor([2, 2, 3], [3])).dataSync();
    // deg0 = 2 + 3 = 5, deg1 = 2 + 1 = 3
    expect(out[0]).toBeCloseTo((3 / 5) * 1 + (2 / Math.sqrt(15)) * 2, 5);
    expect(out[1]).toBeCloseTo((2 / Math.sqrt(15)) * 1 + (1 / 3) * 2, 5);
  });

  it('parameter names and shapes as PyG; gradients of features and parameters', () => {
    const conv = new GCNConv(3, 4, { generator: gen });
    expect(conv.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['bias 4', 'lin.weight 4x3']);
    conv.bias!.assign(r(4));
    const ei = int32([0, 1, 1, 2, 3, 1, 0, 2, 1, 2], [2, 5]);
    const ew = tensor([0.5, 1, 2, 1.5, 0.7], [5]);
    assertGradcheck((x, w) => conv.forward(x, ei, w), [r(4, 3), ew]);
    const x = r(4, 3);
    assertParamGrads(conv.parameters(), () => conv.forward(x, ei));
  });
});

describe('GATConv', () => {
  /** Dense reference with plain loops over the adjacency (self-loop included). */
  function reference(conv: GATConv, x: Tensor, edges: [number, number][]): number[][] {
    const n = x.shape[0];
    const H = conv.heads;
    const C = conv.outChannels;
    const h = linear(x, conv.lin.weight).dataSync();
    const as = conv.attSrc.dataSync();
    const ad = conv.attDst.dataSync();
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const nbrs = [...edges.filter(([s, t]) => t === i && s !== i).map(([s]) => s), i];
      const row: number[][] = [];
      for (let k = 0; k < H; k++) {
        const score = (j: number) => {
          let e = 0;
          for (let c = 0; c < C; c++) e += ad[k * C + c] * h[i * H * C + k * C + c] + as[k * C + c] * h[j * H * C + k * C + c];
          return e > 0 ? e : 0.2 * e;
        };
        const es = nbrs.map(score);
        const m = Math.max(...es);
        const w = es.map((e) => Math.exp(e - m));
        const z = w.reduce((a, b) => a + b, 0);
        row.push(Array.from({ length: C }, (_, c) => nbrs.reduce((acc, j, q) => acc + (w[q] / z) * h[j * H * C + k * C + c], 0)));
      }
      out.push(conv.concat ? row.flat() : row[0].map((_, c) => row.reduce((a, hr) => a + hr[c], 0) / H));
    }
    return out;
  }

  const edges: [number, number][] = [[0, 1], [1, 0], [1, 2], [2, 1], [3, 1], [2, 2]];
  const ei = int32([...edges.map((e) => e[0]), ...edges.map((e) => e[1])], [2, edges.length]);

  for (const concat of [true, false]) {
    it(`matches a dense softmax-over-neighbours reference (3 heads, concat ${concat})`, () => {
      const conv = new GATConv(3, 2, { heads: 3, concat, generator: gen });
      const x = r(4, 3);
      const got = conv.attend(x, ei);
      const ref = reference(conv, x, edges);
      const v = got.output.dataSync();
      const width = concat ? 6 : 2;
      expect(got.output.shape).toEqual([4, width]);
      ref.forEach((row, i) => row.forEach((val, c) => expect(v[i * width + c]).toBeCloseTo(val, 5)));
      // Attention: [E + n, heads]; the given loop 2 -> 2 is replaced by the added one.
      expect(got.attention.shape).toEqual([edges.length + 4, 3]);
      const a = got.attention.dataSync();
      for (let k = 0; k < 3; k++) expect(a[5 * 3 + k]).toBe(0);
      const tgt = got.edgeIndex.dataSync().slice(got.edgeIndex.shape[1]);
      for (let node = 0; node < 4; node++) {
        for (let k = 0; k < 3; k++) {
          let s = 0;
          tgt.forEach((t, e) => {
            if (t === node) s += a[e * 3 + k];
          });
          expect(s).toBeCloseTo(1, 5);
        }
      }
    });
  }

  it('parameter names and shapes as PyG; gradients', () => {
    const conv = new GATConv(3, 2, { heads: 2, generator: gen });
    expect(conv.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['att_src 1x2x2', 'att_dst 1x2x2', 'bias 4', 'lin.weight 4x3']);
    assertGradcheck((x) => conv.forward(x, ei), [r(4, 3)]);
    const x = r(4, 3);
    assertParamGrads(conv.parameters(), () => conv.forward(x, ei));
    const mean = new GATConv(3, 2, { heads: 2, concat: false, generator: gen });
    expect(mean.bias!.shape).toEqual([2]);
    assertGradcheck((x2) => mean.forward(x2, ei), [r(4, 3)]);
  });
});

describe('multi-graph batches and readout', () => {
  const g1 = { x: r(3, 2), edgeIndex: path };
  const g2 = { x: r(2, 2), edgeIndex: int32([0, 1, 1, 0], [2, 2]) };

  it('batches graphs with offset edges and a batch vector', () => {
    const b = batchGraphs([g1, g2]);
    expect(b.x.shape).toEqual([5, 2]);
    expect(Array.from(b.edgeIndex.dataSync())).toEqual([0, 1, 1, 2, 3, 4, 1, 0, 2, 1, 4, 3]);
    expect(Array.from(b.batch.dataSync())).toEqual([0, 0, 0, 1, 1]);
    expect(b.numGraphs).toBe(2);
  });

  it('a GCN over the batch equals the GCN over each graph', () => {
    const conv = new GCNConv(2, 3, { generator: gen });
    const b = batchGraphs([g1, g2]);
    const together = conv.forward(b.x, b.edgeIndex).dataSync();
    const apart = [...conv.forward(g1.x, g1.edgeIndex).dataSync(), ...conv.forward(g2.x, g2.edgeIndex).dataSync()];
    apart.forEach((v, i) => expect(together[i]).toBeCloseTo(v, 6));
  });

  it('global pools: values and gradients through a GCN on a multi-graph batch', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
    const batch = int32([0, 0, 0, 1, 1]);
    expect(Array.from(globalAddPool(x, batch).dataSync())).toEqual([9, 12, 16, 18]);
    expect(Array.from(globalMeanPool(x, batch).dataSync())).toEqual([3, 4, 8, 9]);
    expect(Array.from(globalMaxPool(x, batch).dataSync())).toEqual([5, 6, 9, 10]);
    const b = batchGraphs([g1, g2]);
    const conv = new GCNConv(2, 3, { generator: gen });
    for (const mode of ['sum', 'mean', 'max'] as const) {
      const pool = new GlobalPool(mode);
      assertGradcheck((xx) => pool.pool(relu(conv.forward(xx, b.edgeIndex)), b.batch, 2), [r(5, 2)]);
    }
  });

  it('readouts and DeepSets are invariant to the order of nodes and set elements', () => {
    tidy(() => {
      const n = 7;
      const x = r(n, 4);
      const batch = int32([0, 1, 0, 2, 1, 2, 2]);
      const perm = gen.permutation(n);
      const px = indexSelect(x, 0, int32(perm));
      const pb = indexSelect(batch, 0, int32(perm));
      for (const pool of [globalAddPool, globalMeanPool, globalMaxPool]) {
        const a = pool(x, batch, 3).dataSync();
        const b = pool(px, pb, 3).dataSync();
        a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
      }
      class Mlp extends Module {
        readonly l1: Linear;
        readonly l2: Linear;
        constructor(i: number, h: number, o: number) {
          super();
          this.l1 = this.registerModule('l1', new Linear(i, h, { generator: gen }));
          this.l2 = this.registerModule('l2', new Linear(h, o, { generator: gen }));
        }
        forward(t: Tensor): Tensor {
          return this.l2.forward(relu(this.l1.forward(t)));
        }
      }
      for (const mode of ['sum', 'mean', 'max'] as const) {
        const ds = new DeepSets(new Mlp(4, 8, 6), new Mlp(6, 8, 2), mode);
        const a = ds.forwardBatch(x, batch, 3).dataSync();
        const b = ds.forwardBatch(px, pb, 3).dataSync();
        a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
        // Dense sets [N, S, F]: permuting the set dimension changes nothing.
        const sets = r(2, 5, 4);
        const sp = indexSelect(sets, 1, int32(gen.permutation(5)));
        const c = ds.forward(sets).dataSync();
        const d = ds.forward(sp).dataSync();
        c.forEach((v, i) => expect(d[i]).toBeCloseTo(v, 5));
        // ...while the output does depend on the set's contents.
        const e = ds.forward(r(2, 5, 4)).dataSync();
        expect(c.some((v, i) => Math.abs(v - e[i]) > 1e-4)).toBe(true);
        expect(ds.namedParameters().map(([nm]) => nm)).toContain('phi.l1.weight');
        assertParamGrads(ds.parameters(), () => ds.forwardBatch(x, batch, 3), 6);
      }
    });
  });
});
