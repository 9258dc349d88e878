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

/** Clicks what starts a download and saves the file under the test's output folder; returns its path. */
export async function download(page: Page, testInfo: TestInfo, click: () => Promise<void>): Promise<string> {
  const downloading = page.waitForEvent('download');
  await click();
  const d = await downloading;
  const file = testInfo.outputPath(d.suggestedFilename());
  await d.saveAs(file);
  return file;
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

// ---------------------------------------------------------------------------------------
// Editor helpers: drive the canvas as a person would (drag from the palette, wire ports,
// type into the inspector).

/** Starts an empty project from the toolbar. */
export async function newProject(page: Page): Promise<void> {
  await page.getByTestId('toolbar-new').click();
  await expect(page.locator('[data-testid^="node-"]')).toHaveCount(0);
  // The empty canvas is shown at 100 % from its origin before anything is dropped on it.
  await expect(page.locator('.react-flow__viewport')).toHaveCSS('transform', 'matrix(1, 0, 0, 1, 0, 0)');
}

/**
 * Drags a layer type from the palette onto the canvas at (x, y) relative to the canvas's
 * top-left corner; returns the new node's id (the editor selects what it adds).
 */
export async function dragLayer(page: Page, type: string, at: { x: number; y: number }): Promise<string> {
  const before = await page.locator('.react-flow__node').count();
  await page.getByTestId(`palette-item-${type}`).dragTo(page.getByTestId('canvas'), { targetPosition: at });
  await expect(page.locator('.react-flow__node')).toHaveCount(before + 1);
  const inspector = page.getByTestId('inspector-node');
  await expect(inspector).toBeVisible();
  const id = await inspector.getAttribute('data-node-id');
  if (!id) throw new Error(`dragging ${type} onto the canvas selected no node`);
  return id;
}

/** The canvas card of a node. */
export function node(page: Page, id: string) {
  return page.getByTestId(`node-${id}`);
}

/** Drags a wire from `from`'s output port to `to`'s input port. */
export async function connect(page: Page, from: string, to: string, ports: { out?: string; in?: string } = {}): Promise<void> {
  const source = node(page, from).getByTestId(`port-out-${ports.out ?? 'y'}`);
  const target = node(page, to).getByTestId(`port-in-${ports.in ?? 'x'}`);
  const a = await source.boundingBox();
  const b = await target.boundingBox();
  if (!a || !b) throw new Error(`cannot see the ports to connect ${from} to ${to}`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

/** Selects a node by clicking its title. */
export async function selectNode(page: Page, id: string): Promise<void> {
  await node(page, id).locator('.layer-node-name').click();
  await expect(page.getByTestId('inspector-node')).toHaveAttribute('data-node-id', id);
}

/** Selects a node and types a parameter value into the inspector, finishing with Enter. */
export async function setParam(page: Page, id: string, name: string, value: string): Promise<void> {
  await selectNode(page, id);
  const field = page.getByTestId('inspector-node').getByTestId(`param-${name}`).locator('input');
  await field.fill(value);
  await field.press('Enter');
}

/** The shape label on the edge between two nodes' default ports. */
export function edgeLabel(page: Page, from: string, to: string, ports: { out?: string; in?: string } = {}) {
  return page.getByTestId(`edge-label-${from}.${ports.out ?? 'y'}->${to}.${ports.in ?? 'x'}`);
}

/** Attaches a screenshot of the canvas alone to the test report. */
export async function attachCanvasScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.locator('#canvas-root').screenshot(), contentType: 'image/png' });
}
