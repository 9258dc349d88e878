import { readFileSync } from 'node:fs';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { readSafetensors } from '../engine/io/safetensors.ts';
import { attachScreenshot, download, engineInfo, node, openApp } from './helpers/ui.ts';

/**
 * Training and inspection as a person does it: open an example, train, watch the curves,
 * read the results, look inside the network, export the weights, save and reopen.
 */

async function openExample(page: Page, title: string): Promise<void> {
  await page.getByTestId('toolbar-examples').click();
  await page.getByTestId('examples-dialog').getByText(title, { exact: true }).click();
  await expect(page.getByTestId('examples-dialog')).toHaveCount(0);
  await expect(page.locator('.react-flow__node').first()).toBeVisible();
}

async function setNumber(page: Page, testId: string, value: string, shown = value): Promise<void> {
  const field = page.getByTestId(testId);
  // A panel that has just opened may still load the project's value into the field: type again until it sticks.
  await expect(async () => {
    await field.fill(value);
    await field.press('Enter');
    await expect(field).toHaveValue(shown, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
}

/** Starts training from the Training tab and waits until the run has finished. */
/**
 * Starts a run and waits for it to finish. With `checkGrowth` the loss curve must also grow
 * between a first look and the end: only for runs long enough to be seen while they train.
 */
async function trainToEnd(page: Page, testInfo: TestInfo, timeout: number, checkGrowth = true): Promise<void> {
  await page.getByTestId('tab-training').click();
  await page.getByTestId('train-start').click();
  const loss = page.getByTestId('chart-loss');
  // The loss curve grows while the run goes on.
  await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout }).toBeGreaterThan(3);
  const early = Number(await loss.getAttribute('data-points'));
  await expect(page.getByTestId('run-epoch')).toBeVisible();
  await expect(page.getByTestId('run-speed')).toContainText('samples/s');
  await attachScreenshot(page, testInfo, 'training-live');
  await expect(page.getByTestId('run-phase')).toHaveText('Finished', { timeout });
  if (checkGrowth) expect(Number(await loss.getAttribute('data-points'))).toBeGreaterThan(early);
  await expect(page.getByTestId('run-banner')).toHaveCount(0);
}

test('LeNet-5 learns MNIST digits in one epoch; results, inspection, export, save and reopen', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  page.on('dialog', (d) => void d.accept());
  await openApp(page);
  await engineInfo(page);
  await openExample(page, 'LeNet-5 on MNIST digits');

  // The data: MNIST digits, the split and sample images.
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-mnist')).toHaveAttribute('aria-pressed', 'true');
  // Loading the digits takes a few seconds on a busy machine.
  await expect(page.getByTestId('data-length')).toHaveText('4,000 samples', { timeout: 30_000 });
  await expect(page.getByTestId('split-train-count')).toContainText('train 3,200');
  await expect(page.getByTestId('sample-images')).toHaveAttribute('data-count', '8');
  await attachScreenshot(page, testInfo, 'data');

  // One epoch keeps the run short.
  await page.getByTestId('tab-training').click();
  await setNumber(page, 'train-epochs', '1');
  await trainToEnd(page, testInfo, 120_000);
  await expect(page.getByTestId('chart-accuracy')).toHaveAttribute('data-points', '2');
  await attachScreenshot(page, testInfo, 'trained');

  // Results: test accuracy of at least 80% after one epoch on 3,200 digits.
  await page.getByTestId('tab-results').click();
  const accuracy = parseFloat((await page.getByTestId('metric-accuracy').textContent()) ?? '');
  expect(accuracy).toBeGreaterThanOrEqual(80);
  await expect(page.getByTestId('confusion')).toHaveAttribute('data-rows', '10');
  await expect(page.getByTestId('per-class-table').locator('tbody tr')).toHaveCount(10);
  // A diagonal cell holds correctly classified samples: click it to see them.
  await page.getByTestId('confusion-cell-1-1').click();
  await expect(page.getByTestId('cell-samples')).toContainText('True 1, predicted 1');
  await expect.poll(async () => Number(await page.getByTestId('cell-samples-grid').getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('run-history').locator('tbody tr')).toHaveCount(1);
  await attachScreenshot(page, testInfo, 'results');

  // Inspect conv1: six feature maps and six 5x5 filters, then a saliency map.
  await page.getByTestId('tab-inspect').click();
  await expect(page.getByTestId('probabilities')).toHaveAttribute('data-count', '10');
  await node(page, 'conv1').locator('.layer-node-name').click();
  await expect(page.getByTestId('inspect-node')).toContainText('conv1');
  await page.getByTestId('inspect-activations').click();
  await expect(page.getByTestId('feature-maps')).toHaveAttribute('data-count', '6');
  await page.getByTestId('inspect-filters').click();
  await expect(page.getByTestId('filters')).toHaveAttribute('data-count', '6');
  await expect(page.getByTestId('filter-view')).toContainText('[6 × 1 × 5 × 5]');
  await page.getByTestId('inspect-saliency').click();
  await expect(page.getByTestId('saliency-map')).toBeVisible();
  await attachScreenshot(page, testInfo, 'inspect-conv1');

  // Draw a digit by hand: the prediction follows the drawing.
  await page.getByTestId('inspect-draw').check();
  const pad = await page.getByTestId('draw-canvas').boundingBox();
  if (!pad) throw new Error('the drawing canvas is not on screen');
  await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.85, { steps: 12 });
  await page.mouse.up();
  await expect(page.getByTestId('prediction')).not.toContainText('true:');
  await expect(page.getByTestId('predicted-class')).toHaveText(/^\d$/);
  await attachScreenshot(page, testInfo, 'inspect-drawn');

  // Export the weights as safetensors and read the file back.
  await page.getByTestId('tab-export').click();
  const weightsFile = await download(page, testInfo, () => page.getByTestId('export-safetensors').click());
  const weights = readSafetensors(new Uint8Array(readFileSync(weightsFile)));
  expect(weights.tensors.get('conv1.weight')?.shape).toEqual([6, 1, 5, 5]);
  expect(weights.tensors.get('fc3.weight')?.shape).toEqual([10, 84]);
  await expect(page.getByTestId('export-message')).toContainText('Exported lenet5-mnist.safetensors');

  // ONNX runs in ONNX Runtime; the PyTorch export holds model.py, train.py and the weights.
  const onnxFile = await download(page, testInfo, () => page.getByTestId('export-onnx').click());
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(readFileSync(onnxFile));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(28 * 28), [1, 1, 28, 28]) };
  const out = (await session.run(feeds))[session.outputNames[0]];
  expect(out.dims).toEqual([1, 10]);
  const torchZip = await download(page, testInfo, () => page.getByTestId('export-pytorch').click());
  const { unzipSync } = await import('fflate');
  expect(Object.keys(unzipSync(new Uint8Array(readFileSync(torchZip)))).sort()).toEqual(['model.py', 'train.py', 'weights.safetensors']);

  // Save, reload the page, reopen: the trained weights and the run come back with the project.
  const projectFile = await download(page, testInfo, () => page.getByTestId('toolbar-save').click());
  await page.reload();
  await expect(page.getByTestId('toolbar')).toBeVisible();
  await engineInfo(page);
  const choosing = page.waitForEvent('filechooser');
  await page.getByTestId('toolbar-open').click();
  await (await choosing).setFiles(projectFile);
  await expect(node(page, 'conv1')).toBeVisible();
  await page.getByTestId('tab-results').click();
  await expect(page.getByTestId('run-history').locator('tbody tr')).toHaveCount(1);
  await page.getByTestId('tab-export').click();
  const again = await download(page, testInfo, () => page.getByTestId('export-safetensors').click());
  const reopened = readSafetensors(new Uint8Array(readFileSync(again)));
  expect([...reopened.tensors.keys()].sort()).toEqual([...weights.tensors.keys()].sort());
  expect(Array.from(reopened.tensors.get('conv1.weight')!.data as Float32Array)).toEqual(Array.from(weights.tensors.get('conv1.weight')!.data as Float32Array));
  await attachScreenshot(page, testInfo, 'reopened');

  // Inspect the reopened model without training again: its saved weights are loaded into the engine.
  await page.getByTestId('tab-inspect').click();
  await expect(page.getByTestId('probabilities')).toHaveAttribute('data-count', '10', { timeout: 30_000 });
  await expect(page.getByTestId('inspect-not-ready')).toHaveCount(0);
  await node(page, 'conv1').locator('.layer-node-name').click();
  await page.getByTestId('inspect-filters').click();
  await expect(page.getByTestId('filters')).toHaveAttribute('data-count', '6');
  await expect(page.getByTestId('filter-view')).toContainText('[6 × 1 × 5 × 5]');
  await attachScreenshot(page, testInfo, 'reopened-inspect');
});

