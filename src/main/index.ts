// The Electron shell: one window, tray, menu, single instance, and the IPC binding of the contract. All
// the real work happens in src/gateway, started in a utility process (gateway-process.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog } from 'electron';
import { AppEvent, IpcChannel } from '../shared/ipc';
import { appFrameMatcher } from './app-frame';
import { ApprovalAlerts } from './approval-alerts';
import { installAppMenu } from './app-menu';
import { isContractEvent } from './contract-call';
import { GatewayHost } from './gateway-host';
import type { GatewayInit } from './gateway-protocol';
import { bindContractIpc } from './ipc-bridge';
import { keychainWarning, loadOrCreateMasterKey } from './master-key';
import { notify } from './notifications';
import { createSecureWindow, hardenSession } from './secure-window';
import { AppTray, revealWindow } from './tray';

const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '../renderer/index.html');
const isAppFrame = appFrameMatcher({ rendererFile, devServerUrl });
let win: BrowserWindow | null = null;
let tray: AppTray | null = null; // referenced for the app's lifetime, or the icon is collected

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => app.isReady() && openWindow());
  void app.whenReady().then(start);
}

/** Show the console window, opening it if there is none (first start, tray, dock, second instance). */
function openWindow(): void {
  if (win) return revealWindow(win);
  win = createSecureWindow({
    preload: path.join(here, '../preload/index.cjs'),
    isAppFrame,
    load: (w) => (devServerUrl ? w.loadURL(devServerUrl) : w.loadFile(rendererFile)),
  });
  win.on('closed', () => (win = null));
}

async function start(): Promise<void> {
  hardenSession(isAppFrame, { dev: Boolean(devServerUrl) });
  const alerts = new ApprovalAlerts({
    notify,
    setPending: (count) => tray?.setPending(count),
    open: (route) => {
      openWindow();
      win?.webContents.send(IpcChannel.event, AppEvent.navigate, { route });
    },
  });
  const gateway = new GatewayHost(path.join(here, 'gateway-process.js'), {
    onEvent: (event, payload) => {
      if (isContractEvent(event) && win && !win.isDestroyed()) win.webContents.send(IpcChannel.event, event, payload);
      alerts.onEvent(event, payload);
    },
    onCrash: (code) => void restartAfterCrash(code),
  });
  bindContractIpc({ appWebContents: () => win?.webContents ?? null, isAppFrame, forward: (c, i) => gateway.call(c, i) });
  installAppMenu(() => win);
  const icon = path.join(app.getAppPath(), 'resources/icon.png');
  if (existsSync(icon)) tray = new AppTray(icon, openWindow);

  let init: GatewayInit;
  try {
    const warning = keychainWarning();
    if (warning) console.warn(`gatehouse: ${warning}`);
    // The Electron-ABI build of better-sqlite3: made by `npm start` in .electron-native/ (node_modules
    // keeps the Node build for the tests), shipped in resources/native/ by electron-builder.yml.
    const binding = app.isPackaged
      ? path.join(process.resourcesPath, 'native/better_sqlite3.node')
      : path.join(app.getAppPath(), '.electron-native/better-sqlite3/build/Release/better_sqlite3.node');
    if (!existsSync(binding)) throw new Error(`The Electron build of better-sqlite3 is missing (${binding}). Start the app with \`npm start\`, which builds it.`);
    init = {
      type: 'init',
      dataDir: path.join(app.getPath('userData'), 'data'),
      keyHex: loadOrCreateMasterKey(app.getPath('userData')).toString('hex'),
      pgPort: Number(process.env.GATEHOUSE_PG_PORT ?? 6432),
      sqliteBinding: binding,
    };
    await gateway.start(init);
  } catch (err) {
    dialog.showErrorBox('Gatehouse could not start its gateway', (err as Error).message);
    app.exit(1);
    return;
  }
  openWindow();

  // Restart the gateway after a crash; if that fails, say so and quit rather than run without a gateway.
  async function restartAfterCrash(code: number): Promise<void> {
    try {
      await gateway.start(init);
    } catch (err) {
      dialog.showErrorBox('The Gatehouse gateway stopped', `It exited with code ${code} and could not be restarted: ${(err as Error).message}`);
      app.exit(1);
    }
  }

  app.on('activate', openWindow); // macOS dock click
  app.on('window-all-closed', () => process.platform !== 'darwin' && app.quit());
  // Let the gateway end sessions and flush recordings before the app exits (once).
  let stopping = false;
  app.on('before-quit', (e) => {
    if (stopping) return;
    stopping = true;
    e.preventDefault();
    tray?.dispose();
    void gateway.stop().finally(() => app.exit(0));
  });
}
