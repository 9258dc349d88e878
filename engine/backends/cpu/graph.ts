/**
 * Scatter reductions for message passing on graphs: rows of src [E, ...] are reduced into
 * dimSize groups by an int32 index [E] (sum, mean or max; empty groups give 0, as PyG).
 */
import { registerKernel } from '../../core/backend.ts';
import { f32, i32, out } from './cpu-backend.ts';

/**
 * Outputs: reduced [dimSize, ...]; for 'mean' also the group sizes [dimSize] (float32);
 * for 'max' also the source row of each maximum [dimSize, ...] (int32, -1 for empty groups).
 */
registerKernel('ScatterReduce', 'cpu', ([src, index], attrs) => {
  const dimSize = attrs.dimSize as number;
  const reduce = attrs.reduce as 'sum' | 'mean' | 'max';
  const sv = f32(src);
  const iv = i32(index);
  const E = src.shape[0];
  const F = E === 0 ? src.shape.slice(1).reduce((a, b) => a * b, 1) : sv.length / E;
  const shape = [dimSize, ...src.shape.slice(1)];
  const res = new Float32Array(dimSize * F);
  for (let e = 0; e < E; e++) {
    const g = iv[e];
    if (!(g >= 0 && g < dimSize)) throw new Error(`scatter: index ${g} at position ${e} is outside [0, ${dimSize})`);
  }
  if (reduce === 'max') {
    const arg = new Int32Array(dimSize * F).fill(-1);
    res.fill(-Infinity);
    for (let e = 0; e < E; e++) {
      const o = iv[e] * F;
      for (let f = 0; f < F; f++) {
        const v = sv[e * F + f];
        if (v > res[o + f] || arg[o + f] < 0) {
          res[o + f] = v;
          arg[o + f] = e;
        }
      }
    }
    for (let k = 0; k < res.length; k++) if (arg[k] < 0) res[k] = 0;
    return [out(res, shape), out(arg, shape, 'int32')];
  }
  for (let e = 0; e < E; e++) {
    const o = iv[e] * F;
    for (let f = 0; f < F; f++) res[o + f] += sv[e * F + f];
  }
  if (reduce === 'sum') return out(res, shape);
  const count = new Float32Array(dimSize);
  for (let e = 0; e < E; e++) count[iv[e]]++;
  for (let g = 0; g < dimSize; g++) {
    if (count[g] > 1) for (let f = 0; f < F; f++) res[g * F + f] /= count[g];
  }
  return [out(res, shape), out(count, [dimSize])];
});

/** Backward of the max reduction: routes dy[g, f] to the source row that held the maximum. */
registerKernel('ScatterMaxGrad', 'cpu', ([dy, arg], attrs) => {
  const numSrc = attrs.numSrc as number;
  const dv = f32(dy);
  const av = i32(arg);
  const G = dy.shape[0];
  const F = G === 0 ? 0 : dv.length / G;
  const res = new Float32Array(numSrc * F);
  for (let g = 0; g < G; g++) {
    for (let f = 0; f < F; f++) {
      const e = av[g * F + f];
      if (e >= 0) res[e * F + f] += dv[g * F + f];
    }
  }
  return out(res, [numSrc, ...dy.shape.slice(1)]);
});
