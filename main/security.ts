/**
 * App-wide security baseline: every web contents may only show our own page,
 * opens no windows, and is granted no permissions.
 */
import { app, session, shell, type WebContents } from 'electron';
import { isTrustedSenderUrl } from './ipc-validation.ts';

export function setupSecurity(appUrl: string): void {
  const isAppUrl = (url: string): boolean => isTrustedSenderUrl(url, appUrl);
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to the web open in the user's browser, never inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  }, () => undefined);
}
