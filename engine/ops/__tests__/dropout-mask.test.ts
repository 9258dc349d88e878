/**
 * Dropout masks from the WebAssembly loop and from the JS loop are the masks that one
 * `generator.random() < p` per element gives, and leave the generator in the same state;
 * over lengths that span several module calls, probabilities at both ends, and through
 * F.dropout.
 */
import { describe, expect, it } from 'vitest';
import '../../backends/cpu/register.ts';
import { dropoutMask, dropoutMaskWasmReady, setDropoutMaskWasm } from '../../core/dropout-mask.ts';
import { fromValues } from '../../core/engine.ts';
import { Generator } from '../../core/random.ts';
import { dropout } from '../dropout.ts';

/** The generator's state words as unsigned 32-bit values (it may hold them signed), and the spare normal. */
const state = (g: Generator) => g.getState().map((v, i) => (i < 4 ? v >>> 0 : v));

/** The definition: one draw per element. */
function definition(n: number, p: number, g: Generator): Float32Array {
  const keep = p === 1 ? 0 : 1 / (1 - p);
  return Float32Array.from({ length: n }, () => (g.random() < p ? 0 : keep));
}

describe('dropout masks', () => {
  it('the WebAssembly loop runs here (Node has WebAssembly), so the comparisons below test it', () => {
    expect(dropoutMaskWasmReady()).toBe(true);
  });

  const ps = [0, 1e-9, 0.1, 0.5, 0.9, 1 - 2 ** -40, 1];
  for (const wasm of [true, false]) {
    for (const n of [0, 1, 5, 1000, (1 << 16) + 3, 3 * (1 << 16)]) {
      it(`${wasm ? 'WebAssembly' : 'JS'} loop, ${n} elements: the definition's mask and generator state for every p`, () => {
        const was = setDropoutMaskWasm(wasm);
        try {
          for (const p of ps) {
            const a = new Generator(123);
            const b = new Generator(123);
            a.normal(); // a spare normal in the state must survive
            b.normal();
            const got = dropoutMask(n, p, a);
            const want = definition(n, p, b);
            expect(Array.from(got)).toEqual(Array.from(want));
            expect(state(a)).toEqual(state(b));
            expect(a.random()).toBe(b.random());
          }
        } finally {
          setDropoutMaskWasm(was);
        }
      });
    }
  }

  it('drops about p of the elements', () => {
    const mask = dropoutMask(100_000, 0.3, new Generator(1));
    const dropped = mask.filter((v) => v === 0).length / mask.length;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.01);
  });

  it('F.dropout scales the survivors by 1 / (1 - p) with the same mask', () => {
    const x = fromValues(Float32Array.from({ length: 4096 }, (_, i) => i + 1), [64, 64]);
    const y = dropout(x, 0.25, true, new Generator(7)).dataSync();
    const m = definition(4096, 0.25, new Generator(7));
    expect(Array.from(y)).toEqual(Array.from(m, (v, i) => Math.fround((i + 1) * v)));
  });
});
