import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, SCREENSHOTS, signedInConsole } from '../helpers/chromium';
import { buildCli, startServe, type ServeProcess } from '../helpers/cli';
import { pgBinDir, startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * The console's management screens in real Chromium against `gatehouse serve` and a real PostgreSQL:
 * a connection and an agent are created in the UI, psql runs the snippet the UI shows, a policy with an
 * approval rule is applied from the policy screen, held statements are approved and denied from the
 * inbox while psql waits, and the recorded session shows the decisions. Screenshots go to docs/screenshots/.
 */
const PSQL = existsSync(path.join(pgBinDir, 'psql')) ? path.join(pgBinDir, 'psql') : 'psql';
let db: TestPostgres;
let serve: ServeProcess;
let browser: BrowserContext;
let page: Page;
let dataDir: string;
let userDataDir: string;
const consoleErrors: string[] = [];

const POLICY = `version: 1
rules:
  - name: no-drop
    match: { kinds: [drop table] }
    action: block
    message: ask the DBA
  - name: orders-writes
    match: { tables: [public.orders], access: write }
    action: approve
    timeout: 5m
masking:
  - name: pii
    columns: [email]
    strategy: { partial: 4 }
`;

/** Run psql with a libpq conninfo and -c commands; resolves when it exits. */
function psql(conninfo: string, commands: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(PSQL, ['-X', '-v', 'ON_ERROR_STOP=0', ...commands.flatMap((c) => ['-c', c]), conninfo], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
}

/** The conninfo inside the psql snippet the console shows: psql "host=... password=... sslmode=require". */
function conninfoOf(snippet: string): string {
  const m = /^psql "(.*)"$/.exec(snippet.trim());
  if (!m) throw new Error(`not a psql snippet: ${snippet}`);
  return m[1];
}

const go = async (hash: string) => {
  await page.evaluate((h) => (window.location.hash = h), hash);
};

beforeAll(async () => {
  if (!existsSync(path.resolve(__dirname, '../../out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  buildCli();
  db = await startPostgres();
  const owner = new pg.Client({ connectionString: db.url() });
  await owner.connect();
  await owner.query('create table orders (id int primary key, email text not null)');
  await owner.end();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-policy-'));
  serve = await startServe(dataDir);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
  browser = await launchChromium(userDataDir, { width: 1360, height: 820 });
  mkdirSync(SCREENSHOTS, { recursive: true });
  page = await signedInConsole(browser, serve, consoleErrors, { consoleMessages: true });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await db?.stop();
  for (const d of [dataDir, userDataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('console management screens in Chromium', () => {
  let conninfo = '';

  it('adds and tests a connection; the password is never shown again', async () => {
    await go('#/connections');
    await page.getByText('No connections yet.').waitFor();
    await page.getByRole('button', { name: 'Add connection' }).first().click();
    const form = page.getByRole('form', { name: 'Add connection' });
    await form.locator('input[name=name]').fill('shop');
    await form.locator('input[name=host]').fill(db.host);
    await form.locator('input[name=port]').fill(String(db.port));
    await form.locator('input[name=database]').fill('app');
    await form.locator('input[name=username]').fill(db.users.scram.user);
    await form.locator('input[name=password]').fill(db.users.scram.password);
    await form.locator('input[name=tags]').fill('prod, pci');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = page.locator('tr[data-connection=shop]');
    await row.waitFor();
    expect(await row.textContent()).toContain('stored');
    expect(await page.content()).not.toContain(db.users.scram.password);

    await row.getByRole('button', { name: 'Test' }).click();
    await page.getByRole('status', { name: 'Connection test result' }).getByText(/Connected/).waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-stage][data-state=passed]').count()).toBe(5);

    // Edit opens with the password empty: it is write-only.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit shop' });
    expect(await edit.locator('input[name=password]').inputValue()).toBe('');
    expect(await edit.locator('input[name=host]').inputValue()).toBe(db.host);
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'connections.png') });
  });

  it('a wrong password fails the test at the auth stage', async () => {
    await page.getByRole('button', { name: 'Add connection' }).first().click();
    const form = page.getByRole('form', { name: 'Add connection' });
    await form.locator('input[name=name]').fill('shop-wrong');
    await form.locator('input[name=host]').fill(db.host);
    await form.locator('input[name=port]').fill(String(db.port));
    await form.locator('input[name=database]').fill('app');
    await form.locator('input[name=username]').fill(db.users.scram.user);
    await form.locator('input[name=password]').fill('not-the-password');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = page.locator('tr[data-connection=shop-wrong]');
    await row.getByRole('button', { name: 'Test' }).click();
    await page.locator('[data-stage=auth][data-state=failed]').waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: 'Remove…' }).click();
    await row.getByRole('button', { name: 'Remove shop-wrong' }).click();
    await row.waitFor({ state: 'detached' });
  });

  it('creates an agent, shows its secret once with a psql snippet, grants the connection; psql with the snippet shows up live', async () => {
    await go('#/agents');
    await page.getByRole('button', { name: 'Create agent' }).first().click();
    const form = page.getByRole('form', { name: 'Create agent' });
    await form.locator('input[name=name]').fill('report-bot');
    await form.locator('input[name=tags]').fill('ai');
    await form.getByRole('button', { name: 'Create agent' }).click();
    const snippet = page.locator('pre[data-snippet=psql]');
    await snippet.waitFor();
    conninfo = conninfoOf((await snippet.textContent())!);
    expect(conninfo).toContain('dbname=shop');
    expect(conninfo).toContain('user=report-bot');
    expect(await page.locator('pre[data-snippet=env]').textContent()).toContain('export PGUSER=report-bot');

    await page.getByRole('form', { name: 'Grant a connection' }).getByRole('combobox', { name: 'Grant expires after' }).selectOption({ label: '8 hours' });
    await page.getByRole('form', { name: 'Grant a connection' }).getByRole('button', { name: 'Grant' }).click();
    const grant = page.locator('tr[data-grant=shop]');
    await grant.waitFor();
    expect(await grant.textContent()).toMatch(/active(8:00:00|7:59:\d\d)/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'agents.png') });
    await page.getByRole('button', { name: 'I have stored the secret' }).click();
    expect(await page.locator('pre[data-snippet]').count()).toBe(0);

    await go('#/sessions');
    await page.getByText('No sessions yet.').waitFor();
    const run = psql(conninfo, ['select count(*) as orders from orders']);
    const row = page.locator('tr[data-session]');
    await row.first().waitFor({ timeout: 15_000 });
    expect(await row.first().textContent()).toContain('report-bot');
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/orders\s*\n-+\n\s*0/);
  });

  it('applies a policy from the policy screen, with validation as you type and a try-it check', async () => {
    await go('#/policy');
    const editor = page.getByRole('textbox', { name: 'Policy file (YAML)' });
    await editor.waitFor();
    await editor.fill('version: 1\nrules:\n  - name: x\n    match: { kinds: [drop table] }\n    action: explode\n');
    await page.locator('#policy-validation').getByText('1 problem').waitFor();
    expect(await page.locator('#policy-validation').textContent()).toMatch(/line 5, column \d+\s*rules\[0\]\.action/);
    expect(await page.getByRole('button', { name: 'Save and apply' }).isDisabled()).toBe(true);

    await editor.fill(POLICY);
    await page.locator('#policy-validation').getByText('Valid policy').waitFor();
    await page.getByRole('button', { name: 'Save and apply' }).click();
    await page.getByText('Applied as version 1').waitFor();

    await page.getByRole('textbox', { name: 'SQL to check' }).fill("insert into orders values (9, 'x@example.com')");
    await page.getByRole('button', { name: 'Check' }).click();
    const decision = page.getByRole('status', { name: 'Decision' });
    await decision.locator('[data-decision=approve]').waitFor();
    expect(await decision.locator('[data-rule]').textContent()).toBe('orders-writes');
    await page.locator('#policy-validation').getByText('Valid policy').waitFor();

    // The history lists the new version; it opens as the diff against "no policy": every line added.
    const history = page.getByRole('region', { name: 'History' });
    const v1 = history.getByRole('button', { name: /^v1 / });
    await v1.waitFor();
    expect(await v1.textContent()).toContain(`+${POLICY.trimEnd().split('\n').length}`);
    await v1.click();
    const changes = history.getByLabel('Changes in version 1');
    await changes.locator('.diff-add', { hasText: 'orders-writes' }).waitFor();
    expect(await changes.locator('.diff-del').count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'policy.png') });
  });

  it('a held INSERT appears in the inbox, is approved there and psql completes; a blocked DROP and a masked read are recorded', async () => {
    await go('#/approvals');
    await page.getByText('Nothing is waiting for you.').waitFor();
    const run = psql(conninfo, ['drop table orders', "insert into orders values (1, 'alice@example.com')", 'select id, email from orders']);
    const item = page.locator('[data-approval]');
    await item.first().waitFor({ timeout: 15_000 });
    const detail = page.getByRole('article');
    expect(await detail.textContent()).toContain('orders-writes');
    expect(await detail.locator('.sql-code .tok-keyword').first().textContent()).toBe('insert');
    expect(await detail.locator('.countdown').first().textContent()).toMatch(/^[45]:\d\d$/);
    expect(await page.locator('.nav-count').textContent()).toBe('1');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'approvals.png') });
    await detail.getByRole('button', { name: /Approve once/ }).click();
    const r = await run.done;
    expect(r.stderr).toContain('blocked by policy rule "no-drop"');
    expect(r.stdout).toContain('INSERT 0 1');
    expect(r.stdout).not.toContain('alice@example.com');
    await page.getByText('Nothing is waiting for you.').waitFor();
  });

  it('a second INSERT denied from the keyboard with a reason reaches psql as an error', async () => {
    const run = psql(conninfo, ["insert into orders values (2, 'bob@example.com')"]);
    const item = page.locator('[data-approval]');
    await item.first().waitFor({ timeout: 15_000 });
    await item.first().focus();
    await page.keyboard.press('d');
    const reason = page.getByRole('textbox', { name: /Reason/ });
    await reason.waitFor();
    await reason.fill('not during the audit');
    await page.keyboard.press('Enter');
    const r = await run.done;
    expect(r.stderr).toContain('denied by admin: not during the audit');
    expect(r.stdout).not.toContain('INSERT 0 1');
    await page.getByText('Nothing is waiting for you.').waitFor();

    await page.getByRole('tab', { name: 'History' }).click();
    const history = page.getByRole('table', { name: 'Approval history' });
    await history.waitFor();
    expect(await history.locator('tbody tr').count()).toBe(2);
    expect(await history.textContent()).toContain('not during the audit');
  });

  it('the overview shows the block and the activity; the recorded session shows each decision', async () => {
    await go('#/overview');
    await page.getByRole('heading', { name: 'Recent blocks' }).waitFor();
    await page.locator('.list-button', { hasText: 'no-drop' }).waitFor();
    await page.locator('.list-button', { hasText: 'select id, email from orders' }).waitFor();
    expect(await page.locator('[data-tile=pending-approvals]').textContent()).toBe('0');
    await page.getByRole('table', { name: 'Activity per hour' }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'overview.png') });

    await go('#/sessions');
    await page.getByRole('combobox', { name: 'Decision' }).selectOption('blocked');
    await page.getByText(/^1 matching/).waitFor();
    await page.locator('tr[data-session]').first().click();
    const statements = page.getByRole('table', { name: 'Statements' });
    await statements.waitFor();
    await page.locator('[data-decision=approved]').waitFor();
    expect(await statements.locator('[data-decision]').evaluateAll((els) => els.map((e) => e.getAttribute('data-decision')))).toEqual(['blocked', 'approved', 'masked']);
    await page.locator('tr[data-statement="3"]').click();
    const preview = page.getByRole('table', { name: 'Result preview of statement 3' });
    await preview.waitFor();
    expect(await preview.textContent()).not.toContain('alice@example.com');
    await page.locator('tr[data-statement="2"]').click();
    await page.locator('[data-approval-note]').getByText(/approved by admin/).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'session-page.png'), fullPage: true });

    await go('#/sessions');
    await page.getByRole('combobox', { name: 'Decision' }).selectOption('held');
    await page.getByText(/^2 matching/).waitFor();

    // An evidence pack for the last 24 hours, written on the gateway's machine.
    await page.getByRole('button', { name: 'Export evidence…' }).click();
    const region = page.getByRole('region', { name: 'Export evidence pack' });
    await region.getByRole('button', { name: 'Export' }).click();
    await region.getByText(/^Written/).waitFor({ timeout: 30_000 });
    const written = (await region.locator('code').first().textContent())!;
    expect(written.startsWith(path.join(dataDir, 'exports'))).toBe(true);
    expect(existsSync(written)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
