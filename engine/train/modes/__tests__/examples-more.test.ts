import { describe, expect, it } from 'vitest';
import { MODE_EXAMPLES } from '../../../../scripts/examples-modes.ts';
import { DIGIT_BOS, DIGIT_EOS, DIGIT_PAD, makeDigitSeq2Seq, makeWordCorpus } from '../../../data/modes-text.ts';
import { makeCharText } from '../../../data/sequences.ts';
import { inferGraph } from '../../../graph/infer.ts';
import { AutoencoderMode } from '../autoencoder.ts';
import { ContrastiveMode } from '../contrastive.ts';
import { LanguageModelMode } from '../language-model.ts';
import { RotationPretextMode } from '../self-supervised.ts';
import { Seq2SeqMode } from '../seq2seq.ts';
import { ClassifierMode } from '../supervised.ts';
import { linearProbe } from '../transfer.ts';
import { Word2VecMode } from '../word2vec.ts';
import { digits } from './fixtures.ts';

describe('sequence, embedding and self-supervised mode examples', { timeout: 30_000 }, () => {
  it('every example graph is valid, fits its data and trains two steps with its mode', async () => {
    const images = await digits(32);
    const kinds = ['seq2seq', 'language-model', 'word2vec', 'rotation', 'contrastive', 'pretrain-transfer'];
    const examples = MODE_EXAMPLES.filter((e) => kinds.includes(e.mode.kind));
    expect(examples.map((e) => e.mode.kind).sort()).toEqual(['contrastive', 'language-model', 'pretrain-transfer', 'rotation', 'seq2seq', 'word2vec', 'word2vec']);
    for (const e of examples) {
      expect(inferGraph(e.graph).problems, e.id).toEqual([]);
      const m = e.mode;
      let losses: number[] = [];
      if (m.kind === 'seq2seq') {
        const mode = new Seq2SeqMode({ graph: e.graph, data: makeDigitSeq2Seq({ ...m.dataset, samples: 64 }), bos: DIGIT_BOS, eos: DIGIT_EOS, pad: DIGIT_PAD, batchSize: 16 });
        losses = [mode.step().total, mode.step().total];
        expect((await mode.generate(m.sample, m.generate)).tokens.length).toBeGreaterThan(0);
      } else if (m.kind === 'language-model') {
        const opts = (e.data!.source as unknown as { options: { seqLen: number; stride: number } }).options;
        const mode = new LanguageModelMode({ graph: e.graph, data: makeCharText(opts), batchSize: 16 });
        losses = [mode.step().total, mode.step().total];
        expect((await mode.generate(m.prompt, { ...m.generate, length: 5 })).text).toHaveLength(5);
      } else if (m.kind === 'word2vec') {
        const mode = new Word2VecMode({ graph: e.graph, sentences: makeWordCorpus(m.corpus), method: m.method, window: m.window, batchSize: 32 });
        losses = [mode.step().total, mode.step().total];
        for (const q of m.query) expect(mode.nearest(q, 3)).toHaveLength(3);
      } else if (m.kind === 'rotation' || m.kind === 'contrastive') {
        const mode =
          m.kind === 'rotation'
            ? new RotationPretextMode({ graph: e.graph, data: images, batchSize: 8 })
            : new ContrastiveMode({ graph: e.graph, data: images, batchSize: 8, temperature: m.temperature });
        losses = [mode.step().total, mode.step().total];
        const probe = linearProbe(mode.model, m.probe.featureId, { data: images, classes: 10, batchSize: 8 });
        losses.push(probe.step().total);
      } else if (m.kind === 'pretrain-transfer') {
        expect(inferGraph(m.classifier).problems).toEqual([]);
        const ae = new AutoencoderMode({ graph: e.graph, data: images, batchSize: 8 });
        losses = [ae.step().total, ae.step().total];
        const probe = linearProbe(ae.model, 'features', { data: images, classes: 10, batchSize: 8 });
        const scratch = new ClassifierMode({ graph: m.classifier, data: images, batchSize: 8 });
        losses.push(probe.step().total, scratch.step().total);
      }
      expect(losses.length, e.id).toBeGreaterThan(1);
      expect(losses.every(Number.isFinite), e.id).toBe(true);
    }
  });
});
