import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the e2e runs save the screenshots the docs show. */
export const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');

/** Headless Chromium with its own profile in `userDataDir`, quiet (no background network, no sync). */
export function launchChromium(userDataDir: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new page signed in to the console at `consoleUrl` with the admin token, on the Overview. Page errors
 * and failed requests (HTTP 400 and up) are pushed to `errors`, and console errors too when asked.
 */
export async function signedInConsole(
  browser: BrowserContext,
  serve: { consoleUrl: string; adminToken?: string | null },
  errors: string[],
  opts: { consoleMessages?: boolean } = {},
): Promise<Page> {
  const page = await browser.newPage();
  if (opts.consoleMessages) page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${new URL(r.url()).pathname}`));
  await page.goto(serve.consoleUrl);
  await page.fill('#token', serve.adminToken!);
  await page.click('button[type=submit]');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return page;
}
