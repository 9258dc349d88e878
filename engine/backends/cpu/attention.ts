/**
 * Fused scaled dot-product attention on the CPU: scores, mask, softmax, dropout and the
 * weighted sum of values for every (batch, head) in one kernel, and its backward in another.
 * The products of each block are GEMMs on strided operands (matmul.ts); the softmax and its
 * backward are one pass over each row of scores.
 * q, k and v are read through strides, so heads are taken straight out of a packed
 * projection ([N, L, 3E] with the heads side by side) and the output is written with its
 * heads merged or apart, with no permute or split copies.
 *
 * Kernel 'Attention'. Inputs: the distinct source tensors (attrs.sources of them), then the
 * additive float mask (if attrs.mask) and the dropout scale mask [B, heads, L, S] (if
 * attrs.dropout). Element (b, h, l, e) of q lives at off + b*sB + h*sH + l*sL + e of source
 * `src`, with attrs.q = [src, off, sB, sH, sL] (likewise k, v; attrs.out = [sB, sH, sL]);
 * the mask element (b, h, l, j) at b*sB + h*sH + l*sL + j*sS with attrs.mask = those strides.
 * Outputs: the output (attrs.outShape), the attention weights after dropout
 * (attrs.weightsShape, [B, heads, L, S] in order) and, with dropout, the weights before it.
 *
 * Kernel 'AttentionGrad'. Inputs: the forward's inputs, the weights before dropout, the
 * output gradient, (if attrs.weightsGrad) the gradient of the weights after dropout and
 * (if attrs.dropout) the weights after dropout.
 * Outputs: one gradient per source tensor.
 */
import { registerKernel, type Attrs, type TensorInfo } from '../../core/backend.ts';
import { sizeOf } from '../../core/shape.ts';
import { f32, out } from './cpu-backend.ts';
import { expFast } from './fast-math.ts';
import { AttentionBlocks } from './attention-wasm.ts';
import { gemmStrided } from './matmul.ts';

type View = [src: number, off: number, sB: number, sH: number, sL: number];

interface Setup {
  B: number;
  heads: number;
  L: number;
  S: number;
  E: number;
  Ev: number;
  q: View;
  k: View;
  v: View;
  outStrides: [number, number, number];
  maskStrides: [number, number, number, number] | null;
  scale: number;
  causal: boolean;
  sources: Float32Array[];
  mask: Float32Array | null;
  drop: Float32Array | null;
  /** Index of the first input after the sources, mask and dropout mask. */
  next: number;
}

function setup(inputs: readonly TensorInfo[], attrs: Attrs): Setup {
  const nSrc = attrs.sources as number;
  const maskStrides = (attrs.mask as Setup['maskStrides']) ?? null;
  const hasDrop = attrs.dropout as boolean;
  let k = nSrc;
  const mask = maskStrides ? f32(inputs[k++]) : null;
  const drop = hasDrop ? f32(inputs[k++]) : null;
  return {
    B: attrs.B as number,
    heads: attrs.heads as number,
    L: attrs.L as number,
    S: attrs.S as number,
    E: attrs.E as number,
    Ev: attrs.Ev as number,
    q: attrs.q as View,
    k: attrs.k as View,
    v: attrs.v as View,
    outStrides: attrs.out as Setup['outStrides'],
    maskStrides,
    scale: attrs.scale as number,
    causal: attrs.causal as boolean,
    sources: inputs.slice(0, nSrc).map(f32),
    mask,
    drop,
    next: k,
  };
}

/** Keys visible to query l: all S, or j <= l with the causal mask. */
function keysOf(causal: boolean, l: number, S: number): number {
  return causal ? Math.min(S, l + 1) : S;
}

/** A float32 block of scores of at least n elements, reused across calls. */
let scoreScratch = new Float32Array(0);
function scores(n: number): Float32Array {
  if (scoreScratch.length < n) scoreScratch = new Float32Array(n);
  return scoreScratch;
}

