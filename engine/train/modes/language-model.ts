/**
 * Character-level language modelling: the graph maps a window of token ids [T] to
 * next-token scores [T, vocab] (a causal model such as Embedding -> GRU -> Linear), trained
 * with cross-entropy against the window shifted by one. Text is generated from a prompt,
 * one character at a time, by greedy search, beam search or temperature sampling; the
 * model sees the last T characters of the prompt and what it wrote so far.
 */
import { Generator } from '../../core/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, evalRun, gatherInputs, gatherTargets, graphStep, ints, type OptimizerChoice, optimizerFor, outputOf, softmaxRow, type StepLosses } from './common.ts';
import { decode, type Generation, type GenerateOptions, logitsAt, textToTokens, tokensToText } from './tokens.ts';

export interface LanguageModelOptions {
  /** A TokenInput [T], next-token scores [T, vocab], a class Target [T] and a CrossEntropyLoss. */
  graph: ModelGraph;
  /** Windows of token ids and the same windows shifted by one (makeCharText). */
  data: Dataset;
  /** Token strings by id (default: the dataset's vocabulary). */
  vocab?: readonly string[];
  /** Node ids (defaults: the graph's one input, "logits"). */
  tokensId?: string;
  logitsId?: string;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

export interface LanguageModelStep extends StepLosses {
  epoch: number;
  step: number;
}

export interface LanguageModelEvaluation {
  /** Mean cross-entropy per character, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Fraction of next characters predicted right. */
  accuracy: number;
}

/** Entropy (nats) of the token frequencies of a dataset's targets: the loss of a model that ignores context. */
export function unigramEntropy(ds: Dataset, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < ds.targets.length; i++) counts[ds.targets[i]]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ds.targets.length) * Math.log(c / ds.targets.length);
  return h;
}

