import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { tidy } from '../../core/scope.ts';
import { cpuBackend } from '../../backends/cpu/cpu-backend.ts';
import { assertGradcheck } from '../../testing/gradcheck.ts';
import { erf, gelu, leakyRelu, logSoftmax, prelu, relu, sigmoid, silu, softmax, softplus, tanh } from '../activation.ts';
import { int32, randn } from '../creation.ts';
import { abs, add, clamp, div, exp, log, maximum, minimum, mul, neg, pow, sign, sqrt, step, sub, sumTo, where } from '../elementwise.ts';
import { cat, expand, gather, indexSelect, narrow, pad, permute, reshape, slice, split, transpose, unsqueeze } from '../layout.ts';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, cosineSimilarity, crossEntropy, gaussianKl, klDiv, l1Loss, mseLoss, nllLoss, pairwiseDistance } from '../loss.ts';
import { bmm, linear, matmul } from '../matmul.ts';
import { argmin, max, maxAll, mean, min, sum, variance } from '../reduce.ts';

const gen = new Generator(7);
const r = (...shape: number[]) => randn(shape, 0, 1, gen);
const pos = (...shape: number[]) => abs(r(...shape)).dataSync() && add(abs(r(...shape)), 0.5);

describe('elementwise forward values', () => {
  it('broadcasts add over rows and columns', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(add(a, tensor([10, 20, 30], [3])).dataSync())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(add(a, tensor([100, 200], [2, 1])).dataSync())).toEqual([101, 102, 103, 204, 205, 206]);
    expect(Array.from(mul(tensor([1, 2], [2, 1, 1]), tensor([1, 2, 3], [1, 3])).dataSync())).toEqual([1, 2, 3, 2, 4, 6]);
  });

  it('names both shapes when broadcasting fails', () => {
    expect(() => add(tensor([1, 2, 3], [3]), tensor([1, 2], [2]))).toThrow(/\[3\] and \[2\]/);
  });

  it('matches reference values for activations', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2], [5]);
    const close = (t: { dataSync(): ArrayLike<number> }, ref: number[]) => Array.from(t.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
    close(sigmoid(x), [0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708]);
    close(tanh(x), [-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758]);
    close(relu(x), [0, 0, 0, 0.5, 2]);
    close(leakyRelu(x, 0.1), [-0.2, -0.05, 0, 0.5, 2]);
    close(silu(x), [-0.23840584, -0.18877033, 0, 0.31122967, 1.76159416]);
    close(softplus(x), [0.12692801, 0.47407698, 0.69314718, 0.97407698, 2.12692801]);
    close(gelu(x), [-0.04550026, -0.15426877, 0, 0.34573123, 1.95449974]);
    close(softmax(tensor([1, 2, 3], [3])), [0.09003057, 0.24472847, 0.66524096]);
    close(step(x), [0, 0, 0, 1, 1]);
    close(sign(x), [-1, -1, 0, 1, 1]);
  });
});

