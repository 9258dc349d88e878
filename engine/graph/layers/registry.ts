/** The layer families beyond the basics, collected for the catalogue. */
import type { LayerDef } from '../types.ts';
import { attentionLayers } from './attention.ts';
import { blockLayer } from './block.ts';
import { reparameterizeLayer } from './generative.ts';
import { graphLayers } from './graph.ts';
import { lossLayers } from './loss.ts';
import { mergeLayers } from './merge.ts';
import { reshapeLayers } from './reshape.ts';
import { sequenceLayers } from './sequence.ts';

export function extraLayers(): LayerDef[] {
  return [...sequenceLayers, ...attentionLayers, ...graphLayers, ...mergeLayers, ...reshapeLayers, reparameterizeLayer, ...lossLayers, blockLayer];
}
