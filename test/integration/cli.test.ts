import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { runTool } from '../helpers/pg-gateway-harness';
import { Store } from '../../src/gateway/store/store';

/** The `gatehouse` command as users run it: a child process on a temp data dir, then through `serve`. */
let db: TestPostgres;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-cli-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  buildCli();
  db = await startPostgres();
});

afterAll(async () => {
  await db?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('gatehouse CLI without a running server', () => {
  it('adds, lists and removes connections, agents and grants with --json', async () => {
    const dir = tempDir();
    const add = await gatehouse(
      ['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--tag', 'prod', '--json', '--data-dir', dir],
      { input: db.users.scram.password + '\n' },
    );
    expect(add.code, add.stderr).toBe(0);
    const conn = JSON.parse(add.stdout);
    expect(conn).toMatchObject({ name: 'app', hasSecret: true, tags: ['prod'], tlsMode: 'prefer' });
    expect(add.stdout).not.toContain(db.users.scram.password);

    const list = JSON.parse((await gatehouse(['connection', 'list', '--json', '--data-dir', dir])).stdout);
    expect(list.map((c: { name: string }) => c.name)).toEqual(['app']);
    expect(JSON.stringify(list)).not.toContain(db.users.scram.password);

    const test = await gatehouse(['connection', 'test', 'app', '--json', '--data-dir', dir]);
    expect(JSON.parse(test.stdout)).toMatchObject({ ok: true, stage: 'ok' });

    const agent = JSON.parse((await gatehouse(['agent', 'add', 'bot', '--json', '--data-dir', dir])).stdout);
    expect(agent.secret).toMatch(/^ghs_/);
    const agents = JSON.parse((await gatehouse(['agent', 'list', '--json', '--data-dir', dir])).stdout);
    expect(agents).toEqual([expect.objectContaining({ name: 'bot', disabled: false })]);
    expect(JSON.stringify(agents)).not.toContain(agent.secret);

    const grant = JSON.parse((await gatehouse(['grant', 'add', '--agent', 'bot', '--connection', 'app', '--expires', '2h', '--json', '--data-dir', dir])).stdout);
    expect(grant.status).toBe('active');
    expect(Date.parse(grant.expiresAt) - Date.now()).toBeGreaterThan(7100_000);
    const grants = JSON.parse((await gatehouse(['grant', 'list', '--json', '--data-dir', dir])).stdout);
    expect(grants).toHaveLength(1);
    const revoke = await gatehouse(['grant', 'revoke', grant.id, '--data-dir', dir]);
    expect(revoke.stdout).toContain('revoked 1 grant');
    expect(JSON.parse((await gatehouse(['grant', 'list', '--json', '--data-dir', dir])).stdout)).toHaveLength(0);
    expect(JSON.parse((await gatehouse(['grant', 'list', '--all', '--json', '--data-dir', dir])).stdout)[0].status).toBe('revoked');

    expect((await gatehouse(['agent', 'remove', 'bot', '--data-dir', dir])).code).toBe(0);
    expect((await gatehouse(['connection', 'remove', 'app', '--data-dir', dir])).code).toBe(0);
    expect(JSON.parse((await gatehouse(['connection', 'list', '--json', '--data-dir', dir])).stdout)).toEqual([]);

    // Every change made without a server is in the audit chain, and its head is signed when the command ends.
    const verify = JSON.parse((await gatehouse(['audit', 'verify', '--json', '--data-dir', dir])).stdout);
    expect(verify).toMatchObject({ ok: true, events: 6 });
    expect(verify.checkpoints).toBe(6);

    // The key file that seals credentials is private.
    expect(statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('reads the upstream password from an environment variable, never from an argument', async () => {
    const dir = tempDir();
    const r = await gatehouse(['connection', 'add', 'envdb', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', 'u', '--password-env', 'UPSTREAM_PW', '--data-dir', dir], {
      env: { UPSTREAM_PW: 'pw-from-env' },
    });
    expect(r.code, r.stderr).toBe(0);
    const noArg = await gatehouse(['connection', 'add', 'x', '--host', 'h', '--database', 'd', '--user', 'u', '--password', 'secret', '--data-dir', dir]);
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toMatch(/^gatehouse: unknown option '--password'[^\n]*\n$/);
    const missingEnv = await gatehouse(['connection', 'add', 'y', '--host', 'h', '--database', 'd', '--user', 'u', '--password-env', 'NOPE_NOT_SET', '--data-dir', dir]);
    expect(missingEnv.code).toBe(1);
    expect(missingEnv.stderr).toBe('gatehouse: environment variable NOPE_NOT_SET is not set\n');
  });

  it('fails with one line and a non-zero exit on bad input', async () => {
    const dir = tempDir();
    const cases: [string[], RegExp, number][] = [
      [['agent', 'remove', 'ghost'], /^gatehouse: agent "ghost" does not exist\n$/, 1],
      [['grant', 'add', '--agent', 'ghost', '--connection', 'nope'], /^gatehouse: agent "ghost" does not exist\n$/, 1],
      [['grant', 'add', '--agent', 'a', '--connection', 'b', '--expires', 'soon'], /^gatehouse: invalid duration "soon"/, 2],
      [['agent', 'add', 'bad name!'], /^gatehouse: invalid input for agents.add: name:/, 1],
      [['sessions', 'show', 'nope'], /^gatehouse: session "nope" does not exist\n$/, 1],
      [['grant', 'revoke'], /^gatehouse: give a grant id, or --agent and --connection\n$/, 2],
      [['connection', 'add', 'c', '--host', 'h', '--port', 'abc', '--database', 'd', '--user', 'u'], /^gatehouse: option '--port <port>' argument 'abc' is invalid[^\n]*\n$/, 2],
      [['sessions', 'list', '--limit', '-3'], /^gatehouse: [^\n]*\n$/, 2],
      [['agent', 'list', '--no-such-flag'], /^gatehouse: unknown option '--no-such-flag'\n$/, 2],
      [['serve', '--tls-cert', 'cert.pem'], /^gatehouse: give both --tls-cert and --tls-key, or neither\n$/, 2],
    ];
    for (const [args, message, code] of cases) {
      const r = await gatehouse([...args, '--data-dir', dir]);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(code);
    }
    await gatehouse(['agent', 'add', 'dup', '--data-dir', dir]);
    const dup = await gatehouse(['agent', 'add', 'dup', '--data-dir', dir]);
    expect(dup.stderr).toBe('gatehouse: agent "dup" already exists\n');
    await gatehouse(['connection', 'add', 'db', '--host', 'h', '--database', 'd', '--user', 'u', '--data-dir', dir]);
    const closedPort = await freePort();
    await gatehouse(['connection', 'add', 'down', '--host', '127.0.0.1', '--port', String(closedPort), '--database', 'd', '--user', 'u', '--data-dir', dir]);
    const down = await gatehouse(['connection', 'test', 'down', '--data-dir', dir]);
    expect(down.stderr).toMatch(/^gatehouse: connection "down" failed at tcp: [^\n]+\n$/);
    expect(down.code).toBe(1);
    const downJson = await gatehouse(['connection', 'test', 'down', '--json', '--data-dir', dir]);
    expect(JSON.parse(downJson.stdout)).toMatchObject({ ok: false, stage: 'tcp' });
    expect(downJson.code).toBe(1);
    const nothing = await gatehouse(['grant', 'revoke', '--agent', 'dup', '--connection', 'db', '--data-dir', dir]);
    expect(nothing.stderr).toBe('gatehouse: agent "dup" has no active grant on connection "db"\n');
    expect(nothing.code).toBe(1);
  });
});

describe('gatehouse serve', () => {
  let dir: string;
  let serve: ServeProcess;
  let secret: string;

  beforeAll(async () => {
    dir = tempDir();
    serve = await startServe(dir);
    await gatehouse(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--data-dir', dir], {
      input: db.users.scram.password,
    });
    secret = JSON.parse((await gatehouse(['agent', 'add', 'bot', '--json', '--data-dir', dir])).stdout).secret;
    await gatehouse(['grant', 'add', '--agent', 'bot', '--connection', 'app', '--data-dir', dir]);
  });

  afterAll(async () => {
    await serve?.stop();
  });

  it('prints the admin token once, and the console API refuses calls without it', async () => {
    expect(serve.adminToken).toMatch(/^gha_/);
    expect(readFileSync(path.join(dir, 'admin.token.sha256'), 'utf8')).not.toContain(serve.adminToken!);
    const anon = await fetch(`${serve.consoleUrl}/api/call/agents.list`, { method: 'POST', body: '{}' });
    expect(anon.status).toBe(401);
    const ok = await fetch(`${serve.consoleUrl}/api/call/agents.list`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${serve.adminToken}` } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).map((a: { name: string }) => a.name)).toEqual(['bot']);
  });

  it('lets psql through with the agent secret, records the session, and lists it from the CLI', async () => {
    const r = await runTool('psql', [`host=127.0.0.1 port=${serve.pgPort} dbname=app user=bot password=${secret} sslmode=require`, '-X', '-At', '-c', 'select 6 * 7']);
    expect(r.stdout.trim()).toBe('42');
    const sessions = JSON.parse((await gatehouse(['sessions', 'list', '--json', '--data-dir', dir])).stdout);
    expect(sessions.total).toBe(1);
    expect(sessions.items[0]).toMatchObject({ agentName: 'bot', connectionName: 'app', tls: true });
    const show = JSON.parse((await gatehouse(['sessions', 'show', sessions.items[0].id, '--json', '--data-dir', dir])).stdout);
    expect(show.statements.map((s: { sql: string }) => s.sql)).toEqual(['select 6 * 7']);
    const human = await gatehouse(['sessions', 'show', sessions.items[0].id, '--data-dir', dir]);
    expect(human.stdout).toContain('select 6 * 7');
  });

  it('revoking through the running server closes the agent’s open session at once', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'app', user: 'bot', password: secret });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    await c.query('select 1');
    const r = await gatehouse(['grant', 'revoke', '--agent', 'bot', '--connection', 'app', '--json', '--data-dir', dir]);
    expect(JSON.parse(r.stdout)).toEqual({ revoked: 1, sessionsClosed: 1 });
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect((errors[0] as { code?: string }).code).toBe('57P01');
    const again = await runTool('psql', [`host=127.0.0.1 port=${serve.pgPort} dbname=app user=bot password=${secret}`, '-X', '-c', 'select 1']);
    expect(again.stderr).toContain('no active grant');
    await c.end().catch(() => {});
  });
});

describe('gatehouse serve run files', () => {
  it('publishes a private per-run CLI token, refuses a second gateway on the data dir, and cleans up at stop', async () => {
    const dir = tempDir();
    const run = path.join(dir, 'run');
    const first = await startServe(dir);
    let cliToken = '';
    try {
      expect(statSync(path.join(run, 'cli.token')).mode & 0o777).toBe(0o600);
      const info = JSON.parse(readFileSync(path.join(run, 'server.json'), 'utf8'));
      expect(info).toEqual({ pid: first.child.pid, consoleUrl: first.consoleUrl, pgPort: first.pgPort });
      cliToken = readFileSync(path.join(run, 'cli.token'), 'utf8');
      expect(cliToken).not.toBe(first.adminToken);
      const asCli = await fetch(`${first.consoleUrl}/api/call/server.info`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${cliToken}` } });
      expect((await asCli.json()).listeners.postgres.port).toBe(first.pgPort);

      const second = await gatehouse(['serve', '--data-dir', dir, '--pg-port', '0', '--console-port', '0'], { timeoutMs: 15_000 });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`^gatehouse: another Gatehouse gateway \\(pid ${first.child.pid}\\) is running for data dir [^\\n]+\\n$`));
      // The refused start left the running server's files alone.
      expect(readFileSync(path.join(run, 'cli.token'), 'utf8')).toBe(cliToken);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(readdirSync(run)).toEqual([]);

    // A start that fails half-way (busy port) releases what it opened: the next start works.
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const refused = await gatehouse(['serve', '--data-dir', dir, '--pg-port', String(busyPort), '--console-port', '0'], { timeoutMs: 15_000 });
      expect(refused.stderr).toMatch(new RegExp(`\\ngatehouse: 127\\.0\\.0\\.1:${busyPort} is already in use; choose another port with --pg-port \\(0 = any free port\\)\\n$`));
      expect(refused.code).toBe(1);
    } finally {
      busy.close();
    }
    expect(readdirSync(run)).toEqual([]);
    const again = await startServe(dir);
    try {
      expect(again.adminToken).toBeNull();
      // A fresh CLI token each run: the old one is worth nothing once its server stopped.
      expect(readFileSync(path.join(run, 'cli.token'), 'utf8')).not.toBe(cliToken);
    } finally {
      await again.stop();
    }
  });
});

