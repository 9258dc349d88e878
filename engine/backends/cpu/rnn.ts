/**
 * Fused recurrent layers on the CPU: one kernel runs a whole sequence of one direction of
 * one layer (LSTM, GRU or Elman RNN), saving the gate activations, and one kernel runs its
 * backpropagation through time. Per time step there is one small GEMM for the recurrent
 * product and one pass over the gates; the input projection of all steps is a single GEMM.
 *
 * Layout: x [T, N, I] (time-major), h0/c0 [N, H], weight_ih [G*H, I], weight_hh [G*H, H],
 * biases [G*H], with G = 4 (gates i, f, g, o), 3 (r, z, n) or 1.
 */
import { registerKernel, type Attrs, type TensorInfo } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';
import { gemm } from './matmul.ts';

export type RnnMode = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

export function gateCount(mode: RnnMode): number {
  return mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** rows x cols row-major -> cols x rows row-major. */
function transposed(src: Float32Array, rows: number, cols: number): Float32Array {
  const dst = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}

interface LayerInputs {
  x: Float32Array;
  h0: Float32Array;
  c0: Float32Array | null;
  wIh: Float32Array;
  wHh: Float32Array;
  bIh: Float32Array | null;
  bHh: Float32Array | null;
  T: number;
  N: number;
  I: number;
  H: number;
}

/** Splits the kernel inputs [x, h0, c0 (LSTM), w_ih, w_hh, b_ih, b_hh (with bias)]. */
function readInputs(inputs: readonly TensorInfo[], attrs: Attrs): LayerInputs {
  const mode = attrs.mode as RnnMode;
  const hasBias = attrs.hasBias as boolean;
  let k = 0;
  const x = inputs[k++];
  const h0 = inputs[k++];
  const c0 = mode === 'lstm' ? inputs[k++] : null;
  const wIh = inputs[k++];
  const wHh = inputs[k++];
  const bIh = hasBias ? inputs[k++] : null;
  const bHh = hasBias ? inputs[k++] : null;
  const [T, N, I] = x.shape;
  const H = h0.shape[1];
  return {
    x: f32(x), h0: f32(h0), c0: c0 && f32(c0), wIh: f32(wIh), wHh: f32(wHh), bIh: bIh && f32(bIh), bHh: bHh && f32(bHh),
    T, N, I, H, 
  };
}

/**
 * Forward. Outputs: y [T, N, H], h_T [N, H], then LSTM: c_T, gates (i, f, g, o activations)
 * [T, N, 4H], cells [T, N, H]; GRU: gates (r, z, n) [T, N, 3H], W_hn h + b_hn [T, N, H]; RNN: nothing more.
 */
registerKernel('RnnLayer', 'cpu', (inputs, attrs) => {
  const mode = attrs.mode as RnnMode;
  const reverse = attrs.reverse as boolean;
  const { x, h0, c0, wIh, wHh, bIh, bHh, T, N, I, H } = readInputs(inputs, attrs);
  const G = gateCount(mode);
  const GH = G * H;
  const wIhT = transposed(wIh, GH, I);
  const wHhT = transposed(wHh, GH, H);
  // Input projections of every step: pre = x W_ih^T + b_ih (+ b_hh where it simply adds).
  const pre = new Float32Array(T * N * GH);
  gemm(T * N, GH, I, x, 0, I, 1, wIhT, 0, GH, pre, 0);
  if (bIh && bHh) {
    const addHh = mode !== 'gru';
    for (let r = 0; r < T * N; r++) {
      const o = r * GH;
      for (let j = 0; j < GH; j++) pre[o + j] += bIh[j] + (addHh ? bHh[j] : 0);
    }
  }
  const y = new Float32Array(T * N * H);
  const hT = new Float32Array(N * H);
  const cells = mode === 'lstm' ? new Float32Array(T * N * H) : null;
  const cT = mode === 'lstm' ? new Float32Array(N * H) : null;
  const ghn = mode === 'gru' ? new Float32Array(T * N * H) : null;
  const gh = mode === 'gru' ? new Float32Array(N * GH) : null;

  let prevT = -1;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = prevT < 0 ? h0 : y;
    const hOff = prevT < 0 ? 0 : prevT * N * H;
    const po = t * N * GH;
    if (mode === 'gru') {
      const g = gh as Float32Array;
      if (bHh) for (let n = 0; n < N; n++) g.set(bHh, n * GH);
      else g.fill(0);
      gemm(N, GH, H, hPrev, hOff, H, 1, wHhT, 0, GH, g, 0);
      const gn = ghn as Float32Array;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        const gr = n * GH;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(pre[row + j] + g[gr + j]);
          const z = sigmoid(pre[row + H + j] + g[gr + H + j]);
          const hn = g[gr + 2 * H + j];
          const nv = Math.tanh(pre[row + 2 * H + j] + r * hn);
          const hp = hPrev[hOff + n * H + j];
          pre[row + j] = r;
          pre[row + H + j] = z;
          pre[row + 2 * H + j] = nv;
          gn[t * N * H + n * H + j] = hn;
          y[t * N * H + n * H + j] = (1 - z) * nv + z * hp;
        }
      }
    } else {
      // pre[t] += h_prev W_hh^T
      gemm(N, GH, H, hPrev, hOff, H, 1, wHhT, 0, GH, pre, po);
      if (mode === 'lstm') {
        const cs = cells as Float32Array;
        const cPrev = prevT < 0 ? (c0 as Float32Array) : cs;
        const cOff = prevT < 0 ? 0 : prevT * N * H;
        for (let n = 0; n < N; n++) {
          const row = po + n * GH;
          for (let j = 0; j < H; j++) {
            const i = sigmoid(pre[row + j]);
            const f = sigmoid(pre[row + H + j]);
            const g = Math.tanh(pre[row + 2 * H + j]);
            const o = sigmoid(pre[row + 3 * H + j]);
            pre[row + j] = i;
            pre[row + H + j] = f;
            pre[row + 2 * H + j] = g;
            pre[row + 3 * H + j] = o;
            const c = f * cPrev[cOff + n * H + j] + i * g;
            cs[t * N * H + n * H + j] = c;
            y[t * N * H + n * H + j] = o * Math.tanh(c);
          }
        }
      } else {
        const relu = mode === 'rnn_relu';
        for (let k = 0; k < N * H; k++) {
          const a = pre[po + k];
          y[t * N * H + k] = relu ? (a > 0 ? a : 0) : Math.tanh(a);
        }
      }
    }
    prevT = t;
  }
  if (T > 0) {
    hT.set(y.subarray(prevT * N * H, (prevT + 1) * N * H));
    if (cT && cells) cT.set(cells.subarray(prevT * N * H, (prevT + 1) * N * H));
  } else {
    hT.set(h0);
    if (cT && c0) cT.set(c0);
  }
  const res = [out(y, [T, N, H]), out(hT, [N, H])];
  if (mode === 'lstm') res.push(out(cT as Float32Array, [N, H]), out(pre, [T, N, GH]), out(cells as Float32Array, [T, N, H]));
  if (mode === 'gru') res.push(out(pre, [T, N, GH]), out(ghn as Float32Array, [T, N, H]));
  return res;
});

