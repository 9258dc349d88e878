/**
 * The host's WebAssembly API as the kernel modules use it (the engine is DOM-free and does not
 * assume a global `WebAssembly`): where to find it, and how a module assembled from bytes is
 * checked and instantiated, and the byte encodings its assemblers share.
 */

/** Unsigned LEB128 bytes of n (WebAssembly's integer encoding). */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));
export const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}

/** The host's WebAssembly, or null where there is none. */
export function wasmApi(): WasmApi | null {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

/**
 * The exports of `bytes` instantiated with `imports`; null where the host has no WebAssembly,
 * does not accept the module (no SIMD) or cannot instantiate it (no memory for it).
 */
export function instantiateWasm(bytes: Uint8Array, imports: object = {}): Record<string, unknown> | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  try {
    if (!wasm.validate(bytes)) return null;
    return new wasm.Instance(new wasm.Module(bytes), imports).exports;
  } catch {
    return null;
  }
}

/** A kernel module's exported functions and float32 / int32 / float64 views of its memory. */
export interface ModuleViews<F> {
  fn: F;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;
}

/**
 * A kernel module with a memory of its own (exported as `mem`), instantiated on first use and
 * grown on demand; its views are renewed whenever the memory grows. Tests and A/B timings can
 * switch it off, and the callers then take their plain loops.
 */
export class KernelModule<F> {
  private views: (ModuleViews<F> & { memory: WasmMemory }) | null | undefined;
  private enabled = true;

  constructor(private readonly bytes: () => Uint8Array) {}

  /** Turns the module on or off; returns the previous setting. */
  setEnabled(on: boolean): boolean {
    const was = this.enabled;
    this.enabled = on;
    return was;
  }

  /** The module with at least `bytes` bytes of memory; null when it is off, missing here, or its memory cannot grow. */
  get(bytes: number): ModuleViews<F> | null {
    if (!this.enabled) return null;
    if (this.views === undefined) {
      const exports = instantiateWasm(this.bytes());
      const memory = exports?.mem as WasmMemory | undefined;
      this.views = exports && memory ? { fn: exports as F, memory, ...KernelModule.viewsOf(memory) } : null;
    }
    const k = this.views;
    if (!k) return null;
    const have = k.memory.buffer.byteLength;
    if (bytes > have) {
      try {
        k.memory.grow(Math.ceil((bytes - have) / 65536));
      } catch {
        return null; // past the 4 GiB of a 32-bit memory
      }
      Object.assign(k, KernelModule.viewsOf(k.memory));
    }
    return k;
  }

  private static viewsOf(memory: WasmMemory): Omit<ModuleViews<unknown>, 'fn'> {
    return { f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer), f64: new Float64Array(memory.buffer) };
  }
}
