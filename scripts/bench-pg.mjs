// `npm run bench:pg`: pgbench -S through three doors to the same throwaway PostgreSQL, side by side in one
// run: direct, pgbouncer (session pooling) and Gatehouse (recording on). Prints a Markdown table with tps,
// average latency and the Gatehouse ratios; `--write-docs` puts it into docs/benchmarks.md.
//
// Env: BENCH_SECONDS (default 15) per pgbench run; BENCH_SCALE (default 10) for pgbench -i.
// Needs PostgreSQL server binaries, pgbench and psql; pgbouncer and Gatehouse columns say "n/a: why"
// when they can't run. Everything it starts is stopped at the end, on errors and on Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SECONDS = positiveInt(process.env.BENCH_SECONDS, 15);
const SCALE = positiveInt(process.env.BENCH_SCALE, 10);
const WARMUP_SECONDS = Math.min(3, SECONDS);
const MODES = ['simple', 'extended', 'prepared'];
const CLIENTS = [1, 8];
const writeDocs = process.argv.includes('--write-docs');
const asRoot = process.getuid?.() === 0;
const docsFile = path.join(root, 'docs/benchmarks.md');
const MARK_START = '<!-- bench:pg:start -->';
const MARK_END = '<!-- bench:pg:end -->';

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const log = (line) => process.stderr.write(line + '\n');

// ---- cleanup: everything started registers how to stop it; run last-in first-out, once ----------------

const cleanups = [];
let cleaning = null;
let currentBench = null;

function cleanup() {
  cleaning ??= (async () => {
    currentBench?.kill('SIGINT');
    currentBench = null;
    while (cleanups.length) {
      try {
        await cleanups.pop()();
      } catch (err) {
        log(`cleanup: ${err.message}`);
      }
    }
  })();
  return cleaning;
}

// With the terminal gone (SIGHUP) writes to it fail: that must not stop the cleanup.
process.stderr.on('error', () => {});
process.stdout.on('error', () => {});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping everything...`);
    void cleanup().then(() => process.exit(130));
  });
}

// ---- processes and files ------------------------------------------------------------------------------

function postgresIds() {
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A temp dir (owned by the postgres OS user when we are root), removed at cleanup. */
function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run a PostgreSQL tool to completion, as the postgres OS user when we are root (servers refuse root). */
function asPostgres(cmd, args, cwd) {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port, timeoutMs = 15_000) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => (Date.now() - t0 > timeoutMs ? reject(new Error(`nothing listens on port ${port} after ${timeoutMs / 1000} s`)) : setTimeout(attempt, 100)));
    };
    attempt();
  });
}

/** Stop a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function findPgBin() {
  const base = '/usr/lib/postgresql';
  const dirs = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)).map((v) => `${base}/${v}/bin`) : [];
  try {
    dirs.unshift(execFileSync('pg_config', ['--bindir'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
  } catch {
    // no pg_config: the Debian layout above
  }
  const found = dirs.find((d) => existsSync(`${d}/initdb`) && existsSync(`${d}/pg_ctl`));
  if (!found) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql');
  return found;
}

// ---- the three doors ----------------------------------------------------------------------------------

/** A throwaway PostgreSQL with default settings (only where it listens changes), and pgbench's tables. */
async function startPostgres() {
  const bin = findPgBin();
  const dir = tempDir('gh-bench-pg-');
  const data = path.join(dir, 'data');
  asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], dir);
  const port = await freePort();
  appendFileSync(path.join(data, 'postgresql.conf'), `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\n`);
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  asPostgres(`${bin}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', 'start'], dir);
  cleanups.push(() => asPostgres(`${bin}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop'], dir));
  const psql = (sql) => asPostgres('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-q', '-At', '-c', sql], dir);
  const password = 'bench-' + Math.random().toString(36).slice(2);
  psql(`CREATE ROLE bench LOGIN PASSWORD '${password}'`);
  psql('CREATE DATABASE bench OWNER bench');
  log(`pgbench -i -s ${SCALE}...`);
  execFileSync('pgbench', ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-p', String(port), '-U', 'bench', 'bench'], {
    env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const version = psql('SHOW server_version').trim();
  return { name: 'direct', port, user: 'bench', db: 'bench', password, version };
}

/** pgbouncer in session pooling mode with SCRAM both ways (password from a userlist), as the postgres user. */
async function startPgbouncer(pg) {
  const version = /PgBouncer (\S+)/.exec(execFileSync('pgbouncer', ['--version']).toString())?.[1] ?? '?';
  const dir = tempDir('gh-bench-bouncer-');
  const port = await freePort();
  writeFileSync(path.join(dir, 'userlist.txt'), `"bench" "${pg.password}"\n`, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `bench = host=127.0.0.1 port=${pg.port} dbname=bench`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${dir}/userlist.txt`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 20',
      `logfile = ${dir}/pgbouncer.log`,
      '',
    ].join('\n'),
  );
  if (asRoot) {
    const { uid, gid } = postgresIds();
    for (const f of ['userlist.txt', 'pgbouncer.ini']) chownSync(path.join(dir, f), uid, gid);
  }
  // -u: pgbouncer refuses to run as root and switches user itself, so the child we hold is pgbouncer.
  const child = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  cleanups.push(() => stopChild(child));
  await Promise.race([waitForPort(port), new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`pgbouncer exited (${c}): ${tail(path.join(dir, 'pgbouncer.log'))}`))))]);
  return { name: 'pgbouncer', port, user: 'bench', db: 'bench', password: pg.password, version };
}

