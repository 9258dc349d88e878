/** The application menu. Commands the renderer carries out are sent as HostApi menu commands. */
import { app, dialog, Menu, type MenuItemConstructorOptions } from 'electron';
import { EVENT } from './api/channels.ts';
import type { ExampleInfo, MenuCommand, RecentFile } from './api/host-api.ts';
import { ENGINE_VERSION } from '../engine/version.ts';
import type { Projects } from './projects.ts';
import { getMainWindow } from './window.ts';

export interface MenuDeps {
  projects: Projects;
}

export function sendMenuCommand(command: MenuCommand): void {
  getMainWindow()?.webContents.send(EVENT.menuCommand, command);
}

export function buildMenuTemplate(
  recent: RecentFile[],
  examples: ExampleInfo[],
  actions: {
    command: (command: MenuCommand) => void;
    openRecent: (id: string) => void;
    clearRecent: () => void;
    openExample: (id: string) => void;
    about: () => void;
  },
): MenuItemConstructorOptions[] {
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => actions.command(command),
  });
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((r): MenuItemConstructorOptions => ({ label: r.name, toolTip: r.id, click: () => actions.openRecent(r.id) })),
        { type: 'separator' },
        { label: 'Clear Recent', click: () => actions.clearRecent() },
      ]
    : [{ label: 'No Recent Projects', enabled: false }];
  const exampleItems: MenuItemConstructorOptions[] = [
    ...examples.map((e): MenuItemConstructorOptions => ({ label: e.title, toolTip: e.description, click: () => actions.openExample(e.id) })),
    ...(examples.length ? [{ type: 'separator' } as const] : []),
    item('Browse Examples...', 'examples'),
  ];
  const isMac = process.platform === 'darwin';
  return [
    ...(isMac ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'File',
      submenu: [
        item('New', 'new', 'CmdOrCtrl+N'),
        item('Open...', 'open', 'CmdOrCtrl+O'),
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        item('Save', 'save', 'CmdOrCtrl+S'),
        item('Save As...', 'save-as', 'Shift+CmdOrCtrl+S'),
        item('Export Weights...', 'export-weights', 'CmdOrCtrl+E'),
        item('Import Layers from Project...', 'import-layers'),
        { type: 'separator' },
        { label: 'Examples', submenu: exampleItems },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        item('Undo', 'undo', 'CmdOrCtrl+Z'),
        item('Redo', 'redo', isMac ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y'),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    { label: 'View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { label: 'Help', submenu: [{ label: 'About APS Studio', click: () => actions.about() }] },
  ];
}

/** Builds the menu now and again whenever the recent files change. */
export function setupMenu({ projects }: MenuDeps): void {
  const rebuild = async (): Promise<void> => {
    const recent = await projects.listRecent();
    const examples = await projects.listExamples().catch(() => []);
    const template = buildMenuTemplate(recent, examples, {
      command: sendMenuCommand,
      openRecent: (id) => void projects.openAndDeliver(() => projects.openRecent(id)),
      clearRecent: () => void projects.clearRecent(),
      openExample: (id) => void projects.openAndDeliver(() => projects.openExample(id)),
      about: showAbout,
    });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };
  const schedule = (): void => {
    rebuild().catch((err: unknown) => console.error('Could not build the application menu:', err));
  };
  projects.onRecentChanged = schedule;
  void app.whenReady().then(schedule);
}

function showAbout(): void {
  const message = `APS Studio ${app.getVersion()}`;
  const detail = `Design, train and inspect neural networks visually.\nEngine ${ENGINE_VERSION}\nElectron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}`;
  const win = getMainWindow();
  const options = { type: 'info' as const, title: 'About APS Studio', message, detail };
  void (win ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options));
}
