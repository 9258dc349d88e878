import { describe, expect, it } from 'vitest';
import { DIGIT_SEQ_VOCAB } from '../../data/modes-text.ts';
import { charLanguageModelGraph, seq2seqGraph, word2vecGraph } from '../../train/modes/graphs.ts';
import { ModeSession } from '../mode-session.ts';
import type { ModeEvent, ModeView, ModeViewQuery, TrainingEvent } from '../protocol.ts';

type Event = ModeEvent | TrainingEvent;

function recorder() {
  const events: Event[] = [];
  const waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const emit = (e: Event) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.pred(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };
  const next = (pred: (e: Event) => boolean) =>
    new Promise<Event>((resolve) => {
      const found = events.find(pred);
      if (found) resolve(found);
      else waiters.push({ pred, resolve });
    });
  const of = <T extends Event['type']>(type: T) => events.filter((e) => e.type === type) as Extract<Event, { type: T }>[];
  return { events, emit, next, of };
}

let asked = 0;
/** Sends a view query and waits for its answer (generation and evaluation answer later). */
async function ask<K extends ModeView['kind']>(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: ModeViewQuery & { kind: K }): Promise<Extract<ModeView, { kind: K }>> {
  const requestId = `q${++asked}`;
  s.handle({ type: 'mode-view', runId, requestId, query });
  const reply = await r.next((e) => 'requestId' in e && e.requestId === requestId);
  if (reply.type === 'request-failed') throw new Error(reply.reason);
  expect(reply.type).toBe('mode-view');
  const v = (reply as Extract<Event, { type: 'mode-view' }>).view;
  expect(v.kind).toBe(query.kind);
  return v as Extract<ModeView, { kind: K }>;
}

async function refusal(s: ModeSession, r: ReturnType<typeof recorder>, runId: string, query: ModeViewQuery): Promise<string> {
  const requestId = `bad${++asked}`;
  s.handle({ type: 'mode-view', runId, requestId, query });
  const reply = await r.next((e) => 'requestId' in e && e.requestId === requestId);
  expect(reply.type).toBe('request-failed');
  return (reply as Extract<Event, { type: 'request-failed' }>).reason;
}

const idle = (r: ReturnType<typeof recorder>, step: number) => r.next((e) => e.type === 'mode-state' && e.state === 'idle' && e.step === step) as Promise<Extract<Event, { type: 'mode-state' }>>;

