/**
 * The `gpu` backend: tensors live where gpu.js keeps kernel results (a GPU texture on the
 * GL and WebGPU modes, a typed array on webasm and cpu) and the hot kernels run as gpu.js
 * kernels. Kernels are generated as small JavaScript sources with the shapes written in as
 * literals, compiled once per source and cached. Outputs stay on the device between
 * kernels (pipeline mode); only `read`/`readSync` bring values back, and kernels this
 * backend lacks fall back to the CPU reference one at a time (see core/engine.ts).
 *
 * float32 only on the device: int32 tensors (indices) are kept as host arrays and passed
 * to kernels as float32, exact up to 2^24.
 */
import { GPU, type IKernelRunShortcut, type Texture } from 'gpu.js';
import type { Backend, DataId, DType, TensorInfo, TypedArray } from '../../core/backend.ts';
import { type Shape, sizeOf } from '../../core/shape.ts';

/** gpu.js modes, best first. `webgl` is tried only when asked for: webgl2 covers every browser that has it. */
export const GPU_MODES = ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;
export type GpuMode = (typeof GPU_MODES)[number] | 'webgl';

/** One allocation, shared by a tensor and the views (reshapes) of it. */
interface Storage {
  /** Host copy: the kernel result on webasm/cpu, or a cached readback of the texture. */
  host: TypedArray | null;
  texture: Texture | null;
  size: number;
  refs: number;
  /** A kernel computed it (reading it back syncs with the device), rather than the host writing it. */
  computed: boolean;
}

interface GpuData {
  storage: Storage | null;
  dtype: DType;
}

type KernelArg = Float32Array | Texture;

function isTexture(v: unknown): v is Texture {
  return typeof v === 'object' && v !== null && typeof (v as Texture).toArray === 'function';
}

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Renderers that draw WebGL on the CPU (no GPU): Chromium's SwiftShader, Mesa's llvmpipe/softpipe, Windows' WARP. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The WebGL renderer a gpu.js kernel draws with (unmasked where the browser allows), or null. */
function rendererOf(kernel: unknown): string | null {
  type Gl = { getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null; getParameter(p: number): unknown; RENDERER: number };
  const gl = (kernel as { kernel?: { context?: Gl } }).kernel?.context;
  if (!gl || typeof gl.getParameter !== 'function') return null;
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  } catch {
    return null;
  }
}

/**
 * Tries one mode: a two-kernel pipeline must compute the right values synchronously, in that
 * mode. A GL mode drawn by a software renderer is refused unless `allowSoftware`: it computes
 * far slower than webasm on the same CPU (see scripts/bench-browser.ts).
 */
