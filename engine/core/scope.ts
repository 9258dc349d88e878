/**
 * Scopes free a step's intermediate tensors deterministically (as TF.js's `tidy`), so
 * device memory stays flat over a long run on every backend.
 */
import type { Tensor } from './tensor.ts';

const scopes: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

export function releaseTensor(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) return;
}

/** Removes `t` from the enclosing scopes so that it outlives them (e.g. parameters, gradients). */
export function keep<T extends Tensor>(t: T): T {
  for (let i = scopes.length - 1; i >= 0; i--) scopes[i].delete(t);
  return t;
}

type Kept = Tensor | Tensor[] | Record<string, Tensor> | void | number | string | boolean | null | undefined;

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (a tensor,
 * an array of tensors or an object of tensors), which move to the enclosing scope.
 */
export function tidy<T extends Kept>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  return result;
}

function collect(value: unknown, out: Set<Tensor>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
  } else if ('dataId' in (value as object) && 'shape' in (value as object)) {
    out.add(value as Tensor);
  } else {
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out);
  }
}
