/**
 * An optional WebAssembly SIMD micro-kernel for the packed GEMM in matmul.ts. The module is
 * assembled here from a few bytes (no build step, no file to load): one function
 * `kernel(kc, pa, pb, out)` that multiplies a packed MR x kc panel of A by a packed kc x 8
 * panel of B in f32x4 registers (2*MR accumulators) and stores the MR x 8 tile at `out`.
 * Where WebAssembly SIMD is missing, `createWasmGemmKernel` returns null and the JS kernel runs.
 */

export const WASM_MR = 6;
export const WASM_NR = 8;

export interface WasmGemmKernel {
  /** kernel(kc >= 1, pa, pb, out): byte offsets into `memory`. */
  kernel(kc: number, pa: number, pb: number, out: number): void;
  /** Float32 view of the module's memory, at least `floats` long. */
  view: Float32Array;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];

const OP = {
  loop: 0x03, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, simd: 0xfd,
};
const SIMD = { v128Load: 0x00, v128Store: 0x0b, f32x4Splat: 0x13, f32x4Add: 0xe4, f32x4Mul: 0xe6 };

/** The module's bytes: memory "mem" and function "kernel" (params kc, pa, pb, out). */
export function wasmGemmModuleBytes(mr = WASM_MR): Uint8Array {
  const [KC, PA, PB, OUT, B0, B1, A, ACC] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...leb(l));
  const set = (l: number) => c.push(OP.localSet, ...leb(l));
  const simd = (op: number, ...imm: number[]) => c.push(OP.simd, ...leb(op), ...imm);
  c.push(OP.loop, 0x40);
  get(PB);
  simd(SIMD.v128Load, 0, 0);
  set(B0);
  get(PB);
  simd(SIMD.v128Load, 0, 16);
  set(B1);
  for (let i = 0; i < mr; i++) {
    get(PA);
    c.push(OP.f32Load, 2, ...leb(4 * i));
    simd(SIMD.f32x4Splat);
    set(A);
    for (let j = 0; j < 2; j++) {
      // acc[i][j] += a_i * b_j
      get(ACC + 2 * i + j);
      get(A);
      get(j === 0 ? B0 : B1);
      simd(SIMD.f32x4Mul);
      simd(SIMD.f32x4Add);
      set(ACC + 2 * i + j);
    }
  }
  get(PA);
  c.push(OP.i32Const, ...leb(4 * mr), OP.i32Add);
  set(PA);
  get(PB);
  c.push(OP.i32Const, ...leb(4 * WASM_NR), OP.i32Add);
  set(PB);
  get(KC);
  c.push(OP.i32Const, 1, OP.i32Sub, OP.localTee, ...leb(KC), OP.brIf, 0, OP.end);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < 2; j++) {
      get(OUT);
      get(ACC + 2 * i + j);
      simd(SIMD.v128Store, 0, ...leb(4 * WASM_NR * i + 16 * j));
    }
  }
  c.push(OP.end);
  const body = [1, ...leb(3 + 2 * mr), 0x7b, ...c]; // one run of v128 locals
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // (i32 x4) -> ()
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), // memory, min 1 page
    ...section(7, [2, 6, ...ascii('kernel'), 0, 0, 3, ...ascii('mem'), 2, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** Instantiates the kernel with at least `floats` float32s of memory; null without WebAssembly SIMD. */
export function createWasmGemmKernel(floats: number): WasmGemmKernel | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return null;
  try {
    const bytes = wasmGemmModuleBytes();
    if (!wasm.validate(bytes)) return null;
    const { exports } = new wasm.Instance(new wasm.Module(bytes), {});
    const memory = exports.mem as WasmMemory;
    const pages = Math.ceil((floats * 4) / 65536);
    const have = memory.buffer.byteLength / 65536;
    if (pages > have) memory.grow(pages - have);
    return { kernel: exports.kernel as WasmGemmKernel['kernel'], view: new Float32Array(memory.buffer) };
  } catch {
    return null;
  }
}
