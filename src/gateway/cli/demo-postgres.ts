import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './cli-io';

/** A throwaway local PostgreSQL for the demo. */
export interface DemoPostgres {
  /** The temp dir holding the cluster, its socket and its log; removed by stop(). */
  dir: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Stop the server and remove its dir. Synchronous (usable from an exit handler) and idempotent. */
  stop(): void;
}

/** Where PostgreSQL's server binaries usually live, most specific first. */
function candidateBinDirs(): string[] {
  const dirs: string[] = [];
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0) dirs.push(fromConfig.stdout.trim());
  // Debian/Ubuntu (/usr/lib/postgresql/15/bin), Homebrew (/opt/homebrew/opt/postgresql@16/bin), newest first.
  for (const base of ['/usr/lib/postgresql', '/opt/homebrew/opt', '/usr/local/opt']) {
    if (!existsSync(base)) continue;
    const versions = readdirSync(base).filter((v) => base === '/usr/lib/postgresql' || v.startsWith('postgresql'));
    for (const v of versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))) dirs.push(path.join(base, v, 'bin'));
  }
  dirs.push('/Applications/Postgres.app/Contents/Versions/latest/bin', '/opt/homebrew/bin', '/usr/local/bin', '/usr/local/pgsql/bin');
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  return dirs;
}

/** Find PostgreSQL's server binaries (initdb, pg_ctl) on this machine, or null. */
export function findPostgresBin(): string | null {
  return candidateBinDirs().find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl'))) ?? null;
}

/** A port that was free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs a PostgreSQL tool, as the `postgres` OS user when we are root (PostgreSQL refuses to run as root). */
type Runner = (cmd: string, args: string[], input?: string) => void;

function makeRunner(dir: string): Runner {
  const asRoot = process.getuid?.() === 0;
  // cwd: the postgres user may not be allowed into the caller's working directory.
  const opts = (input?: string) => ({ input, cwd: dir, stdio: 'pipe' as const });
  return (cmd, args, input) => {
    try {
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], opts(input));
      else execFileSync(cmd, args, opts(input));
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
      throw new CliError(`${path.basename(cmd)} failed${stderr ? `: ${stderr.split('\n').slice(-3).join(' ')}` : ''}`);
    }
  };
}

/** A temp dir for the cluster, owned by the `postgres` OS user when we are root. */
function makeClusterDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-demo-pg-'));
  if (process.getuid?.() !== 0) return dir;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
  } catch {
    rmSync(dir, { recursive: true, force: true });
    throw new CliError('running as root, the demo needs a "postgres" OS user to run PostgreSQL as (or run it as a normal user)');
  }
  return dir;
}

/** initdb with loopback-only TCP, a socket in the cluster dir and SCRAM for TCP logins. */
function initCluster(run: Runner, bin: string, dir: string, port: number): string {
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  appendFileSync(
    path.join(data, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\npassword_encryption = 'scram-sha-256'\n`,
  );
  // Over TCP only SCRAM: the gateway has to prove it holds the password, like against a real server.
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  return data;
}

/** The last lines of the server log, for an error message. */
function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' ');
  } catch {
    return '';
  }
}

/**
 * initdb + start a PostgreSQL on 127.0.0.1 (a free port) in a temp dir, create the `shop` database owned
 * by `shop_owner` with a random password, and load `sql` into it as that role. Uses this machine's
 * PostgreSQL; as root, it runs as the `postgres` OS user. Call stop() to end it and remove its files.
 */
export async function startDemoPostgres(sql: string): Promise<DemoPostgres> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new CliError(
      'the demo needs PostgreSQL installed (initdb and pg_ctl were not found): apt-get install postgresql, brew install postgresql@16, or put its bin directory on PATH',
    );
  }
  const dir = makeClusterDir();
  const run = makeRunner(dir);
  const logFile = path.join(dir, 'server.log');
  let data: string | null = null;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (data && existsSync(path.join(data, 'postmaster.pid'))) {
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } catch {
        // Already gone or unresponsive: the dir is removed either way.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    data = initCluster(run, bin, dir, port);
    try {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', 'start']);
    } catch (err) {
      throw new CliError(`PostgreSQL did not start: ${logTail(logFile) || (err as Error).message}`);
    }
    const password = randomBytes(18).toString('base64url');
    const psql = existsSync(path.join(bin, 'psql')) ? path.join(bin, 'psql') : 'psql';
    const exec = (db: string, text: string) => run(psql, ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], text);
    exec('postgres', `CREATE ROLE shop_owner LOGIN PASSWORD '${password}';\nCREATE DATABASE shop OWNER shop_owner;\n`);
    exec('shop', `SET ROLE shop_owner;\n${sql}`);
    return { dir, port, database: 'shop', user: 'shop_owner', password, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
