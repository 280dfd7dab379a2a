// `npm run bench:console`: the console at scale, in real Chromium against `gatehouse serve`.
// Seeds a data dir (through the real store: migrations and repositories bundled from src/ with esbuild)
// with 100,000 PostgreSQL sessions, one of them holding 10,000 statements, and one SSH session with an
// hour-long terminal recording (16 MB of output, the per-channel recording limit). Then it starts
// `gatehouse serve` on it, opens the console in Chromium (playwright-core, /usr/bin/chromium) and times:
//   - first paint of the sessions screen: page load to the first session row on screen;
//   - opening the 10,000-statement session: page load to its statements table on screen;
//   - opening the hour-long recording (page load to the first terminal frame; includes the gateway reading
//     the file and building its snapshots the first time) and seeking in it (request to drawn frame).
// Each page-load figure is the median of BENCH_RUNS reloads (default 5), with the first (cold) one apart.
// Prints a Markdown table; `--write-docs` puts it into docs/benchmarks.md (its own section between
// markers; the other sections are left alone). Env: BENCH_SESSIONS (100000), BENCH_STATEMENTS (10000),
// BENCH_SEEKS (40), CHROMIUM_PATH.
/* global document, innerHeight, requestAnimationFrame -- page functions run in Chromium */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SESSIONS = positiveInt(process.env.BENCH_SESSIONS, 100_000);
const STATEMENTS = positiveInt(process.env.BENCH_STATEMENTS, 10_000);
const RUNS = positiveInt(process.env.BENCH_RUNS, 5);
const SEEKS = positiveInt(process.env.BENCH_SEEKS, 40);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const writeDocs = process.argv.includes('--write-docs');
const docsFile = path.join(root, 'docs/benchmarks.md');
const MARK_START = '<!-- bench:console:start -->';
const MARK_END = '<!-- bench:console:end -->';
const RECORDING_SECONDS = 3600;
const RECORDING_BYTES = 16 * 1024 * 1024;
const log = (line) => process.stderr.write(line + '\n');

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const temps = [];
const cleanup = () => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** The store from src/, bundled for this script. */
async function loadStore(dir) {
  const out = path.join(dir, 'seed-lib.mjs');
  await build({
    absWorkingDir: root,
    stdin: { contents: "export { Store } from './src/gateway/store/store';", resolveDir: root, loader: 'ts' },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  // Bare imports (better-sqlite3) resolve from the project, not from the temp dir.
  const linked = path.join(root, 'node_modules', '.bench-console-seed.mjs');
  writeFileSync(linked, readFileSync(out));
  temps.push(linked);
  return import(pathToFileURL(linked).href);
}

const SQL = [
  (i) => `SELECT id, email, status FROM customers WHERE id = ${i}`,
  (i) => `SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'eu-${i % 7}' ORDER BY o.created_at DESC LIMIT 50`,
  (i) => `UPDATE orders SET status = 'shipped' WHERE id = ${i}`,
  () => "SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day'",
];

/**
 * An hour of a busy terminal: a full-screen monitor redrawn every few seconds on the alternate screen,
 * between bursts of coloured log lines, up to `bytes` of output. Deterministic.
 */
function hourLongCast(startedAt, seconds, bytes) {
  const lines = [JSON.stringify({ version: 2, width: 120, height: 36, timestamp: Math.floor(startedAt / 1000), env: { TERM: 'xterm-256color', SHELL: '/bin/sh' } })];
  const steps = seconds * 4;
  const perStep = Math.floor(bytes / steps);
  let written = 0;
  for (let k = 0; k < steps && written < bytes; k++) {
    const t = (k / 4 + 0.05).toFixed(6);
    let data = '';
    if (Math.floor(k / 240) % 2 === 1) {
      // Monitor phase: redraw a 120x36 screen.
      if (k % 240 === 0) data += '\x1b[?1049h';
      data += '\x1b[H\x1b[2J';
      for (let r = 0; r < 34 && data.length < perStep; r++) data += `\x1b[${r + 1};1H\x1b[3${r % 8}mproc-${r} cpu ${(k * 7 + r) % 100}% mem ${(k + r * 13) % 4096} MiB\x1b[0m step ${k}`;
      if (k % 240 === 239) data += '\x1b[?1049l';
    } else {
      while (data.length < perStep) data += `\x1b[32m${new Date(startedAt + k * 250).toISOString()}\x1b[0m worker-${k % 9} handled request ${k}-${data.length} in ${k % 97} ms\r\n`;
    }
    written += data.length;
    lines.push(`[${t}, "o", ${JSON.stringify(data)}]`);
  }
  return { text: lines.join('\n') + '\n', bytes: written };
}

/** Seed the data dir; returns the ids to open. */
function seed(Store, dataDir) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = Store.open(path.join(dataDir, 'gatehouse.db'));
  const end = Date.now() - 60_000;
  const span = 90 * 86_400_000;
  const start = end - span;
  const agents = Array.from({ length: 12 }, (_, i) => ({ id: randomUUID(), name: `agent-${String(i + 1).padStart(2, '0')}` }));
  const connections = ['shop', 'billing', 'analytics'].map((name) => ({ id: randomUUID(), name }));
  const box = { id: randomUUID(), name: 'box' };
  store.transaction(() => {
    for (const c of connections) store.connections.insert({ id: c.id, name: c.name, kind: 'postgres', host: 'db.internal', port: 5432, database: c.name, username: 'owner', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: start, updatedAt: start });
    store.connections.insert({ id: box.id, name: box.name, kind: 'ssh', host: 'box.internal', port: 22, database: '', username: 'ops', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: start, updatedAt: start });
    for (const a of agents) store.agents.insert({ id: a.id, name: a.name, secretVerifier: 'x', tags: [], disabled: false, createdAt: start });
  });
  const big = Math.floor(SESSIONS / 2);
  let bigId = '';
  const batch = 2000;
  for (let s0 = 0; s0 < SESSIONS; s0 += batch) {
    store.transaction(() => {
      for (let s = s0; s < Math.min(SESSIONS, s0 + batch); s++) {
        const id = randomUUID();
        const a = agents[s % agents.length];
        const c = connections[(s * 7) % connections.length];
        const t0 = start + Math.floor((span * s) / SESSIONS);
        const n = s === big ? STATEMENTS : 2;
        if (s === big) bigId = id;
        store.sessions.insert({ id, protocol: 'postgres', agentId: a.id, agentName: a.name, connectionId: c.id, connectionName: c.name, clientAddress: `10.0.${s % 250}.5:5${s % 9999}`, tls: true, startedAt: t0, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
        const recs = [];
        for (let k = 0; k < n; k++) {
          recs.push({ sessionId: id, seq: k + 1, protocol: 'simple', sql: SQL[k % SQL.length](s + k), paramCount: 0, startedAt: t0 + k * 150, durationMs: 0.4 + (k % 13) / 10, commandTag: 'SELECT 1', rows: 1, errorCode: null });
        }
        store.statements.insertMany(recs);
        store.sessions.finish(id, { endedAt: t0 + n * 150 + 5, bytesIn: n * 120, bytesOut: n * 800, endReason: 'client_closed', statementCount: n });
      }
    });
    if ((s0 / batch) % 10 === 0) log(`  seeded ${Math.min(SESSIONS, s0 + batch).toLocaleString('en-US')} sessions`);
  }
  // The SSH session with an hour-long recording, an hour before the newest sessions.
  const sshId = randomUUID();
  const t0 = end - 2 * 3_600_000;
  const cast = hourLongCast(t0, RECORDING_SECONDS, RECORDING_BYTES);
  const rel = path.join('recordings', sshId, '1.cast');
  mkdirSync(path.join(dataDir, 'recordings', sshId), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dataDir, rel), cast.text, { mode: 0o600 });
  store.transaction(() => {
    store.sessions.insert({ id: sshId, protocol: 'ssh', agentId: agents[0].id, agentName: agents[0].name, connectionId: box.id, connectionName: box.name, clientAddress: '10.0.9.9:50000', tls: false, startedAt: t0, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
    store.ssh.startRecording({ sessionId: sshId, channelId: 1, kind: 'shell', command: null, file: rel, startedAt: t0, endedAt: null, exitStatus: null, exitSignal: null, bytesIn: 0, bytesOut: 0, endReason: null, truncated: false });
    store.ssh.endRecording(sshId, 1, { endedAt: t0 + RECORDING_SECONDS * 1000, exitStatus: 0, exitSignal: null, bytesIn: 1000, bytesOut: cast.bytes, endReason: 'client_closed', truncated: false });
    store.sessions.finish(sshId, { endedAt: t0 + RECORDING_SECONDS * 1000, bytesIn: 1000, bytesOut: cast.bytes, endReason: 'client_closed', statementCount: 0 });
  });
  store.close();
  return { bigId, sshId, castBytes: cast.bytes };
}

/** `gatehouse serve` on random ports; resolves with the console URL and admin token it printed. */
function startServe(dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/gatehouse.mjs'), 'serve', '--data-dir', dataDir, '--pg-port', '0', '--console-port', '0', '--ssh-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    child.stderr.on('data', (d) => (out += d));
    child.stdout.on('data', (d) => {
      out += d;
      const url = /console\s+(http:\/\/\S+)/.exec(out);
      const token = /admin token[^:]*: (\S+)/.exec(out);
      if (url && token && /tls sha256/.test(out)) {
        clearTimeout(timer);
        resolve({ child, url: url[1], token: token[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
const f0 = (x) => x.toFixed(0);

/** Reload `hash` and return ms from navigation start until `selector` is on screen (timed in the page). */
async function timeToVisible(page, url, selector) {
  await page.goto('about:blank');
  await page.goto(url);
  return page.evaluate(
    (sel) =>
      new Promise((resolve) => {
        const check = () => {
          const el = document.querySelector(sel);
          const r = el?.getBoundingClientRect();
          if (r && r.height > 0 && r.bottom > 0 && r.top < innerHeight) resolve(performance.now());
          else requestAnimationFrame(check);
        };
        check();
      }),
    selector,
  );
}

async function main() {
  if (!existsSync(path.join(root, 'out/renderer/index.html'))) throw new Error('build the console first: npx electron-vite build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  const cli = spawnSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(`CLI build failed: ${cli.stderr}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-console-'));
  temps.push(dir);
  const dataDir = path.join(dir, 'data');
  const { Store } = await loadStore(dir);
  log(`seeding ${SESSIONS.toLocaleString('en-US')} sessions (one with ${STATEMENTS.toLocaleString('en-US')} statements) and an hour-long SSH recording...`);
  const t = Date.now();
  const ids = seed(Store, dataDir);
  const seedS = (Date.now() - t) / 1000;
  log(`seeded in ${seedS.toFixed(1)} s; starting gatehouse serve`);
  const serve = await startServe(dataDir);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const result = { seedS, load: os.loadavg()[0] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Errors in the page are printed: a bench that times out should say why.
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
    page.on('console', (m) => m.type() === 'error' && process.stderr.write(`console error: ${m.text()}\n`));
    await page.goto(`${serve.url}#/overview`);
    await page.fill('#token', serve.token);
    await page.click('button[type=submit]');
    await page.locator('nav').waitFor();

    // Reference: the console itself (scripts, sign-in check, sidebar) without any screen's data.
    const shell = [];
    for (let i = 0; i <= RUNS; i++) shell.push(await timeToVisible(page, `${serve.url}#/settings`, 'nav .brand'));
    result.shell = median(shell.slice(1));
    // The first page of sessions.list over HTTP, as the screen asks for it (server time + transfer).
    const api = [];
    for (let i = 0; i <= RUNS; i++) {
      api.push(
        await page.evaluate(async (token) => {
          const t0 = performance.now();
          const r = await fetch('/api/call/sessions.list', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 100 }) });
          await r.json();
          return performance.now() - t0;
        }, serve.token),
      );
    }
    result.api = median(api.slice(1));
    const list = [];
    for (let i = 0; i <= RUNS; i++) list.push(await timeToVisible(page, `${serve.url}#/sessions`, 'tr[data-session]'));
    result.listCold = list[0];
    result.list = median(list.slice(1));
    result.listTotal = await page.locator('#sessions-title + span').textContent();
    // Scroll down to the 2,000th session: jump to the bottom of what is loaded each frame; pages of 100
    // load as the end nears.
    result.scroll2000Ms = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const t0 = performance.now();
          const sc = document.querySelector('.virtual-scroll');
          const step = () => {
            if (document.querySelector('tr[data-index="1999"]')) return resolve(performance.now() - t0);
            sc.scrollTop = sc.scrollHeight;
            requestAnimationFrame(step);
          };
          step();
        }),
    );
    result.rowsInDom = await page.locator('tr[data-session]').count();

    // sessions.get of the big session over HTTP: server time, transfer and JSON parsing.
    const get = [];
    for (let i = 0; i <= RUNS; i++) {
      get.push(
        await page.evaluate(
          async ([token, id]) => {
            const t0 = performance.now();
            const r = await fetch('/api/call/sessions.get', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
            const body = await r.text();
            JSON.parse(body);
            return [performance.now() - t0, body.length];
          },
          [serve.token, ids.bigId],
        ),
      );
    }
    result.getApi = median(get.slice(1).map((g) => g[0]));
    result.getMb = get[0][1] / 2 ** 20;
    const open = [];
    for (let i = 0; i <= RUNS; i++) open.push(await timeToVisible(page, `${serve.url}#/sessions/${ids.bigId}`, 'tr[data-statement]'));
    result.openCold = open[0];
    result.open = median(open.slice(1));
    const title = await page.locator('h2.section-title').first().textContent();
    if (!title.includes(STATEMENTS.toLocaleString('en-US'))) throw new Error(`the big session shows "${title}"`);

    // The hour-long recording: open (first frame drawn), then seeks to random moments.
    const rec = [];
    for (let i = 0; i <= Math.min(RUNS, 3); i++) {
      await page.goto('about:blank');
      await page.goto(`${serve.url}#/sessions/${ids.sshId}`);
      // The first frame drawn (the player seeks again as more of the recording arrives: at least one).
      await page.waitForFunction(() => Number(document.querySelector('section.player')?.getAttribute('data-seeks') ?? 0) >= 1, null, { timeout: 120_000 });
      rec.push(await page.evaluate(() => performance.now()));
    }
    result.recCold = rec[0];
    result.rec = median(rec.slice(1));
    const slider = page.getByRole('slider', { name: 'Recording position' });
    await page.locator('section.player .timeline-loaded').waitFor();
    await page.waitForFunction(() => !/loading \d+%/.test(document.querySelector('section.player .player-bar')?.textContent ?? ''), null, { timeout: 120_000 });
    const duration = Number(await slider.getAttribute('aria-valuemax'));
    const box = await slider.boundingBox();
    const seeks = [];
    let rnd = 12345;
    for (let i = 0; i < SEEKS; i++) {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      const before = Number(await page.locator('section.player').getAttribute('data-seeks'));
      await page.mouse.click(box.x + (box.width * (rnd % 1000)) / 1000, box.y + box.height / 2);
      await page.locator(`section.player[data-seeks="${before + 1}"]`).waitFor();
      seeks.push(Number(await page.locator('section.player').getAttribute('data-seek-ms')));
      if (process.env.BENCH_VERBOSE) log(`  seek ${seeks.at(-1)} ms: ${await page.locator('.terminal-host').getAttribute('data-seek-detail')}`);
    }
    result.duration = duration;
    result.seekMedian = median(seeks);
    result.seekP95 = pct(seeks, 0.95);
    result.seekMax = Math.max(...seeks);
    result.castMb = ids.castBytes / 2 ** 20;
  } finally {
    await browser.close();
    serve.child.kill('SIGTERM');
    await new Promise((r) => serve.child.once('exit', r));
  }
  const table = render(result);
  process.stdout.write(table + '\n');
  if (writeDocs) writeSection(table);
}

function render(r) {
  const lines = [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${r.load.toFixed(1)} at the start; Chromium headless; seeding took ${r.seedS.toFixed(0)} s.`,
    '',
    '| What | Median of warm runs | First (cold) run |',
    '|---|---:|---:|',
    `| Reference: the console shell (scripts, sign-in check, sidebar), page load to the sidebar on screen | ${f0(r.shell)} ms | |`,
    `| \`sessions.list\` first page (100 of ${SESSIONS.toLocaleString('en-US')}) over HTTP from the page | ${f0(r.api)} ms | |`,
    `| Sessions screen, ${SESSIONS.toLocaleString('en-US')} sessions: page load to first row on screen | ${f0(r.list)} ms | ${f0(r.listCold)} ms |`,
    `| \`sessions.get\` of that session (${r.getMb.toFixed(1)} MB of JSON) over HTTP from the page, parsed | ${f0(r.getApi)} ms | |`,
    `| Session with ${STATEMENTS.toLocaleString('en-US')} statements: page load to its statements on screen | ${f0(r.open)} ms | ${f0(r.openCold)} ms |`,
    `| SSH session, ${(r.duration / 60).toFixed(0)}-minute recording (${r.castMb.toFixed(0)} MB of output): page load to the first terminal frame | ${f0(r.rec)} ms | ${f0(r.recCold)} ms (the gateway reads the file and builds its snapshots) |`,
    `| Seek in that recording (click on the timeline to the frame drawn), ${SEEKS} random moments | ${f0(r.seekMedian)} ms (p95 ${f0(r.seekP95)} ms, max ${f0(r.seekMax)} ms) | |`,
    `| Scroll down to the 2,000th session (20 pages of 100 loaded as the end nears) | ${f0(r.scroll2000Ms)} ms, ${r.rowsInDom} rows in the DOM at the end | |`,
  ];
  return lines.join('\n');
}

function writeSection(table) {
  const block = `${MARK_START}\n${table}\n${MARK_END}`;
  const doc = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Benchmarks\n';
  const i = doc.indexOf(MARK_START);
  const j = doc.indexOf(MARK_END);
  if (i >= 0 && j > i) {
    writeFileSync(docsFile, doc.slice(0, i) + block + doc.slice(j + MARK_END.length));
    return;
  }
  const intro = `## Console at scale: \`npm run bench:console\`

What is measured: a data dir seeded through the real store with ${SESSIONS.toLocaleString('en-US')} PostgreSQL sessions over 90 days (one
holding ${STATEMENTS.toLocaleString('en-US')} statements) and one SSH session with an hour-long recording at the per-channel limit
(16 MB of output: log bursts and a full-screen monitor on the alternate screen), served by \`gatehouse serve\`
and opened in headless Chromium. Page-load times run from navigation start to the element on screen (timed
in the page with requestAnimationFrame), signed in, median of ${RUNS} reloads; the first load is shown apart
(cold caches; for the recording it includes the gateway building its terminal snapshots). A seek runs from
the click on the timeline to the frame drawn after restoring the nearest snapshot (every 64 KB of output)
and replaying the output after it.

How to run: \`npm run bench:console\` prints the table; \`npm run bench:console -- --write-docs\` also
replaces it below. Needs Chromium and a built console (\`npx electron-vite build\`).

`;
  writeFileSync(docsFile, `${doc.trimEnd()}\n\n${intro}${block}\n`);
}

main()
  .catch((err) => {
    log(err.stack ?? String(err));
    process.exitCode = 1;
  })
  .finally(cleanup);
