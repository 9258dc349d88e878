/**
 * Optimizer: the base of the torch.optim optimisers. Parameters come in groups, each with
 * its own hyperparameters (e.g. a smaller learning rate for a fine-tuned encoder); the
 * per-parameter state lives in tensors that outlive every scope, and `stateDict()` turns
 * it into plain data for checkpoints.
 */
import { hasKernel } from '../core/backend.ts';
import { noGrad } from '../core/autograd.ts';
import { activeBackend, fromValues, runKernel } from '../core/engine.ts';
import { keep, tidy } from '../core/scope.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { zeros } from '../ops/creation.ts';

/** Hyperparameters shared by every optimiser: the learning rate and weight decay. */
export interface BaseOptions {
  lr: number;
  weightDecay: number;
}

/** A parameter group: its parameters and its hyperparameters. */
export type ParamGroup<O extends BaseOptions> = O & {
  params: Tensor[];
  /** The learning rate a schedule started from (set by the first schedule attached). */
  initialLr?: number;
};

/** What a caller may pass per group: the parameters and any hyperparameters to override. */
export type ParamGroupInput<O extends BaseOptions> = Partial<O> & { params: Tensor[] };

/** Per-parameter state: named tensors (moment estimates) and the step count. */
export interface ParamState {
  step: number;
  buffers: Map<string, Tensor>;
}

/** A plain-data snapshot of one state tensor. */
export interface SavedTensor {
  shape: number[];
  values: number[];
}

/** Optimiser state as plain data (as torch's optimizer.state_dict(): parameters by index). */
export interface OptimizerStateDict {
  state: Record<number, { step: number; buffers: Record<string, SavedTensor> }>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly paramGroups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();
  /** Use the backend's fused in-place update kernel when it has one. */
  fused: boolean;