registerKernel('Attention', 'cpu', (inputs, attrs) => {
  const s = setup(inputs, attrs);
  const { B, heads, L, S, E, Ev, q, k, v, outStrides, maskStrides, scale, causal, sources, mask, drop } = s;
  const Q = sources[q[0]];
  const K = sources[k[0]];
  const V = sources[v[0]];
  const probs = new Float32Array(B * heads * L * S);
  const weights = drop ? new Float32Array(probs.length) : probs;
  const outSize = sizeOf(attrs.outShape as number[]);
  let res = new Float32Array(0);
  const sc = scores(L * S);
  // With the module, the output is summed there (at mod.at[sources.length]) and read at the end.
  const mod = AttentionBlocks.open(sources, [outSize], Math.max(q[4], k[4], v[4]), L, S, E, Ev);
  if (!mod) res = new Float32Array(outSize);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const qb = q[1] + b * q[2] + h * q[3];
      const kb = k[1] + b * k[2] + h * k[3];
      const vb = v[1] + b * v[2] + h * v[3];
      const ob = b * outStrides[0] + h * outStrides[1];
      const mb = maskStrides ? b * maskStrides[0] + h * maskStrides[1] : 0;
      const w0 = (b * heads + h) * L * S;
      // scores = Q K^T, read at src[so + l*ld + j]
      let src = sc;
      let so = 0;
      let ld = S;
      if (mod) {
        so = mod.product(L, S, E, mod.at[q[0]] + qb, q[4], true, mod.at[k[0]] + kb, k[4], true);
        src = mod.k.view;
        ld = mod.ldc(S);
      } else {
        sc.fill(0, 0, L * S);
        gemmStrided(L, S, E, Q, qb, q[4], 1, K, kb, 1, k[4], sc, 0, S);
      }
      for (let l = 0; l < L; l++) {
        const wr = w0 + l * S;
        const sr = l * S;
        const tr = so + l * ld;
        const J = keysOf(causal, l, S);
        let mx = -Infinity;
        if (mask && maskStrides) {
          const mr = mb + l * maskStrides[2];
          const ms = maskStrides[3];
          for (let j = 0; j < J; j++) {
            const x = src[tr + j] * scale + mask[mr + j * ms];
            sc[sr + j] = x;
            if (x > mx) mx = x;
          }
        } else {
          for (let j = 0; j < J; j++) {
            const x = src[tr + j] * scale;
            sc[sr + j] = x;
            if (x > mx) mx = x;
          }
        }
        if (mx === -Infinity || Number.isNaN(mx)) {
          // Every key blocked (or a NaN score): the row is NaN, as softmax over -Infinity is.
          probs.fill(Number.NaN, wr, wr + S);
          if (drop) weights.fill(Number.NaN, wr, wr + S);
          continue;
        }
        let sum = 0;
        for (let j = 0; j < J; j++) {
          const ex = expFast(sc[sr + j] - mx);
          sc[sr + j] = ex;
          sum += ex;
        }
        const inv = 1 / sum;
        if (drop) {
          for (let j = 0; j < J; j++) {
            const pr = Math.fround(sc[sr + j] * inv);
            probs[wr + j] = pr;
            weights[wr + j] = pr * drop[wr + j];
          }
        } else {
          for (let j = 0; j < J; j++) probs[wr + j] = sc[sr + j] * inv;
        }
      }
      // out = W V, written at the output's strides
      if (mod) {
        const view = mod.k.view;
        view.set(weights.subarray(w0, w0 + L * S), mod.w);
        const c = mod.product(L, Ev, S, mod.w, S, true, mod.at[v[0]] + vb, v[4], false);
        mod.accumulate(c, mod.ldc(Ev), L, Ev, mod.at[sources.length] + ob, outStrides[2]);
      } else {
        gemmStrided(L, Ev, S, weights, w0, S, 1, V, vb, v[4], 1, res, ob, outStrides[2]);
      }
    }
  }
  const wShape = attrs.weightsShape as number[];
  if (mod) res = mod.read(mod.at[sources.length], outSize);
  const outs = [out(res, attrs.outShape as number[]), out(weights, wShape)];
  if (drop) outs.push(out(probs, wShape));
  return outs;
});

