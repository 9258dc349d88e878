/**
 * Reverse-mode automatic differentiation over the dynamic graph that ops record while
 * gradients are enabled. Gradient functions are written with ops, so they run on any
 * backend.
 */
import { shapeStr } from './shape.ts';
import type { Tensor } from './tensor.ts';
import { keep } from './scope.ts';

/** Given the gradients of an op's outputs, returns the gradients of its inputs (null: none). */
export type BackwardFn = (dys: Tensor[]) => (Tensor | null | undefined)[];

export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: Tensor[];
  readonly backwardFn: BackwardFn;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording ops for autograd (inference), as `torch.no_grad()`. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

// The helpers that create and add tensors are injected by the ops layer to avoid an
// import cycle between the core and the ops.
interface GradHelpers {
  onesLike(t: Tensor): Tensor;
  zerosLike(t: Tensor): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
}
let helpers: GradHelpers | null = null;
export function setGradHelpers(h: GradHelpers): void {
  helpers = h;
}

/**
 * Backpropagates from `root`. Leaf tensors with `requiresGrad` accumulate into `.grad`
 * (which outlives any enclosing `tidy` scope); intermediate gradients are temporary.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!helpers) throw new Error('autograd: ops are not loaded');
  const h = helpers;
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require grad (no parameter contributed to it, or it was computed under noGrad)');
  if (!grad && root.size !== 1) throw new Error(`backward: a gradient is needed for a non-scalar tensor of shape ${shapeStr(root.shape)}`);

  // Topological order of the recorded nodes reachable from the root.
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  const stack: [GradNode, number][] = [];
  if (root.gradNode) stack.push([root.gradNode, 0]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i === 0 && seen.has(node)) {
      stack.pop();
      continue;
    }
    seen.add(node);
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i].gradNode;
      if (child && !seen.has(child)) stack.push([child, 0]);
    } else {
      stack.pop();
      order.push(node);
    }
  }

  noGradScope(() => {
    const grads = new Map<Tensor, Tensor>();
    const accumulate = (t: Tensor, g: Tensor) => {
      const prev = grads.get(t);
      grads.set(t, prev ? h.add(prev, g) : g);
    };
    accumulate(root, grad ?? h.onesLike(root));
    for (let n = order.length - 1; n >= 0; n--) {
      const node = order[n];
      const outGrads = node.outputs.map((o) => grads.get(o));
      if (outGrads.every((g) => g === undefined)) continue;
      const dys = node.outputs.map((o, i) => outGrads[i] ?? h.zerosLike(o));
      const dxs = node.backwardFn(dys);
      node.inputs.forEach((x, i) => {
        const dx = dxs[i];
        if (!x.requiresGrad || dx === null || dx === undefined) return;
        if (dx.size !== x.size || dx.shape.length !== x.shape.length) {
          throw new Error(`autograd: ${node.name} produced a gradient of shape ${shapeStr(dx.shape)} for an input of shape ${shapeStr(x.shape)}`);
        }
        accumulate(x, dx);
      });
    }
    for (const [t, g] of grads) {
      if (t.gradNode !== null || !t.requiresGrad) continue;
      const total = t.grad ? h.add(t.grad, g) : g;
      if (t.grad && t.grad !== total) t.grad.dispose();
      t.grad = keep(total);
    }
  });
}

function noGradScope(fn: () => void): void {
  noGrad(fn);
}
