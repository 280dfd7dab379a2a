import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, SCREENSHOTS, signedInConsole } from '../helpers/chromium';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';
import { pgBinDir, startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * The console's access review screen in real Chromium against `gatehouse serve` and a real PostgreSQL:
 * one agent has used its grant (psql through the gateway), the other has not. A review is started in the
 * UI, the evidence is read off the table, one entitlement is kept and the other revoked with a comment
 * from the keyboard, the progress bar reaches 100 % and the signed review is completed. The revoked
 * agent's psql is then refused by the gateway, and the CLI and the audit log show the decisions. A
 * review started and decided from the CLI shows up live. Screenshots go to docs/screenshots/.
 */
const PSQL = existsSync(path.join(pgBinDir, 'psql')) ? path.join(pgBinDir, 'psql') : 'psql';
let db: TestPostgres;
let serve: ServeProcess;
let browser: BrowserContext;
let page: Page;
let dataDir: string;
let userDataDir: string;
const consoleErrors: string[] = [];
const secrets: Record<string, string> = {};
const gh = (args: string[], input?: string) => gatehouse([...args, '--data-dir', dataDir], { input });
const dsn = (agent: string) => `host=127.0.0.1 port=${serve.pgPort} dbname=shop user=${agent} password=${secrets[agent]}`;
const psql = (agent: string, commands: string[]) => runTool(PSQL, [dsn(agent), '-X', '-v', 'ON_ERROR_STOP=1', ...commands.flatMap((c) => ['-c', c])]);
const go = async (hash: string) => {
  await page.evaluate((h) => (window.location.hash = h), hash);
};
const POLICY = `version: 1
rules:
  - name: no-drop
    match: { kinds: [drop table] }
    action: block
  - name: deletes-need-a-human
    match: { kinds: [delete] }
    action: approve
    timeout: 5m
masking:
  - name: pii
    columns: [email]
    strategy: { partial: 4 }
`;
const progress = () => page.getByRole('progressbar', { name: 'Entitlements decided' });

beforeAll(async () => {
  if (!existsSync(path.resolve(__dirname, '../../out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  buildCli();
  db = await startPostgres();
  const owner = new pg.Client({ connectionString: db.url() });
  await owner.connect();
  await owner.query('create table orders (id int primary key, email text not null)');
  await owner.end();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-reviews-'));
  serve = await startServe(dataDir);
  const add = await gh(['connection', 'add', 'shop', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin'], db.users.scram.password);
  expect(add.code, add.stderr).toBe(0);
  for (const a of ['reporter', 'idle-bot']) {
    const r = await gh(['agent', 'add', a, '--json']);
    expect(r.code, r.stderr).toBe(0);
    secrets[a] = JSON.parse(r.stdout).secret;
    expect((await gh(['grant', 'add', '--agent', a, '--connection', 'shop'])).code).toBe(0);
  }
  writeFileSync(path.join(dataDir, 'policy.yaml'), POLICY);
  const applied = await gh(['policy', 'apply', path.join(dataDir, 'policy.yaml')]);
  expect(applied.code, applied.stderr).toBe(0);
  // Evidence for the reporter: reads (one with a masked email), a write, a blocked DROP and a DELETE held
  // for approval that the CLI approves while psql waits.
  const used = runTool(PSQL, [
    dsn('reporter'),
    '-X',
    ...['select count(*) from orders', "insert into orders values (1, 'alice@example.com')", 'select id, email from orders', 'drop table orders', 'delete from orders where id = 1'].flatMap((c) => ['-c', c]),
  ]);
  let held: { id: string }[] = [];
  for (let i = 0; i < 100 && held.length === 0; i++) {
    held = JSON.parse((await gh(['approvals', 'list', '--json'])).stdout);
    if (!held.length) await new Promise((r) => setTimeout(r, 100));
  }
  expect(held).toHaveLength(1);
  expect((await gh(['approvals', 'approve', held[0].id, '--reason', 'cleanup of a test row'])).code).toBe(0);
  const ran = await used;
  expect(ran.stderr).toContain('blocked by policy rule "no-drop"');
  expect(ran.stdout).toContain('DELETE 1');
  expect(ran.stdout).not.toContain('alice@example.com');

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

describe('access review screen in Chromium', () => {
  let reviewId = '';

  it('starts a review from the UI and shows the evidence per entitlement', async () => {
    await page.getByRole('link', { name: 'Reviews' }).click();
    await page.getByText('No access reviews yet.').waitFor();
    await page.getByRole('button', { name: 'Start review' }).first().click();
    const form = page.getByRole('form', { name: 'Start review' });
    await form.locator('input[name=name]').fill('Q4 agent access');
    // A period that ends before it starts is refused in the form, before anything is sent.
    await form.locator('input[name=from]').fill('2026-12-31');
    await form.locator('input[name=to]').fill('2026-01-01');
    await form.getByRole('button', { name: 'Start review' }).click();
    await form.getByText('The period must end on or after its first day.').waitFor();
    const today = await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    await form.locator('input[name=from]').fill(today);
    await form.locator('input[name=to]').fill(today);
    await form.getByRole('button', { name: 'Start review' }).click();

    await page.waitForURL(/#\/reviews\/[0-9a-f-]{36}$/);
    reviewId = decodeURIComponent(page.url().split('#/reviews/')[1]);
    await page.getByRole('heading', { name: 'Q4 agent access' }).waitFor();
    const table = page.getByRole('table', { name: 'Entitlements' });
    await table.waitFor();
    expect(await progress().getAttribute('aria-valuenow')).toBe('0');
    expect(await progress().getAttribute('aria-valuemax')).toBe('2');
    expect(await page.getByRole('button', { name: 'Complete review' }).isDisabled()).toBe(true);

    const reporter = table.locator('tr[data-agent=reporter]');
    const idle = table.locator('tr[data-agent=idle-bot]');
    expect(await reporter.locator('[data-evidence=sessions]').textContent()).toBe('1');
    expect(await reporter.locator('[data-evidence=statements]').textContent()).toBe('5SELECT 2 · DELETE 1 · ERROR 1 · INSERT 1');
    expect(await reporter.locator('[data-evidence=tables]').textContent()).toBe('1 / 1');
    expect(await reporter.locator('[data-evidence=blocks]').textContent()).toBe('1');
    expect(await reporter.locator('[data-evidence=held]').textContent()).toBe('1');
    expect(await reporter.locator('[data-evidence=masked]').textContent()).toBe('1');
    expect(await reporter.locator('[data-unused]').count()).toBe(0);
    expect(await idle.locator('[data-evidence=statements]').textContent()).toBe('0');
    expect(await idle.locator('[data-unused]').textContent()).toBe('unused');

    // Enter on the focused row opens its evidence.
    await reporter.focus();
    await page.keyboard.press('Enter');
    const evidence = page.locator('tr.row-detail .evidence-grid');
    await evidence.waitFor();
    expect(await evidence.textContent()).toContain('Tables readorders');
    expect(await evidence.textContent()).toContain('Tables writtenorders');
    expect(await evidence.textContent()).toContain('1 blocked by policy');
    // The masked value, by detector (or column rule).
    expect(await evidence.getByRole('list', { name: 'Masked values by detector' }).textContent()).toBe('column:pii 1');
    const approvals = evidence.getByRole('table', { name: 'Approvals for reporter on shop' });
    expect(await approvals.locator('tbody tr').textContent()).toMatch(/^delete from orders where id = 1deletes-need-a-humanapprovedcli, .+cleanup of a test row$/);
    await page.keyboard.press('Enter');
    await evidence.waitFor({ state: 'detached' });
  });

  it('keeps one entitlement and revokes the other with a comment from the keyboard; the bar reaches 100 % and the signed review completes', async () => {
    const table = page.getByRole('table', { name: 'Entitlements' });
    const reporter = table.locator('tr[data-agent=reporter]');
    const idle = table.locator('tr[data-agent=idle-bot]');
    // Rows are sorted by agent: idle-bot first. k moves up to it, j back down to the reporter.
    await reporter.focus();
    await page.keyboard.press('k');
    expect(await idle.getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('j');
    expect(await reporter.getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('y');
    await reporter.locator('[data-decided=keep]').waitFor();
    expect(await progress().getAttribute('aria-valuenow')).toBe('1');
    // After a decision the next undecided entitlement is selected and focused.
    expect(await idle.getAttribute('aria-current')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-agent'))).toBe('idle-bot');

    await page.keyboard.press('r');
    const decide = page.getByRole('form', { name: 'Decide idle-bot on shop' });
    await decide.waitFor();
    await page.keyboard.type('unused for the whole quarter');
    await page.keyboard.press('Enter');
    await idle.locator('[data-decided=revoke]').waitFor();
    expect(await idle.locator('[data-comment]').textContent()).toBe('“unused for the whole quarter”');
    expect(await progress().getAttribute('aria-valuenow')).toBe('2');
    expect(await progress().getAttribute('aria-valuetext')).toBe('2 of 2 decided (100%)');
    expect(await page.locator('.review-progress.big .fill').evaluate((e) => (e as HTMLElement).style.width)).toBe('100%');
    await page.getByText('Every entitlement is decided: complete the review to sign it.').waitFor();
    await reporter.getByRole('button', { name: 'Show evidence for reporter on shop' }).click();
    await page.locator('tr.row-detail .evidence-grid').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'review.png') });

    await page.getByRole('button', { name: 'Complete review' }).click();
    const signed = page.getByRole('region', { name: 'Signed completion' });
    await signed.waitFor();
    const fingerprint = await signed.locator('[data-key-fingerprint]').textContent();
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await signed.locator('[data-digest]').textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.getByRole('button', { name: 'Completed' }).isDisabled()).toBe(true);
    // A completed review offers no more decisions.
    expect(await table.getByRole('button', { name: /Keep|Revoke|Change/ }).count()).toBe(0);

    const shown = JSON.parse((await gh(['review', 'show', reviewId, '--json'])).stdout);
    expect(shown.review.keyFingerprint).toBe(fingerprint);
    expect(shown.review.digest).toBe(await signed.locator('[data-digest]').textContent());
  });

  it('the gateway refuses the revoked agent; the CLI and the audit log show the decisions', async () => {
    const human = (await gh(['review', 'show', reviewId])).stdout;
    expect(human).toMatch(/2\/2 decided, completed/);
    expect(human).toMatch(/idle-bot\s+shop\s+unused.*revoke\s+unused for the whole quarter/);
    expect(human).toMatch(/reporter\s+shop\s+1 sessions, 5 statements.*keep/);

    const refused = await psql('idle-bot', ['select 1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no active grant');
    const kept = await psql('reporter', ['select count(*) from orders']);
    expect(kept.stderr).toBe('');
    expect(kept.code).toBe(0);

    const events = (await gh(['audit', 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const decided = events.filter((e) => e.kind === 'review.decided');
    expect(decided.map((e) => [e.agentName, e.detail.decision, e.detail.comment])).toEqual([
      ['reporter', 'keep', null],
      ['idle-bot', 'revoke', 'unused for the whole quarter'],
    ]);
    expect(events.filter((e) => e.kind === 'review.completed')).toHaveLength(1);
    expect((await gh(['audit', 'verify'])).code).toBe(0);
  });

  it('a review started and decided from the CLI shows up live; an expiry is set from the keyboard; an unknown review says what to do', async () => {
    await go('#/reviews');
    const list = page.getByRole('table', { name: 'Access reviews' });
    await list.waitFor();
    expect(await list.locator('tbody tr').count()).toBe(1);
    expect(await list.locator(`tr[data-review="${reviewId}"]`).textContent()).toContain('complete');

    const today = new Date().toISOString().slice(0, 10);
    const started = JSON.parse((await gh(['review', 'start', '--name', 'Follow-up', '--period', `${today}..${today}`, '--json'])).stdout);
    const row = list.locator(`tr[data-review="${started.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('all agents and connections');
    expect(await row.getByRole('progressbar').getAttribute('aria-valuetext')).toBe('0 of 2 decided (0%)');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'reviews.png') });

    await row.getByRole('link', { name: 'Follow-up' }).click();
    const table = page.getByRole('table', { name: 'Entitlements' });
    await table.waitFor();
    expect(await progress().getAttribute('aria-valuenow')).toBe('0');
    // Decided from the CLI while the page is open: the row and the bar follow.
    const decided = await gh(['review', 'decide', started.id, '--agent', 'idle-bot', '--connection', 'shop', '--keep', '--comment', 'already revoked']);
    expect(decided.code, decided.stderr).toBe(0);
    await table.locator('tr[data-agent=idle-bot] [data-decided=keep]').waitFor();
    expect(await table.locator('tr[data-agent=idle-bot]').textContent()).toContain('by cli');
    expect(await table.locator('tr[data-agent=idle-bot] [data-comment]').textContent()).toBe('“already revoked”');
    expect(await progress().getAttribute('aria-valuenow')).toBe('1');

    // e: a new expiry for the reporter, as a date; access ends after that day (local time).
    const { day, end } = await page.evaluate(() => {
      const d = new Date(Date.now() + 10 * 86_400_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return { day: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, end: new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() };
    });
    await table.locator('tr[data-agent=reporter]').focus();
    await page.keyboard.press('e');
    const form = page.getByRole('form', { name: 'Decide reporter on shop' });
    const date = form.getByLabel('Access ends after');
    await date.waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('expiry');
    await date.fill(day);
    await form.getByLabel(/^Comment/).fill('quarterly job only');
    await form.getByLabel(/^Comment/).press('Enter');
    await table.locator('tr[data-agent=reporter] [data-decided=expiry]').waitFor();
    expect(await progress().getAttribute('aria-valuenow')).toBe('2');
    const grants = JSON.parse((await gh(['grant', 'list', '--json'])).stdout) as { agentName: string; expiresAt: string | null }[];
    const expires = Date.parse(grants.find((g) => g.agentName === 'reporter')!.expiresAt!);
    expect(Math.abs(expires - end)).toBeLessThan(5_000);
    expect(await page.getByRole('button', { name: 'Complete review' }).isDisabled()).toBe(false);

    // From an agent's grants: a review of that agent's access, the form filled in.
    await go('#/agents');
    await page.locator('[data-agent=reporter]').click();
    await page.getByRole('link', { name: /^Review this agent's access/ }).click();
    const start = page.getByRole('form', { name: 'Start review' });
    await start.waitFor();
    expect(await start.locator('select[name=scope]').inputValue()).toBe('agent');
    await start.locator('select[name=value] option[value=reporter]').waitFor({ state: 'attached' });
    expect(await start.locator('select[name=value]').inputValue()).toBe('reporter');
    await start.getByRole('button', { name: 'Cancel' }).click();
    expect(consoleErrors).toEqual([]);

    await go('#/reviews/no-such-review');
    await page.getByText('This review does not exist.').waitFor();
    await page.getByRole('link', { name: 'list of reviews' }).click();
    await page.getByRole('table', { name: 'Access reviews' }).waitFor();
  });
});