function tail(file, lines = 2) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** `gatehouse serve` on free ports, with connection `bench`, agent `bench-agent` and a grant made through the CLI. */
/** The "realistic policy" of the policy column: guardrails, an approval rule that pgbench never triggers, masking. */
const BENCH_POLICY = `version: 1
presets: [destructive]
rules:
  - name: no-history-writes
    match: { tables: [pgbench_history], access: write }
    action: approve
  - name: branches-read-only
    match: { tables: [pgbench_branches, pgbench_tellers], access: write }
    action: block
masking:
  - name: pii
    columns: ["*.email", "*.ssn", "*.card*"]
    strategy: hash
  - name: detectors
    detectors: [email, payment_card, iban, us_ssn, jwt, aws_access_key, api_token]
    strategy: redact
`;

async function startGatehouse(pg, opts = {}) {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cli = path.join(root, 'bin/gatehouse.mjs');
  const dataDir = tempDir('gh-bench-gatehouse-');
  const gh = (args, input) => execFileSync(process.execPath, [cli, ...args, '--data-dir', dataDir], { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  const version = gh(['--version']).trim();
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--pg-port', '0', '--console-port', '0', '--ssh-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopChild(child));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('gatehouse serve printed no ports in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /postgres\s+\S+:(\d+)/.exec(out);
      if (m && /console/.test(out)) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`gatehouse serve exited (${code}): ${(stderr || out).trim().split('\n').pop()}`));
    });
  });
  gh(['connection', 'add', 'bench', '--host', '127.0.0.1', '--port', String(pg.port), '--database', 'bench', '--user', 'bench', '--tls-mode', 'disable', '--password-stdin'], pg.password);
  const secret = JSON.parse(gh(['agent', 'add', 'bench-agent', '--json'])).secret;
  if (!secret) throw new Error('`gatehouse agent add --json` printed no secret');
  gh(['grant', 'add', '--agent', 'bench-agent', '--connection', 'bench']);
  if (opts.policy) {
    const file = path.join(dataDir, 'policy.yaml');
    writeFileSync(file, opts.policy);
    gh(['policy', 'apply', file]);
  }
  return { name: opts.name ?? 'gatehouse', port, user: 'bench-agent', db: 'bench', password: secret, version, pid: child.pid };
}

/** One line saying why a command or step failed: the error line of its stderr, else the error's message. */
function reason(err) {
  if (err.code === 'ENOENT') return `${err.path ?? 'a command'} is not installed`;
  return errorLine(String(err.stderr ?? '')) ?? err.message;
}

/** The first line of a tool's stderr that says what went wrong, else its last line. */
function errorLine(text) {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error|fatal|failed/i.test(l)) ?? lines.pop() ?? null;
}

/** Start a door; a failure becomes `{ name, error }` so the table says "n/a: why" instead of stopping the run. */
async function tryStart(name, start) {
  try {
    return await start();
  } catch (err) {
    const why = reason(err);
    log(`${name}: n/a: ${why}`);
    return { name, error: why };
  }
}

