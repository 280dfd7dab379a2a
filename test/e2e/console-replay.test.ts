import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import headless from '@xterm/headless';
import type { BrowserContext, Page } from 'playwright-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAsciicast } from '../../src/gateway/recording/asciicast-reader';
import { playerEvents } from '../../src/gateway/recording/replay-snapshots';
import { eventsUpTo, replaySteps, type PlayerEvent } from '../../src/renderer/src/screens/sessions/replay/replay-model';
import { CHROMIUM, launchChromium, SCREENSHOTS } from '../helpers/chromium';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { makeKeyPair, TestSshd } from '../helpers/sshd';

/**
 * Session replay in real Chromium against `gatehouse serve`: an interactive SSH shell recorded through
 * the gateway (real OpenSSH on both sides, tmux as the agent's terminal) is played, scrubbed with the
 * mouse and the keyboard, searched and deep-linked, and what xterm.js shows at each moment is compared
 * with the recording replayed to that moment in @xterm/headless. A PostgreSQL session's statements are
 * stepped through with the arrow keys.
 */
const { Terminal } = headless;
const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes'];

let db: TestPostgres;
let sshd: TestSshd;
let serve: ServeProcess;
let browser: BrowserContext;
let dir: string;
let dataDir: string;
let sshSessionId: string;
let pgSessionId: string;
let bigSessionId: string;
/** Statements in the big session: more than two pages of the session page. */
const BIG_SESSION = 7_300;
let pgSecret: string;
let events: PlayerEvent[];
const seekTimes: number[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** tmux on a private socket: the agent's terminal. */
class Tmux {
  readonly socket = `gh-replay-e2e-${process.pid}`;
  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }
  start(command: string): void {
    this.tmux(['new-session', '-d', '-s', 't', '-x', '80', '-y', '24', command]);
  }
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 't', ...keys]);
  }
  screen(): string[] {
    return this.tmux(['capture-pane', '-p', '-t', 't']).split('\n').map((l) => l.trimEnd());
  }
  alive(): boolean {
    return spawnSync('tmux', ['-L', this.socket, 'has-session', '-t', 't']).status === 0;
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

/** The screen after replaying the recording up to `t` seconds in a headless xterm.js (trailing blanks trimmed). */
async function expectedScreen(t: number): Promise<string[]> {
  const term = new Terminal({ cols: 80, rows: 24, allowProposedApi: true });
  for (const step of replaySteps(events, 0, eventsUpTo(events, t))) {
    if (step.kind === 'write') await new Promise<void>((r) => term.write(step.data, r));
    else term.resize(step.cols, step.rows);
  }
  const b = term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < term.rows; y++) rows.push(b.getLine(b.viewportY + y)!.translateToString(true).trimEnd());
  term.dispose();
  return rows;
}

