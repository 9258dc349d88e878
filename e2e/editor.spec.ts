import { expect, test, type Page } from '@playwright/test';
import {
  attachCanvasScreenshot,
  attachScreenshot,
  collectPageProblems,
  connect,
  dragLayer,
  edgeLabel,
  newProject,
  node,
  openApp,
  selectNode,
  setParam,
} from './helpers/ui.ts';

test.use({ viewport: { width: 1600, height: 1000 } });

/** Canvas position (top-left of the dropped card) of the i-th layer in a 4-column grid. */
function cell(i: number): { x: number; y: number } {
  return { x: 30 + (i % 4) * 265, y: 30 + Math.floor(i / 4) * 165 };
}

/** Drags every layer in from the palette and wires them into one chain; returns the node ids. */
async function buildChain(page: Page, types: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, type] of types.entries()) ids.push(await dragLayer(page, type, cell(i)));
  for (let i = 1; i < ids.length; i++) {
    await connect(page, ids[i - 1], ids[i]);
    await expect(edgeLabel(page, ids[i - 1], ids[i])).toBeVisible();
  }
  await expect(page.locator('.react-flow__edge')).toHaveCount(ids.length - 1);
  return ids;
}

test('the first launch opens the LeNet-5 starter and the palette lists the catalogue', async ({ page }, testInfo) => {
  const problems = collectPageProblems(page);
  await openApp(page);
  await expect(page.locator('.react-flow__node')).not.toHaveCount(0);
  await expect(page.getByTestId('total-params')).toHaveText('61,706');
  await expect(page.getByTestId('palette-item-Conv2d')).toBeVisible();
  await expect(page.locator('.react-flow__minimap')).toBeVisible();
  await page.getByTestId('palette-search').fill('pool');
  await expect(page.getByTestId('palette-item-Conv2d')).toHaveCount(0);
  await expect(page.getByTestId('palette-item-MaxPool2d')).toBeVisible();
  await attachScreenshot(page, testInfo, 'starter');
  expect(problems).toEqual([]);
});

test('build LeNet-5 from an empty canvas: every edge shows its shape and the total is 61,706', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = collectPageProblems(page);
  await openApp(page);
  await newProject(page);
  const ids = await buildChain(page, ['ImageInput', 'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
  const [input, conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, relu3, fc2, relu4, fc3] = ids;
  await setParam(page, conv1, 'kernel_size', '5');
  await setParam(page, conv1, 'padding', '2');
  await setParam(page, conv2, 'out_channels', '16');
  await setParam(page, conv2, 'kernel_size', '5');
  await setParam(page, fc1, 'out_features', '120');
  await setParam(page, fc2, 'out_features', '84');
  await setParam(page, fc3, 'out_features', '10');

  const expected: [string, string, string][] = [
    [input, conv1, 'N×1×28×28'],
    [conv1, relu1, 'N×6×28×28'],
    [relu1, pool1, 'N×6×28×28'],
    [pool1, conv2, 'N×6×14×14'],
    [conv2, relu2, 'N×16×10×10'],
    [relu2, pool2, 'N×16×10×10'],
    [pool2, flatten, 'N×16×5×5'],
    [flatten, fc1, 'N×400'],
    [fc1, relu3, 'N×120'],
    [relu3, fc2, 'N×120'],
    [fc2, relu4, 'N×84'],
    [relu4, fc3, 'N×84'],
  ];
  for (const [from, to, shape] of expected) await expect(edgeLabel(page, from, to)).toHaveText(shape);
  await expect(node(page, fc3).getByTestId('node-shape')).toHaveText('N×10');
  await expect(page.getByTestId('total-params')).toHaveText('61,706');
  await expect(page.getByTestId('problems')).toContainText('No problems.');
  await page.getByTestId('edit-arrange').click();
  await attachCanvasScreenshot(page, testInfo, 'lenet5-built');
  expect(problems).toEqual([]);
});

test('a channel mismatch is marked and explained, and undo and redo step through it', async ({ page }, testInfo) => {
  await openApp(page);
  await newProject(page);
  const [, conv1, conv2] = await buildChain(page, ['ImageInput', 'Conv2d', 'Conv2d']);
  await expect(page.getByTestId('problem')).toHaveCount(0);

  await setParam(page, conv2, 'in_channels', '3');
  const problem = page.getByTestId('problem');
  await expect(problem).toHaveCount(1);
  await expect(problem).toContainText('expects 3 input channels, its input has 6');
  await expect(node(page, conv2)).toHaveClass(/invalid/);
  await expect(node(page, conv2).getByTestId('node-error')).toContainText('expects 3 input channels');
  await expect(edgeLabel(page, conv1, conv2)).toHaveClass(/invalid/);
  await attachCanvasScreenshot(page, testInfo, 'channel-mismatch');

  await selectNode(page, conv1);
  await problem.click();
  await expect(page.getByTestId('inspector-node')).toHaveAttribute('data-node-id', conv2);

  // Undo and redo from the keyboard, with the canvas focused rather than a text field.
  await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('problem')).toHaveCount(0);
  await expect(page.getByTestId('status-message')).toHaveText('Undo Change in_channels');
  await page.keyboard.press('Control+Shift+z');
  await expect(page.getByTestId('problem')).toHaveCount(1);
  // Undo from the toolbar, too.
  await page.getByTestId('edit-undo').click();
  await expect(page.getByTestId('problem')).toHaveCount(0);

  // A drag is one history entry, however far it goes.
  const before = await node(page, conv2).boundingBox();
  const title = node(page, conv2).locator('.layer-node-name');
  const box = (await title.boundingBox())!;
  await page.mouse.move(box.x + 5, box.y + 5);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + 5 + i * 10, box.y + 5 + i * 6);
  await page.mouse.up();
  const moved = await node(page, conv2).boundingBox();
  expect(moved!.x).toBeGreaterThan(before!.x + 50);
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('status-message')).toHaveText('Undo Move layer');
  await expect.poll(async () => (await node(page, conv2).boundingBox())!.x).toBeCloseTo(before!.x, 0);
});

