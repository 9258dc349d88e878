/**
 * Fused scaled dot-product attention on the CPU: scores, mask, softmax, dropout and the
 * weighted sum of values for every (batch, head) in one kernel, and its backward in another.
 * The products of each block are GEMMs on strided operands (matmul.ts); the softmax and its
 * backward are one pass over each row of scores. Where WebAssembly SIMD is available, both
 * run in the attention module (attention-wasm.ts's products, attention-rows-wasm.ts's row
 * passes), which holds a call's inputs, weights and sums and is read out once per call; the
 * JS loops here are the reference and the fallback.
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
  const n = B * heads * L * S;
  const outSize = sizeOf(attrs.outShape as number[]);
  const sc = scores(L * S);
  // With the module, the mask and dropout mask are copied in after the sources, the output
  // is summed there, and the weights are written there (probabilities, then after dropout)
  // and read out at the end.
  const extra = [...(mask ? [mask] : []), ...(drop ? [drop] : [])];
  const mod = AttentionBlocks.open([...sources, ...extra], [outSize], drop ? [n, n] : [n], Math.max(q[4], k[4], v[4]), L, S, E, Ev);
  let at = sources.length;
  const maskAt = mod && mask ? mod.at[at++] : 0;
  const dropAt = mod && drop ? mod.at[at++] : 0;
  const outAt = mod ? mod.at[at++] : 0;
  const probsAt = mod ? mod.at[at++] : 0;
  const weightsAt = mod && drop ? mod.at[at++] : probsAt;
  const res = new Float32Array(mod ? 0 : outSize);
  let probs = new Float32Array(mod ? 0 : n);
  let weights = drop && !mod ? new Float32Array(n) : probs;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const qb = q[1] + b * q[2] + h * q[3];
      const kb = k[1] + b * k[2] + h * k[3];
      const vb = v[1] + b * v[2] + h * v[3];
      const ob = b * outStrides[0] + h * outStrides[1];
      const mb = maskStrides ? b * maskStrides[0] + h * maskStrides[1] : 0;
      const w0 = (b * heads + h) * L * S;
      if (mod) {
        // scores = Q K^T, softmax rows, out += W V, all in the module
        const so = mod.product(L, S, E, mod.at[q[0]] + qb, q[4], true, mod.at[k[0]] + kb, k[4], true);
        const ld = mod.ldc(S);
        if (mod.rows) {
          const ms = maskStrides ?? [0, 0, 0, 0];
          mod.rows.forward(
            !mask ? 'none' : ms[3] === 1 ? 'rows' : 'strided', drop !== null, L, S, so * 4, ld * 4, scale, causal ? 1 : 0,
            mask ? (maskAt + mb) * 4 : 0, ms[2] * 4, ms[3] * 4, drop ? (dropAt + w0) * 4 : 0, (probsAt + w0) * 4, (weightsAt + w0) * 4,
          );
        } else {
          const view = mod.k.view;
          softmaxRows(s, mb, w0, view, so, ld, sc, view, probsAt + w0, view, weightsAt + w0);
        }
        const c = mod.product(L, Ev, S, weightsAt + w0, S, true, mod.at[v[0]] + vb, v[4], false);
        mod.accumulate(c, mod.ldc(Ev), L, Ev, outAt + ob, outStrides[2]);
      } else {
        // scores = Q K^T
        sc.fill(0, 0, L * S);
        gemmStrided(L, S, E, Q, qb, q[4], 1, K, kb, 1, k[4], sc, 0, S);
        softmaxRows(s, mb, w0, sc, 0, S, sc, probs, w0, weights, w0);
        // out = W V, written at the output's strides
        gemmStrided(L, Ev, S, weights, w0, S, 1, V, vb, v[4], 1, res, ob, outStrides[2]);
      }
    }
  }
  const wShape = attrs.weightsShape as number[];
  if (mod) {
    probs = mod.read(probsAt, n);
    weights = drop ? mod.read(weightsAt, n) : probs;
  }
  const outs = [out(mod ? mod.read(outAt, outSize) : res, attrs.outShape as number[]), out(weights, wShape)];
  if (drop) outs.push(out(probs, wShape));
  return outs;
});

/**
 * The softmax rows of block (b, h), whose dropout mask starts at w0 and mask rows at mb:
 * scores at src[so + l*ld + j] (sc: scratch of L*S floats, which may be src itself) into
 * probabilities at probs[p0 + l*S + j] and, with dropout, weights at weights[q0 + l*S + j];
 * every row written whole (0 past the keys a causal row sees).
 */
