// `npm run bench:pg`: pgbench -S through three doors to the same PostgreSQL, side by side in one run:
// direct, pgbouncer (session pooling) and Gatehouse (recording on). Prints a Markdown table with tps,
// average latency and the Gatehouse ratios; `--write-docs` puts it into docs/benchmarks.md.
//
// Env: BENCH_SECONDS (default 15) per run; BENCH_SCALE (default 10) for pgbench -i.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SCALE = Number(process.env.BENCH_SCALE ?? 10);
const writeDocs = process.argv.includes('--write-docs');
const asRoot = process.getuid?.() === 0;
const cleanups = [];

const pgBin = (() => {
  const dirs = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : [];
  const found = dirs.find((d) => existsSync(`${d}/initdb`));
  if (!found) throw new Error('PostgreSQL server binaries not found');
  return found;
})();

function asPostgres(cmd, args, opts = {}) {
  return asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], opts) : execFileSync(cmd, args, opts);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function tempDir(prefix) {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(d, uid, gid);
  }
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function startPostgres() {
  const dir = tempDir('gh-bench-pg-');
  const data = path.join(dir, 'data');
  asPostgres(`${pgBin}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], { stdio: 'ignore' });
  const port = await freePort();
  appendFileSync(
    path.join(data, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nmax_connections = 100\nshared_buffers = 128MB\npassword_encryption = 'scram-sha-256'\n`,
  );
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  asPostgres(`${pgBin}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'log'), '-w', 'start'], { stdio: 'ignore' });
  cleanups.unshift(() => {
    try {
      asPostgres(`${pgBin}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
    } catch {}
  });
  const psql = (sql, db = 'postgres') => execFileSync('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-At', '-c', sql]).toString();
  const password = 'bench-' + Math.random().toString(36).slice(2);
  psql(`CREATE ROLE bench LOGIN PASSWORD '${password}'`);
  psql('CREATE DATABASE bench OWNER bench');
  execFileSync('pgbench', ['-i', '-q', '-s', String(SCALE), '-h', dir, '-p', String(port), '-U', 'bench', 'bench'], { stdio: 'ignore' });
  return { port, password };
}

async function startPgbouncer(pg) {
  const dir = tempDir('gh-bench-bouncer-');
  const port = await freePort();
  writeFileSync(path.join(dir, 'userlist.txt'), `"bench" "${pg.password}"\n`);
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
      `pidfile = ${dir}/pgbouncer.pid`,
      '',
    ].join('\n'),
  );
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const child = asRoot ? spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', `${dir}/pgbouncer.ini`], { stdio: 'ignore' }) : spawn('pgbouncer', [`${dir}/pgbouncer.ini`], { stdio: 'ignore' });
  cleanups.unshift(() => {
    try {
      const pid = Number(readFileSync(`${dir}/pgbouncer.pid`, 'utf8'));
      process.kill(pid, 'SIGTERM');
    } catch {}
    child.kill();
  });
  await waitForPort(port);
  return { port };
}

async function startGatehouse(pg) {
  const dataDir = tempDir('gh-bench-gatehouse-');
  const gh = (args, input) => execFileSync(process.execPath, [path.join(root, 'bin/gatehouse.mjs'), ...args, '--data-dir', dataDir], { input }).toString();
  execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')]);
  const child = spawn(process.execPath, [path.join(root, 'bin/gatehouse.mjs'), 'serve', '--data-dir', dataDir, '--pg-port', '0', '--console-port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' },
  });
  cleanups.unshift(() => child.kill('SIGTERM'));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /postgres\s+\S+:(\d+)/.exec(out);
      if (m && /console/.test(out)) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`gatehouse serve exited (${c}): ${out}`)));
  });
  gh(['connection', 'add', 'bench', '--host', '127.0.0.1', '--port', String(pg.port), '--database', 'bench', '--user', 'bench', '--tls-mode', 'disable', '--password-stdin'], pg.password);
  const secret = JSON.parse(gh(['agent', 'add', 'bench-agent', '--json'])).secret;
  gh(['grant', 'add', '--agent', 'bench-agent', '--connection', 'bench']);
  return { port, secret };
}

