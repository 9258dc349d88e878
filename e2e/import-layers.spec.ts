import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { compileGraph } from '../engine/graph/compile.ts';
import type { ModelGraph } from '../engine/graph/types.ts';
import { readProject, writeProject } from '../engine/io/project.ts';
import type { SafetensorsFile } from '../engine/io/safetensors.ts';
import { denseClassifierGraph, denseFeatureAutoencoderGraph } from '../engine/train/modes/transfer-pretrain.ts';
import { attachScreenshot, collectPageProblems, download, engineInfo, node, openApp } from './helpers/ui.ts';

/**
 * Transfer learning in the app: a classifier head imports the encoder of a trained
 * autoencoder from another project file, frozen, trains on top of it, and the saved
 * project keeps the imported weights.
 */

const SIZES = { hidden: 48, features: 16 };
const mnist = { source: { kind: 'builtin', id: 'mnist', options: { samples: 600 } }, split: { train: 0.8, val: 0.1, test: 0.1 } };
const ui = { positions: {}, expanded: [] };

/** The autoencoder's weights as its project holds them after training (seeded values). */
function weightsOf(graph: ModelGraph, seed: number): SafetensorsFile {
  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const [name, t] of compileGraph(graph, { seed }).stateDict()) tensors.set(name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
  return { tensors, metadata: {} };
}

/** The classifier's head alone: the input, a Linear head with nothing feeding it yet, the label and the loss. */
function headOnly(): ModelGraph {
  const full = denseClassifierGraph(SIZES);
  const keep = new Set(['input', 'head', 'label', 'loss']);
  return { nodes: full.nodes.filter((n) => keep.has(n.id)), edges: full.edges.filter((e) => keep.has(e.source) && keep.has(e.target)) };
}

async function openFile(page: Page, file: string): Promise<void> {
  const choosing = page.waitForEvent('filechooser');
  await page.getByTestId('toolbar-open').click();
  await (await choosing).setFiles(file);
}

async function chooseSource(page: Page, file: string): Promise<void> {
  const choosing = page.waitForEvent('filechooser');
  await page.getByTestId('import-choose').click();
  await (await choosing).setFiles(file);
}

const floats = (f: SafetensorsFile, name: string) => Array.from(f.tensors.get(name)!.data as Float32Array);

test('a classifier imports a trained encoder from another project, frozen, and trains on it', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = collectPageProblems(page);
  page.on('dialog', (d) => void d.accept());
  const autoencoder = denseFeatureAutoencoderGraph(SIZES);
  const trained = weightsOf(autoencoder, 11);
  const sourceFile = testInfo.outputPath('digits-autoencoder.aps');
  writeFileSync(sourceFile, writeProject({ name: 'digits-autoencoder', graph: autoencoder, data: mnist, training: {}, ui, weights: trained }));
  const untrainedFile = testInfo.outputPath('untrained.aps');
  writeFileSync(untrainedFile, writeProject({ name: 'untrained', graph: autoencoder, data: mnist, training: {}, ui }));
  const targetFile = testInfo.outputPath('few-labels.aps');
  writeFileSync(targetFile, writeProject({ name: 'few-labels', graph: headOnly(), data: mnist, training: { epochs: 1, batchSize: 32 }, ui }));

  await openApp(page);
  await engineInfo(page);
  await openFile(page, targetFile);
  await expect(node(page, 'head')).toBeVisible();

  await page.getByTestId('toolbar-import-layers').click();
  const dialog = page.getByTestId('import-layers-dialog');
  await expect(dialog).toBeVisible();
  // A project without trained weights cannot give any.
  await chooseSource(page, untrainedFile);
  await expect(dialog.getByTestId('import-problem')).toContainText('untrained.aps has no trained weights');
  await expect(dialog.getByTestId('import-apply')).toBeDisabled();

  await chooseSource(page, sourceFile);
  await expect(dialog.getByTestId('import-source')).toContainText('digits-autoencoder.aps');
  // The encoder's end is suggested: the "features" layer.
  await expect(dialog.getByTestId('import-output')).toHaveValue('features');
  await dialog.getByTestId('import-connect').selectOption({ label: 'head · x' });
  await dialog.getByTestId('import-freeze').check();
  const values = 784 * SIZES.hidden + SIZES.hidden + SIZES.hidden * SIZES.features + SIZES.features;
  await expect(dialog.getByTestId('import-summary')).toContainText(`5 layers with ${values.toLocaleString('en-US')} trained values, fed by this project's input`);
  await attachScreenshot(page, testInfo, 'import-dialog');
  await dialog.getByTestId('import-apply').click();
  await expect(dialog).toHaveCount(0);

  for (const id of ['flat', 'enc1', 'enc1_act', 'enc2', 'features']) await expect(node(page, id)).toBeVisible();
  await expect(node(page, 'enc1').getByTestId('node-pretrained')).toBeVisible();
  await expect(node(page, 'enc1').getByTestId('node-frozen')).toBeVisible();
  await expect(node(page, 'enc1_act').getByTestId('node-pretrained')).toHaveCount(0);
  await page.getByTestId('edit-fit').click();
  // The imported layers arrive selected; pick one alone.
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await node(page, 'enc2').locator('.layer-node-name').click();
  await expect(page.getByTestId('inspector-pretrained')).toContainText('digits-autoencoder.aps › enc2');
  await expect(page.getByTestId('problems')).toContainText('No problems.');
  await attachScreenshot(page, testInfo, 'imported');

  await page.getByTestId('tab-training').click();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-phase')).toHaveText('Finished', { timeout: 90_000 });

  const saved = await download(page, testInfo, () => page.getByTestId('toolbar-save').click());
  const project = readProject(new Uint8Array(readFileSync(saved)));
  expect(project.graph.nodes.find((n) => n.id === 'enc1')).toMatchObject({ pretrained: 'digits-autoencoder.aps › enc1', frozen: true });
  for (const name of ['enc1.weight', 'enc1.bias', 'enc2.weight', 'enc2.bias']) {
    expect(floats(project.pretrained!, name)).toEqual(floats(trained, name));
    // Frozen: the trained classifier still holds the imported values.
    expect(floats(project.weights!, name)).toEqual(floats(trained, name));
  }
  expect(project.weights!.tensors.get('head.weight')!.shape).toEqual([10, SIZES.features]);
  expect(problems).toEqual([]);
});