test('the transformer example shows its attention per head', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  page.on('dialog', (d) => void d.accept());
  await openApp(page);
  await engineInfo(page);
  await openExample(page, 'Small transformer sequence classifier');
  await page.getByTestId('tab-training').click();
  await setNumber(page, 'train-epochs', '1');
  // One epoch of this small model can end before the curve is first read.
  await trainToEnd(page, testInfo, 120_000, false);

  await page.getByTestId('tab-inspect').click();
  await node(page, 'encoder').locator('.layer-node-name').click();
  await page.getByTestId('inspect-attention').click();
  const view = page.getByTestId('attention-view');
  await expect(view).toBeVisible();
  const heads = Number(await view.getAttribute('data-heads'));
  expect(heads).toBeGreaterThanOrEqual(1);
  await expect(page.locator('[data-testid^="attention-head-"][data-rows]')).toHaveCount(heads);
  // One head on its own, query x key.
  await page.getByTestId('attention-head').selectOption('0');
  await expect(page.locator('[data-testid^="attention-head-"][data-rows]')).toHaveCount(1);
  await attachScreenshot(page, testInfo, 'attention');
});

test('a run that diverges says so, with the reason', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  page.on('dialog', (d) => void d.accept());
  await openApp(page);
  await engineInfo(page);
  await openExample(page, 'MLP on two spirals');
  await page.getByTestId('tab-training').click();
  // Steps this large overflow float32 within a few steps.
  await setNumber(page, 'train-lr', '1e37', '1e+37');
  await setNumber(page, 'train-epochs', '2');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-phase')).toHaveText('Diverged', { timeout: 60_000 });
  await expect(page.getByTestId('run-banner')).toHaveAttribute('data-tone', 'error');
  await expect(page.getByTestId('run-banner')).toContainText('Training diverged');
  await expect(page.getByTestId('run-banner-message')).toContainText('The loss became');
  await attachScreenshot(page, testInfo, 'diverged');
});

