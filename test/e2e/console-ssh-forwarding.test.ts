import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDto } from '../../src/shared/contract';
import { CHROMIUM, launchChromium, signedInConsole } from '../helpers/chromium';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';

/**
 * The forwarding allowances of an SSH connection set from the console (real Chromium against
 * `gatehouse serve`), read back with the CLI and shown again when the connection is edited.
 */
let serve: ServeProcess;
let browser: BrowserContext;
let page: Page;
let dataDir: string;
let userDataDir: string;
const consoleErrors: string[] = [];

const listed = async (name: string) => {
  const r = await gatehouse(['connection', 'list', '--json', '--data-dir', dataDir]);
  return (JSON.parse(r.stdout) as ConnectionDto[]).find((c) => c.name === name);
};

beforeAll(async () => {
  if (!existsSync(path.resolve(__dirname, '../../out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  buildCli();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-fwd-'));
  serve = await startServe(dataDir);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
  browser = await launchChromium(userDataDir, { width: 1360, height: 820 });
  page = await signedInConsole(browser, serve, consoleErrors);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  for (const d of [dataDir, userDataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('console: SSH forwarding allowances', () => {
  it('checkboxes on the SSH connection form set allowForwarding; edit shows and changes them', async () => {
    await page.evaluate(() => (window.location.hash = '#/connections'));
    await page.getByRole('button', { name: 'Add connection' }).first().click();
    const form = page.getByRole('form', { name: 'Add connection' });
    // Only SSH connections have forwarding.
    expect(await form.locator('input[name=forward-tcpip]').count()).toBe(0);
    await form.locator('select[name=kind]').selectOption('ssh');
    await form.locator('input[name=name]').fill('web');
    await form.locator('input[name=host]').fill('127.0.0.1');
    await form.locator('input[name=username]').fill('deploy');
    await form.locator('input[name=password]').fill('not-used-here');
    for (const k of ['tcpip', 'agent', 'x11']) expect(await form.locator(`input[name=forward-${k}]`).isChecked()).toBe(false);
    await form.getByLabel('SSH agent (ssh -A)').check();
    await form.getByLabel('X11 (ssh -X, -Y)').check();
    await form.getByRole('button', { name: 'Add connection' }).click();
    await page.locator('tr[data-connection=web], form [role=alert]').first().waitFor();
    expect(await form.locator('[role=alert]').count(), await form.locator('[role=alert]').allTextContents().then((t) => t.join())).toBe(0);
    await page.locator('tr[data-connection=web]').waitFor();
    expect((await listed('web'))!.allowForwarding).toEqual(['agent', 'x11']);
    // The list says what the connection lets through.
    expect(await page.locator('tr[data-connection=web] td[data-forwarding]').textContent()).toBe('forwards agent, x11');

    await page.locator('tr[data-connection=web]').getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit web' });
    expect(await edit.locator('input[name=forward-tcpip]').isChecked()).toBe(false);
    expect(await edit.locator('input[name=forward-agent]').isChecked()).toBe(true);
    expect(await edit.locator('input[name=forward-x11]').isChecked()).toBe(true);
    await edit.getByLabel('SSH agent (ssh -A)').uncheck();
    await edit.getByLabel('TCP ports (ssh -L, -W, -R)').check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    expect((await listed('web'))!.allowForwarding).toEqual(['tcpip', 'x11']);
    await expect.poll(() => page.locator('tr[data-connection=web] td[data-forwarding]').textContent()).toBe('forwards tcpip, x11');
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
