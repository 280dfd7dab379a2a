import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, SCREENSHOTS } from '../helpers/chromium';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * The console in real Chromium against `gatehouse serve` with a real PostgreSQL upstream: sign in, watch
 * a session appear live while an agent runs queries, open it. Screenshots go to docs/screenshots/.
 */
let db: TestPostgres;
let serve: ServeProcess;
let browser: BrowserContext;
let dataDir: string;
let userDataDir: string;
let secret: string;

beforeAll(async () => {
  if (!existsSync(path.resolve(__dirname, '../../out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  buildCli();
  db = await startPostgres();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-'));
  serve = await startServe(dataDir);
  await gatehouse(['connection', 'add', 'shop', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--data-dir', dataDir], {
    input: db.users.scram.password,
  });
  secret = JSON.parse((await gatehouse(['agent', 'add', 'report-bot', '--json', '--data-dir', dataDir])).stdout).secret;
  await gatehouse(['grant', 'add', '--agent', 'report-bot', '--connection', 'shop', '--expires', '8h', '--data-dir', dataDir]);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
  browser = await launchChromium(userDataDir, { width: 1280, height: 720 });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await db?.stop();
  for (const d of [dataDir, userDataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('console in Chromium', () => {
  it('signs in with the admin token, shows a session live as the agent works, and opens it', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(`${serve.consoleUrl}#/sessions`);

    await page.fill('#token', 'gha_wrong');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('not accepted');
    consoleErrors.length = 0; // the browser logs the deliberate 401 above; nothing else may fail

    await page.fill('#token', serve.adminToken!);
    await page.click('button[type=submit]');
    await page.getByText('No sessions yet.').waitFor();

    // The agent connects and works; the row appears without a reload (contract events over WebSocket).
    const client = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'report-bot', password: secret });
    await client.connect();
    await client.query('select 1 as one');
    await client.query('select now(), current_user');
    const row = page.locator('tr[data-session]');
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.count()).toBe(1);
    expect(await row.first().textContent()).toContain('report-bot');
    expect(await row.first().textContent()).toContain('live');
    await client.query("select 'a masked value comes later' as note");
    await client.end();
    await page.locator('tr[data-session] .badge', { hasText: 'client_terminated' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sessions.png') });

    await row.first().click();
    await page.getByRole('table', { name: 'Statements' }).waitFor();
    const sql = await page.locator('td.sql').allTextContents();
    expect(sql).toEqual(['select 1 as one', 'select now(), current_user', "select 'a masked value comes later' as note"]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'session.png') });
    expect(consoleErrors).toEqual([]);
  });
});
