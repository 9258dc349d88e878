/**
 * word2vec: word vectors learned by predicting words from their neighbours, with a full
 * softmax over a small vocabulary. Skip-gram predicts each word within `window` of a centre
 * word from the centre word; CBOW predicts the centre word from the mean vector of the
 * words around it. Views: nearest neighbours by cosine similarity or euclidean distance,
 * and the vectors projected to 2-D by PCA.
 */
import { noGrad } from '../../core/autograd.ts';
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import type { Dataset } from '../../data/dataset.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { expand } from '../../ops/layout.ts';
import { cosineSimilarity, pairwiseDistance } from '../../ops/loss.ts';
import type { BaseOptions, Optimizer } from '../../optim/optimizer.ts';
import { BatchCursor, graphStep, ints, type OptimizerChoice, optimizerFor, type PointView, type StepLosses } from './common.ts';
import { word2vecGraph } from './graphs.ts';
import { pca2d } from './projection.ts';

export type Word2VecMethod = 'skipgram' | 'cbow';
export type VectorMetric = 'cosine' | 'euclidean';

export const PAD_WORD = '<pad>';

export interface Word2VecOptions {
  /** Sentences as lists of words. */
  sentences: readonly (readonly string[])[];
  method?: Word2VecMethod;
  /** Words on each side of the centre word that count as its context (default 2). */
  window?: number;
  /** Length of the word vectors (default 16; ignored when `graph` is given). */
  dim?: number;
  /** Words seen fewer times are left out (default 1). */
  minCount?: number;
  /** A graph like word2vecGraph (default: built from the settings). */
  graph?: ModelGraph;
  batchSize?: number;
  optimizer?: OptimizerChoice;
  seed?: number;
}

export interface Neighbour {
  word: string;
  /** Cosine similarity (higher is nearer) or euclidean distance (lower is nearer). */
  score: number;
}

/** Vocabulary (PAD first, then words by falling count) and the training pairs of a corpus. */
export function word2vecData(sentences: readonly (readonly string[])[], method: Word2VecMethod, window: number, minCount = 1): { vocab: string[]; data: Dataset } {
  if (!Number.isInteger(window) || window < 1) throw new Error(`word2vec: window must be a whole number of at least 1, got ${window}`);
  const counts = new Map<string, number>();
  for (const s of sentences) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  if (words.length < 2) throw new Error(`word2vec: the corpus has ${words.length} word(s) seen at least ${minCount} times; at least 2 are needed`);
  const vocab = [PAD_WORD, ...words];
  const index = new Map(vocab.map((w, i) => [w, i]));
  const L = method === 'cbow' ? 2 * window : 1;
  const inputs: number[] = [];
  const targets: number[] = [];
  for (const s of sentences) {
    const ids = s.map((w) => index.get(w)).filter((i): i is number => i !== undefined);
    for (let i = 0; i < ids.length; i++) {
      const ctx: number[] = [];
      for (let j = i - window; j <= i + window; j++) if (j !== i) ctx.push(j >= 0 && j < ids.length ? ids[j] : 0);
      if (method === 'cbow') {
        if (ctx.every((c) => c === 0)) continue;
        inputs.push(...ctx);
        targets.push(ids[i]);
      } else {
        for (const c of ctx) {
          if (c === 0) continue;
          inputs.push(ids[i]);
          targets.push(c);
        }
      }
    }
  }
  if (targets.length === 0) throw new Error('word2vec: the corpus gives no (word, context) pairs; sentences need at least two words');
  const data: Dataset = {
    meta: {
      id: `word2vec-${method}`,
      name: `word2vec ${method} pairs`,
      description: method === 'cbow' ? 'Context words around a centre word, and the centre word.' : 'A centre word, and one word near it.',
      task: 'classification',
      inputShape: [L],
      inputDtype: 'int32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: vocab.length,
      vocab,
      preview: 'sequence',
    },
    length: targets.length,
    inputs: Int32Array.from(inputs),
    targets: Int32Array.from(targets),
  };
  return { vocab, data };
}

export class Word2VecMode {
  readonly model: GraphModel;
  readonly optimizer: Optimizer<BaseOptions>;
  readonly vocab: string[];
  readonly data: Dataset;
  readonly method: Word2VecMethod;
  readonly contextLength: number;
  private readonly index: Map<string, number>;
  private readonly inputId: string;
  private readonly targetId: string;
  private readonly cursor: BatchCursor;
  private readonly gen: Generator;
  private steps = 0;

