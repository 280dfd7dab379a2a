import { Menu, Tray, nativeImage, type BrowserWindow } from 'electron';

/** The tray icon: shows the number of pending approvals and brings the window back. */
export class AppTray {
  private readonly tray: Tray;

  constructor(iconPath: string, private readonly getWindow: () => BrowserWindow | null) {
    this.tray = new Tray(nativeImage.createFromPath(iconPath));
    this.tray.on('click', () => this.show());
    this.setPending(0);
  }

  /** Update the pending-approvals count shown in the tray. */
  setPending(count: number): void {
    this.tray.setToolTip(count ? `Gatehouse: ${count} pending approval(s)` : 'Gatehouse');
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: count ? `${count} pending approval(s)` : 'No pending approvals', enabled: false },
        { type: 'separator' },
        { label: 'Open Gatehouse', click: () => this.show() },
        { role: 'quit' },
      ]),
    );
  }

  private show(): void {
    const w = this.getWindow();
    if (!w) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  }
}
