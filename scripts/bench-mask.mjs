// `npm run bench:mask`: a result of 100,000 rows x 4 text columns (names, emails, card numbers, free text)
// fetched directly from a throwaway PostgreSQL and through `gatehouse serve` (recording on), once by an agent
// without masking and once by an agent whose policy turns every value detector on (`gatehouse policy
// apply`), side by side in one run, interleaved. Prints a Markdown table with the median fetch time per
// door and the ratios; target (issue 3): masked at most 1.5x direct. `--write-docs` puts the table into
// docs/benchmarks.md.
//
// The fetch is node-postgres on an open connection (connection time excluded), simple protocol, rows as
// arrays. Env: BENCH_ROWS (default 100000), BENCH_ROUNDS (default 7). Needs PostgreSQL server binaries and
// psql. Everything it starts is stopped at the end, on errors and on Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROWS = positiveInt(process.env.BENCH_ROWS, 100_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 7);
const writeDocs = process.argv.includes('--write-docs');
const asRoot = process.getuid?.() === 0;
const docsFile = path.join(root, 'docs/benchmarks.md');
const MARK_START = '<!-- bench:mask:start -->';
const MARK_END = '<!-- bench:mask:end -->';
const QUERY = 'SELECT name, email, card, note FROM people';
const DETECTORS = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6', 'jwt', 'aws_access_key', 'pem_private_key', 'api_token'];

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const log = (line) => process.stderr.write(line + '\n');

// ---- cleanup ------------------------------------------------------------------------------------------

