/**
 * Finite-difference gradient checks of the ops whose forward and backward kernels the gpu
 * backend implements, run as one suite on every backend (float32: step 1e-3, the default
 * tolerances of testing/gradcheck.ts).
 */
import { it } from 'vitest';
import { Generator } from '../../../core/random.ts';
import { logSoftmax, relu, reluGrad, sigmoid, sigmoidGrad, softmax, tanh, tanhGrad } from '../../../ops/activation.ts';
import { conv2d } from '../../../ops/conv.ts';
import { randn } from '../../../ops/creation.ts';
import { abs, add, div, maximum, mul, sub, where } from '../../../ops/elementwise.ts';
import { expand, gather, indexSelect, permute } from '../../../ops/layout.ts';
import { bmm, matmul } from '../../../ops/matmul.ts';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../../ops/pool.ts';
import { batchNorm, layerNorm } from '../../../ops/norm.ts';
import { mean, sum } from '../../../ops/reduce.ts';
import { tensor } from '../../../core/engine.ts';
import { assertGradcheck } from '../../../testing/gradcheck.ts';
import { describeBackends } from '../../../testing/backends.ts';

describeBackends('gradients through the gpu kernels', () => {
  const gen = new Generator(21);
  const r = (...shape: number[]) => randn(shape, 0, 1, gen);
  const pos = (...shape: number[]) => add(abs(r(...shape)), 0.5);

  it('elementwise with broadcasting', () => {
    assertGradcheck((a, b) => add(a, b), [r(3, 4), r(4)]);
    assertGradcheck((a, b) => sub(a, b), [r(2, 3, 4), r(3, 1)]);
    assertGradcheck((a, b) => mul(a, b), [r(2, 1, 3), r(4, 1)]);
    assertGradcheck((a, b) => div(a, b), [r(3, 4), pos(4)]);
    assertGradcheck((a, b) => maximum(a, b), [r(5), r(5)]);
    assertGradcheck((a, b, c) => where(a, b, c), [tensor([1, 0, 1, 0], [4]), r(4), r(1)], { skip: [0] });
    assertGradcheck((a) => tanh(mul(sigmoid(a), relu(a))), [r(6)]);
    assertGradcheck((a) => expand(permute(a, [1, 0]), [2, 4, 3]), [r(3, 4)]);
  });

  it('sums', () => {
    assertGradcheck((a) => sum(a, [0, 2]), [r(2, 3, 4)]);
    assertGradcheck((a) => mean(a, 1, true), [r(3, 5)]);
  });

  it('matrix products, all transposes and batch broadcasting', () => {
    assertGradcheck((a, b) => matmul(a, b), [r(3, 4), r(4, 2)]);
    assertGradcheck((a, b) => matmul(a, b), [r(2, 1, 3, 4), r(3, 4, 2)]);
    assertGradcheck((a, b) => bmm(a, b, true, false), [r(4, 3), r(4, 2)]);
    assertGradcheck((a, b) => bmm(a, b, false, true), [r(3, 4), r(2, 4)]);
    assertGradcheck((a, b) => bmm(a, b, true, true), [r(2, 4, 3), r(2, 2, 4)]);
  });

  it('conv2d: input, weight and bias', () => {
    assertGradcheck((x, w, b) => conv2d(x, w, b), [r(2, 2, 5, 5), r(3, 2, 3, 3), r(3)]);
    assertGradcheck((x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }), [r(1, 2, 6, 5), r(2, 2, 3, 2), r(2)]);
    assertGradcheck((x, w) => conv2d(x, w, null, { dilation: 2, padding: [2, 1], groups: 2 }), [r(1, 4, 6, 6), r(4, 2, 3, 3)]);
  });

  it('pooling', () => {
    assertGradcheck((x) => maxPool2d(x, { kernelSize: 2 }), [r(2, 2, 4, 6)]);
    assertGradcheck((x) => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [r(1, 2, 7, 6)]);
    assertGradcheck((x) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [r(1, 2, 7, 6)]);
    assertGradcheck((x) => avgPool2d(x, { kernelSize: 2, countIncludePad: false, padding: 1, ceilMode: true }), [r(1, 2, 5, 5)]);
    assertGradcheck((x) => adaptiveAvgPool2d(x, [2, 3]), [r(1, 2, 5, 4)]);
    assertGradcheck((x) => adaptiveAvgPool2d(x, 1), [r(2, 2, 3, 3)]);
  });

  it('fused activation gradients (their own backward)', () => {
    assertGradcheck((dy, x) => reluGrad(dy, x), [r(3, 4), r(3, 4)], { skip: [1] });
    assertGradcheck((dy, y) => sigmoidGrad(dy, y), [r(3, 4), sigmoid(r(3, 4))]);
    assertGradcheck((dy, y) => tanhGrad(dy, y), [r(2, 5), tanh(r(2, 5))]);
  });

  it('gather and index_select', () => {
    assertGradcheck((x) => gather(x, 1, tensor([2, 0, 1, 1], [4, 1], 'int32')), [r(4, 3)]);
    assertGradcheck((x) => gather(x, 0, tensor([1, 0, 1, 1, 2, 0], [2, 3], 'int32')), [r(3, 4)]);
    assertGradcheck((x) => indexSelect(x, 1, tensor([2, 0, 2], [3], 'int32')), [r(2, 3, 2)]);
  });

  it('batch norm and layer norm', () => {
    assertGradcheck((x, w, b) => batchNorm(x, null, null, w, b, true), [r(3, 2, 2, 2), r(2), r(2)]);
    assertGradcheck((x, w, b) => batchNorm(x, tensor([0.1, -0.2], [2]), tensor([0.5, 2], [2]), w, b, false), [r(2, 2, 3), r(2), r(2)]);
    assertGradcheck((x, w, b) => layerNorm(x, [4], w, b), [r(3, 4), r(4), r(4)]);
    assertGradcheck((x) => layerNorm(x, [2, 3]), [r(2, 2, 3)]);
  });

  it('softmax and log-softmax', () => {
    assertGradcheck((x) => softmax(x, 1), [r(3, 5)]);
    assertGradcheck((x) => logSoftmax(x, 0), [r(4, 3)]);
    assertGradcheck((x) => logSoftmax(x, -1), [r(2, 3, 4)]);
  });
});
