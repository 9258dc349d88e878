import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../scripts/electron-binary.mjs';
import { attachScreenshot } from './helpers/ui.ts';

const binary = findElectronBinary();

test.describe('Electron app', () => {
  test.skip('missing' in binary, `Electron binary not installed: ${'missing' in binary ? binary.missing : ''}`);

  test('runs with the security baseline', async ({}, testInfo) => {
    test.setTimeout(120_000);
    const executablePath = 'path' in binary ? binary.path : '';
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['scripts/build-main.mjs'], { stdio: 'inherit' });
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });

    const app = await electron.launch({ executablePath, args: [path.resolve('.')], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' } });
    try {
      const page = await app.firstWindow();
      await expect(page.getByTestId('status-bar').getByTestId('engine-version')).toBeVisible({ timeout: 20_000 });

      const prefs = await app.evaluate(({ BrowserWindow }) => {
        // Undocumented but present in Electron: the preferences the page really runs with.
        const contents = BrowserWindow.getAllWindows()[0]?.webContents as unknown as { getLastWebPreferences?: () => Record<string, unknown> | null } | undefined;
        if (!contents?.getLastWebPreferences) return 'webContents.getLastWebPreferences() is not available';
        const p = contents.getLastWebPreferences();
        return p ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webviewTag: p.webviewTag } : null;
      });
      expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });

      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { apsHost?: unknown }).apsHost)).toBe('object');

      const windowsBefore = app.windows().length;
      const opened = await page.evaluate(() => (globalThis as unknown as { open: (url: string, target: string) => unknown }).open('https://example.com/', '_blank') === null);
      expect(opened).toBe(true);
      expect(app.windows().length).toBe(windowsBefore);
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);

      await attachScreenshot(page, testInfo, 'electron-window');
    } finally {
      await app.close();
    }
  });
});