describe('finite-difference gradients', () => {
  it('arithmetic with broadcasting', () => {
    assertGradcheck((a, b) => add(a, b), [r(3, 4), r(4)]);
    assertGradcheck((a, b) => sub(a, b), [r(2, 3, 4), r(3, 1)]);
    assertGradcheck((a, b) => mul(a, b), [r(3, 4), r(3, 1)]);
    assertGradcheck((a, b) => div(a, b), [r(3, 4), pos(4)]);
    assertGradcheck((a, b) => pow(a, b), [pos(3, 2), r(3, 2)]);
    assertGradcheck((a, b) => maximum(a, b), [r(5), r(5)]);
    assertGradcheck((a, b) => minimum(a, b), [r(5), r(5)]);
    assertGradcheck((a, b, c) => where(a, b, c), [tensor([1, 0, 1, 0], [4]), r(4), r(1)], { skip: [0] });
  });

  it('unary maths', () => {
    assertGradcheck((a) => exp(a), [r(6)]);
    assertGradcheck((a) => log(a), [pos(6)]);
    assertGradcheck((a) => sqrt(a), [pos(6)]);
    assertGradcheck((a) => clamp(a, -0.5, 0.5), [tensor([-1, -0.3, 0.2, 0.9], [4])]);
    assertGradcheck((a) => abs(a), [tensor([-1, -0.3, 0.2, 0.9], [4])]);
    assertGradcheck((a) => neg(a), [r(2, 3)]);
    assertGradcheck((a) => erf(a), [tensor([-2, -0.7, -0.1, 0.3, 1.2], [5])]);
  });

  it('sumTo (the broadcast gradient reduction) and unsqueeze', () => {
    assertGradcheck((a) => sumTo(a, [3, 1]), [r(2, 3, 4)]);
    assertGradcheck((a) => sumTo(a, [4]), [r(3, 4)]);
    assertGradcheck((a) => unsqueeze(a, 1), [r(3, 4)]);
    assertGradcheck((a) => unsqueeze(a, -1), [r(2, 3)]);
  });

  it('activations', () => {
    const x = tensor([-2, -0.7, -0.2, 0.3, 0.8, 2.5], [2, 3]);
    for (const f of [sigmoid, tanh, relu, silu, (t: typeof x) => leakyRelu(t, 0.2), (t: typeof x) => softplus(t, 2), (t: typeof x) => gelu(t), (t: typeof x) => gelu(t, 'tanh')]) {
      assertGradcheck(f, [x]);
    }
    assertGradcheck((a, w) => prelu(a, w), [tensor([-2, -0.7, -0.2, 0.3, 0.8, 2.5], [2, 3]), tensor([0.25, 0.1, 0.3], [3])]);
    assertGradcheck((a) => softmax(a, 1), [r(3, 5)]);
    assertGradcheck((a) => logSoftmax(a, 0), [r(3, 5)]);
  });

  it('reductions', () => {
    assertGradcheck((a) => sum(a), [r(3, 4)]);
    assertGradcheck((a) => sum(a, [0, 2], true), [r(2, 3, 4)]);
    assertGradcheck((a) => mean(a, 1), [r(2, 3, 4)]);
    assertGradcheck((a) => variance(a, [1]), [r(3, 5)]);
    assertGradcheck((a) => max(a, 1).values, [r(3, 5)]);
    assertGradcheck((a) => min(a, 0).values, [r(3, 5)]);
    assertGradcheck((a) => maxAll(a), [r(3, 5)]);
  });

  it('matmul, batched and transposed', () => {
    assertGradcheck((a, b) => matmul(a, b), [r(3, 4), r(4, 5)]);
    assertGradcheck((a, b) => matmul(a, b), [r(2, 3, 4), r(4, 2)]);
    assertGradcheck((a, b) => matmul(a, b), [r(2, 1, 3, 4), r(3, 4, 2)]);
    assertGradcheck((a, b) => matmul(a, b), [r(4), r(4, 3)]);
    assertGradcheck((a, b) => bmm(a, b, true, true), [r(2, 4, 3), r(2, 5, 4)]);
    assertGradcheck((x, w, b) => linear(x, w, b), [r(2, 3, 4), r(5, 4), r(5)]);
  });

  it('layout ops', () => {
    assertGradcheck((a) => reshape(a, [4, 3]), [r(3, 4)]);
    assertGradcheck((a) => permute(a, [2, 0, 1]), [r(2, 3, 4)]);
    assertGradcheck((a) => transpose(a), [r(3, 4)]);
    assertGradcheck((a, b) => cat([a, b], 1), [r(2, 3), r(2, 2)]);
    assertGradcheck((a) => split(a, [1, 3], 1)[1], [r(2, 4)]);
    assertGradcheck((a) => narrow(a, 0, 1, 2), [r(4, 2)]);
    assertGradcheck((a) => slice(a, [0, 1], [2, 2], [2, 2]), [r(4, 5)]);
    assertGradcheck((a) => pad(a, [1, 2, 0, 1]), [r(2, 3)]);
    assertGradcheck((a) => expand(a, [3, 4]), [r(1, 4)]);
    assertGradcheck((a) => gather(a, 1, int32([0, 2, 1, 1], [2, 2])), [r(2, 3)]);
    assertGradcheck((a) => indexSelect(a, 0, int32([2, 0, 2])), [r(3, 2)]);
  });

  it('losses', () => {
    assertGradcheck((a, b) => mseLoss(a, b), [r(4, 3), r(4, 3)]);
    assertGradcheck((x) => crossEntropy(x, int32([0, 2, 1, 2])), [r(4, 3)]);
    assertGradcheck((x) => crossEntropy(x, int32([0, 2, 1, 1, 0, 2], [2, 3]), {}), [r(2, 3, 3)]);
    assertGradcheck((x) => crossEntropy(x, int32([0, -100, 1, 2]), { labelSmoothing: 0.1 }), [r(4, 3)]);
    assertGradcheck((p) => binaryCrossEntropy(p, tensor([0, 1, 1, 0], [4])), [tensor([0.2, 0.7, 0.4, 0.9], [4])]);
    assertGradcheck((x) => binaryCrossEntropyWithLogits(x, tensor([0, 1, 1, 0], [4]), 'mean', tensor([2], [1])), [r(4)]);
    assertGradcheck((lp) => klDiv(lp, softmax(tensor([1, 2, 3, 0, 0, 1], [2, 3]), 1), 'batchmean'), [logSoftmax(r(2, 3), 1)]);
    assertGradcheck((m, lv) => gaussianKl(m, lv), [r(3, 2), r(3, 2)]);
    assertGradcheck((a, b) => cosineSimilarity(a, b), [r(3, 4), r(3, 4)]);
    assertGradcheck((a, b) => pairwiseDistance(a, b), [r(3, 4), r(3, 4)]);
    assertGradcheck((a, b) => l1Loss(a, b), [tensor([0.5, -1, 2, 0.1], [2, 2]), tensor([0, 0.3, 1, -0.4], [2, 2])]);
    assertGradcheck((a, b) => l1Loss(a, b, 'sum'), [tensor([0.5, -1, 2, 0.1], [4]), tensor([0, 0.3, 1, -0.4], [4])]);
    assertGradcheck((lp) => nllLoss(lp, int32([0, 2, 1, 2])), [logSoftmax(r(4, 3), 1)]);
    assertGradcheck((lp) => nllLoss(lp, int32([0, -100, 1, 2]), { weight: tensor([1, 2, 0.5], [3]) }), [logSoftmax(r(4, 3), 1)]);
    assertGradcheck((lp) => nllLoss(lp, int32([0, 2, 1, 1, 0, 2], [2, 3]), { reduction: 'sum' }), [logSoftmax(r(2, 3, 3), 1)]);
  });
});

