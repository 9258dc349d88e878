/**
 * Tensor: a shaped view of float32 (or int32 index) data held by a backend, contiguous
 * and row-major. Ops are synchronous; reading values back is asynchronous (`data()`),
 * with `dataSync()` where the backend allows it.
 */
import type { Backend, DataId, DType, TensorInfo, TypedArray } from './backend.ts';
import { type Shape, shapeStr, sizeOf } from './shape.ts';
import { backward as runBackward, type GradNode } from './autograd.ts';
import { releaseTensor, trackTensor } from './scope.ts';

let nextId = 1;

export class Tensor implements TensorInfo {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  /** Whether gradients flow to this tensor (parameters and anything computed from them). */
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor after `backward()`. */
  grad: Tensor | null = null;
  /** The recorded op that produced this tensor, or null for a leaf. */
  gradNode: GradNode | null = null;
  /** Which output of `gradNode` this tensor is. */
  outputIndex = 0;
  private _dataId: DataId | null;

  constructor(info: TensorInfo, backend: Backend) {
    this.shape = Object.freeze([...info.shape]);
    this.dtype = info.dtype;
    this.size = sizeOf(info.shape);
    this._dataId = info.dataId;
    this.backend = backend;
    trackTensor(this);
  }

  get dataId(): DataId {
    if (this._dataId === null) throw new Error(`Tensor ${shapeStr(this.shape)} (#${this.id}) was used after it was disposed`);
    return this._dataId;
  }

  get isDisposed(): boolean {
    return this._dataId === null;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Reads the values back (a copy for device backends, the live array on the CPU: do not mutate it). */
  data(): Promise<TypedArray> {
    return this.backend.read(this.dataId);
  }

  /** Synchronous read; throws on a backend that has no synchronous readback. */
  dataSync(): TypedArray {
    const readSync = this.backend.readSync;
    if (!readSync) throw new Error(`Backend "${this.backend.name}" has no synchronous readback; use await tensor.data()`);
    return readSync.call(this.backend, this.dataId);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a tensor with one element, got shape ${shapeStr(this.shape)}`);
    return this.dataSync()[0];
  }

  async array(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** Marks this tensor as a leaf that collects gradients (as torch's `requires_grad_`). */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype !== 'float32') throw new Error('Only float32 tensors can require gradients');
    this.requiresGrad = flag;
    return this;
  }

  /** Backpropagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  /**
   * Replaces this tensor's data with `other`'s (same shape and dtype), in place, as an
   * optimiser step does to a parameter. `other` is consumed.
   */
  assign(other: Tensor): void {
    if (other.dtype !== this.dtype || other.shape.length !== this.shape.length || other.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign: cannot assign ${other.dtype} ${shapeStr(other.shape)} to ${this.dtype} ${shapeStr(this.shape)}`);
    }
    if (other.backend !== this.backend) throw new Error('assign: tensors live on different backends');
    const old = this._dataId;
    this._dataId = other.takeData();
    if (old !== null) this.backend.dispose(old);
  }

  /** Hands this tensor's storage to a new owner; the tensor becomes disposed. */
  takeData(): DataId {
    const id = this.dataId;
    this._dataId = null;
    releaseTensor(this);
    return id;
  }

  dispose(): void {
    if (this._dataId === null) return;
    this.backend.dispose(this._dataId);
    this._dataId = null;
    releaseTensor(this);
  }

  toString(): string {
    return `Tensor(${this.dtype} ${shapeStr(this.shape)})`;
  }
}
