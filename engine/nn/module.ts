/**
 * Module: the base of every layer, as torch.nn.Module. Parameters, buffers and child
 * modules are registered by name so that `stateDict()` uses PyTorch's dotted names.
 */
import { fromValues } from '../core/engine.ts';
import { keep } from '../core/scope.ts';
import { type Shape, shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';

/** A trainable leaf tensor that outlives every scope. */
export function parameter(values: Float32Array, shape: Shape): Tensor {
  return keep(fromValues(values, shape)).requiresGrad_(true);
}

/** A non-trainable state tensor (running statistics) that outlives every scope. */
export function buffer(values: Float32Array | Int32Array, shape: Shape): Tensor {
  return keep(fromValues(values, shape));
}

export interface StateEntry {
  shape: readonly number[];
  values: Float32Array | Int32Array;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor | null>();
  private readonly children = new Map<string, Module>();

  /** Runs the layer. Subclasses document their input and output shapes. */
  abstract forward(...inputs: Tensor[]): Tensor;

  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    this.buffers.set(name, t);
    return t;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  getParameter(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  getBuffer(name: string): Tensor | null {
    return this.buffers.get(name) ?? null;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedModules(prefix = ''): [string, Module][] {
    const res: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) res.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return res;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const res: [string, Tensor][] = [];
    for (const [name, p] of this.params) if (p) res.push([prefix ? `${prefix}.${name}` : name, p]);
    for (const [name, child] of this.children) res.push(...child.namedParameters(prefix ? `${prefix}.${name}` : name));
    return res;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const res: [string, Tensor][] = [];
    for (const [name, b] of this.buffers) if (b) res.push([prefix ? `${prefix}.${name}` : name, b]);
    for (const [name, child] of this.children) res.push(...child.namedBuffers(prefix ? `${prefix}.${name}` : name));
    return res;
  }

  /** Parameters and buffers by state_dict name, in registration order per module (as torch). */
  stateDict(prefix = ''): Map<string, Tensor> {
    const res = new Map<string, Tensor>();
    for (const [name, p] of this.params) if (p) res.set(prefix ? `${prefix}.${name}` : name, p);
    for (const [name, b] of this.buffers) if (b) res.set(prefix ? `${prefix}.${name}` : name, b);
    for (const [name, child] of this.children) for (const [k, v] of child.stateDict(prefix ? `${prefix}.${name}` : name)) res.set(k, v);
    return res;
  }

  /**
   * Copies values into the parameters and buffers. With `strict`, missing and unexpected
   * keys are errors; shapes must always match.
   */
  loadStateDict(state: ReadonlyMap<string, StateEntry> | Record<string, StateEntry>, strict = true): void {
    const entries: ReadonlyMap<string, StateEntry> = state instanceof Map ? state : new Map(Object.entries(state as Record<string, StateEntry>));
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !entries.has(k));
      const unexpected = [...entries.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(
          `loadStateDict: ${missing.length ? `missing keys: ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : ''}`,
        );
      }
    }
    for (const [name, target] of own) {
      const src = entries.get(name);
      if (!src) continue;
      if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new Error(`loadStateDict: "${name}" has shape ${shapeStr(src.shape)} in the file, the model expects ${shapeStr(target.shape)}`);
      }
      const values = target.dtype === 'int32' ? Int32Array.from(src.values) : Float32Array.from(src.values);
      target.assign(fromValues(values, target.shape, target.dtype));
    }
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Freezes or unfreezes every parameter (transfer learning). */
  requiresGrad_(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }
}
