/**
 * Batched matrix multiply on the CPU: C[b] = op(A[b]) @ op(B[b]) with broadcasting over
 * the batch dimensions. The inner kernel is cache-blocked and allocation-free.
 */
import { registerKernel } from '../../core/backend.ts';
import { broadcastShapes, shapeStr, sizeOf } from '../../core/shape.ts';
import { f32, out } from './cpu-backend.ts';

const BLOCK_K = 256;
const BLOCK_N = 512;

/**
 * C (m x n, row stride n) += A (m x k) @ B (k x n), with A and B given by element strides so
 * that transposed operands need no copy. B is read along rows, the fast direction.
 */
export function gemm(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, aRow: number, aCol: number,
  b: Float32Array, bOff: number, bRow: number,
  c: Float32Array, cOff: number,
): void {
  for (let k0 = 0; k0 < k; k0 += BLOCK_K) {
    const k1 = Math.min(k, k0 + BLOCK_K);
    for (let n0 = 0; n0 < n; n0 += BLOCK_N) {
      const n1 = Math.min(n, n0 + BLOCK_N);
      for (let i = 0; i < m; i++) {
        const ci = cOff + i * n;
        const ai = aOff + i * aRow;
        let p = k0;
        // Four rows of B at a time: fewer passes over the C row.
        for (; p + 3 < k1; p += 4) {
          const a0 = a[ai + p * aCol];
          const a1 = a[ai + (p + 1) * aCol];
          const a2 = a[ai + (p + 2) * aCol];
          const a3 = a[ai + (p + 3) * aCol];
          const b0 = bOff + p * bRow;
          const b1 = b0 + bRow;
          const b2 = b1 + bRow;
          const b3 = b2 + bRow;
          for (let j = n0; j < n1; j++) {
            c[ci + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
          }
        }
        for (; p < k1; p++) {
          const av = a[ai + p * aCol];
          if (av === 0) continue;
          const bp = bOff + p * bRow;
          for (let j = n0; j < n1; j++) c[ci + j] += av * b[bp + j];
        }
      }
    }
  }
}

/** Copies a transposed matrix (rows x cols, read with strides) into a dense row-major buffer. */
function transposeInto(src: Float32Array, off: number, rows: number, cols: number, dst: Float32Array): void {
  // dst[r, c] = src[off + c * rows + r]
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[r * cols + c] = src[off + c * rows + r];
}

registerKernel('BatchMatMul', 'cpu', ([a, b], attrs) => {
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
  const nb = sizeOf(batch);
  const av = f32(a);
  const bv = f32(b);
  const res = new Float32Array(nb * m * n);
  const aMat = m * ka;
  const bMat = kb * n;
  // Batch index -> operand offsets, honouring broadcast (size-1) batch dims.
  const offsets = (sub: readonly number[], mat: number, idx: number) => {
    let off = 0;
    let stride = mat;
    let rem = idx;
    const pad = batch.length - sub.length;
    const coords: number[] = new Array(batch.length);
    for (let d = batch.length - 1; d >= 0; d--) {
      coords[d] = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
    }
    for (let d = sub.length - 1; d >= 0; d--) {
      if (sub[d] !== 1) off += coords[d + pad] * stride;
      stride *= sub[d];
    }
    return off;
  };
  const tb = transposeB ? new Float32Array(kb * n) : null;
  for (let bi = 0; bi < nb; bi++) {
    const aOff = offsets(batchA, aMat, bi);
    const bOff = offsets(batchB, bMat, bi);
    let bSrc = bv;
    let bStart = bOff;
    if (tb) {
      transposeInto(bv, bOff, kb, n, tb);
      bSrc = tb;
      bStart = 0;
    }
    // A element (i, p) lives at aOff + i*aRow + p*aCol.
    const aRow = transposeA ? 1 : ka;
    const aCol = transposeA ? m : 1;
    gemm(m, n, ka, av, aOff, aRow, aCol, bSrc, bStart, n, res, bi * m * n);
  }
  return out(res, [...batch, m, n]);
});
