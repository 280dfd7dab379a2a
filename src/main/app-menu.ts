import { Menu, app, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { AppEvent, IpcChannel } from '../shared/ipc';

/** The console's screens, in sidebar order, with their menu shortcuts (CmdOrCtrl+1..8). */
const SCREENS = [
  ['overview', 'Overview'],
  ['connections', 'Connections'],
  ['agents', 'Agents'],
  ['policy', 'Policy'],
  ['approvals', 'Approvals'],
  ['sessions', 'Sessions'],
  ['reviews', 'Reviews'],
  ['settings', 'Settings'],
] as const;

/**
 * Installs the application menu once at start: the platform's usual menus, a Go menu that switches the
 * console's screen, and a View menu without developer tools in packaged builds.
 */
export function installAppMenu(getWindow: () => BrowserWindow | null): void {
  const go = (route: string) => () => {
    const win = getWindow();
    if (!win) return;
    win.show();
    win.webContents.send(IpcChannel.event, AppEvent.navigate, { route });
  };
  const view: MenuItemConstructorOptions[] = [
    ...(app.isPackaged ? [] : [{ role: 'reload' as const }, { role: 'toggleDevTools' as const }, { type: 'separator' as const }]),
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { label: 'Go', submenu: SCREENS.map(([route, label], i) => ({ label, accelerator: `CmdOrCtrl+${i + 1}`, click: go(route) })) },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: `Gatehouse ${app.getVersion()}`, enabled: false }, ...(process.platform === 'darwin' ? [] : [{ role: 'about' as const }])] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
