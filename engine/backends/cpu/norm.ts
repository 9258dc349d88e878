/**
 * Fused normalisation kernels (batch norm and layer norm) with their explicit backward
 * kernels. Statistics are accumulated in float64. The kernels run on norm-simd.ts's
 * WebAssembly SIMD module where it is available (the same float64 arithmetic, two lanes at
 * a time; batch norm where the spatial size is at least 4); the loops here are the
 * reference and the fallback.
 */
import { registerKernel } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';
import { addLayerNormGradSimd, addLayerNormSimd, batchNormGradSimd, batchNormSimd, layerNormGradSimd, layerNormSimd } from './norm-simd.ts';

/** Splits an [N, C, *] shape into N, C and the size of the trailing spatial dims. */
function ncl(shape: readonly number[]): [number, number, number] {
  let l = 1;
  for (let i = 2; i < shape.length; i++) l *= shape[i];
  return [shape[0], shape[1], l];
}

/**
 * BatchNorm forward. Inputs x [N, C, *], weight [C], bias [C], runningMean [C],
 * runningVar [C]. Training normalises with the batch statistics and also returns updated
 * running statistics (momentum-blended, unbiased variance); eval uses the running ones.
 * Outputs: y, the mean used [C], the inverse standard deviation used [C], new running
 * mean [C], new running var [C].
 */
registerKernel('BatchNorm', 'cpu', ([x, weight, bias, runningMean, runningVar], attrs) => {
  const training = attrs.training as boolean;
  const momentum = attrs.momentum as number;
  const eps = attrs.eps as number;
  const [n, c, l] = ncl(x.shape);
  const xv = f32(x);
  const wv = f32(weight);
  const bv = f32(bias);
  const rm = f32(runningMean);
  const rv = f32(runningVar);
  const mean = new Float32Array(c);
  const invstd = new Float32Array(c);
  const newMean = Float32Array.from(rm);
  const newVar = Float32Array.from(rv);
  const y = new Float32Array(xv.length);
  const count = n * l;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  /** Channel ch normalises with mean m and inverse standard deviation is: y = x scale + shift. */
  const normalise = (ch: number, m: number, is: number) => {
    mean[ch] = m;
    invstd[ch] = is;
    scale[ch] = wv[ch] * is;
    shift[ch] = bv[ch] - m * scale[ch];
  };
  /** Training: channel ch's batch mean m and sum of squared deviations ss. */
  const batchStats = (ch: number, m: number, ss: number) => {
    const biased = ss / count;
    const unbiased = count > 1 ? ss / (count - 1) : Number.NaN;
    newMean[ch] = (1 - momentum) * rm[ch] + momentum * m;
    newVar[ch] = (1 - momentum) * rv[ch] + momentum * unbiased;
    normalise(ch, m, 1 / Math.sqrt(biased + eps));
  };
  if (!training) for (let ch = 0; ch < c; ch++) normalise(ch, rm[ch], 1 / Math.sqrt(rv[ch] + eps));
  const simd = batchNormSimd(xv, n, c, l, y, training ? batchStats : null, scale, shift);
  for (let ch = 0; ch < c && !simd; ch++) {
    if (training) {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * l;
        for (let i = 0; i < l; i++) s += xv[base + i];
      }
      const m = s / count;
      let ss = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * l;
        for (let i = 0; i < l; i++) {
          const d = xv[base + i] - m;
          ss += d * d;
        }
      }
      batchStats(ch, m, ss);
    }
    const sc = scale[ch];
    const sh = shift[ch];
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * l;
      for (let i = 0; i < l; i++) y[base + i] = xv[base + i] * sc + sh;
    }
  }
  return [out(y, x.shape), out(mean, [c]), out(invstd, [c]), out(newMean, [c]), out(newVar, [c])];
});

/**
 * BatchNorm backward. Inputs dy, x, weight, mean, invstd (as the forward returned them).
 * Training: dx = w * invstd / M * (M dy - sum(dy) - xhat sum(dy xhat)), M = N * L;
 * eval: dx = dy * w * invstd. dweight = sum(dy xhat), dbias = sum(dy).
 */
