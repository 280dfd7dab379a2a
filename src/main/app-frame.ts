import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the test for "this URL is the console's own page": the built index.html loaded from disk, or, in
 * `electron-vite dev`, any page of the dev server's origin. Used to accept IPC calls and navigations.
 */
export function appFrameMatcher(opts: { rendererFile: string; devServerUrl?: string }): (url: string) => boolean {
  const file = path.resolve(opts.rendererFile);
  const devOrigin = opts.devServerUrl ? new URL(opts.devServerUrl).origin : null;
  return (url) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (devOrigin) return u.origin === devOrigin;
    if (u.protocol !== 'file:' || (u.host !== '' && u.host !== 'localhost')) return false;
    u.hash = '';
    u.search = '';
    return path.resolve(fileURLToPath(u)) === file;
  };
}
