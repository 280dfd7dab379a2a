import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './cli-io';

/** A throwaway local PostgreSQL for the demo. */
export interface DemoPostgres {
  port: number;
  database: string;
  user: string;
  password: string;
  stop(): void;
}

/** Find PostgreSQL's server binaries on this machine (Debian/Ubuntu, Homebrew, PATH). */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0) candidates.push(fromConfig.stdout.trim());
  for (const base of ['/usr/lib/postgresql', '/opt/homebrew/opt', '/usr/local/opt']) {
    if (!existsSync(base)) continue;
    for (const v of readdirSync(base).sort().reverse()) {
      candidates.push(path.join(base, v, 'bin'));
    }
  }
  candidates.push('/usr/local/bin', '/usr/bin');
  return candidates.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl'))) ?? null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * initdb + start a PostgreSQL on 127.0.0.1 in a temp dir, create the `shop` database owned by a role with
 * a random password, and load `sql` into it. As root, PostgreSQL runs as the `postgres` OS user.
 */
export async function startDemoPostgres(sql: string): Promise<DemoPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new CliError('the demo needs PostgreSQL installed (initdb and pg_ctl were not found); install postgresql and try again');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[], input?: string) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] }) : execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-demo-pg-'));
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    try {
      chownSync(dir, id('-u'), id('-g'));
    } catch {
      throw new CliError('running as root, the demo needs a "postgres" OS user to run PostgreSQL as');
    }
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  appendFileSync(path.join(data, 'postgresql.conf'), `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\npassword_encryption = 'scram-sha-256'\n`);
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', 'start']);
  const stop = () => {
    try {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const psql = existsSync(path.join(bin, 'psql')) ? path.join(bin, 'psql') : 'psql';
    const password = randomBytes(18).toString('base64url');
    const exec = (db: string, text: string) => run(psql, ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], text);
    exec('postgres', `CREATE ROLE shop_owner LOGIN PASSWORD '${password}';\nCREATE DATABASE shop OWNER shop_owner;\n`);
    exec('shop', `SET ROLE shop_owner;\n${sql}`);
    return { port, database: 'shop', user: 'shop_owner', password, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
