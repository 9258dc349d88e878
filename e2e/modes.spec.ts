import { expect, test, type Locator, type Page } from '@playwright/test';
import { attachScreenshot, collectPageProblems, engineInfo, openApp } from './helpers/ui.ts';

/**
 * Course modes as a person uses them: open a mode example, train it a little from its Mode
 * panel, and look at what the mode shows (VAE samples and interpolations, GAN grids and
 * losses, adversarial attacks).
 */

async function openExample(page: Page, title: string): Promise<void> {
  await page.getByTestId('toolbar-examples').click();
  await page.getByTestId('examples-dialog').getByText(title, { exact: true }).click();
  await expect(page.getByTestId('examples-dialog')).toHaveCount(0);
  await expect(page.locator('.react-flow__node').first()).toBeVisible();
  // A project with a course mode has a Mode tab (and selects it).
  await expect(page.getByTestId('tab-mode')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('tab-mode').click();
}

/** Trains `steps` steps from the Mode panel and waits until they are done. */
async function trainSteps(page: Page, steps: number): Promise<void> {
  const field = page.getByTestId('mode-steps');
  await field.fill(String(steps));
  await page.getByTestId('mode-step').click();
  const progress = page.getByTestId('mode-progress');
  await expect(progress).toHaveAttribute('data-phase', 'idle', { timeout: 60_000 });
  await expect(progress).toHaveAttribute('data-step', String(steps));
  await expect(page.getByTestId('mode-banner')).toHaveCount(0);
}

/** The canvas has been drawn with something other than one flat colour. */
async function hasPicture(canvas: Locator): Promise<boolean> {
  return canvas.evaluate((el) => {
    // The e2e files are typed without the DOM library: name only what is read.
    const c = el as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i]);
      hi = Math.max(hi, d[i]);
    }
    return hi - lo > 20;
  });
}

/** Positions (in `points`) of two points that no other point covers, as a person would pick them. */
async function uncovered(points: Locator): Promise<[number, number]> {
  const free = await points.evaluateAll((els) => {
    type Element = { getBoundingClientRect(): { x: number; y: number; width: number; height: number } };
    const doc = (globalThis as unknown as { document: { elementFromPoint(x: number, y: number): unknown } }).document;
    return (els as unknown as Element[]).flatMap((el, i) => {
      const r = el.getBoundingClientRect();
      return doc.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el ? [i] : [];
    });
  });
  expect(free.length).toBeGreaterThan(10);
  return [free[0], free[free.length - 1]];
}

test.beforeEach(async ({ page }) => {
  await openApp(page);
  await engineInfo(page);
});

