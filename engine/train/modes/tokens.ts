/**
 * Text generation shared by the sequence modes: one options type for greedy search, beam
 * search and temperature sampling (engine/nn/decoding.ts), token <-> text with a
 * vocabulary, and the next-token scores of a graph at given positions.
 */
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import type { Tensor } from '../../core/tensor.ts';
import type { Feed, GraphModel } from '../../graph/compile.ts';
import { beamSearch, greedySearch, type Hypothesis, sample, type StepFn } from '../../nn/decoding.ts';
import { evalRun, outputOf } from './common.ts';

export type DecodeMethod = 'greedy' | 'beam' | 'sample';

export interface GenerateOptions {
  /** greedy (default), beam or sample. */
  method?: DecodeMethod;
  /** Beam search: hypotheses kept per step (default 4). */
  beamWidth?: number;
  /** Beam search: how many hypotheses to return, best first (default 1). */
  numReturn?: number;
  /** Sampling: logits are divided by it before the softmax (default 1; 0 = greedy). */
  temperature?: number;
  /** Sampling: only among the k most likely tokens. */
  topK?: number;
  /** Sampling: seed of the random choices, so a generation can be repeated (default 0). */
  seed?: number;
  /** Most tokens to generate. */
  maxLength?: number;
}

export interface Generation {
  /** Generated tokens (without BOS; with the EOS when one was produced). */
  tokens: number[];
  /** The generated text up to (not including) EOS. */
  text: string;
  /** Log-probability of the tokens under the model at temperature 1. */
  logProb: number;
  /** Beam search only: the returned hypotheses, best first. */
  hypotheses?: { tokens: number[]; text: string; logProb: number; finished: boolean }[];
}

/** Runs one of the three decoders over `batch` sequences; returns one Generation per sequence. */
export async function decode(step: StepFn, batch: number, base: { bos: number; eos: number; maxLength: number }, opts: GenerateOptions, toText: (tokens: readonly number[]) => string): Promise<Generation[]> {
  const method = opts.method ?? 'greedy';
  const common = { ...base, batchSize: batch };
  if (method === 'beam') {
    const beamWidth = opts.beamWidth ?? 4;
    const hyps: Hypothesis[][] = await beamSearch(step, { ...common, beamWidth, numReturn: opts.numReturn ?? 1 });
    return hyps.map((hs) => ({
      tokens: hs[0].tokens,
      text: toText(hs[0].tokens),
      logProb: hs[0].logProb,
      hypotheses: hs.map((h) => ({ tokens: h.tokens, text: toText(h.tokens), logProb: h.logProb, finished: h.finished })),
    }));
  }
  let out;
  if (method === 'sample') out = await sample(step, { ...common, temperature: opts.temperature ?? 1, topK: opts.topK, generator: new Generator(opts.seed ?? 0) });
  else if (method === 'greedy') out = await greedySearch(step, common);
  else throw new Error(`generate: method must be "greedy", "beam" or "sample", got "${String(method)}"`);
  return out.tokens.map((tokens, i) => ({ tokens, text: toText(tokens), logProb: out.logProbs[i] }));
}

/** Text of tokens with a vocabulary, stopping at `eos`; tokens in `skip` are left out. */
export function tokensToText(tokens: readonly number[], vocab: readonly string[], eos: number, skip: readonly number[] = []): string {
  let s = '';
  for (const t of tokens) {
    if (t === eos) break;
    if (skip.includes(t)) continue;
    s += vocab[t] ?? '?';
  }
  return s;
}

/** Token ids of a text, one character per token; an unknown character is named. */
export function textToTokens(text: string, vocab: readonly string[], what: string): number[] {
  const index = new Map(vocab.map((c, i) => [c, i]));
  return [...text].map((c, i) => {
    const id = index.get(c);
    if (id === undefined) throw new Error(`${what}: character ${JSON.stringify(c)} at position ${i} is not in the vocabulary (${vocab.filter((v) => v.length === 1).join('')})`);
    return id;
  });
}

/**
 * Runs a graph (evaluation mode) and returns the scores [rows, V] that `logitsId` gives at
 * position `positions[k]` of row k (its output is [rows, T, V]).
 */
export function logitsAt(model: GraphModel, feeds: () => Record<string, Feed>, logitsId: string, positions: readonly number[]): Tensor {
  const { values, shape } = evalRun(model, feeds, (r) => {
    const t = outputOf(r, logitsId);
    return { values: Float32Array.from(t.dataSync()), shape: [...t.shape] };
  });
  const [rows, T, V] = shape;
  if (shape.length !== 3 || rows !== positions.length) throw new Error(`"${logitsId}" must give scores [${positions.length}, time, vocab], it gives [${shape.join(', ')}]`);
  const out = new Float32Array(rows * V);
  positions.forEach((p, k) => out.set(values.subarray((k * T + p) * V, (k * T + p + 1) * V), k * V));
  return fromValues(out, [rows, V]);
}