  constructor(readonly opts: Word2VecOptions) {
    this.method = opts.method ?? 'skipgram';
    if (this.method !== 'skipgram' && this.method !== 'cbow') throw new Error(`word2vec: method must be "skipgram" or "cbow", got "${String(this.method)}"`);
    const window = opts.window ?? 2;
    const { vocab, data } = word2vecData(opts.sentences, this.method, window, opts.minCount ?? 1);
    this.vocab = vocab;
    this.data = data;
    this.index = new Map(vocab.map((w, i) => [w, i]));
    this.contextLength = data.meta.inputShape[0];
    const graph = opts.graph ?? word2vecGraph({ vocab: vocab.length, dim: opts.dim ?? 16, contextLength: this.contextLength, paddingIdx: 0 });
    this.model = compileGraph(graph, { seed: opts.seed ?? 0 });
    if (this.model.inputIds.length !== 1 || this.model.targetIds.length !== 1) throw new Error('A word2vec graph needs one token input and one Target (the predicted word)');
    this.inputId = this.model.inputIds[0];
    this.targetId = this.model.targetIds[0];
    const input = this.model.analysis.nodes[this.inputId].outputs[0]!;
    if (input.shape.join() !== String(this.contextLength)) throw new Error(`${this.method} feeds ${this.contextLength} token(s) per sample (window ${window}); the input "${this.inputId}" takes [${input.shape.join(', ')}]`);
    const table = this.model.stateDict().get('embed.weight');
    if (!table) throw new Error('A word2vec graph needs an Embedding node "embed" holding the word vectors');
    if (table.shape[0] !== vocab.length) throw new Error(`The Embedding "embed" has ${table.shape[0]} rows; the corpus has ${vocab.length} words (with ${PAD_WORD})`);
    this.gen = new Generator((opts.seed ?? 0) + 1);
    this.cursor = new BatchCursor(data.length, opts.batchSize ?? 128, new Generator((opts.seed ?? 0) + 2));
    this.optimizer = optimizerFor(this.model, opts.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.cursor.stepsPerEpoch;
  }

  step(): StepLosses & { epoch: number; step: number } {
    const idx = this.cursor.next();
    const L = this.contextLength;
    const x = new Int32Array(idx.length * L);
    const y = new Int32Array(idx.length);
    idx.forEach((s, k) => {
      x.set(this.data.inputs.subarray(s * L, (s + 1) * L), k * L);
      y[k] = this.data.targets[s];
    });
    const r = graphStep(this.model, this.optimizer, () => ({ [this.inputId]: ints(x, [idx.length, L]), [this.targetId]: ints(y, [idx.length]) }), this.gen);
    this.steps++;
    return { ...r, epoch: this.cursor.epoch, step: this.steps };
  }

  /** The word vectors [vocab, dim] (row 0 is PAD). */
  vectors(): { values: Float32Array; dim: number } {
    const t = this.model.stateDict().get('embed.weight')!;
    return { values: Float32Array.from(t.dataSync()), dim: t.shape[1] };
  }

  private id(word: string): number {
    const i = this.index.get(word);
    if (i === undefined || i === 0) throw new Error(`word2vec: "${word}" is not in the vocabulary of ${this.vocab.length - 1} words`);
    return i;
  }

  vector(word: string): number[] {
    const { values, dim } = this.vectors();
    const i = this.id(word);
    return Array.from(values.subarray(i * dim, (i + 1) * dim));
  }

  /** Cosine similarity or euclidean distance from `word` to every word (PAD included, at index 0). */
  private scores(word: string, metric: VectorMetric): Float32Array {
    const { values, dim } = this.vectors();
    const i = this.id(word);
    const V = this.vocab.length;
    return noGrad(() => {
      let out!: Float32Array;
      tidy(() => {
        const all = fromValues(values, [V, dim]);
        const q = expand(fromValues(values.slice(i * dim, (i + 1) * dim), [1, dim]), [V, dim]);
        const s = metric === 'cosine' ? cosineSimilarity(q, all, 1) : pairwiseDistance(q, all);
        out = Float32Array.from(s.dataSync());
      });
      return out;
    });
  }

  /** How near two words are: cosine similarity (default) or euclidean distance. */
  similarity(a: string, b: string, metric: VectorMetric = 'cosine'): number {
    return this.scores(a, metric)[this.id(b)];
  }

  /** The `k` nearest words to `word` (itself and PAD left out), nearest first. */
  nearest(word: string, k = 5, metric: VectorMetric = 'cosine'): Neighbour[] {
    if (metric !== 'cosine' && metric !== 'euclidean') throw new Error(`nearest: metric must be "cosine" or "euclidean", got "${String(metric)}"`);
    const s = this.scores(word, metric);
    const self = this.id(word);
    return [...s.keys()]
      .filter((j) => j !== 0 && j !== self)
      .sort((a, b) => (metric === 'cosine' ? s[b] - s[a] : s[a] - s[b]))
      .slice(0, k)
      .map((j) => ({ word: this.vocab[j], score: s[j] }));
  }

  /**
   * The vectors of `words` (default: every word) in 2-D by PCA, each point carrying its
   * word; `labels` colours words by group.
   */
  projection(words?: readonly string[], labels?: Readonly<Record<string, number>>): { points: PointView[]; explained: [number, number] } {
    const list = words ?? this.vocab.slice(1);
    const { values, dim } = this.vectors();
    const rows = new Float32Array(list.length * dim);
    list.forEach((w, k) => {
      const i = this.id(w);
      rows.set(values.subarray(i * dim, (i + 1) * dim), k * dim);
    });
    const { coords, explained } = pca2d(rows, list.length, dim);
    return {
      points: list.map((w, k) => ({ x: coords[2 * k], y: coords[2 * k + 1], text: w, index: this.id(w), ...(labels?.[w] !== undefined ? { label: labels[w] } : {}) })),
      explained,
    };
  }
}
