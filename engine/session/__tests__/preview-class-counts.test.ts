import { describe, expect, it } from 'vitest';
import { useNodeMnistFiles } from '../../data/mnist.node.ts';
import { TrainingSession } from '../training-session.ts';
import { recorder } from './session-fixtures.ts';

useNodeMnistFiles();

describe('data-preview class counts', () => {
  it('carries per-class counts for MNIST over the whole set and per split', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'data-preview', requestId: 'm', data: { source: { kind: 'builtin', id: 'mnist', options: { samples: 100 } }, split: { train: 0.6, val: 0.2, test: 0.2 } } });
    const pv = await r.next('data-preview', (e) => e.requestId === 'm');
    const c = pv.classCounts!;
    expect(c.classNames).toHaveLength(10);
    expect(c.total.reduce((a, b) => a + b, 0)).toBe(pv.preview.length);
    expect(c.splits!.train.reduce((a, b) => a + b, 0)).toBe(pv.splits.train);
    expect(c.splits!.val.reduce((a, b) => a + b, 0)).toBe(pv.splits.val);
    expect(c.splits!.test.reduce((a, b) => a + b, 0)).toBe(pv.splits.test);
    // The preview's sample labels are counted under their classes.
    if (pv.preview.preview.kind !== 'image') throw new Error('MNIST previews as images');
    for (const sample of pv.preview.preview.samples) expect(c.total[c.classNames.indexOf(sample.label)]).toBeGreaterThan(0);
  });

  it('has no class counts for a regression CSV', async () => {
    const r = recorder();
    const s = new TrainingSession(r.emit);
    s.handle({ type: 'data-preview', requestId: 'r', data: { source: { kind: 'csv', file: 'r.csv' } }, payload: { text: 'a,y\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n' } });
    const pv = await r.next('data-preview', (e) => e.requestId === 'r');
    expect(pv.classCounts).toBeUndefined();
  });
});
