import { BrowserWindow, session } from 'electron';
import { cspHeader } from './content-security-policy';
import { safeOpenExternal } from './safe-open-external';

// Permissions the console may use: copying secrets/snippets to the clipboard (issue 4). Everything else
// (camera, geolocation, notifications from the page...) is refused; native notifications come from main.
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/**
 * Hardens the default session once at start: a strict CSP header on the app's content (the built page's
 * <meta> policy covers file:// loads as well), and no permissions but ALLOWED_PERMISSIONS, for our own
 * page only.
 */
export function hardenSession(isAppFrame: (url: string) => boolean, opts: { dev: boolean }): void {
  const csp = cspHeader();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    // The dev server needs inline scripts for hot reload; the built app gets the full policy.
    if (opts.dev) return callback({});
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && details.isMainFrame && isAppFrame(details.requestingUrl));
  });
  session.defaultSession.setPermissionCheckHandler(
    (_wc, permission, _origin, details) => ALLOWED_PERMISSIONS.has(permission) && details.isMainFrame && isAppFrame(details.requestingUrl ?? ''),
  );
}

/**
 * Opens the console window with the secure defaults of DESIGN.md: isolated, sandboxed, no Node, web
 * security on, no new windows, no navigation away from the app, no <webview>; links that try to leave go
 * through safeOpenExternal (https only).
 */
export function createSecureWindow(opts: { preload: string; isAppFrame: (url: string) => boolean; load: (w: BrowserWindow) => Promise<void> }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Gatehouse',
    backgroundColor: '#0f1419',
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const wc = win.webContents;
  wc.setWindowOpenHandler(({ url }) => {
    safeOpenExternal(url);
    return { action: 'deny' };
  });
  const stayInApp = (event: { preventDefault(): void }, url: string) => {
    if (opts.isAppFrame(url)) return;
    event.preventDefault();
    safeOpenExternal(url);
  };
  wc.on('will-navigate', stayInApp);
  wc.on('will-redirect', stayInApp);
  wc.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());
  void opts.load(win);
  return win;
}
