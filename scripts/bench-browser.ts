/**
 * `tsx scripts/bench-browser.ts`: the standard benchmark workloads (engine/bench/workloads-*.ts)
 * trained in a Chromium Web Worker, as the web host runs the engine, on the CPU backend and on
 * the gpu backend (gpu.js webgl2 unless --gpu-mode names another), side by side in one run,
 * with gpu/cpu ratios, the gpu.js mode and the WebGL renderer that did the work (a software
 * renderer such as SwiftShader means there was no GPU).
 *
 * Flags: --quick (short run), --seconds=S (time per measurement), --only=id,id,
 * --gpu-mode=webgl2|webgl|webgpu|webasm|cpu, --gpu (let Chromium use the GPU: no
 * --disable-gpu), --json (the report as one JSON object on stdout).
 * Chromium: CHROMIUM_PATH, else /usr/bin/chromium (as playwright.config.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';
import { loadBatches } from '../engine/bench/mnist.node.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const json = flag('json');
const gpuMode = value('gpu-mode') ?? 'webgl2';
const seconds = Number(value('seconds') ?? (quick ? 0.6 : 3));
const BATCH = 64;
const batchCount = quick ? 4 : 16;
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

/** The worker: enables the gpu backend in the asked mode and runs engine/bench/backends.ts. */
const workerSource = `
import './engine/backends/cpu/register.ts';
import { benchBackends } from './engine/bench/backends.ts';
import { timeLoop } from './engine/bench/timing.ts';
import { imageWorkloads } from './engine/bench/workloads-image.ts';
import { seqWorkloads } from './engine/bench/workloads-seq.ts';

function glRenderer(): string {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl');
    if (!gl) return 'no WebGL context';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  } catch (e) {
    return 'unknown (' + String(e) + ')';
  }
}

function fromBase64(s: string): ArrayBuffer {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

self.onmessage = (e: MessageEvent) => {
  const o = e.data;
  try {
    const all = [...imageWorkloads, ...seqWorkloads];
    const workloads = o.only ? all.filter((w) => o.only.includes(w.id)) : all;
    const data = { batchSize: o.batchSize, count: o.count, images: new Float32Array(fromBase64(o.images)), labels: new Int32Array(fromBase64(o.labels)) };
    const report = benchBackends({
      backend: 'gpu',
      gpuMode: o.gpuMode,
      workloads,
      data,
      timing: { seconds: o.seconds, warmup: o.warmup },
      timeLoop,
      log: (line: string) => postMessage({ log: line }),
      matmulSizes: o.matmulSizes,
    });
    postMessage({ done: { ...report, renderer: glRenderer(), userAgent: navigator.userAgent } });
  } catch (err) {
    postMessage({ fatal: String(err instanceof Error ? err.stack : err) });
  }
};
`;

function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`bench-browser: no Chromium found (looked at ${candidates.join(', ')}); set CHROMIUM_PATH`);
  return found;
}

const b64 = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

async function main(): Promise<void> {
  const data = loadBatches(BATCH, batchCount);
  const bundle = await build({
    stdin: { contents: workerSource, resolveDir: root, sourcefile: 'bench-browser-worker.ts', loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  const launchArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
  if (!flag('gpu')) launchArgs.push('--disable-gpu');
  if (gpuMode === 'webgpu') launchArgs.push('--enable-unsafe-webgpu');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: launchArgs });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      const text = m.text();
      if (text.startsWith('bench: ')) log(text.slice(7));
    });
    await page.goto('about:blank');
    log(`Browser benchmark: ${await browser.version()}, batch ${BATCH}, ${batchCount} MNIST batches, ${seconds} s per measurement`);
    const report = await page.evaluate(
      ([code, msg]) => {
        interface PageWorker {
          onmessage: (e: { data: { log?: string; done?: unknown; fatal?: string } }) => void;
          onerror: (e: { message: string }) => void;
          postMessage(data: unknown): void;
        }
        const g = globalThis as unknown as {
          Worker: new (url: string) => PageWorker;
          Blob: new (parts: string[], opts: { type: string }) => unknown;
          URL: { createObjectURL(blob: unknown): string };
          console: { log(s: string): void };
        };
        return new Promise<unknown>((resolve, reject) => {
          const worker = new g.Worker(g.URL.createObjectURL(new g.Blob([code as string], { type: 'text/javascript' })));
          worker.onmessage = (e) => {
            if (e.data.log !== undefined) g.console.log(`bench: ${e.data.log}`);
            else if (e.data.fatal) reject(new Error(e.data.fatal));
            else resolve(e.data.done);
          };
          worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
          worker.postMessage(msg);
        });
      },
      [
        bundle.outputFiles[0].text,
        {
          gpuMode,
          only: value('only')?.split(','),
          seconds,
          warmup: quick ? 1 : 3,
          batchSize: data.batchSize,
          count: data.count,
          images: b64(data.images),
          labels: b64(data.labels),
          matmulSizes: quick ? [256] : [256, 512],
        },
      ] as const,
    );
    const r = report as { backends: Record<string, string>; renderer: string };
    log('');
    if (/webgl/.test(r.backends.gpu)) {
      const software = /swiftshader|llvmpipe|software/i.test(r.renderer);
      log(`gpu backend: ${r.backends.gpu}; WebGL renderer: ${r.renderer}${software ? ' (software rendering: no GPU was used)' : ''}`);
    } else {
      log(`gpu backend: ${r.backends.gpu}${/webasm|cpu\)/.test(r.backends.gpu) ? ' (computes on the CPU: WebAssembly or JavaScript)' : ''}`);
    }
    if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