// ---- pgbench ------------------------------------------------------------------------------------------

/** One pgbench -S run; resolves to { tps, lat } or { error }. */
function pgbench(target, mode, clients, seconds) {
  const args = ['-n', '-S', '-M', mode, '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), '-h', '127.0.0.1', '-p', String(target.port), '-U', target.user, target.db];
  if (cleaning) return Promise.resolve({ error: 'stopped' });
  return new Promise((resolve) => {
    const child = spawn('pgbench', args, { env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: 'disable' }, stdio: ['ignore', 'pipe', 'pipe'] });
    currentBench = child;
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      currentBench = null;
      const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
      const lat = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
      if (code === 0 && tps > 0 && lat > 0) resolve({ tps, lat });
      else resolve({ error: errorLine(err) ?? `pgbench exited ${code ?? 'on a signal'}` });
    });
  });
}

/** User + system CPU seconds a process has used so far (Linux /proc), or null. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

// ---- report -------------------------------------------------------------------------------------------

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return `${cores} cores (nproc), ${cpu.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
}

const f0 = (n) => n.toFixed(0);
const f3 = (n) => n.toFixed(3);
const signed = (n) => (n >= 0 ? '+' : '') + f3(n);

function table(rows, targets, context) {
  const [direct, bouncer, gate, policed] = targets.map((t) => t.name);
  const cell = (r, fmt) => (r && !r.error ? fmt(r) : r?.error ? `n/a: ${r.error.slice(0, 60)}` : 'n/a');
  const ratio = (a, b, fmt) => (a && b && !a.error && !b.error ? fmt(a, b) : 'n/a');
  const lines = [
    context,
    '',
    `| mode | clients | ${direct} tps | ${bouncer} tps | ${gate} tps | ${policed} tps | ${direct} ms | ${bouncer} ms | ${gate} ms | ${policed} ms | gatehouse/direct tps | gatehouse/pgbouncer tps | gatehouse − pgbouncer ms | policy/no policy tps | ${gate} CPU µs/stmt | ${policed} CPU µs/stmt |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const [d, b, g, p] = [r[direct], r[bouncer], r[gate], r[policed]];
    const tps = (x) => cell(x, (v) => f0(v.tps));
    const lat = (x) => (x && !x.error ? f3(x.lat) : 'n/a');
    const cpu = (x) => (x && !x.error && x.cpuUs !== undefined ? f0(x.cpuUs) : 'n/a');
    lines.push(
      `| ${r.mode} | ${r.clients} | ${tps(d)} | ${tps(b)} | ${tps(g)} | ${tps(p)} | ${lat(d)} | ${lat(b)} | ${lat(g)} | ${lat(p)} | ${ratio(g, d, (x, y) => (x.tps / y.tps).toFixed(2))} | ${ratio(g, b, (x, y) => (x.tps / y.tps).toFixed(2))} | ${ratio(g, b, (x, y) => signed(x.lat - y.lat))} | ${ratio(p, g, (x, y) => (x.tps / y.tps).toFixed(2))} | ${cpu(g)} | ${cpu(p)} |`,
    );
  }
  for (const t of targets) if (t.error) lines.push('', `${t.name}: n/a: ${t.error}`);
  return lines.join('\n');
}

const DOC_INTRO = `# Benchmarks

Every number here comes from a script in \`scripts/\` that runs Gatehouse and its baselines side by side in
one run and prints the ratios. Re-run it on your own machine; absolute numbers depend on the machine, the
ratios are what matter.

## PostgreSQL gateway: \`npm run bench:pg\`

What is measured: \`pgbench -S\` (select-only) with 1 client and with 8 clients (2 threads), in the simple,
extended and prepared query modes, through three doors to the same throwaway PostgreSQL (default settings,
scale 10): **direct**, **pgbouncer** in session pooling mode, **Gatehouse** with recording on, and
**Gatehouse+policy** with a realistic policy loaded (the destructive-SQL preset, table rules, and masking with
column rules and seven value detectors, so every result row is inspected). All use
TCP on 127.0.0.1 and SCRAM-SHA-256, no TLS. Runs are interleaved per configuration so machine drift hits
all three alike; tps excludes connection time.

How to run: \`npm run bench:pg\` prints the table; \`npm run bench:pg -- --write-docs\` also replaces it below.
\`BENCH_SECONDS\` (default 15) sets the length of each run. Needs PostgreSQL, pgbench and pgbouncer.

`;

/** Replace the table between the markers in docs/benchmarks.md, creating the file or the section if needed. */
function writeTableToDocs(text) {
  const block = `${MARK_START}\n${text}\n${MARK_END}`;
  if (!existsSync(docsFile)) {
    writeFileSync(docsFile, `${DOC_INTRO}${block}\n`);
    return;
  }
  const doc = readFileSync(docsFile, 'utf8');
  const i = doc.indexOf(MARK_START);
  const j = doc.indexOf(MARK_END);
  if (i < 0 || j < i) writeFileSync(docsFile, `${doc.trimEnd()}\n\n## PostgreSQL gateway: \`npm run bench:pg\`\n\n${block}\n`);
  else writeFileSync(docsFile, doc.slice(0, i) + block + doc.slice(j + MARK_END.length));
}

