/**
 * Recurrent layers (torch.nn.RNN, LSTM, GRU): stacked, optionally bidirectional, with
 * dropout between layers. Each direction of each layer runs as one fused kernel
 * (engine/ops/rnn.ts). Parameter names and layouts are torch's: weight_ih_l{k} [G*H, in],
 * weight_hh_l{k} [G*H, H], bias_ih_l{k}, bias_hh_l{k}, with the suffix _reverse for the
 * backward direction; G = 4 (i, f, g, o) for LSTM, 3 (r, z, n) for GRU, 1 for RNN.
 *
 * Shapes (D = 2 if bidirectional else 1, L = num_layers):
 *   input  [N, T, in] with batchFirst (the default here), [T, N, in] without, or [T, in] unbatched
 *   output [N, T, D*H] / [T, N, D*H] / [T, D*H]
 *   h_n, c_n [D*L, N, H] (never batch-first, as torch) or [D*L, H] unbatched
 * Note: batchFirst defaults to true (APS sequences are batch-first); torch defaults to false.
 */
import type { Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { zeros } from '../ops/creation.ts';
import { dropout } from '../ops/dropout.ts';
import { cat, narrow, squeeze, stack, transpose, unsqueeze } from '../ops/layout.ts';
import { gatesOf, rnnLayer, type RnnMode } from '../ops/rnn.ts';
import { uniformValues } from './init.ts';
import { Module, parameter } from './module.ts';

export interface RnnOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer except the last (training only). */
  dropout?: number;
  bidirectional?: boolean;
  generator?: Generator;
}

export interface RnnResult {
  output: Tensor;
  /** [D*L, N, H] */
  hN: Tensor;
  /** [D*L, N, H], LSTM only */
  cN: Tensor | null;
}

export abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly bidirectional: boolean;
  private readonly generator: Generator | undefined;

  constructor(
    readonly mode: RnnMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RnnOptions = {},
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? true;
    this.dropoutP = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    this.generator = opts.generator;
    const name = this.constructor.name;
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`${name}: input_size must be a positive integer, got ${inputSize}`);
    if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new Error(`${name}: hidden_size must be a positive integer, got ${hiddenSize}`);
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new Error(`${name}: num_layers must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropoutP >= 0 && this.dropoutP <= 1)) throw new Error(`${name}: dropout must be between 0 and 1, got ${this.dropoutP}`);
    const G = gatesOf(mode);
    const k = 1 / Math.sqrt(hiddenSize);
    const D = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? inputSize : hiddenSize * D;
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        this.registerParameter(`weight_ih${sfx}`, parameter(uniformValues(G * hiddenSize * inF, -k, k, opts.generator), [G * hiddenSize, inF]));
        this.registerParameter(`weight_hh${sfx}`, parameter(uniformValues(G * hiddenSize * hiddenSize, -k, k, opts.generator), [G * hiddenSize, hiddenSize]));
        if (this.bias) {
          this.registerParameter(`bias_ih${sfx}`, parameter(uniformValues(G * hiddenSize, -k, k, opts.generator), [G * hiddenSize]));
          this.registerParameter(`bias_hh${sfx}`, parameter(uniformValues(G * hiddenSize, -k, k, opts.generator), [G * hiddenSize]));
        }
      }
    }
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * Runs the whole stack. `h0` (and `c0` for an LSTM) are [D*L, N, H] ([D*L, H] for an
   * unbatched input); zeros when omitted.
   */
  run(input: Tensor, h0?: Tensor | null, c0?: Tensor | null): RnnResult {
    const name = this.constructor.name;
    const isLstm = this.mode === 'lstm';
    const D = this.numDirections;
    const L = this.numLayers;
    const H = this.hiddenSize;
    if (input.rank !== 2 && input.rank !== 3) {
      throw new Error(`${name}: input must be ${this.batchFirst ? '[batch, time, features]' : '[time, batch, features]'} or unbatched [time, features], got ${shapeStr(input.shape)}`);
    }
    const unbatched = input.rank === 2;
    // Time-major [T, N, I] for the kernels.
    let x = unbatched ? unsqueeze(input, 1) : this.batchFirst ? transpose(input, 0, 1) : input;
    const [, N, I] = x.shape;
    if (I !== this.inputSize) throw new Error(`${name}: input has ${I} features (shape ${shapeStr(input.shape)}), the layer expects input_size ${this.inputSize}`);
    const stateShape = unbatched ? [D * L, H] : [D * L, N, H];
    const prepState = (s: Tensor | null | undefined, what: string): Tensor | null => {
      if (!s) return null;
      if (s.rank !== stateShape.length || s.shape.some((v, i) => v !== stateShape[i])) {
        throw new Error(`${name}: ${what} must be ${shapeStr(stateShape)} (num_layers * num_directions, ${unbatched ? '' : 'batch, '}hidden), got ${shapeStr(s.shape)}`);
      }
      return unbatched ? unsqueeze(s, 1) : s;
    };
    const hInit = prepState(h0, 'h0');
    const cInit = isLstm ? prepState(c0, 'c0') : null;
    const zero = zeros([N, H]);
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const idx = l * D + d;
        const h = hInit ? squeeze(narrow(hInit, 0, idx, 1), 0) : zero;
        const c = isLstm ? (cInit ? squeeze(narrow(cInit, 0, idx, 1), 0) : zero) : null;
        const res = rnnLayer(this.mode, x, h, c, {
          weightIh: this.getParameter(`weight_ih${sfx}`)!,
          weightHh: this.getParameter(`weight_hh${sfx}`)!,
          biasIh: this.getParameter(`bias_ih${sfx}`),
          biasHh: this.getParameter(`bias_hh${sfx}`),
        }, d === 1);
        outs.push(res.output);
        hs.push(res.hN);
        if (res.cN) cs.push(res.cN);
      }
      x = D === 1 ? outs[0] : cat(outs, 2);
      if (l < L - 1 && this.dropoutP > 0 && this.training) x = dropout(x, this.dropoutP, true, this.generator);
    }
    let output = x;
    let hN = stack(hs, 0);
    let cN = isLstm ? stack(cs, 0) : null;
    if (unbatched) {
      output = squeeze(output, 1);
      hN = squeeze(hN, 1);
      cN = cN && squeeze(cN, 1);
    } else if (this.batchFirst) {
      output = transpose(output, 0, 1);
    }
    return { output, hN, cN };
  }

  /** The output sequence (see the class comment for shapes); `run` also returns the final states. */
  forward(input: Tensor, h0?: Tensor, c0?: Tensor): Tensor {
    return this.run(input, h0, c0).output;
  }
}

/** Elman RNN with tanh (default) or relu: h' = act(W_ih x + b_ih + W_hh h + b_hh). */
export class RNN extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RnnOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const nl = opts.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new Error(`RNN: nonlinearity must be 'tanh' or 'relu', got '${String(nl)}'`);
    super(nl === 'tanh' ? 'rnn_tanh' : 'rnn_relu', inputSize, hiddenSize, opts);
  }
}

/** Long short-term memory; `run` returns output, h_n and c_n. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RnnOptions = {}) {
    super('lstm', inputSize, hiddenSize, opts);
  }
}

/** Gated recurrent unit (torch's formulation, with r applied to W_hn h + b_hn). */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RnnOptions = {}) {
    super('gru', inputSize, hiddenSize, opts);
  }
}