test('VAE: train a little, then see prior samples and an interpolation strip between two picked digits', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Variational autoencoder');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'vae');
  await trainSteps(page, 40);
  const loss = page.getByTestId('chart-mode-loss');
  await expect(loss).toHaveAttribute('data-points', String(3 * 40));
  await expect(loss).toContainText('recon loss');
  await expect(loss).toContainText('kl');

  const grid = page.getByTestId('prior-grid');
  await expect(grid).toBeVisible();
  // 16 samples of 28x28 in rows of 8 with a 1-pixel gap.
  await expect(grid).toHaveAttribute('data-width', String(8 * 28 + 7));
  await expect(grid).toHaveAttribute('data-height', String(2 * 28 + 1));
  expect(await hasPicture(grid)).toBe(true);
  await expect(page.getByTestId('reconstruction')).toHaveCount(8);

  // Pick the two ends in the latent space, then read the strip between them.
  const points = page.getByTestId('latent-scatter').locator('circle.latent-point');
  await expect(points).toHaveCount(300);
  await page.getByTestId('latent-scatter').scrollIntoViewIfNeeded();
  const [first, second] = await uncovered(points);
  await points.nth(first).hover();
  const a = await points.nth(first).getAttribute('data-index');
  await expect(page.getByTestId('latent-hover-sample')).toContainText(`sample ${a}: `);
  await points.nth(first).click();
  const b = await points.nth(second).getAttribute('data-index');
  await points.nth(second).click();
  await expect(page.getByTestId('interp-a')).toHaveValue(a!);
  await expect(page.getByTestId('interp-b')).toHaveValue(b!);
  const strip = page.getByTestId('interpolation-strip');
  await expect(strip).toHaveAttribute('title', `From sample ${a} to sample ${b}`);
  await expect(strip).toHaveAttribute('data-width', String(8 * 28 + 7));
  await expect(strip).toHaveAttribute('data-height', '28');
  expect(await hasPicture(strip)).toBe(true);
  await attachScreenshot(page, testInfo, 'vae-mode');

  // The project keeps what the mode trained: its weights can be exported (and imported elsewhere).
  await page.getByTestId('tab-export').click();
  await expect(page.getByTestId('export-safetensors')).toBeEnabled();
  await expect(page.getByText('Train the model first')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('GAN: train a few steps, see the generated grid, both loss curves and the epoch grid', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await openExample(page, 'Conditional GAN on digits');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'gan');
  // 2,400 training digits in batches of 64: an epoch is 38 steps.
  await trainSteps(page, 40);
  const loss = page.getByTestId('chart-mode-loss');
  await expect(loss).toContainText('discriminator');
  await expect(loss).toContainText('generator');
  await expect(loss.locator('[data-series="discriminator"] path')).toHaveCount(1);
  await expect(loss.locator('[data-series="generator"] path')).toHaveCount(1);
  await expect(loss).toHaveAttribute('data-points', String(2 * 40));
  const grid = page.getByTestId('gan-grid');
  // Two samples of every digit, one column per class.
  await expect(grid).toHaveAttribute('data-width', String(10 * 28 + 9));
  await expect(grid).toHaveAttribute('data-height', String(2 * 28 + 1));
  expect(await hasPicture(grid)).toBe(true);
  await expect(page.getByTestId('gan-epoch-1')).toBeVisible();
  await expect(page.getByTestId('gan-epoch-view')).toContainText(/Epoch 1: discriminator loss \d+\.\d+, generator loss \d+\.\d+/);
  await expect(page.getByTestId('chart-gan-accuracy')).toHaveAttribute('data-points', '40');
  await attachScreenshot(page, testInfo, 'gan-mode');
});

test('Adversarial: train the classifier, attack a digit and see the three images, both predictions and a success rate', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await openExample(page, 'Adversarial examples');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'adversarial');
  await trainSteps(page, 120);
  const attack = page.getByTestId('mode-attack');
  // The project's own attack: epsilon 0.15 with 10 PGD steps.
  await expect(page.getByTestId('attack-epsilon-value')).toHaveText('0.15');
  await expect(page.getByTestId('attack-steps')).toHaveValue('10');
  for (const id of ['attack-original', 'attack-perturbation', 'attack-adversarial']) {
    const canvas = attack.getByTestId(id).locator('canvas');
    await expect(canvas).toHaveAttribute('data-width', '28');
    expect(await hasPicture(canvas), id).toBe(true);
  }
  await expect(page.getByTestId('attack-before')).toHaveText(/^before: \d$/);
  await expect(page.getByTestId('attack-after')).toHaveText(/^after: \d$/);
  const rate = page.getByTestId('attack-success-rate');
  await expect(rate).toContainText(/Success rate \d+% \(\d+ of \d+ correctly classified test samples misclassified\)/);
  const strong = Number((await rate.textContent())!.match(/Success rate (\d+)%/)![1]);
  expect(strong).toBeGreaterThan(30);
  // No perturbation, no success.
  await page.getByTestId('attack-epsilon').fill('0');
  await expect(page.getByTestId('attack-epsilon-value')).toHaveText('0.00');
  await expect(rate).toContainText('Success rate 0%');
  // Targeted: push digits towards class 3.
  await page.getByTestId('attack-epsilon').fill('0.3');
  await page.getByTestId('attack-targeted').check();
  await page.getByTestId('attack-target').selectOption('3');
  await expect(rate).toContainText('moved to 3');
  await attachScreenshot(page, testInfo, 'adversarial-mode');
});