describe('recording durability', () => {
  it('keeps every statement a client saw acknowledged when the gateway is killed with SIGKILL', async () => {
    const dir = tempDir();
    const serve = await startServe(dir);
    try {
      await gatehouse(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--data-dir', dir], {
        input: db.users.scram.password,
      });
      const secret = JSON.parse((await gatehouse(['agent', 'add', 'bot', '--json', '--data-dir', dir])).stdout).secret;
      await gatehouse(['grant', 'add', '--agent', 'bot', '--connection', 'app', '--data-dir', dir]);
      const c = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'app', user: 'bot', password: secret });
      c.on('error', () => {});
      await c.connect();
      const acknowledged: string[] = [];
      for (let i = 0; i < 200; i++) {
        const sql = `select ${i} as n`;
        await c.query(sql);
        acknowledged.push(sql);
      }
      await serve.stop('SIGKILL');
      // What an operator sees after the crash, before any restart: the CLI replays the gateway's journal.
      const list = JSON.parse((await gatehouse(['sessions', 'list', '--json', '--data-dir', dir])).stdout);
      const show = JSON.parse((await gatehouse(['sessions', 'show', list.items[0].id, '--json', '--data-dir', dir])).stdout);
      expect(show.statements.map((x: { sql: string }) => x.sql)).toEqual(acknowledged);
      // And a restarted gateway closes the crashed session, keeping its statements.
      const again = await startServe(dir);
      await again.stop();
      const store = Store.open(path.join(dir, 'gatehouse.db'));
      try {
        const s = store.sessions.get(list.items[0].id)!;
        expect(s.endReason).toBe('gateway_crashed');
        expect(s.statementCount).toBe(acknowledged.length);
      } finally {
        store.close();
      }
    } finally {
      await serve.stop('SIGKILL');
    }
  });
});
