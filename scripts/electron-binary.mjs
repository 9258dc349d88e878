// Finds the Electron executable without triggering the electron package's lazy download.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** @returns {{ path: string } | { missing: string }} */
export function findElectronBinary() {
  const require = createRequire(import.meta.url);
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { missing: 'the "electron" package is not installed (run npm ci)' };
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return { missing: `its binary was never downloaded (${path.relative(process.cwd(), pathFile)} is absent; run "node node_modules/electron/install.js" with network access)` };
  }
  const relative = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkgDir, 'dist');
  const executable = path.join(distDir, relative);
  if (!existsSync(executable)) return { missing: `${executable} does not exist` };
  return { path: executable };
}
