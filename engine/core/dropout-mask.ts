/**
 * Dropout masks: element i is 0 where the generator's i-th draw `random()` is below p, else
 * the keep scale 1 / (1 - p), exactly as calling `generator.random()` once per element would
 * give, and the generator is left where those draws leave it. The draws are the generator's
 * xoshiro128** steps, run in a small WebAssembly loop (a plain JS loop where WebAssembly is
 * missing): random() = u / 2^32 < p exactly when the 32-bit draw u < ceil(p 2^32).
 */
import type { Generator } from './random.ts';
import { ascii, instantiateWasm, leb, section } from './wasm-host.ts';

/** mask(ptr, n, threshold, keep): n float32s at ptr; the four state words at bytes 0..15, read and written back. */
function maskModuleBytes(): Uint8Array {
  const [PTR, N, THR, KEEP, S0, S1, S2, S3, T, END] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const c: number[] = [];
  const get = (l: number) => c.push(0x20, l);
  const set = (l: number) => c.push(0x21, l);
  const i32 = (v: number) => c.push(0x41, v); // small non-negative constants (one LEB byte)
  const words: [number, number][] = [[S0, 0], [S1, 4], [S2, 8], [S3, 12]];
  for (const [l, off] of words) {
    i32(0);
    c.push(0x28, 2, off); // i32.load
    set(l);
  }
  get(PTR); get(N); i32(2); c.push(0x74, 0x6a); set(END); // end = ptr + 4n
  c.push(0x03, 0x40); // loop
  get(PTR);
  get(KEEP); c.push(0x43, 0, 0, 0, 0); // keep, 0.0
  get(S1); i32(5); c.push(0x6c); i32(7); c.push(0x77); i32(9); c.push(0x6c); // u = rotl(s1 * 5, 7) * 9
  get(THR); c.push(0x4f); // u >=u threshold
  c.push(0x1b); // select: keep where kept, else 0
  c.push(0x38, 2, 0); // f32.store
  get(S1); i32(9); c.push(0x74); set(T); // t = s1 << 9
  get(S2); get(S0); c.push(0x73); set(S2);
  get(S3); get(S1); c.push(0x73); set(S3);
  get(S1); get(S2); c.push(0x73); set(S1);
  get(S0); get(S3); c.push(0x73); set(S0);
  get(S2); get(T); c.push(0x73); set(S2);
  get(S3); i32(11); c.push(0x77); set(S3); // s3 = rotl(s3, 11)
  get(PTR); i32(4); c.push(0x6a, 0x22, PTR); // ptr += 4
  get(END); c.push(0x49, 0x0d, 0, 0x0b); // again while ptr < end
  for (const [l, off] of words) {
    i32(0);
    get(l);
    c.push(0x36, 2, off); // i32.store
  }
  const body = [1, 6, 0x7f, ...c, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7d, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 5]),
    ...section(7, [2, 4, ...ascii('mask'), 0, 0, 3, ...ascii('mem'), 2, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** Floats per module call (256 KiB after the state words; the memory has 5 pages). */
const CHUNK = 1 << 16;

interface MaskKernel {
  mask(ptr: number, n: number, threshold: number, keep: number): void;
  mem: { buffer: ArrayBuffer };
}

let kernel: MaskKernel | null | undefined;
let wasmOn = true;

/** Turns the WebAssembly loop on or off (tests compare the two); returns the previous setting. */
export function setDropoutMaskWasm(on: boolean): boolean {
  const was = wasmOn;
  wasmOn = on;
  return was;
}

/** Whether the WebAssembly loop can run here (and is on). */
export function dropoutMaskWasmReady(): boolean {
  return maskKernel() !== null;
}

function maskKernel(): MaskKernel | null {
  if (kernel === undefined) kernel = instantiateWasm(maskModuleBytes()) as MaskKernel | null;
  return wasmOn ? kernel : null;
}

/** The dropout mask of n elements with drop probability p (0 <= p <= 1), drawn from `generator`. */
export function dropoutMask(n: number, p: number, generator: Generator): Float32Array {
  const keep = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(n);
  const state = generator.getState();
  // The loop compares u with an unsigned 32-bit threshold: p close enough to 1 that it rounds
  // up to 2^32 (drop everything) takes the JS loop.
  const threshold = Math.ceil(p * 4294967296);
  const k = threshold < 4294967296 ? maskKernel() : null;
  if (k && n > 0) {
    const words = new Int32Array(k.mem.buffer, 0, 4);
    const values = new Float32Array(k.mem.buffer, 16, CHUNK);
    for (let w = 0; w < 4; w++) words[w] = state[w];
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      k.mask(16, len, threshold | 0, keep);
      mask.set(len === CHUNK ? values : values.subarray(0, len), i);
    }
    generator.setState([words[0] >>> 0, words[1] >>> 0, words[2] >>> 0, words[3] >>> 0, state[4]]);
    return mask;
  }
  let s0 = state[0] >>> 0;
  let s1 = state[1] >>> 0;
  let s2 = state[2] >>> 0;
  let s3 = state[3] >>> 0;
  // random() = u / 2^32 < p exactly when u < p * 2^32
  const limit = p * 4294967296;
  for (let i = 0; i < n; i++) {
    const x = Math.imul(s1, 5);
    const u = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    mask[i] = u < limit ? 0 : keep;
  }
  generator.setState([s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0, state[4]]);
  return mask;
}