export class LanguageModelMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly tokensId: string;
  readonly targetId: string;
  readonly logitsId: string;
  readonly length: number;
  readonly vocabSize: number;
  readonly vocab: readonly string[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private steps = 0;

  constructor(readonly opts: LanguageModelOptions) {
    this.model = compileGraph(opts.graph, { seed: opts.seed ?? 0 });
    if (!opts.tokensId && this.model.inputIds.length !== 1) throw new Error(`A language model needs one token input; this graph has ${this.model.inputIds.join(', ') || 'none'}`);
    this.tokensId = opts.tokensId ?? this.model.inputIds[0];
    this.logitsId = opts.logitsId ?? 'logits';
    if (!this.model.analysis.nodes[this.logitsId]) throw new Error(`The graph has no node "${this.logitsId}" giving next-token scores`);
    if (this.model.targetIds.length !== 1) throw new Error('A language model needs one Target node (the next token ids) for its loss');
    this.targetId = this.model.targetIds[0];
    const input = this.model.analysis.nodes[this.tokensId].outputs[0]!;
    if (input.dtype !== 'int32' || input.shape.length !== 1) throw new Error(`The input "${this.tokensId}" must give token ids [length], it gives [${input.shape.join(', ')}] ${input.dtype}`);
    this.length = input.shape[0];
    const scores = this.model.analysis.nodes[this.logitsId].outputs[0]!.shape;
    if (scores.length !== 2 || scores[0] !== this.length) throw new Error(`"${this.logitsId}" must give scores [${this.length}, vocab] (one row per position), it gives [${scores.join(', ')}]`);
    this.vocabSize = scores[1];
    const meta = opts.data.meta;
    if (meta.inputShape.join() !== String(this.length)) throw new Error(`The model reads windows of ${this.length} tokens, the dataset's samples have shape [${meta.inputShape.join(', ')}]`);
    const vocab = opts.vocab ?? meta.vocab;
    if (!vocab) throw new Error('A language model needs the token strings (the dataset has no vocabulary)');
    if (vocab.length !== this.vocabSize) throw new Error(`The model scores ${this.vocabSize} tokens, the vocabulary has ${vocab.length}`);
    this.vocab = vocab;
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 32, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  step(): LanguageModelStep {
    const idx = this.cursor.next();
    const x = Int32Array.from(gatherInputs(this.opts.data, idx));
    const y = gatherTargets(this.opts.data, idx);
    const n = idx.length;
    const r = graphStep(this.model, this.optimizer, () => ({ [this.tokensId]: ints(x, [n, this.length]), [this.targetId]: ints(y, [n, this.length]) }), this.gen);
    this.steps++;
    return { ...r, epoch: this.cursor.epoch, step: this.steps };
  }

  /** Loss per character (nats), perplexity and next-character accuracy on a dataset. */
  evaluate(ds: Dataset, batchSize = 64): LanguageModelEvaluation {
    const T = this.length;
    let loss = 0;
    let correct = 0;
    for (let start = 0; start < ds.length; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, ds.length - start) }, (_, k) => start + k);
      const x = Int32Array.from(gatherInputs(ds, idx));
      const y = gatherTargets(ds, idx);
      const n = idx.length;
      evalRun(this.model, () => ({ [this.tokensId]: ints(x, [n, T]), [this.targetId]: ints(y, [n, T]) }), (r) => {
        loss += (r.totalLoss?.item() ?? NaN) * n;
        const v = outputOf(r, this.logitsId).dataSync();
        const V = this.vocabSize;
        for (let p = 0; p < n * T; p++) {
          let best = 0;
          for (let j = 1; j < V; j++) if (v[p * V + j] > v[p * V + best]) best = j;
          if (best === y[p]) correct++;
        }
      });
    }
    const mean = loss / ds.length;
    return { loss: mean, perplexity: Math.exp(mean), accuracy: correct / (ds.length * T) };
  }

  /** Scores of the next token after each context (its last `length` tokens are used). */
  private nextScores(contexts: readonly (readonly number[])[]) {
    const T = this.length;
    const P = contexts.length;
    const x = new Int32Array(P * T);
    const positions = contexts.map((c, k) => {
      const w = c.slice(-T);
      if (w.length === 0) throw new Error('generate: the prompt needs at least one character');
      x.set(w, k * T);
      return w.length - 1;
    });
    return logitsAt(this.model, () => ({ [this.tokensId]: ints(x, [P, T]) }), this.logitsId, positions);
  }

  /**
   * Continues a prompt by `length` characters (default 100):
   * `generate("The keeper", { method: 'sample', temperature: 0.8, seed: 1 })`.
   * The result's text is the continuation (without the prompt).
   */
  async generate(prompt: string, opts: GenerateOptions & { length?: number } = {}): Promise<Generation> {
    const start = textToTokens(prompt, this.vocab, 'prompt');
    if (start.length === 0) throw new Error('generate: the prompt needs at least one character');
    const length = opts.length ?? opts.maxLength ?? 100;
    if (!Number.isInteger(length) || length < 1) throw new Error(`generate: length must be a positive whole number, got ${length}`);
    // The decoders start every prefix with a BOS token; here it stands for the prompt.
    const step = (prefixes: readonly (readonly number[])[]) => this.nextScores(prefixes.map((p) => [...start, ...p.slice(1)]));
    const [g] = await decode(step, 1, { bos: 0, eos: -1, maxLength: length }, opts, (t) => tokensToText(t, this.vocab, -1));
    return g;
  }

  /** The most likely next characters after a prompt, with their probabilities at `temperature`. */
  nextCharacters(prompt: string, top = 5, temperature = 1): { token: number; text: string; p: number }[] {
    const ids = textToTokens(prompt, this.vocab, 'prompt');
    const s = this.nextScores([ids]);
    const v = s.dataSync();
    s.dispose();
    const probs = softmaxRow(Array.from(v, (x) => x / Math.max(temperature, 1e-6)), 0, this.vocabSize);
    return probs
      .map((p, token) => ({ token, text: this.vocab[token], p }))
      .sort((a, b) => b.p - a.p)
      .slice(0, top);
  }
}