describe('reference values of the less common ops', () => {
  it('erf, l1 loss, nll loss with class weights and argmin', () => {
    // torch.special.erf(torch.tensor([-1., 0., 0.5, 2.])) = [-0.8427, 0., 0.5205, 0.9953]
    Array.from(erf(tensor([-1, 0, 0.5, 2], [4])).dataSync()).forEach((v, i) => expect(v).toBeCloseTo([-0.84270079, 0, 0.52049988, 0.99532227][i], 5));
    // F.l1_loss(torch.tensor([1., -2., 3.]), torch.tensor([0., 0., 1.])) = (1 + 2 + 2) / 3
    expect(l1Loss(tensor([1, -2, 3], [3]), tensor([0, 0, 1], [3])).item()).toBeCloseTo(5 / 3, 6);
    // F.nll_loss(lp, t, weight=w): sum_i -w[t_i] lp[i, t_i] / sum_i w[t_i]; ignored targets drop out of both sums
    const lp = tensor([-0.5, -1, -2, -3, -0.25, -4, -1, -1, -1], [3, 3]);
    const w = tensor([1, 2, 4], [3]);
    expect(nllLoss(lp, int32([0, 1, 2]), { weight: w }).item()).toBeCloseTo((0.5 * 1 + 0.25 * 2 + 1 * 4) / 7, 6);
    expect(nllLoss(lp, int32([0, -100, 2]), { weight: w }).item()).toBeCloseTo((0.5 * 1 + 1 * 4) / 5, 6);
    expect(Array.from(argmin(tensor([3, 1, 2, -1, 5, -1], [2, 3]), 1).dataSync())).toEqual([1, 0]);
  });
});

