/**
 * The host's WebAssembly API as the kernel modules use it (the engine is DOM-free and does not
 * assume a global `WebAssembly`): where to find it, and how a module assembled from bytes is
 * checked and instantiated.
 */

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
