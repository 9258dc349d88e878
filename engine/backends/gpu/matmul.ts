/**
 * Batched matrix multiply on the gpu: C[b] = op(A[b]) @ op(B[b]) with broadcasting over the
 * batch dims, one thread per element of C, transposes folded into the read strides.
 */
import { registerKernel } from '../../core/backend.ts';
import { broadcastShapes, shapeStr } from '../../core/shape.ts';
import { broadcastStrides, coordinates, dot, lit, mergeDims } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

registerKernel('BatchMatMul', 'gpu', ([a, b], attrs) => {
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) throw new Error(`matmul: operands need at least 2 dimensions, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (ka !== kb) {
    throw new Error(`matmul: inner dimensions differ: ${shapeStr(a.shape)}${transposeA ? 'ᵀ' : ''} @ ${shapeStr(b.shape)}${transposeB ? 'ᵀ' : ''} (${ka} vs ${kb})`);
  }
  const batchA = a.shape.slice(0, ar - 2);
  const batchB = b.shape.slice(0, br - 2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  // Batch strides in elements: whole matrices, zero along broadcast dims.
  const matA = m * ka;
  const matB = kb * n;
  const bs = mergeDims(batch, [
    broadcastStrides(batchA, batch).map((s) => s * matA),
    broadcastStrides(batchB, batch).map((s) => s * matB),
  ]);
  // A element (i, p) at i*aRs + p*aCs; B element (p, j) at p*bRs + j*bCs.
  const aRs = transposeA ? 1 : ka;
  const aCs = transposeA ? m : 1;
  const bRs = transposeB ? 1 : n;
  const bCs = transposeB ? kb : 1;
  const bc = coordinates('bi', bs.shape, 'c');
  const source = `function(a0, a1) {
const t = this.thread.x;
const bi = Math.floor((t + 0.5) / ${lit(m * n)});
const rem = t - bi * ${lit(m * n)};
const i = Math.floor((rem + 0.5) / ${lit(n)});
const j = rem - i * ${lit(n)};
${bc.code}
const ao = ${dot(bc.coords, bs.strides[0])} + i * ${lit(aRs)};
const bo = ${dot(bc.coords, bs.strides[1])} + j * ${lit(bCs)};
let s = 0.0;
for (let p = 0; p < ${ka}; p++) {
s += a0[ao + p * ${lit(aCs)}] * a1[bo + p * ${lit(bRs)}];
}
return s;
}`;
  return gpuBackend.run(source, [a, b], [...batch, m, n]);
});
