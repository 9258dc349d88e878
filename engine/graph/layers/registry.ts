/** The layer families beyond the basics, collected for the catalogue. */
import type { LayerDef } from '../types.ts';
import { lossLayers } from './loss.ts';
import { mergeLayers } from './merge.ts';
import { reshapeLayers } from './reshape.ts';

export function extraLayers(): LayerDef[] {
  return [...mergeLayers, ...reshapeLayers, ...lossLayers];
}
