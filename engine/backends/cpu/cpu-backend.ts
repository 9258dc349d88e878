/** The CPU backend: typed arrays in the JS heap. It is the reference every other backend matches. */
import type { Backend, DataId, DType, TensorInfo, TypedArray } from '../../core/backend.ts';
import type { Shape } from '../../core/shape.ts';

interface CpuData {
  values: TypedArray | null;
}

class CpuBackend implements Backend {
  readonly name = 'cpu';
  private live = 0;
  private bytes = 0;

  write(values: TypedArray): DataId {
    this.live++;
    this.bytes += values.byteLength;
    const data: CpuData = { values };
    return data;
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId));
  }

  readSync(dataId: DataId): TypedArray {
    const values = (dataId as CpuData).values;
    if (!values) throw new Error('CPU tensor data was read after it was freed');
    return values;
  }

  dispose(dataId: DataId): void {
    const data = dataId as CpuData;
    if (!data.values) return;
    this.live--;
    this.bytes -= data.values.byteLength;
    data.values = null;
  }

  memory(): { tensors: number; bytes: number } {
    return { tensors: this.live, bytes: this.bytes };
  }
}

export const cpuBackend = new CpuBackend();

/** The float32 values of a kernel input on the CPU backend. */
export function f32(info: TensorInfo): Float32Array {
  const v = cpuBackend.readSync(info.dataId);
  if (!(v instanceof Float32Array)) throw new Error('expected a float32 tensor');
  return v;
}

/** The int32 values of a kernel input on the CPU backend. */
export function i32(info: TensorInfo): Int32Array {
  const v = cpuBackend.readSync(info.dataId);
  if (!(v instanceof Int32Array)) throw new Error('expected an int32 tensor');
  return v;
}

export function anyValues(info: TensorInfo): TypedArray {
  return cpuBackend.readSync(info.dataId);
}

/** Wraps kernel output values as a TensorInfo on the CPU backend. */
export function out(values: TypedArray, shape: Shape, dtype: DType = values instanceof Int32Array ? 'int32' : 'float32'): TensorInfo {
  return { shape, dtype, dataId: cpuBackend.write(values) };
}
