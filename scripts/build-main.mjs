// Bundles the Electron main process, the preload and the engine worker to dist/main/*.cjs.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

await Promise.all([
  // Runtime dependencies stay in node_modules (electron-builder packs them).
  build({ ...common, entryPoints: { index: 'main/index.ts' }, outdir: 'dist/main', outExtension: { '.js': '.cjs' }, packages: 'external' }),
  build({ ...common, entryPoints: { 'engine-worker': 'engine/session/worker.node.ts' }, outdir: 'dist/main', outExtension: { '.js': '.cjs' }, packages: 'external' }),
  // A sandboxed preload can require nothing but electron: bundle everything else in.
  build({ ...common, entryPoints: { preload: 'main/preload.ts' }, outdir: 'dist/main', outExtension: { '.js': '.cjs' }, external: ['electron'] }),
]);
console.log('Built dist/main/index.cjs, preload.cjs, engine-worker.cjs');
