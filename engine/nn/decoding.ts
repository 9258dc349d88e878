/**
 * Decoding for autoregressive sequence models: greedy search, beam search and temperature
 * sampling. The model is given as a step function that maps the token prefixes decoded so
 * far to next-token logits; every sequence starts with BOS and stops at EOS or maxLength.
 * Results list the generated tokens after BOS (with the EOS when one was produced).
 * Logits are read back asynchronously, so any backend works.
 */
import { noGrad } from '../core/autograd.ts';
import { defaultGenerator, type Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';

/**
 * Next-token logits [prefixes.length, V] for each prefix (each starting with BOS). `rows[i]`
 * says which batch item prefix i belongs to (for a seq2seq model, whose encoder output to use).
 */
export type StepFn = (prefixes: readonly (readonly number[])[], rows: readonly number[]) => Tensor;

export interface DecodeOptions {
  bos: number;
  eos: number;
  /** Most tokens to generate after BOS (the EOS included). */
  maxLength: number;
  /** Sequences decoded side by side (default 1). */
  batchSize?: number;
}

export interface Decoded {
  /** Generated tokens after BOS, per batch item. */
  tokens: number[][];
  /** Sum of the log-probabilities of those tokens under the model (at temperature 1). */
  logProbs: number[];
}

function checkOptions(opts: DecodeOptions, fn: string): number {
  const n = opts.batchSize ?? 1;
  if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1) throw new Error(`${fn}: maxLength must be a positive integer, got ${opts.maxLength}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${n}`);
  return n;
}

/** Calls the step function without recording gradients and reads the logits back. */
async function logitsOf(step: StepFn, prefixes: number[][], rows: number[], fn: string): Promise<{ values: Float32Array; vocab: number }> {
  const logits = noGrad(() => step(prefixes, rows));
  if (logits.rank !== 2 || logits.shape[0] !== prefixes.length) {
    throw new Error(`${fn}: the step function must return logits [${prefixes.length}, vocab] (one row per prefix), got ${shapeStr(logits.shape)}`);
  }
  const values = Float32Array.from(await logits.data());
  const vocab = logits.shape[1];
  logits.dispose();
  return { values, vocab };
}

/** log softmax of one row, in float64. */
function logSoftmaxRow(values: Float32Array, offset: number, vocab: number, temperature = 1): Float64Array {
  const out = new Float64Array(vocab);
  let m = -Infinity;
  for (let j = 0; j < vocab; j++) m = Math.max(m, values[offset + j] / temperature);
  let z = 0;
  for (let j = 0; j < vocab; j++) z += Math.exp(values[offset + j] / temperature - m);
  const lz = m + Math.log(z);
  for (let j = 0; j < vocab; j++) out[j] = values[offset + j] / temperature - lz;
  return out;
}

/** Shared loop of greedy search and sampling: `choose` picks the next token from a row's logits. */
async function decodeLoop(step: StepFn, opts: DecodeOptions, fn: string, choose: (values: Float32Array, offset: number, vocab: number) => number): Promise<Decoded> {
  const n = checkOptions(opts, fn);
  const tokens: number[][] = Array.from({ length: n }, () => []);
  const logProbs = new Array<number>(n).fill(0);
  const done = new Array<boolean>(n).fill(false);
  for (let t = 0; t < opts.maxLength; t++) {
    const rows = [...Array(n).keys()].filter((i) => !done[i]);
    if (rows.length === 0) break;
    const { values, vocab } = await logitsOf(step, rows.map((i) => [opts.bos, ...tokens[i]]), rows, fn);
    rows.forEach((row, k) => {
      const tok = choose(values, k * vocab, vocab);
      logProbs[row] += logSoftmaxRow(values, k * vocab, vocab)[tok];
      tokens[row].push(tok);
      if (tok === opts.eos) done[row] = true;
    });
  }
  return { tokens, logProbs };
}

/** Greedy search: the most likely token at every step. */
export function greedySearch(step: StepFn, opts: DecodeOptions): Promise<Decoded> {
  return decodeLoop(step, opts, 'greedySearch', (values, offset, vocab) => {
    let best = 0;
    for (let j = 1; j < vocab; j++) if (values[offset + j] > values[offset + best]) best = j;
    return best;
  });
}

export interface SampleOptions extends DecodeOptions {
  /** Logits are divided by this before the softmax; 0 means greedy (default 1). */
  temperature?: number;
  /** Sample only among the k most likely tokens (default: all). */
  topK?: number;
  generator?: Generator;
}

