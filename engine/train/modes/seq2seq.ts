/**
 * Sequence to sequence (encoder-decoder) training and generation. The graph has two token
 * inputs, the source and the decoder input, and next-token scores [T, vocab] compared with
 * the answer by a cross-entropy loss. Training uses teacher forcing: the decoder reads BOS
 * followed by the true answer shifted right. Generation feeds the decoder its own tokens,
 * by greedy search, beam search or temperature sampling, until EOS.
 */
import { Generator } from '../../core/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, evalRun, gatherInputs, gatherTargets, graphStep, ints, type OptimizerChoice, optimizerFor, outputOf, type StepLosses } from './common.ts';
import { decode, type Generation, type GenerateOptions, logitsAt, textToTokens, tokensToText } from './tokens.ts';

export interface Seq2SeqOptions {
  /** Source TokenInput, decoder TokenInput, scores [T, vocab], a class Target [T] and a CrossEntropyLoss. */
  graph: ModelGraph;
  /** Inputs: source ids [S] (padded with `pad`); targets: the answer, EOS, then `pad` [T]. */
  data: Dataset;
  bos: number;
  eos: number;
  pad: number;
  /** Token strings by id (default: the dataset's vocabulary). */
  vocab?: readonly string[];
  /** Node ids (defaults: "src", "dec_in", "logits"). */
  sourceId?: string;
  decoderInputId?: string;
  logitsId?: string;
  /** Node whose second output holds the attention weights [T, S] (default "attention" when present). */
  attentionId?: string;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

export interface Seq2SeqStep extends StepLosses {
  epoch: number;
  step: number;
}

export interface Seq2SeqEvaluation {
  /** Mean cross-entropy with teacher forcing. */
  loss: number;
  /** Fraction of answer tokens (up to and including EOS) predicted right with teacher forcing. */
  tokenAccuracy: number;
  /** Fraction of sources whose generated answer (greedy unless `method` says otherwise) is exactly right. */
  exactMatch: number;
}

export interface Seq2SeqExample {
  index: number;
  source: string;
  target: string;
  output: string;
  correct: boolean;
}

export class Seq2SeqMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly sourceId: string;
  readonly decoderInputId: string;
  readonly targetId: string;
  readonly logitsId: string;
  readonly srcLength: number;
  readonly tgtLength: number;
  readonly vocab: readonly string[];
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private steps = 0;

