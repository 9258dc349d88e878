import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, expect, test } from '@playwright/test';
import { build } from 'esbuild';

/**
 * The gpu backend on gpu.js's webgl2 mode, in a Chromium Web Worker as the web host runs
 * the engine: the shared parity cases (engine/backends/gpu/__tests__/parity-cases.ts) must
 * match the CPU reference, and a training step must read back only its loss. The mode is
 * pinned: if webgl2 does not work here the run fails and says why, instead of passing on
 * webasm or gpu.js's cpu mode.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The worker: enables the gpu backend in webgl2 mode, counts WebGL readbacks, runs the cases. */
const workerSource = `
import './engine/backends/cpu/register.ts';
import { describeBackend, enableGpuBackend } from './engine/backends/gpu/register.ts';
import { checkParity, measureStepTraffic, PARITY_CASES } from './engine/backends/gpu/__tests__/parity-cases.ts';

let readPixels = 0;
const gl2 = (self as { WebGL2RenderingContext?: { prototype: { readPixels: (...args: unknown[]) => void } } }).WebGL2RenderingContext;
if (gl2) {
  const original = gl2.prototype.readPixels;
  gl2.prototype.readPixels = function (...args: unknown[]) {
    readPixels++;
    return original.apply(this, args);
  };
}

function glRenderer(): string {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return 'no webgl2 context';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  } catch (e) {
    return 'unknown (' + String(e) + ')';
  }
}

self.onmessage = (e: MessageEvent<{ mode?: 'webgl2' }>) => {
  let info;
  try {
    info = enableGpuBackend(e.data.mode);
    if (!e.data.mode) {
      // Automatic choice only: which mode, and why the better ones were refused.
      postMessage({ mode: info.mode, label: describeBackend(), renderer: glRenderer(), refused: info.refused, cases: [], traffic: null, trafficError: null });
      return;
    }
  } catch (err) {
    postMessage({ fatal: String(err instanceof Error ? err.message : err) });
    return;
  }
  const cases = PARITY_CASES.map((c) => {
    const t0 = performance.now();
    let error: string | null;
    try {
      error = checkParity(c);
    } catch (err) {
      error = 'threw: ' + String(err instanceof Error ? err.stack : err);
    }
    return { name: c.name, error, ms: Math.round(performance.now() - t0) };
  });
  let traffic = null;
  let trafficError = null;
  try {
    traffic = measureStepTraffic(3, () => readPixels);
  } catch (err) {
    trafficError = String(err instanceof Error ? err.stack : err);
  }
  postMessage({ mode: info.mode, label: describeBackend(), renderer: glRenderer(), cases, traffic, trafficError });
};
`;

interface Traffic {
  resultReads: number;
  cpuWrites: number;
  deviceReads: number | null;
  liveTensors: number;
}

interface Report {
  fatal?: string;
  mode: string;
  label: string;
  renderer: string;
  cases: { name: string; error: string | null; ms: number }[];
  traffic: Record<'mlp' | 'cnn', Traffic[]> | null;
  trafficError: string | null;
  refused?: Record<string, string>;
}

/** Renderers that draw WebGL on the CPU (as gpu-backend.ts recognises them). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

async function runInWorker(browser: Browser, mode: 'webgl2' | undefined): Promise<Report> {
  const bundle = await build({
    stdin: { contents: workerSource, resolveDir: root, sourcefile: 'gpu-webgl2-worker.ts', loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  const page = await browser.newPage();
  try {
    await page.goto('about:blank');
    // Runs in the page: start the bundle as a Web Worker and wait for its one report.
    return await page.evaluate(([code, mode]) => {
      interface PageWorker {
        onmessage: (e: { data: Report }) => void;
        onerror: (e: { message: string }) => void;
        postMessage(data: unknown): void;
      }
      const g = globalThis as unknown as {
        Worker: new (url: string) => PageWorker;
        Blob: new (parts: string[], opts: { type: string }) => unknown;
        URL: { createObjectURL(blob: unknown): string };
      };
      return new Promise<Report>((resolve) => {
        const worker = new g.Worker(g.URL.createObjectURL(new g.Blob([code], { type: 'text/javascript' })));
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => resolve({ fatal: `worker error: ${e.message}` } as Report);
        worker.postMessage({ mode });
      });
    }, [bundle.outputFiles[0].text, mode] as const);
  } finally {
    await page.close();
  }
}

test.describe.serial('gpu backend on gpu.js webgl2 in a Web Worker', () => {
  let report: Report;

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(180_000);
    report = await runInWorker(browser, 'webgl2');
  });

  test('webgl2 is the mode that ran', async ({}, testInfo) => {
    expect(report.fatal, 'gpu.js webgl2 must work in this Chromium').toBeUndefined();
    expect(report.mode).toBe('webgl2');
    expect(report.label).toBe('gpu (gpu.js webgl2)');
    await testInfo.attach('webgl2 renderer', { body: report.renderer, contentType: 'text/plain' });
    expect(report.renderer).not.toBe('no webgl2 context');
  });

  test('every parity case matches the CPU reference within float32 tolerance', async ({}, testInfo) => {
    expect(report.fatal).toBeUndefined();
    expect(report.cases.length).toBeGreaterThanOrEqual(10);
    await testInfo.attach('case timings (ms)', { body: report.cases.map((c) => `${c.ms}\t${c.name}`).join('\n'), contentType: 'text/plain' });
    for (const c of report.cases) expect.soft(c.error, c.name).toBeNull();
  });

  test('pipeline mode keeps a training step on the device: one readback (the loss) per step, no CPU fallback', async ({}, testInfo) => {
    expect(report.fatal).toBeUndefined();
    expect(report.trafficError).toBeNull();
    const traffic = report.traffic as Record<'mlp' | 'cnn', Traffic[]>;
    await testInfo.attach('step traffic', { body: JSON.stringify(traffic, null, 1), contentType: 'application/json' });
    for (const [model, steps] of Object.entries(traffic)) {
      expect(steps.length).toBe(3);
      steps.forEach((s, k) => {
        const step = `${model} step ${k + 1}`;
        expect.soft(s.resultReads, `${step}: kernel results read back`).toBe(1);
        expect.soft(s.cpuWrites, `${step}: CPU fallback writes`).toBe(0);
        // Below the backend: exactly one WebGL readPixels, for the loss.
        expect.soft(s.deviceReads, `${step}: WebGL readPixels calls`).toBe(1);
      });
      expect.soft(steps[2].liveTensors, `${model}: live tensors stay flat`).toBe(steps[1].liveTensors);
    }
  });
});

test('without a pinned mode, WebGL drawn by a software renderer is passed over for webasm, and the reason is given', async ({ browser }) => {
  test.setTimeout(90_000);
  const auto = await runInWorker(browser, undefined);
  expect(auto.fatal).toBeUndefined();
  if (SOFTWARE_RENDERER.test(auto.renderer)) {
    expect(auto.mode).toBe('webasm');
    expect(auto.refused?.webgl2).toMatch(/software WebGL renderer .*no GPU/);
  } else {
    // A machine with a GPU: a GPU mode wins.
    expect(['webgpu', 'webgl2']).toContain(auto.mode);
  }
});
