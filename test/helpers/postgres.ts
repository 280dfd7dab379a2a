import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Where PostgreSQL's server binaries live: PostgreSQL 15's Debian path, else what `pg_config --bindir` says. */
export const pgBinDir: string = (() => {
  const debian15 = '/usr/lib/postgresql/15/bin';
  if (existsSync(path.join(debian15, 'initdb'))) return debian15;
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = fromConfig.status === 0 ? fromConfig.stdout.trim() : '';
  if (!dir || !existsSync(path.join(dir, 'initdb'))) throw new Error('PostgreSQL server binaries (initdb) not found; install postgresql-15');
  return dir;
})();

export type AuthMethod = 'scram-sha-256' | 'md5' | 'trust' | 'password';

export interface TestUser {
  user: string;
  password: string;
}

export interface TestPostgres {
  host: '127.0.0.1';
  port: number;
  superuser: 'postgres';
  /** The superuser's database. The test users work in database `app`, owned by the SCRAM user. */
  database: 'postgres';
  /** The temp dir holding the cluster (`data/`), the unix socket and the server log. */
  dataDir: string;
  /** gh_scram (SCRAM-stored password, owns `app`) and gh_md5 (md5-stored password); neither is a superuser. */
  users: { scram: TestUser; md5: TestUser };
  /** The server's self-signed certificate (PEM, CN and SAN localhost/127.0.0.1) when started with `ssl`. */
  sslCert: string | null;
  /** A postgresql:// URL on 127.0.0.1; defaults to the SCRAM user, its password and database `app`. */
  url(user?: string, password?: string | null, db?: string): string;
  /** Run SQL as the superuser with `psql -At` over the unix socket; resolves with stdout. */
  query(sql: string, database?: string): Promise<string>;
  /** Stop the server (pg_ctl stop -m fast) and remove its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Run a PostgreSQL binary, as the postgres OS user when we are root (PostgreSQL refuses to run as root). */
async function pgExec(bin: string, args: string[]): Promise<string> {
  const file = path.join(pgBinDir, bin);
  const { stdout } = asRoot ? await exec('runuser', ['-u', 'postgres', '--', file, ...args]) : await exec(file, args);
  return stdout;
}

function chownToPostgres(...paths: string[]): void {
  if (!asRoot) return;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('the postgres OS user does not exist');
  for (const p of paths) chownSync(p, uid, gid);
}

/**
 * Start a throwaway PostgreSQL 15 on 127.0.0.1 and a free port, in a temp dir, requiring `auth` (default
 * scram-sha-256) from TCP clients. With scram-sha-256, gh_md5 gets its own md5 line so both methods can be
 * tested against one server. Starts in about a second; `stop()` removes everything. Every test that
 * starts one must stop it.
 */
export async function startPostgres(opts: { auth?: AuthMethod; ssl?: boolean } = {}): Promise<TestPostgres> {
  const auth = opts.auth ?? 'scram-sha-256';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-pg-'));
  const pgdata = path.join(dataDir, 'data');
  let started = false;
  try {
    chownToPostgres(dataDir);
    await pgExec('initdb', ['-D', pgdata, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    const conf = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${dataDir}'`,
      `fsync = off`,
      `synchronous_commit = off`,
      `full_page_writes = off`,
      `max_connections = 200`,
      `logging_collector = off`,
      `password_encryption = 'scram-sha-256'`,
    ];
    let sslCert: string | null = null;
    if (opts.ssl) {
      const key = path.join(pgdata, 'server.key');
      const crt = path.join(pgdata, 'server.crt');
      await exec('openssl', [
        'req', '-new', '-x509', '-days', '2', '-nodes', '-newkey', 'rsa:2048', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', crt,
      ]);
      chownToPostgres(key, crt);
      await exec('chmod', ['600', key]);
      sslCert = readFileSync(crt, 'utf8');
      conf.push(`ssl = on`);
    }
    appendFileSync(path.join(pgdata, 'postgresql.conf'), '\n' + conf.join('\n') + '\n');

    const scram: TestUser = { user: 'gh_scram', password: 'scram-' + randomBytes(9).toString('hex') };
    const md5: TestUser = { user: 'gh_md5', password: 'md5-' + randomBytes(9).toString('hex') };
    // Per-user lines first: the first matching line wins, so both methods are testable on one server.
    const hba = [
      'local all postgres trust',
      ...(auth === 'scram-sha-256' ? [`host all ${scram.user} 127.0.0.1/32 scram-sha-256`, `host all ${md5.user} 127.0.0.1/32 md5`] : []),
      `host all all 127.0.0.1/32 ${auth}`,
    ];
    writeFileSync(path.join(pgdata, 'pg_hba.conf'), hba.join('\n') + '\n');
    await pgExec('pg_ctl', ['-D', pgdata, '-l', path.join(dataDir, 'server.log'), '-w', '-t', '30', 'start']);
    started = true;

    const query = async (sql: string, database = 'postgres') => {
      const args = ['-h', dataDir, '-p', String(port), '-U', 'postgres', '-d', database, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql];
      const { stdout } = await exec('psql', args, { maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    };
    // The passwords are hex, safe to inline.
    await query(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${scram.user} LOGIN PASSWORD '${scram.password}'`);
    await query(`SET password_encryption = 'md5'; CREATE ROLE ${md5.user} LOGIN PASSWORD '${md5.password}'`);
    await query(`CREATE DATABASE app OWNER ${scram.user}`);
    await query(`GRANT ALL ON SCHEMA public TO ${scram.user}, ${md5.user}`, 'app');

    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      superuser: 'postgres',
      database: 'postgres',
      dataDir,
      users: { scram, md5 },
      sslCert,
      url(user = scram.user, password: string | null = user === scram.user ? scram.password : user === md5.user ? md5.password : null, db = 'app') {
        const auth = password === null ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
        return `postgresql://${auth}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
      },
      query,
      async stop() {
        if (stopped) return;
        stopped = true;
        await pgExec('pg_ctl', ['-D', pgdata, '-m', 'fast', '-w', 'stop']).catch(() => {});
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (started) await pgExec('pg_ctl', ['-D', pgdata, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    let log = '';
    try {
      log = readFileSync(path.join(dataDir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      // no log yet
    }
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`startPostgres failed: ${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
}