function waitForPort(port) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tryOnce = () => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve();
      });
      s.on('error', () => (Date.now() - t0 > 10_000 ? reject(new Error(`port ${port} never opened`)) : setTimeout(tryOnce, 100)));
    };
    tryOnce();
  });
}

function pgbench(target, mode, clients, seconds) {
  const args = ['-n', '-S', '-M', mode, '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), '-h', '127.0.0.1', '-p', String(target.port), '-U', target.user, target.db];
  const r = spawnSync('pgbench', args, { env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: 'disable' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbench against ${target.name} failed: ${r.stderr.trim().split('\n').pop()}`);
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1]);
  const lat = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1]);
  return { tps, lat };
}

async function main() {
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
    } catch {
      return os.cpus()[0]?.model;
    }
  })();
  console.error(`machine: ${os.cpus().length} cores, ${cpu}; ${SECONDS} s per run, pgbench scale ${SCALE}`);
  const pg = await startPostgres();
  const bouncer = await startPgbouncer(pg);
  const gh = await startGatehouse(pg);
  const targets = [
    { name: 'direct', port: pg.port, user: 'bench', db: 'bench', password: pg.password },
    { name: 'pgbouncer', port: bouncer.port, user: 'bench', db: 'bench', password: pg.password },
    { name: 'gatehouse', port: gh.port, user: 'bench-agent', db: 'bench', password: gh.secret },
  ];
  for (const t of targets) pgbench(t, 'simple', 2, 2); // warm-up: caches, JIT, pools

  const rows = [];
  for (const clients of [1, 8]) {
    for (const mode of ['simple', 'extended', 'prepared']) {
      const r = {};
      // Interleaved per configuration so drift hits all three alike.
      for (const t of targets) {
        r[t.name] = pgbench(t, mode, clients, SECONDS);
        console.error(`${mode.padEnd(8)} c=${clients} ${t.name.padEnd(9)} ${r[t.name].tps.toFixed(0).padStart(7)} tps  ${r[t.name].lat.toFixed(3)} ms`);
      }
      rows.push({ mode, clients, ...r });
    }
  }

  const f0 = (n) => n.toFixed(0);
  const f3 = (n) => n.toFixed(3);
  const lines = [
    `Machine: ${os.cpus().length} cores (${cpu}), ${new Date().toISOString().slice(0, 10)}. pgbench -S, scale ${SCALE}, ${SECONDS} s per run, TCP on 127.0.0.1, SCRAM everywhere, no TLS. Gatehouse records every statement (journal write before each acknowledgment).`,
    '',
    '| mode | clients | direct tps | pgbouncer tps | gatehouse tps | direct ms | pgbouncer ms | gatehouse ms | gatehouse/direct tps | gatehouse/pgbouncer tps | gatehouse − pgbouncer ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.clients} | ${f0(r.direct.tps)} | ${f0(r.pgbouncer.tps)} | ${f0(r.gatehouse.tps)} | ${f3(r.direct.lat)} | ${f3(r.pgbouncer.lat)} | ${f3(r.gatehouse.lat)} | ${(r.gatehouse.tps / r.direct.tps).toFixed(2)} | ${(r.gatehouse.tps / r.pgbouncer.tps).toFixed(2)} | ${(r.gatehouse.lat - r.pgbouncer.lat >= 0 ? '+' : '') + f3(r.gatehouse.lat - r.pgbouncer.lat)} |`,
    ),
  ];
  const table = lines.join('\n');
  console.log(table);
  if (writeDocs) {
    const file = path.join(root, 'docs/benchmarks.md');
    const doc = readFileSync(file, 'utf8');
    const start = '<!-- bench:pg:start -->';
    const end = '<!-- bench:pg:end -->';
    const i = doc.indexOf(start);
    const j = doc.indexOf(end);
    if (i < 0 || j < 0) throw new Error('docs/benchmarks.md lacks the bench:pg markers');
    writeFileSync(file, doc.slice(0, i + start.length) + '\n' + table + '\n' + doc.slice(j));
    console.error('docs/benchmarks.md updated');
  }
}

const cleanup = () => {
  for (const c of cleanups.splice(0)) {
    try {
      c();
    } catch {}
  }
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
main()
  .catch((err) => {
    console.error(`bench:pg failed: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