registerKernel('AttentionGrad', 'cpu', (inputs, attrs) => {
  const s = setup(inputs, attrs);
  const { B, heads, L, S, E, Ev, q, k, v, outStrides, scale, causal, sources, drop } = s;
  let n = s.next;
  const P = f32(inputs[n++]);
  const dO = f32(inputs[n++]);
  const dW = (attrs.weightsGrad as boolean) ? f32(inputs[n++]) : null;
  const Wd = drop ? f32(inputs[n++]) : P;
  const Q = sources[q[0]];
  const K = sources[k[0]];
  const V = sources[v[0]];
  // With the module, the gradients are summed there (at mod.at[sources.length + 1 + i]) and read at the end.
  const mod = AttentionBlocks.open([...sources, dO], sources.map((src) => src.length), Math.max(q[4], k[4], v[4], outStrides[2]), L, S, E, Ev);
  const dOAt = mod ? mod.at[sources.length] : 0;
  const sumAt = (i: number) => (mod ? mod.at[sources.length + 1 + i] : 0);
  const grads = sources.map((src) => new Float32Array(mod ? 0 : src.length));
  const dQ = grads[q[0]];
  const dK = grads[k[0]];
  const dV = grads[v[0]];
  const dS = scores(L * S);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const qb = q[1] + b * q[2] + h * q[3];
      const kb = k[1] + b * k[2] + h * k[3];
      const vb = v[1] + b * v[2] + h * v[3];
      const ob = b * outStrides[0] + h * outStrides[1];
      const w0 = (b * heads + h) * L * S;
      // weights after dropout: W' = P * D, as the forward returned them
      const wArr = Wd;
      const wOff = w0;
      // dW' = dO V^T, read at src[so + l*ld + j]
      let src = dS;
      let so = 0;
      let ld = S;
      if (mod) {
        // dV += W'^T dO; dW' = dO V^T
        const view = mod.k.view;
        view.set(wArr.subarray(wOff, wOff + L * S), mod.w);
        const c = mod.product(S, Ev, L, mod.w, S, false, dOAt + ob, outStrides[2], false);
        mod.accumulate(c, mod.ldc(Ev), S, Ev, sumAt(v[0]) + vb, v[4]);
        so = mod.product(L, S, Ev, dOAt + ob, outStrides[2], true, mod.at[v[0]] + vb, v[4], true);
        src = mod.k.view;
        ld = mod.ldc(S);
      } else {
        // dV += W'^T dO
        gemmStrided(S, Ev, L, wArr, wOff, 1, S, dO, ob, outStrides[2], 1, dV, vb, v[4]);
        // dW' = dO V^T (+ the weights' own gradient)
        dS.fill(0, 0, L * S);
        gemmStrided(L, S, Ev, dO, ob, outStrides[2], 1, V, vb, 1, v[4], dS, 0, S);
      }
      // softmax backward: dScore = P (dP - sum(dP P)) * scale, with dP = dW' * D
      for (let l = 0; l < L; l++) {
        const wr = w0 + l * S;
        const sr = l * S;
        const tr = so + l * ld;
        const J = keysOf(causal, l, S);
        let r = 0;
        if (dW && drop) {
          for (let j = 0; j < J; j++) {
            const g = (src[tr + j] + dW[wr + j]) * drop[wr + j];
            dS[sr + j] = g;
            r += g * P[wr + j];
          }
        } else if (dW) {
          for (let j = 0; j < J; j++) {
            const g = src[tr + j] + dW[wr + j];
            dS[sr + j] = g;
            r += g * P[wr + j];
          }
        } else if (drop) {
          for (let j = 0; j < J; j++) {
            const g = src[tr + j] * drop[wr + j];
            dS[sr + j] = g;
            r += g * P[wr + j];
          }
        } else {
          for (let j = 0; j < J; j++) {
            const g = src[tr + j];
            dS[sr + j] = g;
            r += g * P[wr + j];
          }
        }
        // into the module's operand area when the products run there
        const dst = mod ? mod.k.view : dS;
        const dr = mod ? mod.w + sr : sr;
        for (let j = 0; j < J; j++) dst[dr + j] = P[wr + j] * (dS[sr + j] - r) * scale;
        for (let j = J; j < S; j++) dst[dr + j] = 0;
      }
      // dQ += dS K; dK += dS^T Q
      if (mod) {
        let c = mod.product(L, E, S, mod.w, S, true, mod.at[k[0]] + kb, k[4], false);
        mod.accumulate(c, mod.ldc(E), L, E, sumAt(q[0]) + qb, q[4]);
        c = mod.product(S, E, L, mod.w, S, false, mod.at[q[0]] + qb, q[4], false);
        mod.accumulate(c, mod.ldc(E), S, E, sumAt(k[0]) + kb, k[4]);
      } else {
        gemmStrided(L, E, S, dS, 0, S, 1, K, kb, k[4], 1, dQ, qb, q[4]);
        gemmStrided(S, E, L, dS, 0, 1, S, Q, qb, q[4], 1, dK, kb, k[4]);
      }
    }
  }
  return grads.map((g, i) => out(mod ? mod.read(sumAt(i), sources[i].length) : g, inputs[i].shape));
});
