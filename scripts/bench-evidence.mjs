// `npm run bench:evidence`: seed a store with 10,000 sessions and 1,000,000 statements (and, to show that
// memory stays flat as data grows, a tenth of that), then time `gatehouse export evidence` and
// `gatehouse verify` on it, each as its own process, with its peak RSS. Prints a Markdown table;
// `--write-docs` puts it into docs/benchmarks.md (its own section; the bench:pg section is left alone).
//
// Env: BENCH_SESSIONS (default 10000), BENCH_STATEMENTS (default 1000000), BENCH_CPU_PROF=DIR (profiles),
// BENCH_DATA_DIR=DIR (seed each size's store into DIR/<statements> and keep it; later runs reuse it). Targets: export < 30 s,
// verify < 10 s. The store is written through the real migrations and repositories (bundled from src/
// with esbuild), sessions sealed into the audit chain as the gateway does, in a temp data dir that is
// removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SESSIONS = positiveInt(process.env.BENCH_SESSIONS, 10_000);
const STATEMENTS = positiveInt(process.env.BENCH_STATEMENTS, 1_000_000);
const writeDocs = process.argv.includes('--write-docs');
const docsFile = path.join(root, 'docs/benchmarks.md');
const MARK_START = '<!-- bench:evidence:start -->';
const MARK_END = '<!-- bench:evidence:end -->';
const TARGET_EXPORT_S = 30;
const TARGET_VERIFY_S = 10;
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

