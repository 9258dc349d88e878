import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const rootDir = path.dirname(fileURLToPath(import.meta.url));
const examplesDir = path.join(rootDir, 'examples');

/** Serves examples/ at ./examples/ in development and copies it into the build. */
function examplesFolder(): Plugin {
  return {
    name: 'aps-examples-folder',
    configureServer(server) {
      server.middlewares.use('/examples', (req, res, next) => {
        const name = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
        if (!/^[\w.-]+$/.test(name)) return next();
        fs.readFile(path.join(examplesDir, name)).then((data) => res.end(data), () => next());
      });
    },
    async generateBundle() {
      for (const name of await fs.readdir(examplesDir)) {
        if (!/\.(aps|json)$/.test(name)) continue;
        this.emitFile({ type: 'asset', fileName: `examples/${name}`, source: await fs.readFile(path.join(examplesDir, name)) });
      }
    },
  };
}

export default defineConfig({
  root: path.join(rootDir, 'renderer'),
  base: './',
  publicDir: false,
  plugins: [react(), examplesFolder()],
  worker: { format: 'es' },
  build: {
    outDir: path.join(rootDir, 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  preview: { port: Number(process.env.PORT ?? 5173), strictPort: true, host: '127.0.0.1' },
});
