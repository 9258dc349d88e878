/** Shape helpers shared by ops and kernels. Shapes are plain arrays of non-negative integers. */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy/PyTorch broadcasting: align trailing dimensions, size-1 dimensions stretch. */
export function broadcastShapes(a: Shape, b: Shape, opName = 'op'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${opName}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative dimension index against a rank. */
export function normDim(dim: number, rank: number, opName = 'op'): number {
  const d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank || !Number.isInteger(d)) {
    throw new Error(`${opName}: dimension ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return d;
}

/** Dimensions of `shape` that were broadcast to reach `target` (to sum gradients over). */
export function broadcastedDims(shape: Shape, target: Shape): number[] {
  const dims: number[] = [];
  const offset = target.length - shape.length;
  for (let i = 0; i < target.length; i++) {
    if (i < offset || (shape[i - offset] === 1 && target[i] !== 1)) dims.push(i);
  }
  return dims;
}
