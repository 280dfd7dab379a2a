import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Where PostgreSQL's server binaries live on this machine. */
export const pgBinDir: string = (() => {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = ['/usr/lib/postgresql'].flatMap((base) =>
    existsSync(base) ? readdirSync(base).sort().reverse().map((v) => path.join(base, v, 'bin')) : [],
  );
  if (fromConfig.status === 0) candidates.push(fromConfig.stdout.trim());
  const found = candidates.find((d) => existsSync(path.join(d, 'initdb')));
  if (!found) throw new Error('PostgreSQL server binaries (initdb) not found; install postgresql');
  return found;
})();

export type AuthMethod = 'scram-sha-256' | 'md5' | 'trust' | 'password';

export interface TestPostgres {
  host: '127.0.0.1';
  port: number;
  superuser: 'postgres';
  dataDir: string;
  /** A SCRAM user and an md5 user, both owners of database `app`'s public schema objects they create. */
  users: { scram: { user: string; password: string }; md5: { user: string; password: string } };
  /** Run SQL as the superuser with psql -At over the unix socket; resolves with stdout. */
  query(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
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

/**
 * Start a throwaway PostgreSQL on 127.0.0.1 and a free port, in a temp dir, with `auth` required for
 * TCP clients. Starts in about a second; `stop()` removes everything.
 */
export async function startPostgres(opts: { auth?: AuthMethod; ssl?: boolean } = {}): Promise<TestPostgres> {
  const auth = opts.auth ?? 'scram-sha-256';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-pg-'));
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dataDir, uid, gid);
  }
  const pgdata = path.join(dataDir, 'data');
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
  if (opts.ssl) {
    await exec('openssl', ['req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=localhost', '-keyout', path.join(pgdata, 'server.key'), '-out', path.join(pgdata, 'server.crt')]);
    if (asRoot) await exec('chown', ['postgres:postgres', path.join(pgdata, 'server.key'), path.join(pgdata, 'server.crt')]);
    await exec('chmod', ['600', path.join(pgdata, 'server.key')]);
    conf.push(`ssl = on`);
  }
  appendFileSync(path.join(pgdata, 'postgresql.conf'), '\n' + conf.join('\n') + '\n');
  const scram = { user: 'gh_scram', password: 'scram-' + randomBytes(9).toString('hex') };
  const md5 = { user: 'gh_md5', password: 'md5-' + randomBytes(9).toString('hex') };
  // Per-user lines first so both methods can be tested against one server.
  const hba = [
    'local all all trust',
    ...(auth === 'scram-sha-256' ? [`host all ${scram.user} 127.0.0.1/32 scram-sha-256`, `host all ${md5.user} 127.0.0.1/32 md5`] : []),
    `host all all 127.0.0.1/32 ${auth}`,
  ];
  writeFileSync(path.join(pgdata, 'pg_hba.conf'), hba.join('\n') + '\n');
  await pgExec('pg_ctl', ['-D', pgdata, '-l', path.join(dataDir, 'server.log'), '-w', '-t', '30', 'start']);

  const query = async (sql: string, database = 'postgres') => {
    const args = ['-h', dataDir, '-p', String(port), '-U', 'postgres', '-d', database, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql];
    const { stdout } = await exec('psql', args);
    return stdout;
  };
  await query(`CREATE ROLE ${scram.user} LOGIN PASSWORD '${scram.password}'`);
  await query(`SET password_encryption = 'md5'; CREATE ROLE ${md5.user} LOGIN PASSWORD '${md5.password}'`);
  await query(`CREATE DATABASE app OWNER ${scram.user}`);
  await query(`GRANT ALL ON SCHEMA public TO ${scram.user}, ${md5.user}`, 'app');

  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    superuser: 'postgres',
    dataDir,
    users: { scram, md5 },
    query,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pgExec('pg_ctl', ['-D', pgdata, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