// ---- main ---------------------------------------------------------------------------------------------

async function main() {
  const started = new Date();
  const load0 = os.loadavg()[0];
  log(`machine: ${machine()}`);
  log(`${SECONDS} s per run, pgbench scale ${SCALE}, load average ${load0.toFixed(2)}`);
  const pg = await startPostgres();
  const bouncer = await tryStart('pgbouncer', () => startPgbouncer(pg));
  const gatehouse = await tryStart('gatehouse', () => startGatehouse(pg));
  const policed = await tryStart('gatehouse+policy', () => startGatehouse(pg, { name: 'gatehouse+policy', policy: BENCH_POLICY }));
  const targets = [pg, bouncer, gatehouse, policed];
  const live = targets.filter((t) => !t.error);

  log(`warm-up: ${WARMUP_SECONDS} s per door at 8 clients...`);
  for (const t of live) {
    const r = await pgbench(t, 'simple', 8, WARMUP_SECONDS);
    if (cleaning) return;
    if (r.error) log(`warm-up ${t.name}: ${r.error}`);
  }

  const rows = [];
  for (const clients of CLIENTS) {
    for (const mode of MODES) {
      const row = { mode, clients };
      // Interleaved per configuration, so drift (other load, thermal, caches) hits all three alike.
      for (const t of live) {
        const cpu0 = t.pid ? cpuSeconds(t.pid) : null;
        row[t.name] = await pgbench(t, mode, clients, SECONDS);
        // Gateway CPU per statement: what Gatehouse itself spends, which machine load barely changes.
        const r0 = row[t.name];
        const cpu1 = t.pid ? cpuSeconds(t.pid) : null;
        if (cpu0 !== null && cpu1 !== null && r0 && !r0.error) r0.cpuUs = ((cpu1 - cpu0) * 1e6) / (r0.tps * SECONDS);
        if (cleaning) return; // interrupted: no table from a cut-short run
        const r = row[t.name];
        log(`${mode.padEnd(8)} c=${clients} ${t.name.padEnd(9)} ${r.error ? `n/a: ${r.error}` : `${f0(r.tps).padStart(7)} tps  ${f3(r.lat)} ms`}`);
      }
      rows.push(row);
    }
  }

  const versions = `PostgreSQL ${pg.version}, pgbouncer ${bouncer.version ?? 'n/a'}, Gatehouse ${gatehouse.version ?? 'n/a'} on Node ${process.versions.node}`;
  const context = [
    `Machine: ${machine()}. Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load0.toFixed(2)} before and ${os.loadavg()[0].toFixed(2)} after.`,
    `${versions}. pgbench -S, scale ${SCALE}, ${SECONDS} s per run, 1 client (-j 1) and 8 clients (-j 2), TCP on 127.0.0.1, SCRAM, no TLS; Gatehouse records every statement; gatehouse+policy also parses and decides every statement and masks every result row.`,
  ].join('\n');
  const text = table(rows, targets, context);
  process.stdout.write(text + '\n');
  if (writeDocs) {
    writeTableToDocs(text);
    log(`${path.relative(process.cwd(), docsFile)} updated`);
  }
}

main()
  .catch((err) => {
    log(`bench:pg failed: ${reason(err)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