const cleanups = [];
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
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
process.stderr.on('error', () => {});
process.stdout.on('error', () => {});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping everything...`);
    void cleanup().then(() => process.exit(130));
  });
}

// ---- processes and files (as in bench-pg.mjs) ---------------------------------------------------------

function postgresIds() {
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function asPostgres(cmd, args, cwd) {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString();
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

// ---- data ---------------------------------------------------------------------------------------------

/** Deterministic rows: a name, an email, a Luhn-valid card number (grouped by 4) and a sentence. */
function csvRows() {
  let seed = 7;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj'];
  const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Lopez', 'Wilson'];
  const WORDS = 'the order was shipped on time and the customer asked for a refund because the parcel arrived damaged please call back later about the invoice'.split(' ');
  const card = () => {
    const d = [4, ...Array.from({ length: 14 }, () => rand(10))];
    let sum = 0;
    for (let i = 0; i < 15; i++) {
      let x = d[14 - i];
      if (i % 2 === 0) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    d.push((10 - (sum % 10)) % 10);
    return d.join('').replace(/(\d{4})(?=\d)/g, '$1 ');
  };
  const lines = [];
  for (let i = 1; i <= ROWS; i++) {
    const first = FIRST[rand(FIRST.length)];
    const last = LAST[rand(LAST.length)];
    const note = Array.from({ length: 8 + rand(10) }, () => WORDS[rand(WORDS.length)]).join(' ');
    lines.push(`${i},${first} ${last},${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com,${card()},${note}`);
  }
  return lines.join('\n') + '\n';
}

// ---- doors --------------------------------------------------------------------------------------------

async function startPostgres() {
  const bin = findPgBin();
  const dir = tempDir('gh-bench-mask-pg-');
  const data = path.join(dir, 'data');
  asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], dir);
  const port = await freePort();
  appendFileSync(path.join(data, 'postgresql.conf'), `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\n`);
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  asPostgres(`${bin}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', 'start'], dir);
  cleanups.push(() => asPostgres(`${bin}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop'], dir));
  const psql = (sql, db = 'postgres') => asPostgres('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], dir);
  const password = 'bench-' + Math.random().toString(36).slice(2);
  psql(`CREATE ROLE bench LOGIN PASSWORD '${password}'`);
  psql('CREATE DATABASE bench OWNER bench');
  log(`seeding ${ROWS.toLocaleString('en-US')} rows...`);
  const csv = path.join(dir, 'people.csv');
  writeFileSync(csv, csvRows());
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(csv, uid, gid);
  }
  psql('CREATE TABLE people (id int PRIMARY KEY, name text, email text, card text, note text)', 'bench');
  psql(`\\copy people FROM '${csv}' CSV`, 'bench');
  psql('ALTER TABLE people OWNER TO bench', 'bench');
  psql('VACUUM ANALYZE people', 'bench');
  const version = psql('SHOW server_version').trim();
  return { name: 'direct', port, user: 'bench', db: 'bench', password, version };
}

/** `gatehouse serve`, connection `bench`, agents bench-plain and bench-masked, and the masking policy. */
async function startGatehouse(pg) {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cli = path.join(root, 'bin/gatehouse.mjs');
  const dataDir = tempDir('gh-bench-mask-gatehouse-');
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
  const agent = (name) => {
    const secret = JSON.parse(gh(['agent', 'add', name, '--json'])).secret;
    if (!secret) throw new Error('`gatehouse agent add --json` printed no secret');
    gh(['grant', 'add', '--agent', name, '--connection', 'bench']);
    return secret;
  };
  const plain = { name: 'gatehouse', port, user: 'bench-plain', db: 'bench', password: agent('bench-plain'), version };
  const inert = { name: 'gatehouse inert', port, user: 'bench-inert', db: 'bench', password: agent('bench-inert'), version };
  const masked = { name: 'gatehouse masked', port, user: 'bench-masked', db: 'bench', password: agent('bench-masked'), version };
  // bench-masked: every value detector. bench-inert: a column rule that matches no column, so the relay
  // inspects every DataRow but nothing is masked (separates the relay's per-row cost from the detectors').
  const policy = path.join(dataDir, 'bench-policy.yaml');
  writeFileSync(
    policy,
    [
      'version: 1',
      'masking:',
      '  - name: bench-pii',
      '    scope:',
      '      agents: [bench-masked]',
      `    detectors: [${DETECTORS.join(', ')}]`,
      '    strategy: redact',
      '  - name: bench-inert',
      '    scope:',
      '      agents: [bench-inert]',
      '    columns: [no_such_column]',
      '    strategy: redact',
      '',
    ].join('\n'),
  );
  try {
    gh(['policy', 'apply', policy]);
  } catch (err) {
    const error = `gatehouse policy apply failed: ${reason(err)}`;
    return { plain, inert: { ...inert, error }, masked: { ...masked, error } };
  }
  return { plain, inert, masked };
}

function reason(err) {
  if (err.code === 'ENOENT') return `${err.path ?? 'a command'} is not installed`;
  const lines = String(err.stderr ?? '').trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error|fatal|failed|gatehouse:/i.test(l)) ?? lines.pop() ?? err.message;
}

// ---- the fetch ----------------------------------------------------------------------------------------

async function connect(door) {
  const client = new pg.Client({ host: '127.0.0.1', port: door.port, user: door.user, password: door.password, database: door.db, ssl: false });
  await client.connect();
  cleanups.push(() => client.end().catch(() => {}));
  return client;
}

/** One fetch of the whole result: wall time in ms, and how many emails came back masked. */
async function fetchOnce(client) {
  const t0 = process.hrtime.bigint();
  const r = await client.query({ text: QUERY, rowMode: 'array' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${r.rows.length}`);
  let masked = 0;
  for (const row of r.rows) if (!String(row[1]).includes('@')) masked++;
  return { ms, masked };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- main ---------------------------------------------------------------------------------------------

async function main() {
  const started = new Date();
  const load0 = os.loadavg()[0];
  const direct = await startPostgres();
  let doors = [direct];
  try {
    const gh = await startGatehouse(direct);
    doors = [direct, gh.plain, gh.inert, gh.masked];
  } catch (err) {
    for (const name of ['gatehouse', 'gatehouse inert', 'gatehouse masked']) doors.push({ name, error: reason(err) });
  }
  const live = [];
  for (const door of doors) {
    if (door.error) continue;
    try {
      live.push({ door, client: await connect(door), times: [], masked: 0 });
    } catch (err) {
      door.error = err.message;
    }
  }
  for (const d of doors) if (d.error) log(`${d.name}: n/a: ${d.error}`);

  log('warm-up...');
  for (const l of live) await fetchOnce(l.client);
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, so drift (other load on the machine) hits every door alike.
    for (const l of live) {
      if (cleaning) return;
      const { ms, masked } = await fetchOnce(l.client);
      l.times.push(ms);
      l.masked = masked;
      log(`round ${r + 1} ${l.door.name.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms${masked ? `  (${masked} emails masked)` : ''}`);
    }
  }

  const byName = Object.fromEntries(live.map((l) => [l.door.name, l]));
  const med = (name) => (byName[name] ? median(byName[name].times) : null);
  const d = med('direct');
  const lines = [
    `Machine: ${os.availableParallelism?.() ?? os.cpus().length} cores, ${os.cpus()[0]?.model?.trim() ?? 'CPU'}. Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load0.toFixed(2)} before and ${os.loadavg()[0].toFixed(2)} after.`,
    `PostgreSQL ${direct.version}, Gatehouse ${doors[1]?.version ?? 'n/a'} on Node ${process.versions.node}. \`${QUERY}\`: ${ROWS.toLocaleString('en-US')} rows x 4 text columns, node-postgres on an open connection, median of ${ROUNDS} interleaved rounds. Recording on. inert = masking active but nothing to mask (a column rule matching no column: the relay's per-row cost); masked = all ${DETECTORS.length} value detectors, redact (every row has an email and a card number).`,
    '',
    '| door | median ms | rows/s | vs direct | emails masked |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const door of doors) {
    const l = byName[door.name];
    if (!l) {
      lines.push(`| ${door.name} | n/a: ${String(door.error ?? 'not run').slice(0, 80)} | | | |`);
      continue;
    }
    const m = median(l.times);
    lines.push(`| ${door.name} | ${m.toFixed(0)} | ${Math.round(ROWS / (m / 1000)).toLocaleString('en-US')} | ${d ? (m / d).toFixed(2) + 'x' : 'n/a'} | ${l.masked.toLocaleString('en-US')} |`);
  }
  const maskedRun = byName['gatehouse masked'];
  if (maskedRun && maskedRun.masked !== ROWS) lines.push('', `Warning: only ${maskedRun.masked} of ${ROWS} emails came back masked: the policy did not apply to every row.`);
  lines.push('', 'Target (issue 3): gatehouse masked at most 1.5x direct.');
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (writeDocs) {
    const block = `${MARK_START}\n${text}\n${MARK_END}`;
    const doc = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Benchmarks\n';
    const i = doc.indexOf(MARK_START);
    const j = doc.indexOf(MARK_END);
    if (i < 0 || j < i) writeFileSync(docsFile, `${doc.trimEnd()}\n\n## Result masking: \`npm run bench:mask\`\n\n${block}\n`);
    else writeFileSync(docsFile, doc.slice(0, i) + block + doc.slice(j + MARK_END.length));
    log(`${path.relative(process.cwd(), docsFile)} updated`);
  }
}

main()
  .catch((err) => {
    log(`bench:mask failed: ${reason(err)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
