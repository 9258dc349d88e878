import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import { cpuBackend } from '../../backends/cpu/cpu-backend.ts';
import type { Tensor } from '../../core/tensor.ts';
import { relu, sigmoid, tanh } from '../../ops/activation.ts';
import { randn, zeros } from '../../ops/creation.ts';
import { add, mul, sub } from '../../ops/elementwise.ts';
import { cat, flatten, narrow, reshape, split, squeeze, stack } from '../../ops/layout.ts';
import { crossEntropy } from '../../ops/loss.ts';
import { linear } from '../../ops/matmul.ts';
import { sum } from '../../ops/reduce.ts';
import { rnnLayer, type RnnMode } from '../../ops/rnn.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { Linear } from '../linear.ts';
import { GRU, LSTM, RNN, type RNNBase } from '../rnn.ts';

const gen = new Generator(11);
const r = (...shape: number[]) => randn(shape, 0, 0.6, gen);

/** Unfused reference cell written with plain ops, one gate at a time (torch's formulas). */
function refStep(mode: RnnMode, x: Tensor, h: Tensor, c: Tensor | null, wih: Tensor, whh: Tensor, bih: Tensor | null, bhh: Tensor | null): { h: Tensor; c: Tensor | null } {
  const gi = linear(x, wih, bih);
  const gh = linear(h, whh, bhh);
  if (mode === 'lstm') {
    const [ai, af, ag, ao] = split(add(gi, gh), wih.shape[0] / 4, 1);
    const i = sigmoid(ai);
    const f = sigmoid(af);
    const g = tanh(ag);
    const o = sigmoid(ao);
    const c2 = add(mul(f, c!), mul(i, g));
    return { h: mul(o, tanh(c2)), c: c2 };
  }
  if (mode === 'gru') {
    const H = wih.shape[0] / 3;
    const [ir, iz, inn] = split(gi, H, 1);
    const [hr, hz, hn] = split(gh, H, 1);
    const rg = sigmoid(add(ir, hr));
    const z = sigmoid(add(iz, hz));
    const n = tanh(add(inn, mul(rg, hn)));
    return { h: add(mul(sub(1, z), n), mul(z, h)), c: null };
  }
  const a = add(gi, gh);
  return { h: mode === 'rnn_relu' ? relu(a) : tanh(a), c: null };
}

/** Reference for a whole module: loops over layers, directions and time with refStep. */
function refModule(m: RNNBase, xTime: Tensor): { output: Tensor; hN: Tensor; cN: Tensor | null } {
  const [T, N] = xTime.shape;
  const H = m.hiddenSize;
  const D = m.numDirections;
  let x = xTime;
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let l = 0; l < m.numLayers; l++) {
    const dirs: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      let h = zeros([N, H]);
      let c: Tensor | null = m.mode === 'lstm' ? zeros([N, H]) : null;
      const ys: Tensor[] = new Array<Tensor>(T);
      for (let s = 0; s < T; s++) {
        const t = d ? T - 1 - s : s;
        const res = refStep(m.mode, squeeze(narrow(x, 0, t, 1), 0), h, c, m.getParameter(`weight_ih${sfx}`)!, m.getParameter(`weight_hh${sfx}`)!, m.getParameter(`bias_ih${sfx}`), m.getParameter(`bias_hh${sfx}`));
        h = res.h;
        c = res.c;
        ys[t] = h;
      }
      dirs.push(stack(ys, 0));
      hs.push(h);
      if (c) cs.push(c);
    }
    x = D === 1 ? dirs[0] : cat(dirs, 2);
  }
  return { output: x, hN: stack(hs, 0), cN: cs.length ? stack(cs, 0) : null };
}

function expectClose(a: Tensor, b: Tensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  let maxErr = 0;
  for (let i = 0; i < av.length; i++) maxErr = Math.max(maxErr, Math.abs(av[i] - bv[i]));
  expect(maxErr).toBeLessThan(tol);
}

