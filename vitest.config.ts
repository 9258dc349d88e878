import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'e2e/**', 'release/**'],
    environment: 'node',
    setupFiles: ['engine/testing/vitest-setup.node.ts'],
  },
});