/** What the player's xterm.js shows (its DOM renderer's rows). */
async function shownScreen(page: Page): Promise<string[]> {
  const rows = await page.$$eval('.terminal-host .xterm-rows > div', (els) => els.map((e) => e.textContent ?? ''));
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/**
 * The player's position, unrounded (data-t): the slider's aria-valuenow is rounded to the millisecond, and
 * output events only microseconds apart can fall on either side of the rounded value.
 */
async function position(page: Page): Promise<number> {
  return Number(await page.locator('section.player').getAttribute('data-t'));
}

/** Wait until the player shows exactly what the recording had on screen at its current position. */
async function expectScreenAtPosition(page: Page): Promise<string[]> {
  const t = await position(page);
  const expected = await expectedScreen(t);
  await expect.poll(() => shownScreen(page), { timeout: 10_000 }).toEqual(expected);
  const ms = Number(await page.locator('section.player').getAttribute('data-seek-ms'));
  if (ms) seekTimes.push(ms);
  return expected;
}

async function signIn(page: Page, hash: string): Promise<void> {
  await page.goto(`${serve.consoleUrl}${hash}`);
  await page.fill('#token', serve.adminToken!);
  await page.click('button[type=submit]');
}

beforeAll(async () => {
  if (!existsSync(path.resolve(__dirname, '../../out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  buildCli();
  dir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-replay-'));
  dataDir = path.join(dir, 'data');
  [db, sshd] = await Promise.all([startPostgres(), new TestSshd().start()]);
  serve = await startServe(dataDir);
  const sshPort = Number(/ssh\s+127\.0\.0\.1:(\d+)/.exec(serve.output())![1]);
  const key = makeKeyPair(dir, 'agent_key');
  const run = async (args: string[], input?: string) => {
    const r = await gatehouse([...args, '--data-dir', dataDir], { input });
    if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await run(['connection', 'add', 'web', '--kind', 'ssh', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', sshd.user, '--private-key-file', sshd.userKey.privateFile]);
  await run(['connection', 'add', 'shop', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin'], db.users.scram.password);
  await run(['agent', 'add', 'ops-bot', '--ssh-key', key.publicFile]);
  const secret = JSON.parse(await run(['agent', 'add', 'report-bot', '--json'])).secret as string;
  pgSecret = secret;
  await run(['grant', 'add', '--agent', 'ops-bot', '--connection', 'web']);
  await run(['grant', 'add', '--agent', 'report-bot', '--connection', 'shop']);

  // An interactive shell through the gateway, typed into tmux with pauses, with enough output (~1 MB)
  // for the gateway to keep several terminal snapshots.
  const tmux = new Tmux();
  try {
    tmux.start(`ssh -tt -p ${sshPort} -i ${key.privateFile} ${CLIENT_OPTS.join(' ')} web@127.0.0.1`);
    await waitFor(() => tmux.screen().some((l) => /[#$] ?$/.test(l)), 'a shell prompt');
    tmux.keys('echo first-marker', 'Enter');
    await sleep(1200);
    tmux.keys('seq 1 150000', 'Enter');
    await waitFor(() => tmux.screen().some((l) => l === '150000'), 'seq to finish', 60_000);
    await sleep(1200);
    tmux.keys('echo second-marker-$((6*7))', 'Enter');
    await sleep(1200);
    tmux.keys('clear; echo after-clear', 'Enter');
    await sleep(800);
    tmux.keys('exit', 'Enter');
    await waitFor(() => !tmux.alive(), 'ssh to exit');
  } finally {
    tmux.kill();
  }
  // A session bigger than the session page's first page (2,000 statements): the rest load in pages.
  const bulk = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'report-bot', password: secret });
  await bulk.connect();
  await Promise.all(Array.from({ length: BIG_SESSION }, (_, i) => bulk.query(`select ${i + 1} as bulk`)));
  await bulk.end();
  const client = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'report-bot', password: secret });
  await client.connect();
  for (let i = 1; i <= 6; i++) {
    await client.query(`select ${i} as step`);
    await sleep(250);
  }
  await client.end();

  const sessions = JSON.parse(await run(['sessions', 'list', '--json']));
  const items = (sessions.items ?? sessions) as { id: string; protocol: string; endedAt: string | null }[];
  sshSessionId = items.find((s) => s.protocol === 'ssh')!.id;
  pgSessionId = items.find((s) => s.protocol === 'postgres')!.id;
  bigSessionId = items.filter((s) => s.protocol === 'postgres')[1].id;
  await waitFor(() => existsSync(path.join(dataDir, 'recordings', sshSessionId, '1.cast')), 'the recording');
  events = playerEvents(parseAsciicast(readFileSync(path.join(dataDir, 'recordings', sshSessionId, '1.cast'), 'utf8')).events) as PlayerEvent[];

  browser = await launchChromium(path.join(dir, 'chromium'), { width: 1280, height: 900 });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await Promise.all([db?.stop(), sshd?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (seekTimes.length) console.log(`player seek times (ms, seek request to drawn frame): ${seekTimes.map((t) => t.toFixed(1)).join(', ')}`);
});

describe('session replay in Chromium', () => {
  it('plays an SSH recording, scrubs it with the mouse and the keyboard, searches it and deep-links to a moment', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await signIn(page, '#/sessions');
    await page.locator(`tr[data-session="${sshSessionId}"]`).click();
    const slider = page.getByRole('slider', { name: 'Recording position' });
    await slider.waitFor();
    const duration = Number(await slider.getAttribute('aria-valuemax'));
    expect(duration).toBeGreaterThan(4);
    expect(duration).toBeCloseTo(events[events.length - 1][0], 2);
    // Opened at the start: the screen as it was after the first events (the gateway's greeting at most).
    await expectScreenAtPosition(page);

    // Play at 8x to the end: the final screen of the session.
    await page.getByLabel('Speed').selectOption('8');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.locator('section.player[data-state="playing"]').waitFor();
    await page.locator('section.player[data-state="paused"]').waitFor({ timeout: 20_000 });
    expect(await position(page)).toBeCloseTo(duration, 2);
    const end = await expectScreenAtPosition(page);
    expect(end.join('\n')).toContain('after-clear');
    expect(end.join('\n')).not.toContain('first-marker');

    // Mouse: press on the timeline a bit past the middle (inside the seq output).
    const box = (await slider.boundingBox())!;
    for (const fraction of [0.55, 0.2, 0.9, 0.35]) {
      await page.mouse.click(box.x + box.width * fraction, box.y + box.height / 2);
      expect(Math.abs((await position(page)) - duration * fraction)).toBeLessThan(duration * 0.02);
      await expectScreenAtPosition(page);
    }
    // Drag: press, move, release.
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    expect(Math.abs((await position(page)) - duration * 0.6)).toBeLessThan(duration * 0.02);
    await expectScreenAtPosition(page);

    // Keyboard: Home, then two 5-second steps.
    await slider.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await position(page)).toBeCloseTo(Math.min(10, duration), 3);
    await expectScreenAtPosition(page);
    await page.keyboard.press('ArrowLeft');
    expect(await position(page)).toBeCloseTo(Math.min(5, duration - 5), 3);
    await expectScreenAtPosition(page);
    // The address bar keeps the moment (deep link).
    expect(page.url()).toContain(`#/sessions/${sshSessionId}?t=`);

    // Search the output and jump to where it appeared.
    // (The typed command line reads "second-marker-$((6*7))": only the output has "marker-42".)
    await page.getByLabel('Search the recording').fill('marker-42');
    const hit = page.locator('.search-hits button');
    await hit.first().waitFor();
    expect(await hit.count()).toBe(1);
    await hit.click();
    const found = await expectScreenAtPosition(page);
    expect(found.join('\n')).toContain('second-marker-42');
    expect(found.join('\n')).not.toContain('after-clear');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'ssh-replay.png') });

    // Deep link to a time: a fresh page opens there.
    const at = (duration * 0.45).toFixed(1);
    const linked = await browser.newPage();
    await signIn(linked, `#/sessions/${sshSessionId}?t=${at}`);
    await linked.getByRole('slider', { name: 'Recording position' }).waitFor();
    expect(await position(linked)).toBeCloseTo(Number(at), 3);
    await expectScreenAtPosition(linked);
    await linked.close();
    expect(consoleErrors).toEqual([]);
    expect(seekTimes.length).toBeGreaterThan(5);
  });

  it('steps through a PostgreSQL session with the arrow keys on its timeline, and deep-links to a statement', async () => {
    const page = await browser.newPage();
    await signIn(page, `#/sessions/${pgSessionId}`);
    const slider = page.getByRole('slider', { name: 'Statements timeline' });
    await slider.waitFor();
    const seqs = (await page.locator('tr[data-statement]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-statement'))))).sort((a, b) => a - b);
    expect(seqs.length).toBeGreaterThanOrEqual(6);
    const sqlOf = async () => (await page.locator('tr.current td.sql').textContent())?.trim();
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('tr.current').getAttribute('data-statement')).toBe(String(seqs[2]));
    expect(page.url()).toContain(`?seq=${seqs[2]}`);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.locator('tr.current').getAttribute('data-statement')).toBe(String(seqs[1]));
    // The position is the statement's start: the statements were 250 ms or more apart.
    const t1 = Number(await slider.getAttribute('aria-valuenow'));
    await page.keyboard.press('ArrowRight');
    expect(Number(await slider.getAttribute('aria-valuenow'))).toBeGreaterThan(t1 + 0.2);
    await page.keyboard.press('End');
    await expect.poll(sqlOf).toBe('select 6 as step');

    const linked = await browser.newPage();
    await signIn(linked, `#/sessions/${pgSessionId}?seq=${seqs[4]}`);
    await expect.poll(() => linked.locator('tr.current').getAttribute('data-statement')).toBe(String(seqs[4]));
    expect((await linked.locator('tr.current td.sql').textContent())?.trim()).toBe('select 5 as step');
    await linked.close();
  });

  it('opens a session bigger than one page: the first statements at once, the rest in pages, a deep link past the first page', async () => {
    const page = await browser.newPage();
    await signIn(page, `#/sessions/${bigSessionId}?seq=7000`);
    // The deep link waits for the page that holds it, then selects it.
    await expect.poll(() => page.locator('tr.current').getAttribute('data-statement'), { timeout: 30_000 }).toBe('7000');
    expect((await page.locator('tr.current td.sql').textContent())?.trim()).toBe('select 7000 as bulk');
    expect(await page.locator('h2.section-title', { hasText: 'Statements' }).textContent()).toMatch(/^Statements \(7,300\)/);
    const slider = page.getByRole('slider', { name: 'Statements timeline' });
    await slider.focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('tr.current').getAttribute('data-statement')).toBe('7300');
    await page.close();
  });

  it('overview draws the activity chart over its table; settings show what clients pin; an agent secret is rotated and the agent disabled in the UI', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await signIn(page, '#/overview');
    await page.getByRole('table', { name: 'Activity per hour' }).waitFor();
    const chart = page.locator('.chart-host canvas');
    await chart.waitFor();
    expect((await chart.boundingBox())!.height).toBeGreaterThan(100);
    expect(await page.locator('.chart-host .u-legend').textContent()).toContain('report-bot');
    await page.getByRole('radio', { name: 'Sessions' }).click();
    expect(await page.getByRole('radio', { name: 'Sessions' }).getAttribute('aria-checked')).toBe('true');
    // (overview.png comes from console-policy.test.ts, which has blocks and masks to show as well.)

    await page.goto(`${serve.consoleUrl}#/settings`);
    const out = serve.output();
    const tlsFingerprint = /tls sha256 (\S+)/.exec(out)![1];
    const sshFingerprint = /ssh host key (SHA256:\S+)/.exec(out)![1];
    await page.locator('[data-fingerprint="tls"]').waitFor();
    expect((await page.locator('[data-fingerprint="tls"]').textContent())?.trim()).toBe(tlsFingerprint);
    expect((await page.locator('[data-fingerprint="ssh"]').textContent())?.trim()).toBe(sshFingerprint);
    expect((await page.locator('[data-path="data-dir"]').textContent())?.trim()).toBe(dataDir);
    const settingsText = await page.locator('section.settings').textContent();
    expect(settingsText).toContain(`127.0.0.1:${serve.pgPort}`);
    expect(settingsText).toMatch(/\d+ days left/);
    // Recording retention: off, then 3650 days (nothing that old here), saved and shown with who set it.
    const retention = page.getByRole('status', { name: 'Retention status' });
    await retention.getByText('Off: recordings are kept').waitFor();
    const days = page.getByRole('textbox', { name: /Recording retention in days/ });
    await days.fill('0');
    await page.getByText('Between 1 and 36500 days.').waitFor();
    await days.fill('3650');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await retention.getByText(/^3650 day\(s\), set .* by admin\. Nothing is due for removal\.$/).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'settings.png'), fullPage: true });

    const login = async (password: string) => {
      const c = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'report-bot', password });
      c.on('error', () => {});
      try {
        await c.connect();
        await c.query('select 1');
        return 'ok';
      } catch (err) {
        return (err as { code?: string }).code ?? 'error';
      } finally {
        await c.end().catch(() => {});
      }
    };
    expect(await login(pgSecret)).toBe('ok');
    await page.goto(`${serve.consoleUrl}#/agents`);
    await page.locator('[data-agent="report-bot"]').click();
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByRole('button', { name: /Rotate: the old secret stops working now/ }).click();
    const region = page.getByRole('region', { name: 'New agent secret' });
    await region.waitFor();
    expect(await region.textContent()).toContain('New secret for report-bot');
    const newSecret = (await region.locator('[data-snippet="secret"]').textContent())!.trim();
    expect(newSecret).not.toBe(pgSecret);
    expect(await login(pgSecret)).toBe('28P01');
    expect(await login(newSecret)).toBe('ok');

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('disabled: refused at login').waitFor();
    expect(await login(newSecret)).toBe('28P01');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    expect(await login(newSecret)).toBe('ok');
    expect(consoleErrors).toEqual([]);
  });
});