registerKernel('BatchNormGrad', 'cpu', ([dy, x, weight, mean, invstd], attrs) => {
  const training = attrs.training as boolean;
  const [n, c, l] = ncl(x.shape);
  const dyv = f32(dy);
  const xv = f32(x);
  const wv = f32(weight);
  const mv = f32(mean);
  const iv = f32(invstd);
  const dx = new Float32Array(xv.length);
  const dw = new Float32Array(c);
  const db = new Float32Array(c);
  const count = n * l;
  const kc = new Float64Array(c);
  const meanDyc = new Float64Array(c);
  const meanDyxc = new Float64Array(c);
  /** Channel ch's sum(dy) and sum(dy xhat): the weight and bias gradients and dx's coefficients. */
  const sums = (ch: number, sdy: number, sdyx: number) => {
    dw[ch] = sdyx;
    db[ch] = sdy;
    kc[ch] = wv[ch] * iv[ch];
    meanDyc[ch] = sdy / count;
    meanDyxc[ch] = sdyx / count;
  };
  const simd = batchNormGradSimd(dyv, xv, n, c, l, mv, iv, training, sums, kc, meanDyc, meanDyxc, dx);
  for (let ch = 0; ch < c && !simd; ch++) {
    const m = mv[ch];
    const is = iv[ch];
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * l;
      for (let i = 0; i < l; i++) {
        const g = dyv[base + i];
        sdy += g;
        sdyx += g * (xv[base + i] - m) * is;
      }
    }
    sums(ch, sdy, sdyx);
    const k = kc[ch];
    if (training) {
      const meanDy = meanDyc[ch];
      const meanDyx = meanDyxc[ch];
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * l;
        for (let i = 0; i < l; i++) {
          const xhat = (xv[base + i] - m) * is;
          dx[base + i] = k * (dyv[base + i] - meanDy - xhat * meanDyx);
        }
      }
    } else {
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * l;
        for (let i = 0; i < l; i++) dx[base + i] = k * dyv[base + i];
      }
    }
  }
  return [out(dx, x.shape), out(dw, [c]), out(db, [c])];
});

/**
 * LayerNorm forward over the trailing `inner` elements of each row. Inputs x, weight
 * [inner], bias [inner] (attrs.affine false: both ignored). Outputs y, mean [rows],
 * rstd [rows].
 */
registerKernel('LayerNorm', 'cpu', ([x, weight, bias], attrs) => {
  const inner = attrs.inner as number;
  const eps = attrs.eps as number;
  const affine = attrs.affine as boolean;
  const xv = f32(x);
  const wv = affine ? f32(weight) : null;
  const bv = affine ? f32(bias) : null;
  const rows = inner === 0 ? 0 : xv.length / inner;
  const y = new Float32Array(xv.length);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  if (layerNormSimd(xv, inner, eps, wv, bv, y, mean, rstd)) return [out(y, x.shape), out(mean, [rows]), out(rstd, [rows])];
  for (let r = 0; r < rows; r++) {
    const base = r * inner;
    let s = 0;
    for (let i = 0; i < inner; i++) s += xv[base + i];
    const m = s / inner;
    let ss = 0;
    for (let i = 0; i < inner; i++) {
      const d = xv[base + i] - m;
      ss += d * d;
    }
    const is = 1 / Math.sqrt(ss / inner + eps);
    mean[r] = m;
    rstd[r] = is;
    if (wv && bv) {
      for (let i = 0; i < inner; i++) y[base + i] = (xv[base + i] - m) * is * wv[i] + bv[i];
    } else {
      for (let i = 0; i < inner; i++) y[base + i] = (xv[base + i] - m) * is;
    }
  }
  return [out(y, x.shape), out(mean, [rows]), out(rstd, [rows])];
});

/**
 * LayerNorm backward. Inputs dy, x, weight, mean, rstd. With g = dy * w:
 * dx = rstd * (g - mean(g) - xhat * mean(g xhat)); dweight = sum_rows(dy xhat);
 * dbias = sum_rows(dy).
 */
registerKernel('LayerNormGrad', 'cpu', ([dy, x, weight, mean, rstd], attrs) => {
  const inner = attrs.inner as number;
  const affine = attrs.affine as boolean;
  const dyv = f32(dy);
  const xv = f32(x);
  const wv = affine ? f32(weight) : null;
  const mv = f32(mean);
  const rv = f32(rstd);
  const rows = mv.length;
  const dx = new Float32Array(xv.length);
  const dw = new Float64Array(inner);
  const db = new Float64Array(inner);
  const simd = layerNormGradSimd(dyv, xv, wv, mv, rv, inner, dx, dw, db);
  for (let r = 0; r < rows && !simd; r++) {
    const base = r * inner;
    const m = mv[r];
    const is = rv[r];
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < inner; i++) {
      const xhat = (xv[base + i] - m) * is;
      const d = dyv[base + i];
      const g = wv ? d * wv[i] : d;
      sg += g;
      sgx += g * xhat;
      dw[i] += d * xhat;
      db[i] += d;
    }
    const mg = sg / inner;
    const mgx = sgx / inner;
    for (let i = 0; i < inner; i++) {
      const xhat = (xv[base + i] - m) * is;
      const g = wv ? dyv[base + i] * wv[i] : dyv[base + i];
      dx[base + i] = is * (g - mg - xhat * mgx);
    }
  }
  return [out(dx, x.shape), out(Float32Array.from(dw), [inner]), out(Float32Array.from(db), [inner])];
});

/**
 * Residual sum, dropout and LayerNorm in one pass over each row: y = LN(x + r * mask) over
 * the trailing `inner` elements. Inputs x, r (same shape), weight [inner], bias [inner]
 * (attrs.affine false: both ignored) and, with attrs.dropout, the dropout scale mask (r's
 * shape). Outputs y, the normalised sum xhat (x's shape) and rstd [rows].
 */