describe('fused recurrent layers match an unfused per-gate reference', () => {
  const cases: [string, () => RNNBase][] = [
    ['LSTM', () => new LSTM(3, 4, { generator: gen, batchFirst: false })],
    ['LSTM 2 layers bidirectional', () => new LSTM(3, 4, { generator: gen, numLayers: 2, bidirectional: true, batchFirst: false })],
    ['GRU 2 layers bidirectional', () => new GRU(3, 5, { generator: gen, numLayers: 2, bidirectional: true, batchFirst: false })],
    ['GRU without bias', () => new GRU(3, 4, { generator: gen, bias: false, batchFirst: false })],
    ['RNN tanh bidirectional', () => new RNN(3, 4, { generator: gen, bidirectional: true, batchFirst: false })],
    ['RNN relu 2 layers', () => new RNN(3, 4, { generator: gen, nonlinearity: 'relu', numLayers: 2, batchFirst: false })],
  ];
  for (const [label, make] of cases) {
    it(`${label}: outputs, final states and parameter gradients`, () => {
      tidy(() => {
        const m = make();
        const x = r(5, 2, 3).requiresGrad_();
        const got = m.run(x);
        const ref = refModule(m, x);
        expectClose(got.output, ref.output);
        expectClose(got.hN, ref.hN);
        if (ref.cN) expectClose(got.cN!, ref.cN);
        // Same loss through both paths: the BPTT kernel must give the reference gradients.
        const weights = r(...got.output.shape);
        const lossOf = (o: { output: Tensor; hN: Tensor; cN: Tensor | null }) => add(add(sum(mul(o.output, weights)), sum(mul(o.hN, o.hN))), o.cN ? sum(o.cN) : 0);
        const params = [x, ...m.parameters()];
        lossOf(got).backward();
        const fused = params.map((p) => Float32Array.from(p.grad!.dataSync()));
        for (const p of params) p.grad = null;
        lossOf(ref).backward();
        params.forEach((p, i) => {
          const refGrad = p.grad!.dataSync();
          let maxErr = 0;
          for (let k = 0; k < refGrad.length; k++) maxErr = Math.max(maxErr, Math.abs(refGrad[k] - fused[i][k]));
          expect(maxErr, `gradient of parameter ${i}`).toBeLessThan(1e-4);
          p.grad = null;
        });
      });
    });
  }
});

describe('recurrent gradients by finite differences', () => {
  for (const mode of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'] as const) {
    for (const reverse of [false, true]) {
      it(`${mode} layer${reverse ? ' (reverse)' : ''}: input, states, weights and biases`, () => {
        const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
        const H = 3;
        const inputs = [r(4, 2, 3), r(2, H), r(G * H, 3), r(G * H, H), r(G * H), r(G * H), r(2, H)];
        assertGradcheck(
          (x, h0, wih, whh, bih, bhh, c0) => {
            const o = rnnLayer(mode, x, h0, mode === 'lstm' ? c0 : null, { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh }, reverse);
            return cat([flatten(o.output), flatten(o.hN), ...(o.cN ? [flatten(o.cN)] : [])], 0);
          },
          inputs,
          { skip: mode === 'lstm' ? [] : [6] },
        );
      });
    }
  }

  it('stacked bidirectional LSTM with initial states (module)', () => {
    const m = new LSTM(2, 3, { numLayers: 2, bidirectional: true, generator: gen });
    assertGradcheck(
      (x, h0, c0) => {
        const o = m.run(x, h0, c0);
        return cat([flatten(o.output), flatten(o.hN), flatten(o.cN!)], 0);
      },
      [r(2, 3, 2), r(4, 2, 3), r(4, 2, 3)],
      { maxElements: 24 },
    );
  });

  it('stacked bidirectional GRU, batch-first', () => {
    const m = new GRU(2, 3, { numLayers: 2, bidirectional: true, generator: gen });
    assertGradcheck((x, h0) => {
      const o = m.run(x, h0);
      return cat([flatten(o.output), flatten(o.hN)], 0);
    }, [r(2, 4, 2), r(4, 2, 3)]);
  });
});

