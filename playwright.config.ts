import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/**
 * Playwright cannot download its own browsers everywhere, so tests use a system
 * Chromium: CHROMIUM_PATH, else /usr/bin/chromium. A missing browser fails the
 * run with instructions instead of skipping tests silently.
 */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `No Chromium found for the end-to-end tests (looked at ${candidates.join(', ')}). ` +
        'Install one with "apt-get install -y chromium" or set CHROMIUM_PATH to a Chromium/Chrome executable.',
    );
  }
  return found;
}

const port = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 30_000,
  fullyParallel: true,
  workers: 2,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [
    { name: 'web', testIgnore: /electron\.spec\.ts/, use: { browserName: 'chromium' } },
    { name: 'electron', testMatch: /electron\.spec\.ts/ },
  ],
  webServer: {
    command: 'node scripts/web.mjs',
    env: { PORT: String(port) },
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
