import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Tensor } from '../../core/tensor.ts';
import { gelu, relu } from '../../ops/activation.ts';
import { causalMask, paddingMaskFromLengths, paddingMaskFromTokens } from '../../ops/attention.ts';
import { conv2d } from '../../ops/conv.ts';
import { int32, randn } from '../../ops/creation.ts';
import { add } from '../../ops/elementwise.ts';
import { cat, flatten, narrow, permute, reshape } from '../../ops/layout.ts';
import { crossEntropy } from '../../ops/loss.ts';
import { layerNorm } from '../../ops/norm.ts';
import { argmax } from '../../ops/reduce.ts';
import { assertGradcheck, assertParamGradcheck } from '../../testing/gradcheck.ts';
import { Embedding } from '../embedding.ts';
import { Linear } from '../linear.ts';
import { LayerNorm } from '../norm.ts';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '../sequence.ts';
import { PatchEmbedding, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer } from '../transformer.ts';

const gen = new Generator(9);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);
const arr = (t: Tensor) => Array.from(t.dataSync());

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
}

/** Finite differences on module parameters (see assertParamGradcheck). */
function assertParamGrads(params: Tensor[], out: () => Tensor, maxElements = 4, tol = 3e-2): void {
  assertParamGradcheck(params, out, { generator: gen, maxElements, tol });
}

describe('TransformerEncoderLayer', () => {
  it('parameter names as torch', () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(layer.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'self_attn.in_proj_weight 24x8', 'self_attn.in_proj_bias 24', 'self_attn.out_proj.weight 8x8', 'self_attn.out_proj.bias 8',
      'linear1.weight 16x8', 'linear1.bias 16', 'linear2.weight 8x16', 'linear2.bias 8',
      'norm1.weight 8', 'norm1.bias 8', 'norm2.weight 8', 'norm2.bias 8',
    ]);
    expect(new TransformerEncoderLayer(8, 2).ff.linear1.outFeatures).toBe(2048);
  });

  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      it(`equals its formula written with ops (normFirst ${normFirst}, ${activation})`, () => {
        const layer = new TransformerEncoderLayer(6, 3, { dimFeedforward: 10, normFirst, activation, generator: gen }).eval();
        for (const p of layer.parameters()) p.assign(r(...p.shape));
        const x = r(2, 4, 6);
        const pad = paddingMaskFromLengths([4, 2], 4);
        const ln = (t: Tensor, m: LayerNorm) => layerNorm(t, [6], m.weight, m.bias, 1e-5);
        const sa = (t: Tensor) => layer.selfAttn.attend(t, t, t, { keyPaddingMask: pad }).output;
        const ff = (t: Tensor) => layer.ff.linear2.forward(activation === 'relu' ? relu(layer.ff.linear1.forward(t)) : gelu(layer.ff.linear1.forward(t)));
        let ref: Tensor;
        if (normFirst) {
          const h = add(x, sa(ln(x, layer.norm1)));
          ref = add(h, ff(ln(h, layer.norm2)));
        } else {
          const h = ln(add(x, sa(x)), layer.norm1);
          ref = ln(add(h, ff(h)), layer.norm2);
        }
        expectClose(arr(layer.forward(x, null, pad)), arr(ref), 1e-4);
      });
    }
  }

  it('gradients of the input (with masks) and of every parameter', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, generator: gen }).eval();
    const pad = paddingMaskFromLengths([3, 2], 3);
    assertGradcheck((x) => layer.encode(x, { keyPaddingMask: pad, isCausal: true }), [r(2, 3, 4)], { atol: 2e-3, rtol: 2e-2 });
    const pre = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, normFirst: true, generator: gen }).eval();
    assertGradcheck((x) => pre.encode(x, { mask: causalMask(3) }), [r(2, 3, 4)], { atol: 2e-3, rtol: 2e-2 });
    const x = r(2, 3, 4);
    assertParamGrads(layer.parameters(), () => layer.encode(x, { keyPaddingMask: pad }));
  });

  it('a causal mask stops later positions from influencing earlier ones', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, generator: gen }).eval();
    const x = r(1, 4, 4);
    const x2 = cat([narrow(x, 1, 0, 2), r(1, 2, 4)], 1);
    const a = arr(layer.encode(x, { isCausal: true }));
    const b = arr(layer.encode(x2, { isCausal: true }));
    expectClose(a.slice(0, 8), b.slice(0, 8));
    expect(Math.abs(a[12] - b[12])).toBeGreaterThan(1e-4);
  });

  it('dropout is active in training and off in eval; sequence-first layout', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.5, generator: new Generator(2) });
    const x = r(2, 3, 4);
    expect(arr(layer.forward(x))).not.toEqual(arr(layer.forward(x)));
    layer.eval();
    expect(arr(layer.forward(x))).toEqual(arr(layer.forward(x)));
    const seqFirst = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, batchFirst: false }).eval();
    seqFirst.loadStateDict(new Map([...layer.stateDict()].map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() }])));
    expectClose(arr(permute(seqFirst.forward(permute(x, [1, 0, 2])), [1, 0, 2])), arr(layer.forward(x)));
  });
});