describe('losses match PyTorch reference values', () => {
  it('cross entropy from logits', () => {
    // torch.nn.functional.cross_entropy(torch.tensor([[1.,2.,3.],[1.,0.,-1.]]), torch.tensor([2,0])) = 0.4076
    const l = crossEntropy(tensor([1, 2, 3, 1, 0, -1], [2, 3]), int32([2, 0]));
    expect(l.item()).toBeCloseTo(0.40760596, 5);
  });
  it('bce with logits', () => {
    // F.binary_cross_entropy_with_logits(torch.tensor([0.5,-1.]), torch.tensor([1.,0.])) = 0.3937
    expect(binaryCrossEntropyWithLogits(tensor([0.5, -1], [2]), tensor([1, 0], [2])).item()).toBeCloseTo(0.39366, 4);
  });
});

describe('autograd bookkeeping', () => {
  it('accumulates gradients across backward calls and frees step intermediates', () => {
    const w = r(3, 3).requiresGrad_();
    const x = r(4, 3);
    const before = cpuBackend.memory().tensors;
    for (let i = 0; i < 3; i++) tidy(() => sum(matmul(x, w)).backward());
    const g1 = Array.from(w.grad!.dataSync());
    w.grad = null;
    tidy(() => sum(matmul(x, w)).backward());
    const g = Array.from(w.grad!.dataSync());
    g.forEach((v, i) => expect(g1[i]).toBeCloseTo(3 * v, 4));
    // Only the gradient survives the scopes.
    expect(cpuBackend.memory().tensors - before).toBeLessThanOrEqual(2);
  });

  it('does not record under noGrad and respects frozen tensors', async () => {
    const { noGrad } = await import('../../core/autograd.ts');
    const w = r(2, 2).requiresGrad_();
    const y = noGrad(() => mul(w, 2));
    expect(y.requiresGrad).toBe(false);
    const frozen = r(2, 2);
    const z = sum(mul(frozen, w));
    z.backward();
    expect(frozen.grad).toBeNull();
    expect(w.grad).not.toBeNull();
  });
});

describe('gradcheck itself', () => {
  it('catches a wrong derivative', async () => {
    const { apply } = await import('../../core/engine.ts');
    const { gradcheck } = await import('../../testing/gradcheck.ts');
    const wrongExp = (x: ReturnType<typeof r>) => apply('Exp', [x], {}, (dy) => [dy]);
    expect(gradcheck(wrongExp, [r(5)]).ok).toBe(false);
    expect(gradcheck((x) => exp(x), [r(5)]).ok).toBe(true);
  });
});

describe('parameter gradcheck', () => {
  it('catches a wrong derivative of a parameter and accepts the right one', async () => {
    const { apply } = await import('../../core/engine.ts');
    const { assertParamGradcheck } = await import('../../testing/gradcheck.ts');
    const g = new Generator(1);
    const p = randn([5], 0, 1, g).requiresGrad_();
    expect(() => assertParamGradcheck([p], () => apply('Exp', [p], {}, (dy) => [dy]), { generator: g })).toThrow(/parameter gradcheck failed/);
    expect(() => assertParamGradcheck([p], () => exp(p), { generator: g })).not.toThrow();
  });
});