registerKernel('AddLayerNorm', 'cpu', (inputs, attrs) => {
  const [x, r, weight, bias] = inputs;
  const inner = attrs.inner as number;
  const eps = attrs.eps as number;
  const affine = attrs.affine as boolean;
  const xv = f32(x);
  const rv = f32(r);
  const mv = attrs.dropout ? f32(inputs[4]) : null;
  const wv = affine ? f32(weight) : null;
  const bv = affine ? f32(bias) : null;
  const rows = inner === 0 ? 0 : xv.length / inner;
  const y = new Float32Array(xv.length);
  const xhat = new Float32Array(xv.length);
  const rstd = new Float32Array(rows);
  if (addLayerNormSimd(xv, rv, mv, inner, eps, wv, bv, y, xhat, rstd)) return [out(y, x.shape), out(xhat, x.shape), out(rstd, [rows])];
  const sum = new Float64Array(inner);
  for (let row = 0; row < rows; row++) {
    const base = row * inner;
    let s = 0;
    if (mv) {
      for (let i = 0; i < inner; i++) {
        const v = xv[base + i] + rv[base + i] * mv[base + i];
        sum[i] = v;
        s += v;
      }
    } else {
      for (let i = 0; i < inner; i++) {
        const v = xv[base + i] + rv[base + i];
        sum[i] = v;
        s += v;
      }
    }
    const m = s / inner;
    let ss = 0;
    for (let i = 0; i < inner; i++) {
      const d = sum[i] - m;
      ss += d * d;
    }
    const is = 1 / Math.sqrt(ss / inner + eps);
    rstd[row] = is;
    if (wv && bv) {
      for (let i = 0; i < inner; i++) {
        const h = (sum[i] - m) * is;
        xhat[base + i] = h;
        y[base + i] = h * wv[i] + bv[i];
      }
    } else {
      for (let i = 0; i < inner; i++) {
        const h = (sum[i] - m) * is;
        xhat[base + i] = h;
        y[base + i] = h;
      }
    }
  }
  return [out(y, x.shape), out(xhat, x.shape), out(rstd, [rows])];
});

/**
 * Backward of AddLayerNorm. Inputs dy, xhat, weight, rstd and (attrs.dropout) the dropout
 * mask. With g = dy * w: dsum = rstd * (g - mean(g) - xhat * mean(g xhat)); dx = dsum;
 * dr = dsum * mask (dsum itself without dropout); dweight = sum_rows(dy xhat); dbias = sum_rows(dy).
 * Outputs dx, dr (only with dropout), dweight, dbias.
 */
registerKernel('AddLayerNormGrad', 'cpu', (inputs, attrs) => {
  const [dy, xhat, weight, rstd] = inputs;
  const inner = attrs.inner as number;
  const affine = attrs.affine as boolean;
  const dyv = f32(dy);
  const hv = f32(xhat);
  const wv = affine ? f32(weight) : null;
  const rv = f32(rstd);
  const mv = attrs.dropout ? f32(inputs[4]) : null;
  const rows = rv.length;
  const dx = new Float32Array(hv.length);
  const dr = mv ? new Float32Array(hv.length) : null;
  const dw = new Float64Array(inner);
  const db = new Float64Array(inner);
  const simd = addLayerNormGradSimd(dyv, hv, wv, rv, mv, inner, dx, dr, dw, db);
  for (let row = 0; row < rows && !simd; row++) {
    const base = row * inner;
    const is = rv[row];
    let sg = 0;
    let sgx = 0;
    if (wv) {
      for (let i = 0; i < inner; i++) {
        const h = hv[base + i];
        const d = dyv[base + i];
        const g = d * wv[i];
        sg += g;
        sgx += g * h;
        dw[i] += d * h;
        db[i] += d;
      }
    } else {
      for (let i = 0; i < inner; i++) {
        const h = hv[base + i];
        const d = dyv[base + i];
        sg += d;
        sgx += d * h;
        dw[i] += d * h;
        db[i] += d;
      }
    }
    const mg = sg / inner;
    const mgx = sgx / inner;
    if (wv && dr && mv) {
      for (let i = 0; i < inner; i++) {
        const v = is * (dyv[base + i] * wv[i] - mg - hv[base + i] * mgx);
        dx[base + i] = v;
        dr[base + i] = v * mv[base + i];
      }
    } else if (wv) {
      for (let i = 0; i < inner; i++) dx[base + i] = is * (dyv[base + i] * wv[i] - mg - hv[base + i] * mgx);
    } else {
      for (let i = 0; i < inner; i++) {
        const v = is * (dyv[base + i] - mg - hv[base + i] * mgx);
        dx[base + i] = v;
        if (dr && mv) dr[base + i] = v * mv[base + i];
      }
    }
  }
  const res = [out(dx, dy.shape)];
  if (dr) res.push(out(dr, dy.shape));
  res.push(out(Float32Array.from(dw), [inner]), out(Float32Array.from(db), [inner]));
  return res;
});