test('Language model: train a few steps, then continue a prompt greedily and by beam search', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Character-level language model');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'language-model');
  await trainSteps(page, 10);
  await expect(page.getByTestId('chart-mode-loss')).toHaveAttribute('data-points', '10');
  // The project's prompt arrives with the run; the held-out split is empty, so the training split is evaluated.
  await expect(page.getByTestId('generate-input')).toHaveValue('The keeper ');
  await expect(page.getByTestId('mode-evaluation')).toContainText('perplexity');

  await page.getByTestId('generate-method').selectOption('greedy');
  await page.getByTestId('generate-length').fill('24');
  await page.getByTestId('generate-run').click();
  const output = page.getByTestId('generate-output');
  await expect(output).toHaveAttribute('data-method', 'greedy');
  const greedy = (await page.getByTestId('generate-text').textContent()) ?? '';
  expect(greedy).toHaveLength(24);
  await expect(page.getByTestId('generate-hypotheses')).toHaveCount(0);

  await page.getByTestId('generate-method').selectOption('beam');
  await page.getByTestId('generate-beam-width').fill('3');
  await page.getByTestId('generate-run').click();
  await expect(output).toHaveAttribute('data-method', 'beam');
  const rows = page.getByTestId('generate-hypothesis');
  await expect(rows).toHaveCount(3);
  const best = (await page.getByTestId('generate-text').textContent()) ?? '';
  expect(best).toHaveLength(24);
  await expect(rows.first().locator('.generate-hypothesis-text')).toHaveText(best);
  await expect(page.getByTestId('generate-error')).toHaveCount(0);
  await attachScreenshot(page, testInfo, 'language-model-mode');
  expect(problems).toEqual([]);
});

test('Seq2seq: the example opens with its own data, trains, and answers a source greedily, by beam search and by sampling', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Sequence to sequence: reversing digit strings');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'seq2seq');
  // 4,000 strings made by the mode, 80% for training, batches of 32: 100 steps an epoch.
  await trainSteps(page, 100);
  await expect(page.getByTestId('chart-mode-loss')).toHaveAttribute('data-points', '100');
  await expect(page.getByTestId('generate-input')).toHaveValue('3141');
  await expect(page.getByTestId('mode-evaluation')).toContainText(/test split, 200 samples: .*token accuracy \d+(\.\d)?%/);

  const output = page.getByTestId('generate-output');
  await page.getByTestId('generate-input').fill('12345');
  await page.getByTestId('generate-method').selectOption('greedy');
  await page.getByTestId('generate-run').click();
  await expect(output).toHaveAttribute('data-method', 'greedy');
  // Digits only: the end token stops the answer and is not shown.
  await expect(page.getByTestId('generate-text')).toHaveText(/^\d{1,6}$/);

  await page.getByTestId('generate-method').selectOption('beam');
  await page.getByTestId('generate-beam-width').fill('3');
  await page.getByTestId('generate-run').click();
  await expect(output).toHaveAttribute('data-method', 'beam');
  await expect(page.getByTestId('generate-hypothesis')).toHaveCount(3);
  const best = (await page.getByTestId('generate-text').textContent()) ?? '';
  await expect(page.getByTestId('generate-hypothesis').first().locator('.generate-hypothesis-text')).toHaveText(best || '(empty)');

  await page.getByTestId('generate-method').selectOption('sample');
  await expect(page.getByTestId('generate-temperature')).toBeVisible();
  await page.getByTestId('generate-seed').fill('7');
  await page.getByTestId('generate-run').click();
  await expect(output).toHaveAttribute('data-method', 'sample');
  await expect(page.getByTestId('generate-text')).toHaveText(/^\d{0,6}$/);
  await expect(page.getByTestId('generate-error')).toHaveCount(0);

  // The Data tab says where the samples come from instead of listing a dataset.
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('mode-source')).toContainText('training mode makes its own samples');
  await attachScreenshot(page, testInfo, 'seq2seq-mode');
  expect(problems).toEqual([]);
});