function probe(mode: GpuMode, allowSoftware: boolean): { gpu: GPU; renderer: string | null } | { error: string } {
  let gpu: GPU | null = null;
  try {
    gpu = new GPU({ mode });
    const settings = { output: [5], pipeline: true, immutable: true, precision: 'single' as const, tactic: 'precision' as const };
    const twice = gpu.createKernel('function(a) { return a[this.thread.x] * 2.0; }', settings);
    const plusOne = gpu.createKernel('function(a) { return a[this.thread.x] + 1.0; }', settings);
    const first = twice(new Float32Array([0, 1, 2, 3, 4])) as unknown;
    if (isThenable(first)) throw new Error('kernels return promises in this mode (no synchronous results)');
    const second = plusOne(first as KernelArg) as unknown;
    const values = isTexture(second) ? (second.toArray() as unknown as ArrayLike<number>) : (second as ArrayLike<number>);
    const expected = [1, 3, 5, 7, 9];
    if (!values || expected.some((v, i) => values[i] !== v)) throw new Error(`probe kernel computed ${Array.from(values ?? []).join(',')}`);
    const ran = (twice as unknown as { kernel?: { constructor?: { mode?: string } } }).kernel?.constructor?.mode;
    // gpu.js degrades kernels it cannot compile to its cpu backend, and says so here.
    if (ran === 'cpu' && mode !== 'cpu') throw new Error('gpu.js ran the probe on its cpu backend instead');
    const renderer = rendererOf(twice);
    if (renderer && SOFTWARE_RENDERER.test(renderer) && !allowSoftware) {
      throw new Error(`software WebGL renderer (${renderer}), no GPU: webasm computes faster`);
    }
    return { gpu, renderer };
  } catch (e) {
    try {
      void gpu?.destroy();
    } catch {
      // a half-constructed instance has nothing to free
    }
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

class GpuBackend implements Backend {
  readonly name = 'gpu';
  /** The gpu.js mode kernels run in, or null before `init`. Hosts show it (e.g. 'gpu:webasm'). */
  mode: GpuMode | null = null;
  /** The WebGL renderer on the GL modes (e.g. a GPU's name, or SwiftShader), else null. */
  renderer: string | null = null;
  private gpu: GPU | null = null;
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  private live = 0;
  private bytes = 0;
  /**
   * How many times a kernel result was brought back to the host (`read`/`readSync` of a
   * computed tensor, the CPU fallback's input reads included). In pipeline mode a training
   * step should add one: its loss.
   */
  resultReads = 0;

  /**
   * Picks the gpu.js mode: `requested` or else the first of GPU_MODES that works here (a GL
   * mode on a software renderer does not count unless requested). Returns the mode and, per
   * mode tried, why it was refused.
   */
  init(requested?: GpuMode): { mode: GpuMode; refused: Record<string, string> } {
    if (this.gpu && (!requested || requested === this.mode)) return { mode: this.mode as GpuMode, refused: {} };
    if (this.gpu && this.live > 0) throw new Error(`gpu backend: cannot switch from gpu.js ${this.mode} to ${requested} while ${this.live} tensors live on it`);
    const refused: Record<string, string> = {};
    for (const mode of requested ? [requested] : GPU_MODES) {
      const res = probe(mode, requested === mode);
      if ('gpu' in res) {
        this.dropKernels();
        void this.gpu?.destroy();
        this.gpu = res.gpu;
        this.mode = mode;
        this.renderer = res.renderer;
        return { mode, refused };
      }
      refused[mode] = res.error;
    }
    const why = Object.entries(refused).map(([m, e]) => `${m}: ${e}`).join('; ');
    throw new Error(requested ? `gpu backend: gpu.js mode "${requested}" does not work here (${why})` : `gpu backend: no gpu.js mode works here (${why})`);
  }

  private dropKernels(): void {
    for (const k of this.kernels.values()) {
      try {
        k.destroy();
      } catch {
        // already gone with its context
      }
    }
    this.kernels.clear();
  }

  write(values: TypedArray, _shape: Shape, dtype: DType): DataId {
    return this.track({ host: values, texture: null, size: values.length, refs: 1, computed: false }, dtype);
  }

  private track(storage: Storage, dtype: DType): GpuData {
    this.live++;
    this.bytes += storage.size * 4;
    return { storage, dtype };
  }

  read(dataId: DataId): Promise<TypedArray> {
    try {
      return Promise.resolve(this.readSync(dataId));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  readSync(dataId: DataId): TypedArray {
    const data = dataId as GpuData;
    const st = data.storage;
    if (!st) throw new Error('gpu tensor data was read after it was freed');
    if (st.computed) this.resultReads++;
    if (!st.host || (data.dtype === 'int32') !== st.host instanceof Int32Array) {
      const raw = st.host ?? (st.texture ? (st.texture.toArray() as unknown as Float32Array) : new Float32Array(0));
      const flat = raw.length === st.size ? raw : Float32Array.from(raw).subarray(0, st.size);
      st.host = data.dtype === 'int32' ? Int32Array.from(flat, Math.round) : flat instanceof Float32Array ? flat : Float32Array.from(flat);
    }
    return st.host;
  }

  dispose(dataId: DataId): void {
    const data = dataId as GpuData;
    const st = data.storage;
    if (!st) return;
    data.storage = null;
    this.live--;
    this.bytes -= st.size * 4;
    if (--st.refs === 0) {
      st.texture?.delete();
      st.texture = null;
      st.host = null;
    }
  }

  memory(): { tensors: number; bytes: number } {
    return { tensors: this.live, bytes: this.bytes };
  }

  /**
   * In-place update as optimisers expect it: `target` (and every view of it) takes the values
   * of `src`, a kernel result of the same size, whose device memory it adopts; `src` is freed.
   */
  overwrite(target: TensorInfo, src: TensorInfo): void {
    const tst = (target.dataId as GpuData).storage;
    const sst = (src.dataId as GpuData).storage;
    if (!tst || !sst) throw new Error('gpu tensor data was used after it was freed');
    if (tst.size !== sst.size) throw new Error(`gpu backend: cannot overwrite ${tst.size} values with ${sst.size}`);
    if (sst.refs !== 1) throw new Error('gpu backend: an in-place update must come from a fresh kernel result');
    if (tst.texture && tst.texture !== sst.texture) tst.texture.delete();
    tst.texture = sst.texture;
    tst.host = sst.host;
    tst.computed = sst.computed;
    sst.texture = null;
    sst.host = null;
    this.dispose(src.dataId);
  }

  /** A tensor of another shape over the same storage (reshape without a copy). */
  view(info: TensorInfo): DataId {
    const st = (info.dataId as GpuData).storage;
    if (!st) throw new Error('gpu tensor data was used after it was freed');
    st.refs++;
    return this.track(st, info.dtype);
  }

  /**
   * The values of a tensor the host wrote (e.g. an index tensor), for checks before a kernel
   * runs; null for kernel results, which are not read back for this.
   */
  hostValues(info: TensorInfo): TypedArray | null {
    const st = (info.dataId as GpuData).storage;
    if (!st) throw new Error('gpu tensor data was used after it was freed');
    return st.computed ? null : st.host;
  }

  /** What a kernel receives for a tensor: its texture, or its host values as float32. */
  private argOf(info: TensorInfo): KernelArg {
    const st = (info.dataId as GpuData).storage;
    if (!st) throw new Error('gpu tensor data was used after it was freed');
    if (st.texture) return st.texture;
    const host = st.host as TypedArray;
    return host instanceof Float32Array ? host : Float32Array.from(host);
  }

  /**
   * Runs the generated kernel `source` (a `function(a0, a1, ...)` over `this.thread.x`)
   * with one output per element of `shape`, and returns the result as a new tensor.
   */
  run(source: string, inputs: readonly TensorInfo[], shape: Shape, dtype: DType = 'float32'): TensorInfo {
    if (!this.gpu) throw new Error('gpu backend: call enableGpuBackend() before running kernels');
    const size = sizeOf(shape);
    if (size === 0) return { shape, dtype, dataId: this.write(dtype === 'int32' ? new Int32Array(0) : new Float32Array(0), shape, dtype) };
    const args = inputs.map((t) => this.argOf(t));
    const key = `${size}|${args.map((a, i) => `${isTexture(a) ? 't' : 'a'}${sizeOf(inputs[i].shape)}`).join(',')}|${source}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.gpu.createKernel(source, {
        output: [size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
      }).setLoopMaxIterations(1 << 24);
      this.kernels.set(key, kernel);
    }
    const result = kernel(...args) as unknown;
    const storage: Storage = isTexture(result)
      ? { host: null, texture: result, size, refs: 1, computed: true }
      : { host: result instanceof Float32Array ? result : Float32Array.from(result as ArrayLike<number>), texture: null, size, refs: 1, computed: true };
    return { shape, dtype, dataId: this.track(storage, dtype) };
  }

  /** Number of compiled kernels (for tests of the cache). */
  compiledKernels(): number {
    return this.kernels.size;
  }
}

export const gpuBackend = new GpuBackend();
