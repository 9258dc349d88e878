/**
 * Helpers that write gpu.js kernel sources. Every kernel computes one output element per
 * thread from the flat index `this.thread.x`; shapes and strides are written into the
 * source as float literals, so each distinct geometry compiles to its own (cached) kernel
 * and loops have constant bounds, as GLSL wants.
 *
 * Index arithmetic is done in float: `floor((i + 0.5) / s)` is exact for the integer
 * quotients of tensors far below 2^24 elements, with margin for GPUs whose division is
 * not correctly rounded.
 */
import { type Shape, stridesOf } from '../../core/shape.ts';

/** A number as a float literal that gpu.js types as float (`3.0`, `(-2.0)`, `1e-7`). */
export function lit(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`gpu kernel: cannot write ${n} into a kernel source`);
  const s = Number.isInteger(n) && Math.abs(n) < 1e15 ? `${n}.0` : String(n);
  return n < 0 ? `(${s})` : s;
}

/**
 * Statements declaring the coordinates of flat index `index` (row-major over `shape`) as
 * `${prefix}0`, `${prefix}1`, ...; returns the statements and the coordinate expressions.
 */
export function coordinates(index: string, shape: Shape, prefix: string): { code: string; coords: string[] } {
  const strides = stridesOf(shape);
  const lines: string[] = [];
  const coords: string[] = [];
  shape.forEach((d, k) => {
    const q = `${prefix}q${k}`;
    lines.push(strides[k] === 1 ? `const ${q} = ${index};` : `const ${q} = Math.floor((${index} + 0.5) / ${lit(strides[k])});`);
    const c = `${prefix}${k}`;
    lines.push(k === 0 ? `const ${c} = ${q};` : `const ${c} = ${q} - ${lit(d)} * ${prefix}q${k - 1};`);
    coords.push(c);
  });
  return { code: lines.join('\n'), coords };
}

/** `c0 * s0 + c1 * s1 + ...` with zero terms left out ("0.0" when all are zero). */
export function dot(coords: readonly string[], strides: readonly number[]): string {
  const terms = coords.flatMap((c, k) => (strides[k] === 0 ? [] : [strides[k] === 1 ? c : `${c} * ${lit(strides[k])}`]));
  return terms.length ? terms.join(' + ') : '0.0';
}

/** Strides of `shape` read at the coordinates of broadcast shape `target` (0 along broadcast dims). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const s = stridesOf(shape);
  const offset = target.length - shape.length;
  const res = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) res[i + offset] = shape[i] === 1 ? 0 : s[i];
  return res;
}

/**
 * Merges neighbouring dimensions that every operand walks contiguously (or all broadcast
 * over), so that e.g. a same-shape add becomes one flat dimension. Size-1 dims are dropped.
 */
export function mergeDims(shape: Shape, operandStrides: readonly number[][]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = operandStrides.map(() => []);
  shape.forEach((d, k) => {
    if (d === 1) return;
    const last = dims.length - 1;
    const joinable = last >= 0 && operandStrides.every((s, j) => strides[j][last] === s[k] * d);
    if (joinable) {
      dims[last] *= d;
      operandStrides.forEach((s, j) => {
        strides[j][last] = s[k];
      });
    } else {
      dims.push(d);
      operandStrides.forEach((s, j) => strides[j].push(s[k]));
    }
  });
  return { shape: dims, strides };
}

/** Parameter names a0, a1, ... for a kernel of `n` inputs. */
export function params(n: number): string {
  return Array.from({ length: n }, (_, i) => `a${i}`).join(', ');
}