/** Temperature sampling (optionally top-k), reproducible with a seeded generator. */
export function sample(step: StepFn, opts: SampleOptions): Promise<Decoded> {
  const temperature = opts.temperature ?? 1;
  if (!(temperature >= 0)) throw new Error(`sample: temperature must be >= 0, got ${temperature}`);
  if (temperature === 0) return greedySearch(step, opts);
  const gen = opts.generator ?? defaultGenerator;
  return decodeLoop(step, opts, 'sample', (values, offset, vocab) => {
    const logp = logSoftmaxRow(values, offset, vocab, temperature);
    const k = Math.min(opts.topK ?? vocab, vocab);
    if (!Number.isInteger(k) || k < 1) throw new Error(`sample: topK must be a positive integer, got ${opts.topK}`);
    let allowed = [...Array(vocab).keys()];
    if (k < vocab) allowed = allowed.sort((a, b) => logp[b] - logp[a]).slice(0, k);
    const total = allowed.reduce((s, j) => s + Math.exp(logp[j]), 0);
    let u = gen.random() * total;
    for (const j of allowed) {
      u -= Math.exp(logp[j]);
      if (u < 0) return j;
    }
    return allowed[allowed.length - 1];
  });
}

export interface BeamOptions extends DecodeOptions {
  beamWidth: number;
  /** Rank finished hypotheses by logProb / length^lengthPenalty instead of logProb (default false). */
  lengthNormalize?: boolean;
  /** The exponent alpha of the length normalisation (default 1). */
  lengthPenalty?: number;
  /** How many hypotheses to return per batch item (default 1, at most beamWidth). */
  numReturn?: number;
}

export interface Hypothesis {
  tokens: number[];
  logProb: number;
  /** The ranking score (logProb, or its length-normalised form). */
  score: number;
  /** Whether it ended with EOS (false: it reached maxLength). */
  finished: boolean;
}

/**
 * Beam search: keeps the beamWidth most likely prefixes per batch item and stops when
 * beamWidth hypotheses have ended with EOS (or at maxLength). Returns the best hypotheses
 * of each batch item, best first.
 */
export async function beamSearch(step: StepFn, opts: BeamOptions): Promise<Hypothesis[][]> {
  const n = checkOptions(opts, 'beamSearch');
  const width = opts.beamWidth;
  if (!Number.isInteger(width) || width < 1) throw new Error(`beamSearch: beamWidth must be a positive integer, got ${width}`);
  const numReturn = Math.min(opts.numReturn ?? 1, width);
  const alpha = opts.lengthPenalty ?? 1;
  const scoreOf = (logProb: number, length: number) => (opts.lengthNormalize ? logProb / Math.max(1, length) ** alpha : logProb);

  interface Beam { tokens: number[]; logProb: number }
  const alive: Beam[][] = Array.from({ length: n }, () => [{ tokens: [], logProb: 0 }]);
  const finished: Hypothesis[][] = Array.from({ length: n }, () => []);
  const isDone = (b: number) => {
    if (finished[b].length >= width || alive[b].length === 0) return true;
    // Without length normalisation scores only fall, so a finished hypothesis that beats
    // every live prefix cannot be overtaken.
    if (opts.lengthNormalize || finished[b].length < numReturn) return false;
    const best = finished[b].map((h) => h.score).sort((x, y) => y - x)[numReturn - 1];
    return alive[b].every((a) => a.logProb <= best);
  };

  for (let t = 0; t < opts.maxLength; t++) {
    const prefixes: number[][] = [];
    const rows: number[] = [];
    const owners: [number, Beam][] = [];
    for (let b = 0; b < n; b++) {
      if (isDone(b)) continue;
      for (const beam of alive[b]) {
        prefixes.push([opts.bos, ...beam.tokens]);
        rows.push(b);
        owners.push([b, beam]);
      }
    }
    if (prefixes.length === 0) break;
    const { values, vocab } = await logitsOf(step, prefixes, rows, 'beamSearch');
    const candidates: Beam[][] = Array.from({ length: n }, () => []);
    owners.forEach(([b, beam], k) => {
      const logp = logSoftmaxRow(values, k * vocab, vocab);
      // Only the beam's own top `width` tokens can enter the next beam.
      const top = [...Array(vocab).keys()].sort((x, y) => logp[y] - logp[x]).slice(0, width);
      for (const tok of top) candidates[b].push({ tokens: [...beam.tokens, tok], logProb: beam.logProb + logp[tok] });
    });
    for (let b = 0; b < n; b++) {
      if (candidates[b].length === 0) continue;
      candidates[b].sort((x, y) => y.logProb - x.logProb);
      const next: Beam[] = [];
      for (let rank = 0; rank < candidates[b].length && next.length < width; rank++) {
        const c = candidates[b][rank];
        if (c.tokens[c.tokens.length - 1] === opts.eos) {
          // An ending enters the finished list only if it ranks among the top `width`.
          if (rank < width) finished[b].push({ tokens: c.tokens, logProb: c.logProb, score: scoreOf(c.logProb, c.tokens.length), finished: true });
        } else {
          next.push(c);
        }
      }
      alive[b] = next;
    }
  }
  return finished.map((fin, b) => {
    const all = [...fin, ...alive[b].map((a) => ({ tokens: a.tokens, logProb: a.logProb, score: scoreOf(a.logProb, a.tokens.length), finished: false }))];
    // Finished hypotheses rank before unfinished ones, each by score.
    all.sort((x, y) => Number(y.finished) - Number(x.finished) || y.score - x.score);
    return all.slice(0, numReturn);
  });
}