test('a layer is renamed from the inspector in one undoable step', async ({ page }) => {
  await openApp(page);
  await newProject(page);
  const [, conv] = await buildChain(page, ['ImageInput', 'Conv2d']);
  await selectNode(page, conv);
  const name = page.getByTestId('inspector-name');
  await expect(name).toHaveAttribute('placeholder', 'Conv2d');
  await name.fill('edge detector');
  // Typing alone renames nothing; Enter does.
  await expect(node(page, conv).locator('.layer-node-name')).not.toContainText('edge detector');
  await name.press('Enter');
  await expect(node(page, conv).locator('.layer-node-name')).toHaveText('edge detector');
  await expect(page.getByTestId('inspector-node')).toContainText('edge detector');

  // Escape puts back the name the layer has.
  await name.fill('something else');
  await name.press('Escape');
  await expect(name).toHaveValue('edge detector');

  await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('status-message')).toHaveText('Undo Rename layer');
  await expect(node(page, conv).locator('.layer-node-name')).not.toContainText('edge detector');
});

test('a layer is frozen or given its own learning-rate scale from the inspector, shown on its card and in the totals', async ({ page }) => {
  await openApp(page);
  await newProject(page);
  const [, conv] = await buildChain(page, ['ImageInput', 'Conv2d']);
  await selectNode(page, conv);
  await expect(page.getByTestId('total-trainable')).toHaveCount(0);
  await page.getByTestId('inspector-frozen').check();
  await expect(node(page, conv).getByTestId('node-frozen')).toHaveText('frozen');
  await expect(page.getByTestId('total-trainable')).toHaveText('0');
  await expect(page.getByTestId('inspector-lr-scale')).toBeDisabled();

  await page.getByTestId('inspector-frozen').uncheck();
  await expect(node(page, conv).getByTestId('node-frozen')).toHaveCount(0);
  const scale = page.getByTestId('inspector-lr-scale');
  await scale.fill('-2');
  await scale.press('Enter');
  await expect(page.getByTestId('inspector-training')).toContainText('must be a number of at least 0, got "-2"');
  await expect(node(page, conv).getByTestId('node-lr-scale')).toHaveCount(0);
  await scale.fill('0.1');
  await scale.press('Enter');
  await expect(node(page, conv).getByTestId('node-lr-scale')).toHaveText('lr×0.1');

  await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('status-message')).toHaveText('Undo Set learning-rate scale 0.1');
  await expect(node(page, conv).getByTestId('node-lr-scale')).toHaveCount(0);
});

test('connecting incompatible ports is refused with the reason', async ({ page }) => {
  await openApp(page);
  await newProject(page);
  const seq = await dragLayer(page, 'SequenceInput', cell(0));
  const conv = await dragLayer(page, 'Conv2d', cell(1));
  await connect(page, seq, conv);
  await expect(page.getByTestId('connect-refused')).toContainText('Cannot connect');
  await expect(page.locator('.react-flow__edge')).toHaveCount(0);
});

test('save, reload the page, open the file and find the same graph', async ({ page }, testInfo) => {
  await openApp(page);
  await newProject(page);
  const ids = await buildChain(page, ['VectorInput', 'Linear', 'ReLU', 'Linear']);
  await setParam(page, ids[1], 'out_features', '32');
  await expect(page.getByTestId('project-name')).toHaveText('Untitled.aps •');
  await expect(page).toHaveTitle('• Untitled.aps - APS Studio');
  const total = await page.getByTestId('total-params').textContent();

  const downloading = page.waitForEvent('download');
  await page.getByTestId('toolbar-save').click();
  const download = await downloading;
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  await expect(page.getByTestId('project-name')).toHaveText('Untitled.aps');

  await page.reload();
  await expect(page.getByTestId('toolbar')).toBeVisible();
  await expect(page.getByTestId('recovery-dialog')).toHaveCount(0);
  await expect(page.locator('.react-flow__node')).toHaveCount(0);

  const choosing = page.waitForEvent('filechooser');
  await page.getByTestId('toolbar-open').click();
  await (await choosing).setFiles(file);
  await expect(page.locator('.react-flow__node')).toHaveCount(4);
  for (const id of ids) await expect(node(page, id)).toBeVisible();
  // The opened graph is fitted to the canvas (centred), not left at the empty canvas's origin.
  await expect(page.locator('.react-flow__viewport')).not.toHaveCSS('transform', 'matrix(1, 0, 0, 1, 0, 0)');
  await expect(edgeLabel(page, ids[1], ids[2])).toHaveText('N×32');
  await expect(page.getByTestId('total-params')).toHaveText(total ?? '');
  await expect(page.getByTestId('status-message')).toHaveText('Opened Untitled.aps');
  await attachCanvasScreenshot(page, testInfo, 'reopened');
});

