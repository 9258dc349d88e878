import { expect, type Page, type TestInfo } from '@playwright/test';

/** Opens the app and waits for its shell to render. */
export async function openApp(page: Page): Promise<void> {
  await page.goto('./');
  await expect(page.getByTestId('toolbar')).toBeVisible();
}

/** Waits until the engine reported ready in the status bar; returns what it shows. */
export async function engineInfo(page: Page): Promise<{ version: string; backends: string }> {
  const status = page.getByTestId('status-bar');
  await expect(status.getByTestId('engine-version')).toBeVisible({ timeout: 15_000 });
  return {
    version: (await status.getByTestId('engine-version').textContent()) ?? '',
    backends: (await status.getByTestId('engine-backends').textContent()) ?? '',
  };
}

/** Attaches a full-page screenshot to the test report. */
export async function attachScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
}

/** Collects uncaught page errors and CSP violations so a test can assert there were none. */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  return problems;
}

/**
 * Makes the engine's Web Worker die of an uncaught error, as a bug in the engine
 * would; the page sees it through the worker's error event.
 */
export async function crashEngineWorker(page: Page): Promise<void> {
  const worker = page.workers()[0];
  if (!worker) throw new Error('The page runs no engine worker to crash');
  await worker.evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated engine failure');
    }, 0);
  });
}