describe('token sequences with padding', () => {
  it('padding tokens (Embedding padding_idx + key-padding mask) leave the real positions unchanged', () => {
    const emb = new Embedding(7, 8, { paddingIdx: 0, generator: gen });
    const pos = new SinusoidalPositionalEncoding(8);
    const enc = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, generator: gen }).eval();
    const run = (tokens: number[]) => {
      const ids = int32(tokens, [1, tokens.length]);
      return enc.encode(pos.forward(emb.forward(ids)), { keyPaddingMask: paddingMaskFromTokens(ids, 0) });
    };
    const short = arr(run([3, 5, 2]));
    const padded = arr(run([3, 5, 2, 0, 0]));
    expectClose(padded.slice(0, short.length), short, 1e-5);
  });
});

describe('TransformerDecoderLayer, stacks', () => {
  it('decoder parameter names and gradients of target and memory', () => {
    const layer = new TransformerDecoderLayer(4, 2, { dimFeedforward: 8, generator: gen }).eval();
    const names = layer.namedParameters().map(([n]) => n);
    expect(names.filter((n) => n.startsWith('multihead_attn.'))).toEqual(['multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias']);
    expect(names).toContain('norm3.weight');
    const memPad = paddingMaskFromLengths([5, 3], 5);
    assertGradcheck((t, m) => layer.decode(t, m, { tgtIsCausal: true, memoryKeyPaddingMask: memPad }), [r(2, 3, 4), r(2, 5, 4)], { atol: 2e-3, rtol: 2e-2 });
    const t = r(2, 3, 4);
    const m = r(2, 5, 4);
    assertParamGrads(layer.parameters(), () => layer.decode(t, m, { tgtMask: causalMask(3) }), 2);
  });

  it('encoder and decoder stacks name layers.{i}.* and apply a final norm', () => {
    const enc = new TransformerEncoder(() => new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, generator: gen }), 2, { norm: new LayerNorm(4) }).eval();
    const names = enc.namedParameters().map(([n]) => n);
    expect(names).toContain('layers.0.self_attn.in_proj_weight');
    expect(names).toContain('layers.1.norm2.bias');
    expect(names).toContain('norm.weight');
    const x = r(2, 3, 4);
    const manual = layerNorm(enc.layers[1].forward(enc.layers[0].forward(x)), [4]);
    expectClose(arr(enc.forward(x)), arr(manual), 1e-5);
    const dec = new TransformerDecoder(() => new TransformerDecoderLayer(4, 2, { dimFeedforward: 8, generator: gen }), 2).eval();
    expect(dec.decode(r(2, 5, 4), enc.forward(x), { tgtIsCausal: true }).shape).toEqual([2, 5, 4]);
    expect(() => enc.forward(r(2, 3, 5))).toThrow(/d_model 4.*\[2, 3, 5\]/);
  });
});

