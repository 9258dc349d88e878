// Builds main, preload and renderer, then launches Electron. Where the Electron
// binary is missing it says so once and serves the web build instead.
import { spawn } from 'node:child_process';
import { findElectronBinary } from './electron-binary.mjs';

const run = (command, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });

const electron = findElectronBinary();
if ('missing' in electron) {
  console.log(`Electron binary not available: ${electron.missing}. Serving the web build instead.`);
  await import('./web.mjs');
} else {
  await run(process.execPath, ['scripts/build-main.mjs']);
  await run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn']);
  const child = spawn(electron.path, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
