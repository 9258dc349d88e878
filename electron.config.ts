/** electron-builder configuration: `npm run dist` packages the built app from dist/. */
import type { Configuration } from 'electron-builder';

const config: Configuration = {
  appId: 'studio.aps.app',
  productName: 'APS Studio',
  copyright: 'Copyright © APS Studio contributors',
  directories: { output: 'release', buildResources: 'build' },
  icon: 'build/icon.png',
  files: [
    'dist/main/**',
    'dist/renderer/**',
    'package.json',
    '!**/*.map',
    // gpu.js's optional native back ends (headless-gl, Dawn WebGPU) are not shipped:
    // the desktop app computes on the CPU backend or the GPU through the renderer.
    '!node_modules/gl/**',
    '!node_modules/webgpu/**',
    '!node_modules/gpu.js/node_modules/gl/**',
    '!node_modules/gpu.js/node_modules/webgpu/**',
    // The engine worker loads gpu.js's Node entry (src/); its browser bundles are unused.
    '!node_modules/gpu.js/dist/**',
  ],
  asar: true,
  // The app ships no native modules of its own; skip rebuilding dev-only ones.
  npmRebuild: false,
  fileAssociations: [
    {
      ext: 'aps',
      name: 'APS Studio Project',
      description: 'APS Studio neural network project',
      mimeType: 'application/x-aps-project',
      role: 'Editor',
      icon: 'build/icon.png',
    },
  ],
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Development;Education;Science',
    mimeTypes: ['application/x-aps-project'],
    maintainer: 'APS Studio contributors',
  },
  deb: {},
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools' },
  dmg: {},
  win: { target: ['nsis'] },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true, perMachine: false },
};

export default config;