describe('positional encodings and patch embedding', () => {
  it('sinusoidal values as in Vaswani et al.', () => {
    const pe = new SinusoidalPositionalEncoding(4, { maxLen: 10 });
    const v = arr(pe.encodings(3));
    expectClose(v.slice(0, 4), [0, 1, 0, 1]);
    expectClose(v.slice(4, 8), [Math.sin(1), Math.cos(1), Math.sin(1 / 100), Math.cos(1 / 100)]);
    expectClose(v.slice(8, 12), [Math.sin(2), Math.cos(2), Math.sin(2 / 100), Math.cos(2 / 100)]);
    const x = r(2, 3, 4);
    expectClose(arr(pe.forward(x)), arr(add(x, pe.encodings(3))));
    expect(pe.numParameters()).toBe(0);
    expect(() => pe.forward(r(1, 11, 4))).toThrow(/length 11 is longer than max_len 10/);
  });

  it('learned position embedding adds rows 0..T-1 and has gradients', () => {
    const pe = new LearnedPositionalEmbedding(6, 3, { generator: gen });
    expect(pe.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['weight 6x3']);
    const x = r(2, 4, 3);
    expectClose(arr(pe.forward(x)), arr(add(x, narrow(pe.weight, 0, 0, 4))));
    assertGradcheck((t) => pe.forward(t), [x]);
    assertParamGrads(pe.parameters(), () => pe.forward(x));
  });

  it('ViT patch embedding equals a strided conv stem plus class token and positions', () => {
    const pe = new PatchEmbedding([8, 12], 4, 2, 5, { generator: gen });
    expect(pe.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['cls_token 1x1x5', 'pos_embed 1x7x5', 'proj.weight 5x2x4x4', 'proj.bias 5']);
    const x = r(3, 2, 8, 12);
    const out = pe.forward(x);
    expect(out.shape).toEqual([3, 7, 5]);
    const conv = conv2d(x, pe.proj.weight, pe.proj.bias, { stride: 4 });
    const tokens = permute(flatten(conv, 2), [0, 2, 1]);
    const cls = reshape(cat([pe.clsToken!, pe.clsToken!, pe.clsToken!], 0), [3, 1, 5]);
    expectClose(arr(out), arr(add(cat([cls, tokens], 1), pe.posEmbed)), 1e-4);
    assertGradcheck((t) => pe.forward(t), [r(1, 2, 8, 12)]);
    assertParamGrads(pe.parameters(), () => pe.forward(x));
    expect(() => new PatchEmbedding(10, 4, 1, 8)).toThrow(/10x10 is not divisible by patch size 4/);
  });
});

describe('a small transformer learns to reverse sequences', () => {
  it('reaches high per-token accuracy on held-out sequences', () => {
    tidy(() => {
      const g = new Generator(4);
      const V = 5;
      const T = 5;
      const d = 16;
      const embed = new Linear(V, d, { generator: g });
      const pos = new LearnedPositionalEmbedding(T, d, { generator: g });
      const enc = new TransformerEncoder(() => new TransformerEncoderLayer(d, 2, { dimFeedforward: 32, dropout: 0, generator: g }), 1);
      const head = new Linear(d, V, { generator: g });
      const params = [...embed.parameters(), ...pos.parameters(), ...enc.parameters(), ...head.parameters()];
      const batch = (n: number) => {
        const oneHot = new Float32Array(n * T * V);
        const target: number[] = [];
        for (let b = 0; b < n; b++) {
          const seq = Array.from({ length: T }, () => g.int(V));
          seq.forEach((tok, t) => (oneHot[(b * T + t) * V + tok] = 1));
          target.push(...seq.reverse());
        }
        return { x: tensor(oneHot, [n, T, V]), y: tensor(target, [n * T], 'int32') };
      };
      const logits = (x: Tensor) => reshape(head.forward(enc.forward(pos.forward(embed.forward(x)))), [-1, V]);
      const m1 = params.map((p) => new Float32Array(p.size));
      const m2 = params.map((p) => new Float32Array(p.size));
      for (let step = 1; step <= 150; step++) {
        tidy(() => {
          const { x, y } = batch(32);
          crossEntropy(logits(x), y).backward();
          const lr = 1e-2;
          params.forEach((p, i) => {
            const gv = p.grad!.dataSync();
            const v = Float32Array.from(p.dataSync());
            for (let k = 0; k < v.length; k++) {
              m1[i][k] = 0.9 * m1[i][k] + 0.1 * gv[k];
              m2[i][k] = 0.999 * m2[i][k] + 0.001 * gv[k] * gv[k];
              v[k] -= (lr * (m1[i][k] / (1 - 0.9 ** step))) / (Math.sqrt(m2[i][k] / (1 - 0.999 ** step)) + 1e-8);
            }
            p.assign(tensor(v, p.shape));
            p.grad = null;
          });
        });
      }
      enc.eval();
      const test = batch(200);
      const pred = argmax(logits(test.x), 1).dataSync();
      const yv = test.y.dataSync();
      let ok = 0;
      for (let i = 0; i < yv.length; i++) ok += pred[i] === yv[i] ? 1 : 0;
      // Chance is 1 / V = 0.2.
      expect(ok / yv.length).toBeGreaterThan(0.9);
    });
  }, 60_000);
});
