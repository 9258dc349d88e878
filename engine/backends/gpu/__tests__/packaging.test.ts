/**
 * gpu.js brings two native pieces the app never uses: headless-gl (`gl`, an optional
 * dependency built with node-gyp) and Dawn WebGPU (`webgpu`, prebuilt .node binaries for four
 * platforms). The packaged app leaves both out, `npm ci` must succeed without building them,
 * and the gpu.js code the engine worker loads must not need them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config from '../../../../electron.config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const require = createRequire(import.meta.url);

interface LockPackage {
  version?: string;
  optional?: boolean;
  dev?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };

describe('gpu.js native add-ons in packaging', () => {
  it('electron.config.ts excludes gl and webgpu, at the top level and nested under gpu.js', () => {
    const files = (config.files ?? []) as string[];
    expect(Array.isArray(files)).toBe(true);
    for (const pattern of ['!node_modules/gl/**', '!node_modules/webgpu/**', '!node_modules/gpu.js/node_modules/gl/**', '!node_modules/gpu.js/node_modules/webgpu/**']) {
      expect(files, pattern).toContain(pattern);
    }
    // Exclusions only act after an inclusion of the same files; none may come back later.
    const reincluded = files.filter((f) => !f.startsWith('!') && /(^|\/)(gl|webgpu)(\/|$)/.test(f));
    expect(reincluded).toEqual([]);
  });

  it('npm ci never has to build them: gl is optional, webgpu has no install script', () => {
    const gpujs = lock.packages['node_modules/gpu.js'];
    expect(gpujs, 'gpu.js in package-lock.json').toBeDefined();
    expect(gpujs.optionalDependencies ?? {}, 'gl is an optional dependency of gpu.js').toHaveProperty('gl');
    expect(gpujs.dependencies ?? {}).not.toHaveProperty('gl');
    const gl = lock.packages['node_modules/gl'] ?? lock.packages['node_modules/gpu.js/node_modules/gl'];
    if (gl) expect(gl.optional, 'gl is marked optional, so a failed native build does not fail npm ci').toBe(true);
    const webgpu = lock.packages['node_modules/webgpu'] ?? lock.packages['node_modules/gpu.js/node_modules/webgpu'];
    if (webgpu) expect(webgpu.hasInstallScript ?? false, 'webgpu installs without building anything').toBe(false);
    // Nothing else in gpu.js's dependency tree runs an install script.
    const tree = Object.keys({ ...gpujs.dependencies }).map((d) => lock.packages[`node_modules/${d}`] ?? lock.packages[`node_modules/gpu.js/node_modules/${d}`]);
    for (const [k, p] of tree.entries()) expect(p?.hasInstallScript ?? false, Object.keys({ ...gpujs.dependencies })[k]).toBe(false);
  });

  it('the gpu.js Node entry loads neither: gl only inside a try, webgpu never', () => {
    const srcDir = path.dirname(require.resolve('gpu.js'));
    const headless = readFileSync(path.join(srcDir, 'backend/headless-gl/kernel.js'), 'utf8');
    expect(headless).toMatch(/try\s*\{[^}]*require\('gl'\)[^}]*\}\s*catch/);
    const requiresWebgpu = /require\(['"]webgpu['"]\)|from ['"]webgpu['"]/;
    const sources = (readdirSync(srcDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    expect(sources.length).toBeGreaterThan(20);
    for (const file of sources) expect(readFileSync(path.join(srcDir, file), 'utf8'), file).not.toMatch(requiresWebgpu);
  });
});
