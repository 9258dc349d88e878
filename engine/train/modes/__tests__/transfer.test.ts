import { describe, expect, it } from 'vitest';
import { AutoencoderMode } from '../autoencoder.ts';
import { denseAutoencoderGraph } from '../graphs.ts';
import { ClassifierMode } from '../supervised.ts';
import { classifierOnEncoder, copyWeights, decoderGraph, encoderGraph, setTransferMode, upstreamOf } from '../transfer.ts';
import { digits } from './fixtures.ts';

describe('transfer learning', { timeout: 30_000 }, () => {
  it('cuts an autoencoder into encoder and decoder graphs', () => {
    const ae = denseAutoencoderGraph({ hidden: 16, latent: 4 });
    expect([...upstreamOf(ae, 'code')].sort()).toEqual(['code', 'enc1', 'enc1_act', 'flat', 'input']);
    const enc = encoderGraph(ae, 'code');
    expect(enc.nodes.map((n) => n.id)).toEqual(['input', 'flat', 'enc1', 'enc1_act', 'code']);
    const dec = decoderGraph(ae, 'code', 'y', 4);
    expect(dec.nodes.map((n) => n.id)).toEqual(['code', 'dec1', 'dec1_act', 'dec2', 'dec2_act', 'recon']);
    expect(dec.nodes[0]).toMatchObject({ type: 'VectorInput', params: { features: 4 } });
    expect(() => encoderGraph(ae, 'nope')).toThrow(/no node "nope"/);
  });

  it('copies encoder weights by state_dict name into a classifier; a frozen encoder stays fixed, a fine-tuned one moves at its scaled learning rate', async () => {
    const data = await digits(96);
    const ae = new AutoencoderMode({ graph: denseAutoencoderGraph({ hidden: 16, latent: 4 }), data, batchSize: 32, seed: 1 });
    for (let i = 0; i < 3; i++) ae.step();
    const enc = encoderGraph(ae.opts.graph, 'code');
    const frozen = new ClassifierMode({ graph: classifierOnEncoder(enc, 'code', 10, { mode: 'freeze' }), data, batchSize: 32, optimizer: { lr: 1e-2 }, seed: 2 });
    expect(copyWeights(ae.model, frozen.model, ['enc1', 'code']).sort()).toEqual(['code.bias', 'code.weight', 'enc1.bias', 'enc1.weight']);
    const w0 = Array.from(frozen.model.stateDict().get('enc1.weight')!.dataSync());
    expect(w0).toEqual(Array.from(ae.model.stateDict().get('enc1.weight')!.dataSync()));
    const h0 = Array.from(frozen.model.stateDict().get('head.weight')!.dataSync());
    for (let i = 0; i < 3; i++) frozen.step();
    expect(Array.from(frozen.model.stateDict().get('enc1.weight')!.dataSync())).toEqual(w0);
    expect(Array.from(frozen.model.stateDict().get('head.weight')!.dataSync())).not.toEqual(h0);

    const tuned = new ClassifierMode({ graph: classifierOnEncoder(enc, 'code', 10, { mode: 'finetune', lrScale: 0.1 }), data, batchSize: 32, optimizer: { type: 'sgd', lr: 0.5 }, seed: 2 });
    const groups = tuned.model.paramGroups();
    expect(groups.find((g) => g.lrScale === 0.1)!.nodeIds.sort()).toEqual(['code', 'enc1']);
    expect(tuned.optimizer.paramGroups.map((g) => g.lr).sort()).toEqual([0.05, 0.5]);
    copyWeights(ae.model, tuned.model, ['enc1', 'code']);
    tuned.step();
    expect(Array.from(tuned.model.stateDict().get('enc1.weight')!.dataSync())).not.toEqual(w0);
    expect(() => setTransferMode(enc, ['code'], { mode: 'finetune', lrScale: 0 })).toThrow(/lrScale must be above 0/);
  });
});