test('Word2vec: the skip-gram example trains, then shows nearest words by cosine and euclidean distance and a labelled 2-D projection', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Word vectors (skip-gram word2vec)');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'word2vec');
  await trainSteps(page, 200);
  // The project's first query word is looked up.
  await expect(page.getByTestId('word-input')).toHaveValue('cat');
  const list = page.getByTestId('word-neighbours');
  await expect(list).toHaveAttribute('data-metric', 'cosine');
  await expect(page.getByTestId('word-neighbour')).toHaveCount(5);
  // After 200 steps the nearest word to "three" is another number.
  await page.getByTestId('word-input').fill('three');
  await expect(page.getByTestId('word-neighbour').first()).toHaveText(/^(one|two|four|five|six) /);
  await page.getByTestId('word-metric').selectOption('euclidean');
  await expect(list).toHaveAttribute('data-metric', 'euclidean');
  await expect(page.getByTestId('word-neighbour').first()).toHaveText(/^(one|two|four|five|six) /);
  await page.getByTestId('word-k').fill('3');
  await expect(page.getByTestId('word-neighbour')).toHaveCount(3);
  // 75 words in the projection, each labelled.
  await expect(page.getByTestId('word-projection')).toHaveAttribute('data-count', '75');
  await expect(page.getByTestId('word-label')).toHaveCount(75);
  await expect(page.getByTestId('word-error')).toHaveCount(0);
  await attachScreenshot(page, testInfo, 'word2vec-mode');
  expect(problems).toEqual([]);
});

/** The probe's accuracies after training: both shown as percentages with bars. */
async function probeResult(page: Page): Promise<{ accuracy: number; baseline: number }> {
  const result = page.getByTestId('probe-result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('probe-accuracy')).toContainText(/pretrained features.*\d+\.\d%/);
  await expect(page.getByTestId('probe-baseline')).toContainText(/untrained features.*\d+\.\d%/);
  const accuracy = Number(await page.getByTestId('probe-accuracy').getAttribute('data-value'));
  const baseline = Number(await page.getByTestId('probe-baseline').getAttribute('data-value'));
  expect(accuracy).toBeGreaterThanOrEqual(0);
  expect(accuracy).toBeLessThanOrEqual(1);
  expect(baseline).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('probe-error')).toHaveCount(0);
  return { accuracy, baseline };
}

test('Rotation pretext: train, then the linear probe on the frozen features shows its accuracy beside the untrained baseline', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Self-supervised: predicting rotations');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'rotation');
  await trainSteps(page, 30);
  await expect(page.getByTestId('chart-mode-loss')).toHaveAttribute('data-points', '30');
  const first = await probeResult(page);
  await expect(page.getByTestId('probe-result')).toHaveAttribute('data-labels', '100');
  await expect(page.getByTestId('probe-pretext')).toContainText(/rotations told right \d+\.\d% on 200 samples \(chance 25\.0%\)/);
  // After 30 steps the rotations are told apart well above chance.
  const told = Number((await page.getByTestId('probe-pretext').textContent())!.match(/right (\d+\.\d)%/)![1]);
  expect(told).toBeGreaterThan(50);
  expect(first.accuracy).toBeGreaterThan(0.1);

  // Fewer labels, another probe.
  await page.getByTestId('probe-labels').fill('40');
  await page.getByTestId('probe-steps').fill('100');
  await page.getByTestId('probe-run').click();
  await expect(page.getByTestId('probe-result')).toHaveAttribute('data-labels', '40', { timeout: 60_000 });
  await expect(page.getByTestId('probe-result')).toHaveAttribute('data-steps', '100');
  await expect(page.getByTestId('probe-summary')).toContainText('40 labels, 100 steps, scored on 200 test samples');
  await probeResult(page);
  await attachScreenshot(page, testInfo, 'rotation-mode');
  expect(problems).toEqual([]);
});