/** The store, audit log and digest code from src/, bundled for this script. */
async function loadGatehouse(dir) {
  const out = path.join(dir, 'seed-lib.mjs');
  await build({
    absWorkingDir: root,
    stdin: {
      contents: [
        "export { Store } from './src/gateway/store/store';",
        "export { AuditLog } from './src/gateway/recording/audit-log';",
        "export { sessionDigest } from './src/gateway/recording/session-digest';",
        "export { EventBus } from './src/gateway/core/event-bus';",
        "export { loadOrCreateSigningKey } from './src/gateway/identity/signing-key';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  // Bare imports (better-sqlite3) resolve from the project, not from the temp dir.
  const linked = path.join(root, 'node_modules', '.bench-evidence-seed.mjs');
  writeFileSync(linked, readFileSync(out));
  temps.push(linked);
  return import(pathToFileURL(linked).href);
}

const SQL = [
  () => ['SELECT id, email, status FROM customers WHERE id = $1', 'SELECT 1', 1],
  (i) => [`SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'eu-${i % 7}' ORDER BY o.created_at DESC LIMIT 50`, 'SELECT 50', 50],
  (i) => [`UPDATE orders SET status = 'shipped' WHERE id = ${i}`, 'UPDATE 1', 1],
  (i) => [`INSERT INTO audit_notes (order_id, note) VALUES (${i}, 'checked by agent')`, 'INSERT 0 1', 1],
  () => ['SELECT count(*) FROM orders WHERE created_at > now() - interval \'1 day\'', 'SELECT 1', 1],
];

/** Seed `sessions` sessions with `statements` statements in the quarter, sealed into the audit chain. */
function seed(lib, dataDir, sessions, statements) {
  const { Store, AuditLog, EventBus, sessionDigest, loadOrCreateSigningKey } = lib;
  const store = Store.open(path.join(dataDir, 'gatehouse.db'));
  const signer = loadOrCreateSigningKey(dataDir);
  const start = Date.parse('2026-10-01T00:00:00Z');
  const span = Date.parse('2026-12-31T00:00:00Z') - start;
  let clock = start;
  const audit = new AuditLog(store, new EventBus(), () => clock, signer);
  const agents = Array.from({ length: 12 }, (_, i) => ({ id: randomUUID(), name: `agent-${String(i + 1).padStart(2, '0')}` }));
  const connections = ['shop', 'billing', 'analytics'].map((name) => ({ id: randomUUID(), name }));
  store.transaction(() => {
    for (const c of connections) store.connections.insert({ id: c.id, name: c.name, kind: 'postgres', host: 'db.internal', port: 5432, database: c.name, username: 'owner', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: start - 86_400_000, updatedAt: start });
    for (const a of agents) store.agents.insert({ id: a.id, name: a.name, secretVerifier: 'x', tags: [], disabled: false, createdAt: start - 86_400_000 });
    for (const a of agents) for (const c of connections) store.grants.insert({ id: randomUUID(), agentId: a.id, connectionId: c.id, createdAt: start - 86_400_000, expiresAt: null, revokedAt: null, createdBy: 'bench' });
  });
  const perSession = Math.floor(statements / sessions);
  let extra = statements - perSession * sessions;
  let done = 0;
  const batch = 200;
  for (let s0 = 0; s0 < sessions; s0 += batch) {
    const sealed = [];
    store.transaction(() => {
      for (let s = s0; s < Math.min(sessions, s0 + batch); s++) {
        const id = randomUUID();
        const a = agents[s % agents.length];
        const c = connections[(s * 7) % connections.length];
        const t0 = start + Math.floor((span * s) / sessions);
        const n = perSession + (extra-- > 0 ? 1 : 0);
        store.sessions.insert({ id, protocol: 'postgres', agentId: a.id, agentName: a.name, connectionId: c.id, connectionName: c.name, clientAddress: '10.0.0.5', tls: true, startedAt: t0, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
        const recs = [];
        for (let k = 0; k < n; k++) {
          const [sql, tag, rows] = SQL[(s + k) % SQL.length](done + k);
          const failed = (done + k) % 97 === 0;
          recs.push({ sessionId: id, seq: k + 1, protocol: k % 2 ? 'extended' : 'simple', sql, paramCount: k % 2, startedAt: t0 + k * 20, durationMs: 0.4 + (k % 13) / 10, commandTag: failed ? null : tag, rows: failed ? null : rows, errorCode: failed ? '42P01' : null });
        }
        store.statements.insertMany(recs);
        store.sessions.finish(id, { endedAt: t0 + n * 20 + 5, bytesIn: n * 120, bytesOut: n * 800, endReason: 'client_closed', statementCount: n });
        sealed.push({ id, a, c, at: t0 + n * 20 + 5, digest: sessionDigest(recs), n });
        done += n;
      }
    });
    // As the recorder does when a session ends: its digest into the chain (checkpoints every 100 events).
    for (const x of sealed) {
      clock = x.at;
      audit.append({ kind: 'session.recorded', actor: 'gatehouse', agentName: x.a.name, connectionName: x.c.name, sessionId: x.id, detail: { digest: x.digest, statements: x.n } });
    }
    if ((s0 / batch) % 10 === 0) log(`  seeded ${Math.min(sessions, s0 + batch).toLocaleString('en-US')} sessions, ${done.toLocaleString('en-US')} statements`);
  }
  audit.checkpoint();
  store.close();
  return { sessions, statements: done };
}

/**
 * Run a gatehouse command as its own process: wall time, peak RSS (from /usr/bin/time when present) and,
 * from the export's progress lines on stderr, the time spent in each phase.
 */
function timed(args) {
  const cli = path.join(root, 'bin/gatehouse.mjs');
  const useTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  // BENCH_CPU_PROF=DIR: V8 CPU profiles of each command into DIR (open them in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : [];
  const node = [process.execPath, ...prof, cli, ...args];
  const child = useTime ? spawn('/usr/bin/time', ['-f', 'GATEHOUSE_BENCH_RSS_KB=%M CPU=%U+%S', ...node]) : spawn(node[0], node.slice(1));
  let stdout = '';
  let stderr = '';
  const phases = [];
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const m of String(d).matchAll(/^([\w./-]+)\.\.\.$/gm)) phases.push({ phase: m[1], at: elapsed() });
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const seconds = elapsed();
      if (code !== 0) return reject(new Error(`gatehouse ${args[0]} failed: ${stderr || stdout}`));
      const rss = /GATEHOUSE_BENCH_RSS_KB=(\d+)/.exec(stderr)?.[1];
      const cpu = /CPU=([\d.]+)\+([\d.]+)/.exec(stderr);
      const split = phases.map((p, i) => `${p.phase} ${((phases[i + 1]?.at ?? seconds) - p.at).toFixed(1)} s`).join(', ');
      resolve({ seconds, rssMb: rss ? Number(rss) / 1024 : null, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : null, stdout, split });
    });
  });
}

function machine() {
  const cpu = os.cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`;
}

const f1 = (n) => n.toFixed(1);
/** CPU seconds (user + system) of a run: less sensitive than wall time to other work on a busy machine. */
const cpuOf = (r) => (r.cpuS === null ? 'n/a' : `${f1(r.cpuS)} s`);
const fmt = (n) => n.toLocaleString('en-US');

async function main() {
  const started = new Date();
  const load0 = os.loadavg()[0];
  log(`machine: ${machine()}; load average ${load0.toFixed(2)}`);
  log('building the CLI...');
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { stdio: 'inherit' });
  const work = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-evidence-'));
  temps.push(work);
  const lib = await loadGatehouse(work);
  const sizes = [
    { sessions: Math.max(1, Math.round(SESSIONS / 10)), statements: Math.max(1, Math.round(STATEMENTS / 10)) },
    { sessions: SESSIONS, statements: STATEMENTS },
  ];
  const rows = [];
  for (const size of sizes) {
    const keep = process.env.BENCH_DATA_DIR ? path.resolve(process.env.BENCH_DATA_DIR, `${size.sessions}-${size.statements}`) : null;
    const dataDir = keep ?? mkdtempSync(path.join(work, 'data-'));
    const t0 = Date.now();
    let seeded;
    if (keep && existsSync(path.join(keep, 'seeded.json'))) {
      log(`reusing the store in ${keep}`);
      seeded = JSON.parse(readFileSync(path.join(keep, 'seeded.json'), 'utf8'));
    } else {
      if (keep) {
        rmSync(keep, { recursive: true, force: true });
        mkdirSync(keep, { recursive: true });
      }
      log(`seeding ${fmt(size.sessions)} sessions, ${fmt(size.statements)} statements...`);
      seeded = seed(lib, dataDir, size.sessions, size.statements);
      if (keep) writeFileSync(path.join(keep, 'seeded.json'), JSON.stringify(seeded));
    }
    const seedS = (Date.now() - t0) / 1000;
    const dbMb = statSync(path.join(dataDir, 'gatehouse.db')).size / 2 ** 20;
    const pack = path.join(work, `pack-${size.statements}.zip`);
    log('exporting...');
    const exp = await timed(['export', 'evidence', '--period', '2026-10-01..2026-12-31', '--out', pack, '--data-dir', dataDir, '--json', '--progress']);
    const result = JSON.parse(exp.stdout);
    log(`  ${f1(exp.seconds)} s, peak RSS ${exp.rssMb ? f1(exp.rssMb) : 'n/a'} MiB, ${fmt(result.bytes)} bytes (${exp.split})`);
    log('verifying...');
    const ver = await timed(['verify', pack]);
    log(`  ${f1(ver.seconds)} s, peak RSS ${ver.rssMb ? f1(ver.rssMb) : 'n/a'} MiB: ${ver.stdout.trim().slice(0, 160)}...`);
    if (result.counts.statements !== seeded.statements) throw new Error(`the pack holds ${result.counts.statements} statements, ${seeded.statements} were seeded`);
    rows.push({ ...seeded, split: exp.split, seedS, dbMb, packMb: result.bytes / 2 ** 20, files: result.files, exp, ver });
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
    rmSync(pack, { force: true });
  }
  const big = rows[rows.length - 1];
  const ok = (s, target) => (s < target ? `< ${target} s ✓` : `> ${target} s ✗`);
  const lines = [
    `Machine: ${machine()}. Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load0.toFixed(2)} before and ${os.loadavg()[0].toFixed(2)} after (other work on the machine slows both).`,
    `Node ${process.versions.node}. Period 2026-10-01..2026-12-31, all agents; each command is its own process (\`gatehouse export evidence\` without a server, then \`gatehouse verify\`), wall time, CPU time (user + system, all threads) and peak RSS by /usr/bin/time.`,
    '',
    '| sessions | statements | store | pack (zip) | files | export | export CPU | export peak RSS | verify | verify CPU | verify peak RSS |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${fmt(r.sessions)} | ${fmt(r.statements)} | ${f1(r.dbMb)} MiB | ${f1(r.packMb)} MiB | ${fmt(r.files)} | ${f1(r.exp.seconds)} s | ${cpuOf(r.exp)} | ${r.exp.rssMb ? `${f1(r.exp.rssMb)} MiB` : 'n/a'} | ${f1(r.ver.seconds)} s | ${cpuOf(r.ver)} | ${r.ver.rssMb ? `${f1(r.ver.rssMb)} MiB` : 'n/a'} |`,
    ),
    '',
    ...rows.map((r) => `Export phases at ${fmt(r.statements)} statements: ${r.split}.`),
    '',
    `Targets at ${fmt(big.statements)} statements: export ${ok(big.exp.seconds, TARGET_EXPORT_S)}, verify ${ok(big.ver.seconds, TARGET_VERIFY_S)}. Peak RSS at ${fmt(rows[0].statements)} vs ${fmt(big.statements)} statements shows memory staying flat as data grows.`,
  ];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (writeDocs) {
    writeSection(text);
    log(`${path.relative(process.cwd(), docsFile)} updated`);
  }
}

