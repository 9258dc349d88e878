/**
 * Recurrent layers as fused ops: `rnnLayer` runs one direction of one layer over a whole
 * sequence in one kernel call and backpropagates through time in another (kernels
 * 'RnnLayer' and 'RnnLayerGrad'). Formulas and gate orders are torch.nn's:
 *   LSTM (gates i, f, g, o): c' = f c + i g, h' = o tanh(c')
 *   GRU (gates r, z, n):     n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h
 *   RNN:                     h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)
 */
import { applyMulti, recordGrad } from '../core/engine.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';

export type RnnMode = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

export function gatesOf(mode: RnnMode): number {
  return mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
}

export interface RnnLayerWeights {
  /** [G*H, I] */
  weightIh: Tensor;
  /** [G*H, H] */
  weightHh: Tensor;
  /** [G*H] (both biases or neither) */
  biasIh?: Tensor | null;
  biasHh?: Tensor | null;
}

export interface RnnLayerResult {
  /** [T, N, H] hidden state after each step, at the step's position in the input. */
  output: Tensor;
  /** [N, H] the last hidden state (after t = 0 for a reverse layer). */
  hN: Tensor;
  /** [N, H] the last cell state (LSTM only). */
  cN: Tensor | null;
}

function check(cond: boolean, msg: () => string): void {
  if (!cond) throw new Error(msg());
}

/**
 * One direction of one recurrent layer over a time-major sequence x [T, N, I] from the
 * initial state h0 [N, H] (and c0 [N, H] for an LSTM). `reverse` runs from t = T-1 to 0.
 */
export function rnnLayer(mode: RnnMode, x: Tensor, h0: Tensor, c0: Tensor | null, w: RnnLayerWeights, reverse = false): RnnLayerResult {
  const G = gatesOf(mode);
  check(x.rank === 3, () => `${mode}: input must be [time, batch, features], got ${shapeStr(x.shape)}`);
  const [, N, I] = x.shape;
  const H = w.weightHh.shape[1];
  check(w.weightIh.rank === 2 && w.weightIh.shape[0] === G * H && w.weightIh.shape[1] === I,
    () => `${mode}: weight_ih must be [${G * H}, ${I}] for ${I} input features and hidden size ${H}, got ${shapeStr(w.weightIh.shape)}`);
  check(w.weightHh.rank === 2 && w.weightHh.shape[0] === G * H,
    () => `${mode}: weight_hh must be [${G * H}, ${H}], got ${shapeStr(w.weightHh.shape)}`);
  check(h0.rank === 2 && h0.shape[0] === N && h0.shape[1] === H,
    () => `${mode}: initial hidden state must be [${N}, ${H}] (batch, hidden), got ${shapeStr(h0.shape)}`);
  if (mode === 'lstm') {
    check(c0 !== null, () => 'lstm: an initial cell state is required');
    check(c0!.rank === 2 && c0!.shape[0] === N && c0!.shape[1] === H,
      () => `lstm: initial cell state must be [${N}, ${H}] (batch, hidden), got ${shapeStr(c0!.shape)}`);
  }
  const hasBias = !!w.biasIh && !!w.biasHh;
  check(!!w.biasIh === !!w.biasHh, () => `${mode}: give both bias_ih and bias_hh or neither`);
  if (hasBias) {
    for (const [name, b] of [['bias_ih', w.biasIh!], ['bias_hh', w.biasHh!]] as const) {
      check(b.rank === 1 && b.shape[0] === G * H, () => `${mode}: ${name} must be [${G * H}], got ${shapeStr(b.shape)}`);
    }
  }
  const inputs: Tensor[] = [x, h0];
  if (mode === 'lstm') inputs.push(c0!);
  inputs.push(w.weightIh, w.weightHh);
  if (hasBias) inputs.push(w.biasIh!, w.biasHh!);
  const attrs = { mode, reverse, hasBias };

  const outs = applyMulti('RnnLayer', inputs, attrs);
  const y = outs[0];
  const hN = outs[1];
  const cN = mode === 'lstm' ? outs[2] : null;
  const saved = mode === 'lstm' ? outs.slice(3) : mode === 'gru' ? outs.slice(2) : [];
  const results = cN ? [y, hN, cN] : [y, hN];

  // The input and initial-state gradients cost products of their own: skipped where unused.
  const gradX = x.requiresGrad;
  const gradH0 = h0.requiresGrad;
  recordGrad(`${mode}Layer`, inputs, results, (dys) => {
    const grads = applyMulti('RnnLayerGrad', [...inputs, y, ...saved, ...dys], { ...attrs, gradX, gradH0 });
    let k = 0;
    const res: (Tensor | null)[] = [grads[k++], grads[k++]];
    if (!gradX) res[0] = null;
    if (!gradH0) res[1] = null;
    if (mode === 'lstm') res.push(grads[k++]);
    res.push(grads[k++], grads[k++]);
    if (hasBias) res.push(grads[k++], grads[k++]);
    return res;
  });
  return { output: y, hN, cN };
}
