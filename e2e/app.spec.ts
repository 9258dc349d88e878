import { expect, test } from '@playwright/test';
import { availableBackends } from '../engine/session/dispatch.ts';
import { ENGINE_VERSION } from '../engine/version.ts';
import { attachScreenshot, collectPageProblems, crashEngineWorker, engineInfo, openApp } from './helpers/ui.ts';

test('the app loads with its palette, canvas and status bar', async ({ page }, testInfo) => {
  const problems = collectPageProblems(page);
  await openApp(page);
  await expect(page.getByTestId('palette')).toBeVisible();
  await expect(page.locator('#canvas-root')).toBeVisible();
  await expect(page.getByTestId('inspector')).toBeVisible();
  await expect(page).toHaveTitle('Untitled.aps - APS Studio');
  await attachScreenshot(page, testInfo, 'app-shell');
  expect(problems).toEqual([]);
});

test('the status bar shows the engine version and backends from the worker', async ({ page }) => {
  await openApp(page);
  const info = await engineInfo(page);
  expect(info.version).toBe(ENGINE_VERSION);
  // The worker runs the same dispatch module, so it reports the same registry.
  const expected = availableBackends();
  expect(info.backends).toBe(expected.length ? expected.join(', ') : 'none registered');
  // The answer came from a Web Worker started by the web host.
  expect(page.workers().length).toBeGreaterThanOrEqual(1);
});

test('the Backend field offers the gpu before gpu.js loads; a gpu run reports its gpu.js mode in the panel and the status bar', async ({ page }) => {
  test.setTimeout(90_000);
  await openApp(page);
  const info = await engineInfo(page);
  // Nothing enabled gpu.js at startup.
  expect(info.backends).not.toContain('gpu');
  await page.getByTestId('toolbar-examples').click();
  await page.getByTestId('examples-dialog').getByText('MLP on two spirals', { exact: true }).click();
  await expect(page.getByTestId('examples-dialog')).toHaveCount(0);
  await page.getByTestId('tab-training').click();
  const field = page.getByTestId('train-backend');
  await expect(field.locator('option[value="gpu"]')).toHaveCount(1);
  await field.selectOption('gpu');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-backend-used')).toContainText(/gpu \(gpu\.js (webgpu|webgl2|webgl|webasm|cpu)\)/, { timeout: 60_000 });
  await expect(page.getByTestId('engine-backends')).toContainText(/gpu:(webgpu|webgl2|webgl|webasm|cpu)/);
  await expect(page.getByTestId('run-banner')).toHaveCount(0);
});

test('the examples browser lists the served examples/index.json', async ({ page }) => {
  await openApp(page);
  const listed: unknown = await (await page.request.get('examples/index.json')).json();
  await page.getByTestId('toolbar-examples').click();
  const dialog = page.getByTestId('examples-dialog');
  await expect(dialog).toBeVisible();
  const count = Array.isArray(listed) ? listed.length : -1;
  if (count === 0) await expect(dialog).toContainText('No example projects are installed.');
  else await expect(dialog.locator('.example-list li')).toHaveCount(count);
});

test('an engine crash is reported and the engine can be restarted', async ({ page }, testInfo) => {
  await openApp(page);
  await engineInfo(page);
  await crashEngineWorker(page);
  const error = page.getByTestId('status-bar').getByTestId('engine-error');
  await expect(error).toContainText('The engine worker crashed: Uncaught Error: simulated engine failure');
  await attachScreenshot(page, testInfo, 'engine-crashed');
  await page.getByRole('button', { name: 'Restart engine' }).click();
  const info = await engineInfo(page);
  expect(info.version).toBe(ENGINE_VERSION);
  await expect(error).toHaveCount(0);
});