/** Replace this benchmark's block in docs/benchmarks.md (adding the section when missing); other sections stay as they are. */
function writeSection(text) {
  const block = `${MARK_START}\n${text}\n${MARK_END}`;
  const heading = `## Evidence packs: \`npm run bench:evidence\`

What is measured: a store seeded with ${fmt(SESSIONS)} PostgreSQL sessions and ${fmt(STATEMENTS)} statements over a quarter
(12 agents, 3 connections, every session sealed into the audit chain), then \`gatehouse export evidence\` of the
quarter (CSV + JSON Lines of every session and statement, one recording per session, the audit chain segment,
report.html, signed manifest) and \`gatehouse verify\` of the pack (signature, the SHA-256 of every file, the chain,
every recording against its sealed digest). Rows are read in pages and streamed into the zip, so the peak memory
should not grow with the number of statements. \`npm run bench:evidence -- --write-docs\` replaces the table below.

`;
  const doc = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Benchmarks\n';
  const i = doc.indexOf(MARK_START);
  const j = doc.indexOf(MARK_END);
  if (i < 0 || j < i) writeFileSync(docsFile, `${doc.trimEnd()}\n\n${heading}${block}\n`);
  else writeFileSync(docsFile, doc.slice(0, i) + block + doc.slice(j + MARK_END.length));
}

main()
  .catch((err) => {
    log(`bench:evidence failed: ${err?.stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