function softmaxRows(s: Setup, mb: number, w0: number, src: Float32Array, so: number, ld: number, sc: Float32Array, probs: Float32Array, p0: number, weights: Float32Array, q0: number): void {
  const { L, S, maskStrides, scale, causal, mask, drop } = s;
  for (let l = 0; l < L; l++) {
    const pr0 = p0 + l * S;
    const wr0 = q0 + l * S;
    const dr = w0 + l * S;
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
    if (mx === -Infinity) {
      // Every key blocked: the row is NaN, as softmax over -Infinity is.
      probs.fill(Number.NaN, pr0, pr0 + S);
      if (drop) weights.fill(Number.NaN, wr0, wr0 + S);
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
        probs[pr0 + j] = pr;
        weights[wr0 + j] = pr * drop[dr + j];
      }
      weights.fill(0, wr0 + J, wr0 + S);
    } else {
      for (let j = 0; j < J; j++) probs[pr0 + j] = sc[sr + j] * inv;
    }
    probs.fill(0, pr0 + J, pr0 + S);
  }
}

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
  // With the module, the output gradient, the weights (after dropout, then before), the
  // weights' gradient and the dropout mask are copied in after the sources, and the
  // gradients are summed there and read at the end.
  const extra = [dO, Wd, ...(drop ? [P] : []), ...(dW ? [dW] : []), ...(drop ? [drop] : [])];
  const mod = AttentionBlocks.open([...sources, ...extra], sources.map((src) => src.length), [], Math.max(q[4], k[4], v[4], outStrides[2]), L, S, E, Ev);
  let at = sources.length;
  const dOAt = mod ? mod.at[at++] : 0;
  const WdAt = mod ? mod.at[at++] : 0;
  const PAt = mod && drop ? mod.at[at++] : WdAt;
  const dWAt = mod && dW ? mod.at[at++] : 0;
  const dropAt = mod && drop ? mod.at[at++] : 0;
  const sumAt = (i: number) => (mod ? mod.at[sources.length + extra.length + i] : 0);
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
      if (mod) {
        // dV += W'^T dO, with W' = P * D the weights after dropout, as the forward returned them
        let c = mod.product(S, Ev, L, WdAt + w0, S, false, dOAt + ob, outStrides[2], false);
        mod.accumulate(c, mod.ldc(Ev), S, Ev, sumAt(v[0]) + vb, v[4]);
        // dW' = dO V^T, then the softmax backward into the scratch block at mod.w
        const so = mod.product(L, S, Ev, dOAt + ob, outStrides[2], true, mod.at[v[0]] + vb, v[4], true);
        const ld = mod.ldc(S);
        if (mod.rows) {
          mod.rows.backward(
            dW !== null, drop !== null, L, S, so * 4, ld * 4, scale, causal ? 1 : 0,
            (PAt + w0) * 4, dW ? (dWAt + w0) * 4 : 0, drop ? (dropAt + w0) * 4 : 0, mod.w * 4,
          );
        } else {
          softmaxGradRows(s, P, dW, w0, mod.k.view, so, ld, dS, mod.k.view, mod.w);
        }
        // dQ += dS K; dK += dS^T Q
        c = mod.product(L, E, S, mod.w, S, true, mod.at[k[0]] + kb, k[4], false);
        mod.accumulate(c, mod.ldc(E), L, E, sumAt(q[0]) + qb, q[4]);
        c = mod.product(S, E, L, mod.w, S, false, mod.at[q[0]] + qb, q[4], false);
        mod.accumulate(c, mod.ldc(E), S, E, sumAt(k[0]) + kb, k[4]);
      } else {
        // dV += W'^T dO
        gemmStrided(S, Ev, L, Wd, w0, 1, S, dO, ob, outStrides[2], 1, dV, vb, v[4]);
        // dW' = dO V^T
        dS.fill(0, 0, L * S);
        gemmStrided(L, S, Ev, dO, ob, outStrides[2], 1, V, vb, 1, v[4], dS, 0, S);
        softmaxGradRows(s, P, dW, w0, dS, 0, S, dS, dS, 0);
        // dQ += dS K; dK += dS^T Q
        gemmStrided(L, E, S, dS, 0, S, 1, K, kb, k[4], 1, dQ, qb, q[4]);
        gemmStrided(S, E, L, dS, 0, 1, S, Q, qb, q[4], 1, dK, kb, k[4]);
      }
    }
  }
  return grads.map((g, i) => out(mod ? mod.read(sumAt(i), sources[i].length) : g, inputs[i].shape));
});

/**
 * The softmax backward of block (b, h), whose weights and their gradient start at w0:
 * dScore = P (dP - sum(dP P)) * scale with dP = (dW' + the weights' own gradient) * D, from
 * dW' at src[so + l*ld + j] (g: scratch of L*S floats, which may be src itself) into
 * dst[d0 + l*S + j]; every row written whole (0 past the keys a causal row sees).
 */
function softmaxGradRows(s: Setup, P: Float32Array, dW: Float32Array | null, w0: number, src: Float32Array, so: number, ld: number, g: Float32Array, dst: Float32Array, d0: number): void {
  const { L, S, scale, causal, drop } = s;
  for (let l = 0; l < L; l++) {
    const wr = w0 + l * S;
    const sr = l * S;
    const tr = so + l * ld;
    const dr = d0 + l * S;
    const J = keysOf(causal, l, S);
    let r = 0;
    if (dW && drop) {
      for (let j = 0; j < J; j++) {
        const x = (src[tr + j] + dW[wr + j]) * drop[wr + j];
        g[sr + j] = x;
        r += x * P[wr + j];
      }
    } else if (dW) {
      for (let j = 0; j < J; j++) {
        const x = src[tr + j] + dW[wr + j];
        g[sr + j] = x;
        r += x * P[wr + j];
      }
    } else if (drop) {
      for (let j = 0; j < J; j++) {
        const x = src[tr + j] * drop[wr + j];
        g[sr + j] = x;
        r += x * P[wr + j];
      }
    } else {
      for (let j = 0; j < J; j++) {
        const x = src[tr + j];
        g[sr + j] = x;
        r += x * P[wr + j];
      }
    }
    for (let j = 0; j < J; j++) dst[dr + j] = P[wr + j] * (g[sr + j] - r) * scale;
    dst.fill(0, dr + J, dr + S);
  }
}
