/** Matrix products: matmul (with batch broadcasting) and linear. */
import { hasKernel } from '../core/backend.ts';
import { activeBackend, apply } from '../core/engine.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { add, sumTo } from './elementwise.ts';
import { reshape } from './layout.ts';

/**
 * torch.matmul for operands of rank >= 1: 1-D operands are promoted to matrices and the
 * added dimension removed afterwards; batch dimensions broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error(`matmul: scalars are not allowed (${shapeStr(a.shape)} @ ${shapeStr(b.shape)})`);
  const a2 = a.shape.length === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.shape.length === 1 ? reshape(b, [b.shape[0], 1]) : b;
  let y = bmm(a2, b2, false, false);
  if (a.shape.length === 1) y = reshape(y, [...y.shape.slice(0, -2), y.shape[y.shape.length - 1]]);
  if (b.shape.length === 1) y = reshape(y, y.shape.slice(0, -1));
  return y;
}

/** op(a) @ op(b) with optional transposes, recorded as one kernel. */
export function bmm(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  return apply('BatchMatMul', [a, b], { transposeA, transposeB }, (dy) => {
    // C = A B: dA = dC B^T, dB = A^T dC (with the transposes folded in).
    const da = a.requiresGrad
      ? transposeA
        ? bmm(b, dy, transposeB, true)
        : bmm(dy, b, false, !transposeB)
      : null;
    const db = b.requiresGrad
      ? transposeB
        ? bmm(dy, a, true, transposeA)
        : bmm(a, dy, !transposeA, false)
      : null;
    return [da && sumTo(da, a.shape), db && sumTo(db, b.shape)];
  });
}

/** F.linear: y = x W^T + b with W [out, in]; x may have any leading dims. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  if (x.shape[x.shape.length - 1] !== inF) {
    throw new Error(`linear: input has ${x.shape[x.shape.length - 1]} features (shape ${shapeStr(x.shape)}), the layer expects ${inF}`);
  }
  const lead = x.shape.slice(0, -1);
  const x2 = x.shape.length === 2 ? x : reshape(x, [-1, inF]);
  let y: Tensor;
  if (bias && weight.shape.length === 2 && bias.shape.length === 1 && bias.shape[0] === weight.shape[0] && hasKernel('Linear', activeBackend().name)) {
    // One kernel adds the bias while writing the product; the gradients are those of bmm + add.
    y = apply('Linear', [x2, weight, bias], {}, (dy) => [
      x2.requiresGrad ? bmm(dy, weight, false, false) : null,
      weight.requiresGrad ? bmm(dy, x2, true, false) : null,
      bias.requiresGrad ? sumTo(dy, bias.shape) : null,
    ]);
  } else {
    y = bmm(x2, weight, false, true);
    if (bias) y = add(y, bias);
  }
  return x.shape.length === 2 ? y : reshape(y, [...lead, weight.shape[0]]);
}
