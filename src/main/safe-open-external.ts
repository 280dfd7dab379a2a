import { shell } from 'electron';
import { checkExternalUrl } from './external-url';

/** The one way to open a link outside the app (menus, window.open, link clicks): https only, else dropped. */
export function safeOpenExternal(url: string): void {
  const ok = checkExternalUrl(url);
  if (ok) void shell.openExternal(ok);
}
