import { describe, expect, it } from 'vitest';
import { fromValues } from '../../../core/engine.ts';
import { relu, reluGrad } from '../../../ops/activation.ts';
import '../register.ts';

const negNaN = new Float32Array(new Int32Array([0xffc00000 | 0]).buffer)[0];

describe('ReLU kernels on the float bits', () => {
  it('forward: negatives, -0 and -inf give +0; NaN of either sign stays NaN (as torch.relu); positives pass unchanged', () => {
    const x = new Float32Array([-2, -0, 0, 1.5, -Infinity, Infinity, NaN, negNaN, 1e-45, -1e-45, 3.4e38]);
    const y = relu(fromValues(x, [x.length])).dataSync();
    const want = [0, 0, 0, 1.5, 0, Infinity, NaN, NaN, 1e-45, 0, 3.4e38].map(Math.fround);
    want.forEach((w, i) => expect(Object.is(y[i], w), `element ${i}: ${y[i]} vs ${w}`).toBe(true));
  });

  it('gradient: dy where x > 0, +0 elsewhere (NaN x included), on many random values against the plain rule', () => {
    const n = 1003;
    const x = new Float32Array(n);
    const dy = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = Math.sin(i * 12.9898) * 3;
      dy[i] = Math.cos(i * 78.233) * 5;
    }
    x[5] = NaN;
    x[6] = -0;
    x[7] = Infinity;
    dy[7] = -0;
    const g = reluGrad(fromValues(dy, [n]), fromValues(x, [n])).dataSync();
    for (let i = 0; i < n; i++) expect(Object.is(g[i], x[i] > 0 ? dy[i] : 0), `element ${i}`).toBe(true);
    // And the forward agrees with the plain rule away from NaN.
    const y = relu(fromValues(x, [n])).dataSync();
    for (let i = 0; i < n; i++) if (i !== 5) expect(Object.is(y[i], x[i] > 0 ? x[i] : 0), `element ${i}`).toBe(true);
  });
});