describe('recurrent module shapes and conventions (as torch.nn)', () => {
  it('LSTM batch-first: output [N, T, D*H], h_n and c_n [D*L, N, H]', () => {
    const m = new LSTM(5, 7, { numLayers: 3, bidirectional: true });
    const o = m.run(r(4, 6, 5));
    expect(o.output.shape).toEqual([4, 6, 14]);
    expect(o.hN.shape).toEqual([6, 4, 7]);
    expect(o.cN!.shape).toEqual([6, 4, 7]);
  });

  it('time-major and unbatched inputs', () => {
    const m = new GRU(5, 7, { batchFirst: false, numLayers: 2 });
    const o = m.run(r(6, 4, 5));
    expect(o.output.shape).toEqual([6, 4, 7]);
    expect(o.hN.shape).toEqual([2, 4, 7]);
    expect(o.cN).toBeNull();
    const u = m.run(r(6, 5));
    expect(u.output.shape).toEqual([6, 7]);
    expect(u.hN.shape).toEqual([2, 7]);
  });

  it('unbatched input gives the same values as a batch of one', () => {
    const m = new LSTM(3, 4, { bidirectional: true, generator: gen });
    const x = r(5, 3);
    const a = m.run(x);
    const b = m.run(reshape(x, [1, 5, 3]));
    expectClose(a.output, reshape(b.output, [5, 8]));
    expectClose(a.hN, reshape(b.hN, [2, 4]));
  });

  it('parameter names, shapes and the default init range', () => {
    const m = new LSTM(10, 16, { numLayers: 2, bidirectional: true });
    const names = m.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`);
    expect(names.slice(0, 8)).toEqual([
      'weight_ih_l0 64x10', 'weight_hh_l0 64x16', 'bias_ih_l0 64', 'bias_hh_l0 64',
      'weight_ih_l0_reverse 64x10', 'weight_hh_l0_reverse 64x16', 'bias_ih_l0_reverse 64', 'bias_hh_l0_reverse 64',
    ]);
    expect(names[8]).toBe('weight_ih_l1 64x32');
    expect(m.numParameters()).toBe(2 * (64 * 10 + 64 * 16 + 128) + 2 * (64 * 32 + 64 * 16 + 128));
    const bound = 1 / Math.sqrt(16);
    for (const p of m.parameters()) {
      const v = p.dataSync();
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of v) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      expect(lo).toBeGreaterThanOrEqual(-bound);
      expect(hi).toBeLessThanOrEqual(bound);
      if (v.length > 60) expect(hi - lo).toBeGreaterThan(bound);
    }
    expect(new GRU(4, 6).getParameter('weight_hh_l0')!.shape).toEqual([18, 6]);
    expect(new RNN(4, 6, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight_ih_l0', 'weight_hh_l0']);
  });

  it('the reverse direction at position t has read x[t..T-1]', () => {
    const m = new RNN(1, 2, { bidirectional: true, generator: gen });
    const x = tensor([0.5, -1, 2], [1, 3, 1]);
    const x2 = tensor([0.5, -1, -3], [1, 3, 1]);
    const a = m.run(x).output.dataSync();
    const b = m.run(x2).output.dataSync();
    // Forward half at t = 0 ignores x[2]; the reverse half at t = 0 depends on it.
    expect(a[0]).toBeCloseTo(b[0], 6);
    expect(Math.abs(a[2] - b[2]) + Math.abs(a[3] - b[3])).toBeGreaterThan(1e-4);
  });

  it('dropout between layers acts in training only', () => {
    const m = new GRU(3, 8, { numLayers: 2, dropout: 0.5, generator: new Generator(3) });
    const x = r(2, 4, 3);
    const a = m.run(x).output.dataSync().slice();
    const b = m.run(x).output.dataSync().slice();
    expect(a.some((v, i) => Math.abs(v - b[i]) > 1e-6)).toBe(true);
    m.eval();
    const c = m.run(x).output.dataSync().slice();
    const d = m.run(x).output.dataSync().slice();
    expect(Array.from(c)).toEqual(Array.from(d));
  });

  it('a training step inside tidy frees every intermediate, saved gates included', () => {
    const m = new LSTM(3, 5, { numLayers: 2, bidirectional: true, generator: gen });
    const x = r(2, 4, 3);
    const step = () => tidy(() => {
      sum(m.run(x).output).backward();
    });
    step();
    m.zeroGrad();
    const before = cpuBackend.memory().tensors;
    step();
    m.zeroGrad();
    expect(cpuBackend.memory().tensors).toBe(before);
  });

  it('rejects bad shapes with the numbers', () => {
    const m = new LSTM(3, 4, { numLayers: 2 });
    expect(() => m.run(r(2, 5, 6))).toThrow(/6 features.*input_size 3/);
    expect(() => m.run(r(2, 5, 3), r(1, 2, 4))).toThrow(/h0 must be \[2, 2, 4\].*got \[1, 2, 4\]/);
    expect(() => new LSTM(3, 0)).toThrow(/hidden_size/);
  });
});

describe('an LSTM learns to tell sine waves from square waves', () => {
  it('reaches high accuracy on held-out sequences within a few hundred steps', () => {
    const g = new Generator(5);
    const T = 12;
    const makeBatch = (n: number) => {
      const xs = new Float32Array(n * T);
      const ys: number[] = [];
      for (let b = 0; b < n; b++) {
        const label = g.int(2);
        const freq = 0.3 + 0.5 * g.random();
        const phase = g.random() * 2 * Math.PI;
        const amp = 0.5 + g.random();
        for (let t = 0; t < T; t++) {
          const s = Math.sin(freq * t + phase);
          xs[b * T + t] = amp * (label === 0 ? s : Math.sign(s)) + 0.05 * g.normal();
        }
        ys.push(label);
      }
      return { x: tensor(xs, [n, T, 1]), y: tensor(ys, [n], 'int32') };
    };
    const lstm = new LSTM(1, 12, { generator: g });
    const head = new Linear(12, 2, { generator: g });
    const params = [...lstm.parameters(), ...head.parameters()];
    // Adam, written here so the test does not depend on the optimiser package.
    const m1 = params.map((p) => new Float32Array(p.size));
    const m2 = params.map((p) => new Float32Array(p.size));
    const lr = 0.03;
    const accuracy = (x: Tensor, y: Tensor) => {
      const logits = head.forward(squeeze(lstm.run(x).hN, 0)).dataSync();
      const yv = y.dataSync();
      let ok = 0;
      for (let i = 0; i < yv.length; i++) ok += (logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === yv[i] ? 1 : 0;
      return ok / yv.length;
    };
    for (let step = 1; step <= 150; step++) {
      tidy(() => {
        const { x, y } = makeBatch(32);
        const loss = crossEntropy(head.forward(squeeze(lstm.run(x).hN, 0)), y);
        loss.backward();
        params.forEach((p, i) => {
          const gv = p.grad!.dataSync();
          const v = Float32Array.from(p.dataSync());
          for (let k = 0; k < v.length; k++) {
            m1[i][k] = 0.9 * m1[i][k] + 0.1 * gv[k];
            m2[i][k] = 0.999 * m2[i][k] + 0.001 * gv[k] * gv[k];
            const mh = m1[i][k] / (1 - 0.9 ** step);
            const vh = m2[i][k] / (1 - 0.999 ** step);
            v[k] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
          }
          p.assign(tensor(v, p.shape));
          p.grad = null;
        });
      });
    }
    const test = makeBatch(200);
    expect(accuracy(test.x, test.y)).toBeGreaterThan(0.9);
  });
});
