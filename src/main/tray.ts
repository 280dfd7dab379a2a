import { Menu, Tray, nativeImage, type BrowserWindow } from 'electron';

/**
 * The tray icon: the number of pending approvals (0 until approvals exist, issue 4) and a way back to the
 * window. Keep the instance referenced for the app's lifetime, or the icon disappears when collected.
 */
export class AppTray {
  private readonly tray: Tray;

  constructor(
    iconPath: string,
    private readonly showWindow: () => void,
  ) {
    const image = nativeImage.createFromPath(iconPath);
    this.tray = new Tray(process.platform === 'darwin' ? image.resize({ width: 16, height: 16 }) : image.resize({ width: 22, height: 22 }));
    this.tray.on('click', () => this.showWindow());
    this.setPending(0);
  }

  /** Show a new pending-approvals count (tooltip, menu, and the macOS menu-bar title). */
  setPending(count: number): void {
    const text = count === 0 ? 'No pending approvals' : `${count} pending approval${count === 1 ? '' : 's'}`;
    this.tray.setToolTip(`Gatehouse: ${text}`);
    if (process.platform === 'darwin') this.tray.setTitle(count ? String(count) : '');
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: text, enabled: false },
        { type: 'separator' },
        { label: 'Open Gatehouse', click: () => this.showWindow() },
        { role: 'quit' },
      ]),
    );
  }

  /** Remove the icon (at quit). */
  dispose(): void {
    this.tray.destroy();
  }
}

/** Bring a window to the front, restoring it when minimised or hidden. */
export function revealWindow(win: BrowserWindow | null): void {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