  constructor(params: readonly Tensor[] | readonly ParamGroupInput<O>[], defaults: O, opts: { fused?: boolean } = {}) {
    this.fused = opts.fused ?? true;
    const name = this.constructor.name;
    if (!(defaults.lr >= 0)) throw new Error(`${name}: learning rate must be non-negative, got ${defaults.lr}`);
    if (params.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const groups: ParamGroupInput<O>[] = isGroupList(params) ? [...params] : [{ params: [...(params as Tensor[])] } as ParamGroupInput<O>];
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group (group ${gi})`);
        if (p.dtype !== 'float32') throw new Error(`${name}: can only optimise float32 tensors, group ${gi} has a ${p.dtype} tensor ${shapeStr(p.shape)}`);
        seen.add(p);
      }
      const group = { ...defaults, ...g, params: [...g.params] } as ParamGroup<O>;
      if (!(group.lr >= 0)) throw new Error(`${name}: group ${gi} learning rate must be non-negative, got ${group.lr}`);
      return group;
    });
  }

  /** Adds a group (e.g. newly unfrozen layers), with the defaults of the first group. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const defaults = { ...this.paramGroups[0] } as unknown as Record<string, unknown>;
    delete defaults.params;
    delete defaults.initialLr;
    this.paramGroups.push({ ...defaults, ...group, params: [...group.params] } as unknown as ParamGroup<O>);
  }

  /** Updates every parameter that has a gradient, in place; parameters without one are skipped. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          const grad = p.grad;
          if (grad.shape.length !== p.shape.length || grad.size !== p.size) {
            throw new Error(`${this.constructor.name}: gradient of shape ${shapeStr(grad.shape)} does not match parameter ${shapeStr(p.shape)}`);
          }
          let st = this.state.get(p);
          if (!st) {
            st = { step: 0, buffers: new Map() };
            this.state.set(p, st);
          }
          st.step++;
          this.update(p, grad, st, group);
        }
      }
    });
  }

  /** Clears the gradients (sets them to null, as torch's default set_to_none=True). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** One parameter's update; `st.step` is already incremented. */
  protected abstract update(p: Tensor, grad: Tensor, st: ParamState, group: ParamGroup<O>): void;

  /** The state tensor `name` of a parameter, created as zeros the first time. */
  protected buffer(st: ParamState, name: string, p: Tensor): Tensor {
    let b = st.buffers.get(name);
    if (!b) {
      b = keep(zeros(p.shape));
      st.buffers.set(name, b);
    }
    return b;
  }

  /** Whether to run the fused kernel `kernel` (the active backend has one and fusion is on). */
  protected useFused(kernel: string, p: Tensor): boolean {
    const backend = activeBackend();
    return this.fused && p.backend === backend && hasKernel(kernel, backend.name);
  }

  /** Runs an in-place update kernel. */
  protected runInPlace(kernel: string, inputs: Tensor[], attrs: Record<string, unknown>): void {
    runKernel(kernel, inputs, attrs);
  }

  /**
   * Runs a composite update written with ops; `fn` returns the new values for the
   * parameter and for each named state buffer, which replace the old ones in place.
   */
  protected runComposite(p: Tensor, st: ParamState, fn: () => Record<string, Tensor>): void {
    tidy(() => {
      const next = fn();
      for (const [name, t] of Object.entries(next)) {
        if (name === 'param') p.assign(t);
        else {
          const target = st.buffers.get(name);
          if (target) target.assign(t);
          else st.buffers.set(name, keep(t));
        }
      }
    });
  }

  /** The optimiser state as plain data; parameters are numbered in group order, as torch. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return {
        ...(hyper as Record<string, unknown>),
        params: params.map((p) => {
          const i = index.size;
          index.set(p, i);
          return i;
        }),
      };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const buffers: Record<string, SavedTensor> = {};
      for (const [name, t] of st.buffers) buffers[name] = { shape: [...t.shape], values: Array.from(t.dataSync()) };
      state[i] = { step: st.step, buffers };
    }
    return { state, paramGroups };
  }

  /** Restores state saved by `stateDict()` for the same parameter layout. */
  loadStateDict(saved: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (saved.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the saved state has ${saved.paramGroups.length} parameter groups, this optimiser has ${this.paramGroups.length}`);
    }
    const byIndex: Tensor[] = [];
    saved.paramGroups.forEach((sg, gi) => {
      const group = this.paramGroups[gi];
      if (sg.params.length !== group.params.length) {
        throw new Error(`${name}.loadStateDict: group ${gi} has ${sg.params.length} parameters in the saved state, ${group.params.length} here`);
      }
      sg.params.forEach((idx, k) => {
        byIndex[idx] = group.params[k];
      });
    });
    for (const [key, entry] of Object.entries(saved.state)) {
      const p = byIndex[Number(key)];
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${key}, which no group lists`);
      for (const [bn, t] of Object.entries(entry.buffers)) {
        if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
          throw new Error(`${name}.loadStateDict: state "${bn}" of parameter ${key} has shape ${shapeStr(t.shape)}, the parameter has ${shapeStr(p.shape)}`);
        }
      }
    }
    for (const st of this.state.values()) for (const t of st.buffers.values()) t.dispose();
    this.state.clear();
    saved.paramGroups.forEach((sg, gi) => {
      const group = this.paramGroups[gi] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(sg)) if (k !== 'params') group[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
    });
    for (const [key, entry] of Object.entries(saved.state)) {
      const p = byIndex[Number(key)];
      const buffers = new Map<string, Tensor>();
      for (const [bn, t] of Object.entries(entry.buffers)) buffers.set(bn, keep(fromValues(Float32Array.from(t.values), t.shape)));
      this.state.set(p, { step: entry.step, buffers });
    }
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const st of this.state.values()) for (const t of st.buffers.values()) t.dispose();
    this.state.clear();
  }
}

function isGroupList<O extends BaseOptions>(params: readonly Tensor[] | readonly ParamGroupInput<O>[]): params is readonly ParamGroupInput<O>[] {
  return params.length > 0 && 'params' in (params[0] as object) && Array.isArray((params[0] as ParamGroupInput<O>).params);
}