/**
 * Backpropagation through time. Inputs: the forward's inputs, then y, the saved tensors
 * (LSTM: gates, cells; GRU: gates, ghn), then dy [T, N, H], dh_T [N, H] and (LSTM) dc_T.
 * Outputs: dx, dh0, dc0 (LSTM), dW_ih, dW_hh, db_ih, db_hh.
 */
registerKernel('RnnLayerGrad', 'cpu', (inputs, attrs) => {
  const mode = attrs.mode as RnnMode;
  const reverse = attrs.reverse as boolean;
  const hasBias = attrs.hasBias as boolean;
  const { x, h0, c0, wIh, wHh, T, N, I, H } = readInputs(inputs, attrs);
  let k = (mode === 'lstm' ? 5 : 4) + (hasBias ? 2 : 0);
  const y = f32(inputs[k++]);
  const saved1 = mode === 'lstm' || mode === 'gru' ? f32(inputs[k++]) : null;
  const saved2 = mode === 'lstm' || mode === 'gru' ? f32(inputs[k++]) : null;
  const dy = f32(inputs[k++]);
  const dh = Float32Array.from(f32(inputs[k++]));
  const dc = mode === 'lstm' ? Float32Array.from(f32(inputs[k++])) : null;
  const G = gateCount(mode);
  const GH = G * H;
  const NH = N * H;

  // dA: gradient of the input-side pre-activations; dB (GRU only): of the hidden side.
  const dA = new Float32Array(T * N * GH);
  const dB = mode === 'gru' ? new Float32Array(T * N * GH) : dA;
  // hPrev[t]: the hidden state the step at t read.
  const hPrev = new Float32Array(T * NH);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (s === 0) hPrev.set(h0, t * NH);
    else {
      const p = reverse ? t + 1 : t - 1;
      hPrev.set(y.subarray(p * NH, (p + 1) * NH), t * NH);
    }
  }

  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const po = t * N * GH;
    const yo = t * NH;
    if (mode === 'lstm') {
      const gates = saved1 as Float32Array;
      const cells = saved2 as Float32Array;
      const dcv = dc as Float32Array;
      const cPrev = s === 0 ? (c0 as Float32Array) : cells;
      const cOff = s === 0 ? 0 : (reverse ? t + 1 : t - 1) * NH;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        for (let j = 0; j < H; j++) {
          const q = n * H + j;
          const i = gates[row + j];
          const f = gates[row + H + j];
          const g = gates[row + 2 * H + j];
          const o = gates[row + 3 * H + j];
          const tc = Math.tanh(cells[yo + q]);
          const dhv = dh[q] + dy[yo + q];
          const dcTot = dcv[q] + dhv * o * (1 - tc * tc);
          dA[row + j] = dcTot * g * i * (1 - i);
          dA[row + H + j] = dcTot * cPrev[cOff + q] * f * (1 - f);
          dA[row + 2 * H + j] = dcTot * i * (1 - g * g);
          dA[row + 3 * H + j] = dhv * tc * o * (1 - o);
          dcv[q] = dcTot * f;
        }
      }
      dh.fill(0);
    } else if (mode === 'gru') {
      const gates = saved1 as Float32Array;
      const ghn = saved2 as Float32Array;
      for (let n = 0; n < N; n++) {
        const row = po + n * GH;
        for (let j = 0; j < H; j++) {
          const q = n * H + j;
          const r = gates[row + j];
          const z = gates[row + H + j];
          const nv = gates[row + 2 * H + j];
          const hp = hPrev[yo + q];
          const dhv = dh[q] + dy[yo + q];
          // h = (1 - z) n + z h_prev; n = tanh(a_n + r * ghn)
          const dan = dhv * (1 - z) * (1 - nv * nv);
          const daz = dhv * (hp - nv) * z * (1 - z);
          const dar = dan * ghn[yo + q] * r * (1 - r);
          dA[row + j] = dar;
          dA[row + H + j] = daz;
          dA[row + 2 * H + j] = dan;
          dB[row + j] = dar;
          dB[row + H + j] = daz;
          dB[row + 2 * H + j] = dan * r;
          dh[q] = dhv * z;
        }
      }
    } else {
      const relu = mode === 'rnn_relu';
      for (let q = 0; q < NH; q++) {
        const h = y[yo + q];
        const dhv = dh[q] + dy[yo + q];
        dA[po + q] = relu ? (h > 0 ? dhv : 0) : dhv * (1 - h * h);
      }
      dh.fill(0);
    }
    // dh_prev += dB[t] W_hh
    gemm(N, H, GH, dB, po, GH, 1, wHh, 0, H, dh, 0);
  }

  const dx = new Float32Array(T * N * I);
  gemm(T * N, I, GH, dA, 0, GH, 1, wIh, 0, I, dx, 0);
  const dWih = new Float32Array(GH * I);
  gemm(GH, I, T * N, dA, 0, 1, GH, x, 0, I, dWih, 0);
  const dWhh = new Float32Array(GH * H);
  gemm(GH, H, T * N, dB, 0, 1, GH, hPrev, 0, H, dWhh, 0);
  const dbIh = new Float32Array(GH);
  const dbHh = new Float32Array(GH);
  for (let r = 0; r < T * N; r++) {
    for (let j = 0; j < GH; j++) {
      dbIh[j] += dA[r * GH + j];
      dbHh[j] += dB[r * GH + j];
    }
  }
  const res = [out(dx, [T, N, I]), out(dh, [N, H])];
  if (mode === 'lstm') res.push(out(dc as Float32Array, [N, H]));
  res.push(out(dWih, [GH, I]), out(dWhh, [GH, H]), out(dbIh, [GH]), out(dbHh, [GH]));
  return res;
});
