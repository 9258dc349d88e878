/** Principal component analysis down to 2-D, for latent spaces and word embeddings. */

/**
 * Projects `n` rows of `d` values onto their first two principal components (power
 * iteration with deflation on the covariance, in float64). Returns [n * 2] coordinates and
 * the fraction of the variance each component explains.
 */
export function pca2d(values: ArrayLike<number>, n: number, d: number): { coords: Float64Array; explained: [number, number] } {
  if (values.length !== n * d) throw new Error(`pca2d: ${values.length} values do not fill ${n} rows of ${d}`);
  const coords = new Float64Array(n * 2);
  if (n === 0) return { coords, explained: [0, 0] };
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j] / n;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = values[i * d + j] - mean[j];
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b] += (x[i * d + a] * x[i * d + b]) / Math.max(1, n - 1);
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  const explained: [number, number] = [0, 0];
  for (let k = 0; k < Math.min(2, d); k++) {
    let v = new Float64Array(d).map((_, j) => 1 + ((j * 7919 + k * 104729) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a] += cov[a * d + b] * v[b];
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      v = w.map((t) => t / norm);
    }
    // Sign convention: the largest component positive, so projections are reproducible.
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) v = v.map((t) => -t);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * v[j];
      coords[i * 2 + k] = s;
    }
    explained[k] = trace > 0 ? lambda / trace : 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] -= lambda * v[a] * v[b];
  }
  return { coords, explained };
}