  constructor(readonly opts: Seq2SeqOptions) {
    this.model = compileGraph(opts.graph, { seed: opts.seed ?? 0 });
    this.sourceId = opts.sourceId ?? 'src';
    this.decoderInputId = opts.decoderInputId ?? 'dec_in';
    this.logitsId = opts.logitsId ?? 'logits';
    for (const id of [this.sourceId, this.decoderInputId]) {
      if (!this.model.inputIds.includes(id)) throw new Error(`A sequence-to-sequence graph needs a token input "${id}"; its inputs are ${this.model.inputIds.join(', ') || 'none'}`);
    }
    if (!this.model.analysis.nodes[this.logitsId]) throw new Error(`The graph has no node "${this.logitsId}" giving next-token scores`);
    if (this.model.targetIds.length !== 1) throw new Error('A sequence-to-sequence graph needs one Target node (the answer token ids) for its loss');
    this.targetId = this.model.targetIds[0];
    this.srcLength = this.model.analysis.nodes[this.sourceId].outputs[0]!.shape[0];
    this.tgtLength = this.model.analysis.nodes[this.decoderInputId].outputs[0]!.shape[0];
    const meta = opts.data.meta;
    if (meta.inputShape.join() !== String(this.srcLength)) throw new Error(`The source input takes ${this.srcLength} tokens, the dataset's inputs have shape [${meta.inputShape.join(', ')}]`);
    if (meta.targetShape.join() !== String(this.tgtLength)) throw new Error(`The decoder input takes ${this.tgtLength} tokens, the dataset's answers have shape [${meta.targetShape.join(', ')}]`);
    const scores = this.model.analysis.nodes[this.logitsId].outputs[0]!.shape;
    const v = scores[scores.length - 1];
    for (const [name, id] of [['bos', opts.bos], ['eos', opts.eos], ['pad', opts.pad]] as const) {
      if (!Number.isInteger(id) || id < 0 || id >= v) throw new Error(`${name} token ${id} is outside the model's vocabulary 0..${v - 1}`);
    }
    this.vocab = opts.vocab ?? meta.vocab ?? Array.from({ length: v }, (_, i) => String(i));
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(opts.data.length, opts.batchSize ?? 32, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  /** Teacher forcing: BOS followed by each answer shifted right by one. */
  decoderInputs(targets: Int32Array): Int32Array {
    const T = this.tgtLength;
    const out = new Int32Array(targets.length);
    for (let i = 0; i < targets.length / T; i++) {
      out[i * T] = this.opts.bos;
      out.set(targets.subarray(i * T, (i + 1) * T - 1), i * T + 1);
    }
    return out;
  }

  private feeds(src: Int32Array, y: Int32Array, n: number) {
    return () => ({
      [this.sourceId]: ints(src, [n, this.srcLength]),
      [this.decoderInputId]: ints(this.decoderInputs(y), [n, this.tgtLength]),
      [this.targetId]: ints(y, [n, this.tgtLength]),
    });
  }

  /** One optimisation step with teacher forcing. */
  step(): Seq2SeqStep {
    const idx = this.cursor.next();
    const src = Int32Array.from(gatherInputs(this.opts.data, idx));
    const y = gatherTargets(this.opts.data, idx);
    const r = graphStep(this.model, this.optimizer, this.feeds(src, y, idx.length), this.gen);
    this.steps++;
    return { ...r, epoch: this.cursor.epoch, step: this.steps };
  }

  /** Source token ids from a string (one character per token) or ids, padded to the source length. */
  encodeSource(source: string | readonly number[]): Int32Array {
    const ids = typeof source === 'string' ? textToTokens(source, this.vocab, 'source') : [...source];
    if (ids.length > this.srcLength) throw new Error(`The source has ${ids.length} tokens; the model reads at most ${this.srcLength}`);
    const out = new Int32Array(this.srcLength).fill(this.opts.pad);
    out.set(ids);
    return out;
  }

  text(tokens: readonly number[]): string {
    return tokensToText(tokens, this.vocab, this.opts.eos, [this.opts.bos, this.opts.pad]);
  }

  /** Generates the answers to several sources side by side. */
  async generateBatch(sources: readonly (string | readonly number[])[], opts: GenerateOptions = {}): Promise<Generation[]> {
    const rows = sources.map((s) => this.encodeSource(s));
    const T = this.tgtLength;
    const S = this.srcLength;
    const maxLength = Math.min(opts.maxLength ?? T, T);
    const step = (prefixes: readonly (readonly number[])[], owner: readonly number[]) => {
      const P = prefixes.length;
      const dec = new Int32Array(P * T).fill(this.opts.pad);
      const src = new Int32Array(P * S);
      prefixes.forEach((p, k) => {
        dec.set(p, k * T);
        src.set(rows[owner[k]], k * S);
      });
      return logitsAt(this.model, () => ({ [this.sourceId]: ints(src, [P, S]), [this.decoderInputId]: ints(dec, [P, T]) }), this.logitsId, prefixes.map((p) => p.length - 1));
    };
    return decode(step, rows.length, { bos: this.opts.bos, eos: this.opts.eos, maxLength }, opts, (t) => this.text(t));
  }

  /** Generates the answer to one source: `generate("3141", { method: 'beam', beamWidth: 4 })`. */
  async generate(source: string | readonly number[], opts: GenerateOptions = {}): Promise<Generation> {
    return (await this.generateBatch([source], opts))[0];
  }

  /**
   * Attention weights [T][S] of the decoder steps over the source tokens, for an answer
   * (teacher-forced); needs a node with an attention-weights output.
   */
  attention(source: string | readonly number[], answer: readonly number[]): { weights: number[][]; source: string[]; output: string[] } {
    const id = this.opts.attentionId ?? 'attention';
    if (!this.model.analysis.nodes[id]) throw new Error(`The graph has no attention node "${id}"`);
    const src = this.encodeSource(source);
    const T = this.tgtLength;
    const dec = new Int32Array(T).fill(this.opts.pad);
    dec.set([this.opts.bos, ...answer].slice(0, T));
    const w = evalRun(this.model, () => ({ [this.sourceId]: ints(src, [1, this.srcLength]), [this.decoderInputId]: ints(dec, [1, T]) }), (r) => Float32Array.from(outputOf(r, id, 1).dataSync()), true);
    const S = this.srcLength;
    const len = Math.min(answer.length, T);
    return {
      weights: Array.from({ length: len }, (_, t) => Array.from(w.subarray(t * S, (t + 1) * S))),
      source: Array.from(src, (t) => this.vocab[t] ?? '?'),
      output: answer.slice(0, len).map((t) => this.vocab[t] ?? '?'),
    };
  }

  /** Teacher-forced loss and token accuracy, and exact match of generated answers, on a dataset. */
  async evaluate(ds: Dataset, opts: GenerateOptions & { batchSize?: number } = {}): Promise<Seq2SeqEvaluation> {
    const T = this.tgtLength;
    const bs = opts.batchSize ?? 128;
    let loss = 0;
    let correct = 0;
    let counted = 0;
    let exact = 0;
    for (let start = 0; start < ds.length; start += bs) {
      const idx = Array.from({ length: Math.min(bs, ds.length - start) }, (_, k) => start + k);
      const src = Int32Array.from(gatherInputs(ds, idx));
      const y = gatherTargets(ds, idx);
      const n = idx.length;
      evalRun(this.model, this.feeds(src, y, n), (r) => {
        loss += (r.totalLoss?.item() ?? NaN) * n;
        const s = outputOf(r, this.logitsId);
        const V = s.shape[2];
        const v = s.dataSync();
        for (let i = 0; i < n; i++) {
          for (let t = 0; t < T; t++) {
            const target = y[i * T + t];
            let best = 0;
            const o = (i * T + t) * V;
            for (let j = 1; j < V; j++) if (v[o + j] > v[o + best]) best = j;
            if (best === target) correct++;
            counted++;
            if (target === this.opts.eos) break;
          }
        }
      });
      const gens = await this.generateBatch(Array.from({ length: n }, (_, i) => Array.from(src.subarray(i * this.srcLength, (i + 1) * this.srcLength)).filter((t) => t !== this.opts.pad)), opts);
      gens.forEach((g, i) => {
        if (this.text(g.tokens) === this.text(Array.from(y.subarray(i * T, (i + 1) * T))) && g.tokens[g.tokens.length - 1] === this.opts.eos) exact++;
      });
    }
    return { loss: loss / ds.length, tokenAccuracy: counted ? correct / counted : 0, exactMatch: ds.length ? exact / ds.length : 0 };
  }

  /** Sources, true answers and generated answers of some samples, as text. */
  async examples(ds: Dataset, indices: readonly number[], opts: GenerateOptions = {}): Promise<Seq2SeqExample[]> {
    const S = this.srcLength;
    const T = this.tgtLength;
    const sources = indices.map((i) => Array.from(ds.inputs.subarray(i * S, (i + 1) * S)).filter((t) => t !== this.opts.pad));
    const gens = await this.generateBatch(sources, opts);
    return indices.map((index, k) => {
      const target = this.text(Array.from(ds.targets.subarray(index * T, (index + 1) * T)));
      const output = this.text(gens[k].tokens);
      return { index, source: this.text(sources[k]), target, output, correct: output === target };
    });
  }
}