test('a grid search over learning rates ranks its trials and applies the best', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  page.on('dialog', (d) => void d.accept());
  await openApp(page);
  await engineInfo(page);
  await openExample(page, 'MLP on two spirals');
  await page.getByTestId('tab-training').click();
  await setNumber(page, 'train-epochs', '3');
  await page.getByTestId('tab-search').click();
  await page.getByTestId('search-lr').fill('0.0001, 0.03');
  await page.getByTestId('search-batch').fill('32');
  await expect(page.getByTestId('search-panel')).toContainText('2 trials, 3 epochs each');
  await page.getByTestId('search-run').click();
  await expect(page.getByTestId('search-progress')).toHaveText('Finished: 2 trials', { timeout: 120_000 });
  await expect(page.getByTestId('search-results').locator('tbody tr')).toHaveCount(2);
  // Ranked by validation loss: a learning rate of 0.03 learns far more in three epochs than 0.0001.
  await expect(page.getByTestId('search-results').locator('tbody tr').first().locator('td').nth(1)).toHaveText('0.03');
  await attachScreenshot(page, testInfo, 'search');
  await page.getByTestId('search-apply-best').click();
  await page.getByTestId('tab-training').click();
  await expect(page.getByTestId('train-lr')).toHaveValue('0.03');
});

test('import a CSV table and a folder of images in the Data panel', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  page.on('dialog', (d) => void d.accept());
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { PNG } = await import('pngjs');
  const csv = testInfo.outputPath('flowers.csv');
  writeFileSync(csv, ['length,width,kind', ...Array.from({ length: 30 }, (_, i) => `${(i % 7) + 1},${(i % 5) + 2},${i % 2 ? 'rose' : 'tulip'}`)].join('\n'));
  const folder = testInfo.outputPath('shapes');
  for (const [cls, bright] of [['dark', 30], ['light', 220]] as const) {
    mkdirSync(`${folder}/${cls}`, { recursive: true });
    for (let i = 0; i < 5; i++) {
      const png = new PNG({ width: 8, height: 8 });
      for (let p = 0; p < 64; p++) png.data.set([bright, bright, bright, 255], p * 4);
      writeFileSync(`${folder}/${cls}/${i}.png`, PNG.sync.write(png));
    }
  }

  await openApp(page);
  await engineInfo(page);
  await page.getByTestId('tab-data').click();

  let choosing = page.waitForEvent('filechooser');
  await page.getByTestId('import-csv').click();
  await (await choosing).setFiles(csv);
  await expect(page.getByTestId('imported-source')).toHaveText('Imported CSV flowers.csv');
  await expect(page.getByTestId('data-length')).toHaveText('30 samples');
  await expect(page.getByTestId('sample-rows')).toContainText('length');

  choosing = page.waitForEvent('filechooser');
  await page.getByTestId('import-images').click();
  await (await choosing).setFiles(folder);
  await expect(page.getByTestId('imported-source')).toHaveText('Imported image folder shapes');
  await expect(page.getByTestId('data-length')).toHaveText('10 samples');
  await expect(page.getByTestId('data-preview')).toContainText('2 classes');
  await expect(page.getByTestId('sample-images')).toHaveAttribute('data-count', '8');
  await attachScreenshot(page, testInfo, 'imported-images');
});
