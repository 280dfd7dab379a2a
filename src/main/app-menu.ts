import { Menu, app, type BrowserWindow } from 'electron';
import { safeOpenExternal } from './safe-open-external';

/** The application menu: the platform's usual menus plus navigation to the console's screens. */
export function installAppMenu(getWindow: () => BrowserWindow | null): void {
  const go = (route: string) => () => getWindow()?.webContents.send('gatehouse:navigate', route);
  const template: Electron.MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'Go',
      submenu: [
        { label: 'Sessions', accelerator: 'CmdOrCtrl+1', click: go('sessions') },
        { label: 'Approvals', accelerator: 'CmdOrCtrl+2', click: go('approvals') },
      ],
    },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: `Gatehouse ${app.getVersion()}`, enabled: false }, { label: 'Documentation', click: () => safeOpenExternal('https://github.com/') }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