test('Contrastive: train on two augmented views, then the probe and the partner-view score are shown', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Contrastive learning (SimCLR-style)');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'contrastive');
  await trainSteps(page, 10);
  const loss = page.getByTestId('chart-mode-loss');
  await expect(loss).toHaveAttribute('data-points', '10');
  await expect(loss).toContainText('nt xent');
  await probeResult(page);
  await expect(page.getByTestId('probe-pretext')).toContainText(/partner views found \d+\.\d% on 64 samples \(chance 0\.8%\)/);
  await attachScreenshot(page, testInfo, 'contrastive-mode');
  expect(problems).toEqual([]);
});

test('Autoencoder pretraining: train a little, then compare on a few labels the classifier from scratch, the linear probe and the probe fine-tuned', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const problems = collectPageProblems(page);
  await openExample(page, 'Pretraining on unlabelled digits, then 100 labels');
  await expect(page.getByTestId('mode-panel')).toHaveAttribute('data-mode', 'pretrain-transfer');
  // The open Mode panel leaves the canvas too small for the minimap to sit beside the network.
  await expect(page.locator('.react-flow__minimap')).toHaveCount(0);
  await trainSteps(page, 30);
  // The total and the reconstruction loss, a point per step each.
  await expect(page.getByTestId('chart-mode-loss')).toHaveAttribute('data-points', String(2 * 30));
  await expect(page.getByTestId('reconstruction')).toHaveCount(8);

  // Fewer steps than the project's 100 + 500, so the comparison is quick.
  await page.getByTestId('pretrain-probe-steps').fill('30');
  await page.getByTestId('pretrain-finetune-steps').fill('40');
  await page.getByTestId('pretrain-run').click();
  const result = page.getByTestId('pretrain-result');
  await expect(result).toHaveAttribute('data-probe-steps', '30', { timeout: 60_000 });
  await expect(result).toHaveAttribute('data-finetune-steps', '40');
  await expect(result).toHaveAttribute('data-seed', '0');
  await expect(page.getByTestId('pretrain-scratch')).toContainText(/from scratch, 70 steps\s*\d+\.\d%/);
  await expect(page.getByTestId('pretrain-probe')).toContainText(/linear probe, 30 steps\s*\d+\.\d%/);
  await expect(page.getByTestId('pretrain-tuned')).toContainText(/probe \+ fine-tune, 40 more\s*\d+\.\d%/);
  const value = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-value'));
  const [scratch, probe, tuned] = [await value('pretrain-scratch'), await value('pretrain-probe'), await value('pretrain-tuned')];
  for (const a of [scratch, probe, tuned]) {
    expect(a).toBeGreaterThan(0.1);
    expect(a).toBeLessThanOrEqual(1);
  }
  expect(Math.abs(Number(await result.getAttribute('data-gain')) - (tuned - scratch))).toBeLessThan(1e-3);
  await expect(page.getByTestId('pretrain-gain')).toContainText(/Pretraining (gained|lost) \d+\.\d points over training from scratch on label set 0/);
  await expect(page.getByTestId('pretrain-summary')).toContainText('10 labels per class (100 in all), 20 more per class for early stopping; scored on 2000 test samples');
  await expect(page.getByTestId('pretrain-error')).toHaveCount(0);

  // Another seeded label set, compared again.
  await page.getByTestId('pretrain-next').click();
  await expect(result).toHaveAttribute('data-seed', '1', { timeout: 60_000 });
  await expect(page.getByTestId('pretrain-seed')).toHaveValue('1');
  await expect(page.getByTestId('pretrain-gain')).toContainText('on label set 1');
  await attachScreenshot(page, testInfo, 'pretrain-mode');
  expect(problems).toEqual([]);
});
