/**
 * gpu ↔ cpu parity in Node (gpu.js webasm, or the mode APS_GPU_MODE names): every case of
 * parity-cases.ts, which the browser run (e2e/gpu-webgl2.spec.ts) repeats on webgl2.
 */
import { describe, expect, it } from 'vitest';
import { kernelsOf } from '../../../core/backend.ts';
import { gpuBackend } from '../gpu-backend.ts';
import { availableBackends } from '../../../session/dispatch.ts';
import { backendLabel, prepareBackend } from '../../../testing/backends.ts';
import { checkParity, measureStepTraffic, PARITY_CASES } from './parity-cases.ts';

prepareBackend('gpu');

describe(`gpu backend [${backendLabel('gpu')}]`, () => {
  it('implements the hot kernels on the device', () => {
    const have = kernelsOf('gpu');
    for (const k of ['Add', 'Mul', 'Sum', 'BatchMatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool2D', 'MaxPool2DGrad', 'AvgPool2D', 'AvgPool2DGrad', 'Softmax', 'LogSoftmax']) {
      expect(have, k).toContain(k);
    }
  });

  it('reports its mode', () => {
    expect(backendLabel('gpu')).toMatch(/^gpu \(gpu\.js (webgpu|webgl2|webgl|headlessgl|webasm|cpu)\)$/);
    expect(gpuBackend.mode).not.toBeNull();
    // Hosts list it with its mode, highest priority first.
    expect(availableBackends()).toEqual([`gpu:${gpuBackend.mode}`, 'cpu']);
  });

  for (const c of PARITY_CASES) {
    it(c.name, () => {
      const why = checkParity(c);
      if (why) expect.fail(why);
    });
  }

  it('keeps a training step on the device: only the reported loss is read back, nothing runs on the CPU', () => {
    const traffic = measureStepTraffic(3);
    for (const [model, steps] of Object.entries(traffic)) {
      steps.forEach((s, k) => {
        expect(s.resultReads, `${model} step ${k + 1}: results read back`).toBe(1);
        expect(s.cpuWrites, `${model} step ${k + 1}: CPU fallback writes`).toBe(0);
      });
      // Device memory stays flat across steps (the first step creates the momentum buffers).
      expect(steps[2].liveTensors, `${model}: live tensors`).toBe(steps[1].liveTensors);
    }
  });
});