describe('ModeSession: sequence and word modes over the protocol', { timeout: 20_000 }, () => {
  it('seq2seq makes its own digit strings, trains with a falling loss, then generates greedily, by beam search and by sampling, and evaluates', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const graph = seq2seqGraph({ vocab: 13, srcLength: 5, tgtLength: 6, embed: 8, hidden: 16 });
    s.handle({ type: 'mode-start', runId: 's2s', graph, data: { split: { train: 0.9, val: 0, test: 0.1 } }, training: { batchSize: 16, optimizer: { type: 'adam', lr: 1e-2 }, mode: { kind: 'seq2seq', dataset: { samples: 200, seed: 3 }, sample: '3141' } }, steps: 30 });
    expect(await idle(r, 30)).toMatchObject({ status: 'completed' });
    const started = r.of('mode-started')[0];
    expect(started).toMatchObject({ kind: 'seq2seq', splits: { train: 180, val: 0, test: 20 } });
    expect(started.info.text).toMatchObject({ vocab: DIGIT_SEQ_VOCAB, prompt: '3141', maxLength: 5 });
    expect(started.info.lossNames).toHaveLength(1);
    const losses = r.of('mode-progress').flatMap((e) => e.points).map((p) => p.losses[started.info.lossNames[0]]);
    expect(losses).toHaveLength(30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Cross-entropy over 13 tokens starts near ln 13 = 2.56 and falls.
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.3);

    const greedy = await ask(s, r, 's2s', { kind: 'generate', source: '3141', method: 'greedy' });
    expect(greedy.method).toBe('greedy');
    expect(greedy.input).toBe('3141');
    expect(greedy.hypotheses).toEqual([]);
    expect(greedy.tokens.length).toBeGreaterThan(0);
    expect(greedy.tokens.length).toBeLessThanOrEqual(6);
    // The text is the tokens up to the end token, with no special tokens.
    expect(greedy.text).toBe(greedy.tokens.slice(0, greedy.tokens.indexOf('<eos>') < 0 ? undefined : greedy.tokens.indexOf('<eos>')).join(''));
    expect(greedy.text).toMatch(/^[0-9]*$/);

    const beam = await ask(s, r, 's2s', { kind: 'generate', source: '3141', method: 'beam', beamWidth: 3 });
    expect(beam.hypotheses).toHaveLength(3);
    const scores = beam.hypotheses.map((h) => h.logProb);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(beam.text).toBe(beam.hypotheses[0].text);
    expect(beam.logProb).toBeCloseTo(beam.hypotheses[0].logProb, 5);
    // Beam search keeps the greedy answer in view, so its best is at least as likely.
    expect(beam.logProb).toBeGreaterThanOrEqual(greedy.logProb - 1e-4);

    const a = await ask(s, r, 's2s', { kind: 'generate', source: '3141', method: 'sample', temperature: 1.5, seed: 7 });
    const b = await ask(s, r, 's2s', { kind: 'generate', source: '3141', method: 'sample', temperature: 1.5, seed: 7 });
    expect(b.tokens).toEqual(a.tokens);

    const ev = await ask(s, r, 's2s', { kind: 'evaluate', split: 'test' });
    expect(ev).toMatchObject({ split: 'test', samples: 20 });
    expect(Object.keys(ev.metrics).sort()).toEqual(['exactMatch', 'loss', 'tokenAccuracy']);
    expect(ev.metrics.loss).toBeGreaterThan(0);
    expect(ev.metrics.tokenAccuracy).toBeGreaterThan(0);
    expect(ev.metrics.tokenAccuracy).toBeLessThanOrEqual(1);

    expect(await refusal(s, r, 's2s', { kind: 'generate', source: '31a' })).toMatch(/"a"|a/);
    expect(await refusal(s, r, 's2s', { kind: 'generate', source: '1234567' })).toMatch(/7 tokens.*at most 5/);
    expect(await refusal(s, r, 's2s', { kind: 'generate', source: '12', method: 'beam', beamWidth: 0 })).toMatch(/beamWidth must be a whole number from 1 to 16, got 0/);
    expect(await refusal(s, r, 's2s', { kind: 'generate', source: '12', method: 'nucleus' as never })).toMatch(/method must be greedy, beam or sample/);
    expect(await refusal(s, r, 's2s', { kind: 'neighbours', word: 'cat' })).toMatch(/not available in the seq2seq mode/);
  });

  it('the language model trains on the text windows, continues a prompt by the asked length and reports perplexity', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const graph = charLanguageModelGraph({ vocab: 35, length: 16, embed: 8, hidden: 24 });
    s.handle({ type: 'mode-start', runId: 'lm', graph, data: { source: { kind: 'builtin', id: 'text-chars', options: { seqLen: 16, stride: 16 } }, split: { train: 0.9, val: 0.1, test: 0 } }, training: { batchSize: 16, optimizer: { type: 'adam', lr: 1e-2 }, mode: { kind: 'language-model', prompt: 'The keeper ' } }, steps: 4 });
    expect(await idle(r, 4)).toMatchObject({ status: 'completed' });
    const started = r.of('mode-started')[0];
    expect(started.kind).toBe('language-model');
    expect(started.info.text?.prompt).toBe('The keeper ');
    expect(started.info.text?.vocab).toHaveLength(35);
    const greedy = await ask(s, r, 'lm', { kind: 'generate', prompt: 'The keeper ', method: 'greedy', length: 12 });
    expect(greedy.text).toHaveLength(12);
    expect(greedy.tokens.join('')).toBe(greedy.text);
    const beam = await ask(s, r, 'lm', { kind: 'generate', prompt: 'The', method: 'beam', beamWidth: 2, length: 5 });
    expect(beam.hypotheses).toHaveLength(2);
    for (const h of beam.hypotheses) expect(h.text).toHaveLength(5);
    const ev = await ask(s, r, 'lm', { kind: 'evaluate', split: 'val' });
    expect(ev.split).toBe('val');
    expect(ev.metrics.perplexity).toBeCloseTo(Math.exp(ev.metrics.loss), 3);
    expect(ev.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(await refusal(s, r, 'lm', { kind: 'generate', prompt: '' })).toMatch(/prompt/);
    expect(await refusal(s, r, 'lm', { kind: 'generate', prompt: 'The', length: 0 })).toMatch(/length must be a whole number from 1 to 1000, got 0/);
  });

  it('word2vec makes its own corpus, and answers nearest words by cosine and euclidean and the labelled 2-D projection', async () => {
    const r = recorder();
    const s = new ModeSession(r.emit);
    const graph = word2vecGraph({ vocab: 76, dim: 8, contextLength: 1, paddingIdx: 0 });
    s.handle({ type: 'mode-start', runId: 'w2v', graph, data: {}, training: { batchSize: 64, optimizer: { type: 'adam', lr: 1e-2 }, mode: { kind: 'word2vec', method: 'skipgram', window: 2, corpus: { sentences: 200, seed: 0 }, query: ['cat', 'red', 'notaword'] } }, steps: 3 });
    expect(await idle(r, 3)).toMatchObject({ status: 'completed' });
    const started = r.of('mode-started')[0];
    expect(started.kind).toBe('word2vec');
    expect(started.info.words?.vocab).toHaveLength(75);
    expect(started.info.words?.query).toEqual(['cat', 'red']);
    const cos = await ask(s, r, 'w2v', { kind: 'neighbours', word: 'cat', k: 4, metric: 'cosine' });
    expect(cos.neighbours).toHaveLength(4);
    expect(cos.neighbours.map((n) => n.word)).not.toContain('cat');
    const c = cos.neighbours.map((n) => n.score);
    expect([...c].sort((x, y) => y - x)).toEqual(c);
    const euc = await ask(s, r, 'w2v', { kind: 'neighbours', word: 'cat', k: 4, metric: 'euclidean' });
    const d = euc.neighbours.map((n) => n.score);
    expect([...d].sort((x, y) => x - y)).toEqual(d);
    expect(d[0]).toBeGreaterThan(0);
    const proj = await ask(s, r, 'w2v', { kind: 'projection' });
    expect(proj.points).toHaveLength(75);
    expect(proj.points.map((p) => p.text)).toContain('cat');
    for (const p of proj.points) expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);
    expect(await refusal(s, r, 'w2v', { kind: 'neighbours', word: 'zebra' })).toMatch(/"zebra" is not in the vocabulary/);
    expect(await refusal(s, r, 'w2v', { kind: 'neighbours', word: 'cat', metric: 'manhattan' as never })).toMatch(/metric must be cosine or euclidean/);
    expect(await refusal(s, r, 'w2v', { kind: 'generate', prompt: 'cat' })).toMatch(/not available in the word2vec mode/);
  });
});