test('unsaved work is autosaved and offered back after the page is closed', async ({ page }) => {
  await openApp(page);
  await newProject(page);
  await dragLayer(page, 'VectorInput', cell(0));
  await dragLayer(page, 'Linear', cell(1));
  // Give autosave its moment (until the recovery copy holds the second layer), then leave without saving.
  await expect
    .poll(async () => (await page.context().storageState()).origins.some((o) => o.localStorage.some((e) => e.name === 'aps-studio.recovery' && e.value.includes('Linear'))))
    .toBe(true);
  page.on('dialog', (d) => void d.accept());
  await page.reload();
  await expect(page.getByTestId('recovery-dialog')).toBeVisible();
  await page.getByTestId('recovery-restore').click();
  await expect(page.locator('.react-flow__node')).toHaveCount(2);
  await expect(page.getByTestId('project-name')).toHaveText('Untitled.aps •');
});

test('group layers into a block, expand and collapse it, ungroup, and add a ready-made block', async ({ page }, testInfo) => {
  await openApp(page);
  await newProject(page);
  const [input, conv, relu, pool] = await buildChain(page, ['ImageInput', 'Conv2d', 'ReLU', 'MaxPool2d']);
  const total = await page.getByTestId('total-params').textContent();
  await expect(node(page, pool).getByTestId('node-shape')).toHaveText('N×6×13×13');

  await selectNode(page, conv);
  await node(page, relu).locator('.layer-node-name').click({ modifiers: ['Control'] });
  await expect(page.getByTestId('inspector-multi')).toContainText('2 layers selected');
  await page.getByTestId('edit-group').click();
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  const block = page.locator('.layer-node.block');
  await expect(block).toHaveCount(1);
  await expect(block.getByTestId('block-contents')).toHaveText('2 layers');
  // The connections into and out of the group now attach to the block's ports.
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  await expect(page.locator('.edge-label')).toHaveText(['N×1×28×28', 'N×6×26×26']);
  await expect(block.getByTestId('node-shape')).toHaveText('N×6×26×26');
  await expect(node(page, pool).getByTestId('node-shape')).toHaveText('N×6×13×13');
  await expect(page.getByTestId('total-params')).toHaveText(total ?? '');
  await expect(page.getByTestId('problem')).toHaveCount(0);

  await block.getByTestId('block-toggle').click();
  await expect(block.getByTestId('block-contents')).toContainText('Conv2d');
  await expect(block.getByTestId('block-contents')).toContainText('ReLU');
  await attachCanvasScreenshot(page, testInfo, 'block-expanded');
  await block.getByTestId('block-toggle').click();
  await expect(block.getByTestId('block-contents')).toHaveText('2 layers');

  await page.getByTestId('edit-ungroup').click();
  await expect(page.locator('.layer-node.block')).toHaveCount(0);
  await expect(page.locator('.react-flow__node')).toHaveCount(4);
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
  await expect(node(page, conv).getByTestId('node-shape')).toHaveText('N×6×26×26');
  await expect(node(page, relu).getByTestId('node-shape')).toHaveText('N×6×26×26');
  await expect(node(page, input)).toBeVisible();
  await expect(page.getByTestId('total-params')).toHaveText(total ?? '');

  await page.getByTestId('edit-undo').click();
  await expect(page.locator('.layer-node.block')).toHaveCount(1);
  await page.getByTestId('edit-redo').click();
  await expect(page.locator('.layer-node.block')).toHaveCount(0);

  await page.getByTestId('palette-search').fill('residual');
  await page.getByTestId('palette-item-residual').dblclick();
  await expect(page.locator('.layer-node.block')).toHaveCount(1);
  await expect(page.locator('.react-flow__node')).toHaveCount(5);
});

test.describe('at 1280x720', () => {
  test.use({ viewport: { width: 1280, height: 720 } });
  test('the dark theme and the whole layout fit the smallest supported window', async ({ page }, testInfo) => {
    await openApp(page);
    await page.getByTestId('toolbar-theme').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    for (const id of ['palette', 'canvas', 'inspector', 'problems', 'status-bar']) {
      const box = await page.getByTestId(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(1280);
      expect(box!.y + box!.height, id).toBeLessThanOrEqual(720);
      expect(box!.width, id).toBeGreaterThan(150);
    }
    await page.getByTestId('edit-fit').click();
    await attachScreenshot(page, testInfo, 'dark-1280x720');
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  });
});
