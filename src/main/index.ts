// The Electron shell: windows, tray, menu, single instance, and the IPC binding of the contract. All
// the real work happens in src/gateway, started in a utility process (gateway-process.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog } from 'electron';
import { IpcChannel } from '../shared/ipc';
import { installAppMenu } from './app-menu';
import { GatewayHost } from './gateway-host';
import { bindContractIpc } from './ipc-bridge';
import { loadOrCreateMasterKey } from './master-key';
import { createSecureWindow } from './secure-window';
import { AppTray } from './tray';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '../renderer/index.html');
let win: BrowserWindow | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  void app.whenReady().then(start);
}

function isAppFrame(url: string): boolean {
  if (rendererUrl) return url.startsWith(rendererUrl);
  return url.startsWith('file://') && fileURLToPath(url.split('#')[0].split('?')[0]) === rendererFile;
}

async function start(): Promise<void> {
  const gateway = new GatewayHost(path.join(here, 'gateway-process.js'), (event, payload) => {
    win?.webContents.send(IpcChannel.event, event, payload);
  });
  bindContractIpc({ isAppFrame, forward: (c, i) => gateway.call(c, i) });
  installAppMenu(() => win);
  const icon = path.join(app.getAppPath(), 'resources/icon.png');
  if (existsSync(icon)) new AppTray(icon, () => win);

  // The Electron-ABI build of better-sqlite3 made by `npm start` (tests keep using the Node build).
  const binding = path.join(app.getAppPath(), '.electron-native/better-sqlite3/build/Release/better_sqlite3.node');
  try {
    await gateway.start({
      type: 'init',
      dataDir: path.join(app.getPath('userData'), 'data'),
      keyHex: loadOrCreateMasterKey(app.getPath('userData')).toString('hex'),
      sqliteBinding: existsSync(binding) ? binding : undefined,
    });
  } catch (err) {
    dialog.showErrorBox('Gatehouse could not start its gateway', (err as Error).message);
    app.quit();
    return;
  }

  win = createSecureWindow({
    preload: path.join(here, '../preload/index.cjs'),
    appOrigin: isAppFrame,
    load: (w) => (rendererUrl ? w.loadURL(rendererUrl) : w.loadFile(rendererFile)),
  });
  win.on('closed', () => (win = null));

  // Let the gateway end sessions and flush recordings before the app exits (once).
  let stopping = false;
  app.on('before-quit', (e) => {
    if (stopping) return;
    stopping = true;
    e.preventDefault();
    void gateway.stop().finally(() => app.exit(0));
  });
}
