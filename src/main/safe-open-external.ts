import { shell } from 'electron';

/** The one way to open a link outside the app: https only, everything else is dropped. */
export function safeOpenExternal(url: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') void shell.openExternal(u.toString());
  } catch {
    // Not a URL: ignore.
  }
}
