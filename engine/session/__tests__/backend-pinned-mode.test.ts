import { afterAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../core/engine.ts';
import { parseTrainingBackend } from '../backend-choice.ts';
import { chooseBackend } from '../training-session.ts';

afterAll(() => setBackend('cpu'));

describe('the backend a run or a command names', () => {
  it('reads cpu, gpu and gpu with a pinned gpu.js mode', () => {
    expect(parseTrainingBackend('cpu')).toEqual({ gpu: false });
    expect(parseTrainingBackend('gpu')).toEqual({ gpu: true });
    expect(parseTrainingBackend('gpu:webgl2')).toEqual({ gpu: true, mode: 'webgl2' });
    expect(parseTrainingBackend('gpu:cpu')).toEqual({ gpu: true, mode: 'cpu' });
  });

  it('names the choices for anything else', () => {
    expect(parseTrainingBackend('gpu:cuda')).toBe('backend must be cpu, gpu or gpu:<mode> with mode one of webgpu, webgl2, webgl, headlessgl, webasm, cpu; got "gpu:cuda"');
    expect(parseTrainingBackend('tpu')).toMatch(/got "tpu"$/);
  });
});

describe('chooseBackend with a pinned gpu.js mode', () => {
  it('enables the gpu in that mode, and refuses another mode for the rest of the engine life with the reason', async () => {
    expect(await chooseBackend('gpu:cpu')).toBe('gpu (gpu.js cpu)');
    expect(await chooseBackend('gpu')).toBe('gpu (gpu.js cpu)');
    await expect(chooseBackend('gpu:webasm')).rejects.toThrow('The gpu backend already runs gpu.js cpu in this engine; restart the app to use webasm, or choose the gpu without a mode');
    await expect(chooseBackend('gpu:nope' as never)).rejects.toThrow(/backend must be cpu, gpu or gpu:<mode>/);
    expect(await chooseBackend('cpu')).toBe('cpu');
  });
});
