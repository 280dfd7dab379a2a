import { createHash } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { GatewayHarness, runTool } from '../helpers/pg-gateway-harness';

/**
 * The PostgreSQL gateway against a real PostgreSQL 15, driven by psql, node-postgres and pgbench.
 */
let db: TestPostgres;
let h: GatewayHarness;
let agent: { id: string; secret: string };
let connId: string;

const waitFor = async (fn: () => boolean, what: string, ms = 10_000) => {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

function pgClient(opts: Partial<pg.ClientConfig> = {}) {
  return new pg.Client({ host: '127.0.0.1', port: h.port, database: 'app', user: 'bot', password: agent.secret, ssl: false, ...opts });
}

beforeAll(async () => {
  db = await startPostgres({ auth: 'scram-sha-256' });
  h = await new GatewayHarness().start();
  const conn = h.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: db.users.scram.user, password: db.users.scram.password });
  connId = conn.id;
  agent = h.addAgent('bot');
  h.grant(agent.id, connId);
  await db.query('CREATE TABLE IF NOT EXISTS public.items (id int primary key, name text)', 'app');
  await db.query(`GRANT ALL ON public.items TO ${db.users.scram.user}`, 'app');
});

afterAll(async () => {
  await h?.stop();
  await db?.stop();
});

describe('relay through the gateway', () => {
  it('runs psql queries without the agent knowing the database password, and records each statement', async () => {
    const r = await h.psql(h.dsn('app', 'bot', agent.secret), ['-At', '-c', 'select current_user', '-c', "select 40 + 2 as answer"]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([db.users.scram.user, '42']);
    // psql may exit before the gateway has seen its Terminate: wait for the session's end to be recorded.
    await waitFor(() => h.store.sessions.list({ limit: 10 }).items.some((x) => x.agentName === 'bot' && x.endedAt !== null), 'session end');
    const sessions = h.store.sessions.list({ limit: 10 }).items;
    const s = sessions.find((x) => x.agentName === 'bot' && x.endedAt !== null)!;
    expect(s).toBeTruthy();
    expect(s.tls).toBe(false);
    expect(s.connectionName).toBe('app');
    expect(s.endReason).toBe('client_terminated');
    expect(s.bytesIn).toBeGreaterThan(0);
    const stmts = h.store.statements.listBySession(s.id);
    expect(stmts.map((x) => [x.sql, x.commandTag, x.rows])).toEqual([
      ['select current_user', 'SELECT 1', 1],
      ['select 40 + 2 as answer', 'SELECT 1', 1],
    ]);
    // The successful login is in the audit trail: who, where, from which address, how.
    const started = h.store.audit.list({ limit: 50, kind: 'session.started' }).find((e) => e.sessionId === s.id);
    expect(started).toMatchObject({ agentName: 'bot', connectionName: 'app', clientAddress: s.clientAddress, detail: { protocol: 'postgres', method: 'scram-sha-256', tls: false } });
  });

  it('speaks TLS to clients that ask (sslmode=require) and records it', async () => {
    const r = await h.psql(h.dsn('app', 'bot', agent.secret, 'require'), ['-At', '-c', 'select 1']);
    expect(r.stdout.trim()).toBe('1');
    await waitFor(() => h.store.sessions.list({ limit: 1 }).items[0]?.tls === true, 'TLS session');
  });

  it('relays the extended protocol with parameters (node-postgres) and records parameter counts', async () => {
    const c = pgClient();
    await c.connect();
    await c.query('INSERT INTO items (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name', [1, 'one']);
    const res = await c.query('SELECT name FROM items WHERE id = $1', [1]);
    expect(res.rows).toEqual([{ name: 'one' }]);
    await expect(c.query('SELECT * FROM no_such_table WHERE id = $1', [1])).rejects.toMatchObject({ code: '42P01' });
    // The session is still usable after an error.
    expect((await c.query('SELECT $1::int + 1 AS n', [1])).rows[0].n).toBe(2);
    await c.end();
    await waitFor(() => h.store.sessions.list({ limit: 1 }).items[0].endedAt !== null, 'session end');
    const s = h.store.sessions.list({ limit: 1 }).items[0];
    const stmts = h.store.statements.listBySession(s.id);
    expect(stmts.map((x) => [x.protocol, x.paramCount, x.errorCode, x.commandTag])).toEqual([
      ['extended', 2, null, 'INSERT 0 1'],
      ['extended', 1, null, 'SELECT 1'],
      ['extended', 1, '42P01', null],
      ['extended', 1, null, 'SELECT 1'],
    ]);
  });

  it('relays COPY in and out, notices and parameter status', async () => {
    const copyIn = await h.psql(h.dsn('app', 'bot', agent.secret), ['-c', '\\copy items (id, name) from stdin'], '10\tten\n11\televen\n');
    expect(copyIn.stderr).toBe('');
    expect(copyIn.stdout).toContain('COPY 2');
    const copyOut = await h.psql(h.dsn('app', 'bot', agent.secret), ['-c', 'copy (select id, name from items where id >= 10 order by id) to stdout']);
    expect(copyOut.stdout).toBe('10\tten\n11\televen\n');
    const notice = await h.psql(h.dsn('app', 'bot', agent.secret), ['-c', "do $$ begin raise notice 'hello from %', 'plpgsql'; end $$"]);
    expect(notice.stderr).toContain('NOTICE:  hello from plpgsql');
    const c = pgClient();
    await c.connect();
    // ParameterStatus reached the driver during startup.
    expect((c as any).connectionParameters).toBeTruthy();
    const enc = await c.query('SHOW client_encoding');
    expect(enc.rows[0].client_encoding).toBe('UTF8');
    await c.end();
  });

  it('streams a large result (about 100 MB) through without loss, and a slow reader gets backpressure, not a buffer', async () => {
    const sql = "select i, md5(i::text), repeat('x', 1000) from generate_series(1, 100000) i";
    const big = await runTool('bash', ['-o', 'pipefail', '-c', `psql "${h.dsn('app', 'bot', agent.secret)}" -X -At -c "${sql}" | awk 'END { print NR; print $0 }'`]);
    expect(big.code, big.stderr).toBe(0);
    const [count, last] = big.stdout.trim().split('\n');
    expect(count).toBe('100000');
    expect(last).toBe(`100000|${createHash('md5').update('100000').digest('hex')}|${'x'.repeat(1000)}`);

    // A client that stops reading: the gateway stops reading from the upstream instead of buffering.
    const c = pgClient({ application_name: 'slow-reader' });
    await c.connect();
    const stream = (c as any).connection.stream as net.Socket;
    const done = c.query("select repeat('y', 1000) from generate_series(1, 50000)");
    stream.pause();
    await new Promise((r) => setTimeout(r, 500));
    const rss = process.memoryUsage().rss;
    stream.resume();
    const res = await done;
    expect(res.rows.length).toBe(50000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(512 * 1024 * 1024); // sanity bound, not a timing threshold
    await c.end();
  });

  it('passes pgbench in simple, extended and prepared modes', async () => {
    const env = { PGPASSWORD: agent.secret };
    const init = await runTool('pgbench', ['-i', '-s', '1', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'bot', 'app'], undefined, env);
    expect(init.code, init.stderr).toBe(0);
    for (const mode of ['simple', 'extended', 'prepared']) {
      const r = await runTool('pgbench', ['-n', '-S', '-M', mode, '-c', '2', '-j', '1', '-t', '50', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'bot', 'app'], undefined, env);
      expect(r.code, `${mode}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('number of transactions actually processed: 100/100');
    }
    await waitFor(() => h.store.sessions.list({ limit: 2 }).items.every((x) => x.endedAt !== null), 'pgbench sessions end');
    const prepared = h.store.sessions.list({ limit: 2 }).items;
    for (const s of prepared) {
      const stmts = h.store.statements.listBySession(s.id);
      expect(stmts.filter((x) => x.sql.includes('pgbench_accounts')).length).toBe(50);
    }
  });

  it('forwards query cancellation to the upstream through the gateway key', async () => {
    const c = pgClient();
    await c.connect();
    const pending = c.query('SELECT pg_sleep(30)');
    await new Promise((r) => setTimeout(r, 300));
    // A CancelRequest with the key the gateway gave this client.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(h.port, '127.0.0.1', () => {
        const b = Buffer.alloc(16);
        b.writeInt32BE(16, 0);
        b.writeInt32BE(80877102, 4);
        b.writeInt32BE((c as any).processID, 8);
        b.writeInt32BE((c as any).secretKey, 12);
        s.end(b);
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    await expect(pending).rejects.toMatchObject({ code: '57014' });
    expect((await c.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    await c.end();
  });
});

describe('bad input gets a clear error and the gateway keeps serving', () => {
  const expectPgError = async (opts: Partial<pg.ClientConfig>, code: string, message?: RegExp) => {
    const c = pgClient(opts);
    const err: any = await c.connect().then(
      () => null,
      (e) => e,
    );
    await c.end().catch(() => {});
    expect(err, 'connection should fail').toBeTruthy();
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return err;
  };

  it('wrong secret and unknown agent both get 28P01 with the same message, and are audited', async () => {
    const wrong = await expectPgError({ password: 'not-the-secret' }, '28P01');
    const unknown = await expectPgError({ user: 'ghost', password: 'whatever' }, '28P01');
    expect(wrong.message).toBe('password authentication failed for user "bot"');
    expect(unknown.message).toBe('password authentication failed for user "ghost"');
    const kinds = h.auditKinds();
    expect(kinds).toContainEqual({ kind: 'auth.failed', reason: 'wrong_secret' });
    expect(kinds).toContainEqual({ kind: 'auth.failed', reason: 'unknown_agent' });
  });

  it('does not reveal which agents exist through the SCRAM salt', async () => {
    const ghost1 = await serverFirstSalt(h.port, 'ghost-agent');
    const ghost2 = await serverFirstSalt(h.port, 'ghost-agent');
    const real1 = await serverFirstSalt(h.port, 'bot');
    const real2 = await serverFirstSalt(h.port, 'bot');
    expect(real1).toBe(real2); // a real verifier's salt never changes...
    expect(ghost1).toBe(ghost2); // ...and neither does an unknown agent's
    expect(ghost1).not.toBe(await serverFirstSalt(h.port, 'other-ghost'));
  });

  it('unknown connection gets 3D000', async () => {
    await expectPgError({ database: 'nope' }, '3D000', /connection "nope" does not exist/);
    expect(h.auditKinds()).toContainEqual({ kind: 'access.denied', reason: 'unknown_connection' });
  });

  it('no grant, an expired grant and a revoked grant get 28000', async () => {
    const other = h.addAgent('no-grant');
    await expectPgError({ user: 'no-grant', password: other.secret }, '28000', /no active grant/);
    const expired = h.addAgent('expired');
    h.grant(expired.id, connId, Date.now() - 1000);
    const e = await expectPgError({ user: 'expired', password: expired.secret }, '28000');
    expect(e.detail).toBe('the grant has expired');
    const revoked = h.addAgent('revoked');
    const g = h.grant(revoked.id, connId);
    h.store.grants.revoke(g, Date.now());
    const r = await expectPgError({ user: 'revoked', password: revoked.secret }, '28000');
    expect(r.detail).toBe('the grant was revoked');
    const reasons = h.auditKinds().filter((k) => k.kind === 'access.denied').map((k) => k.reason);
    expect(reasons).toEqual(expect.arrayContaining(['no_grant', 'grant_expired', 'grant_revoked']));
  });

  it('an unreachable upstream gets 08001 without host details', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const conn = h.addConnection({ name: 'down', host: '127.0.0.1', port: closed, database: 'app', username: 'x', password: 'upstream-pw-123' });
    h.grant(agent.id, conn.id);
    const err = await expectPgError({ database: 'down' }, '08001');
    expect(err.message).not.toContain(String(closed));
    expect(err.message).not.toContain('127.0.0.1');
    expect(h.auditKinds()).toContainEqual({ kind: 'upstream.failed', reason: 'tcp' });
  });

  it('a wrong upstream password fails without leaking it', async () => {
    const conn = h.addConnection({ name: 'badpw', host: db.host, port: db.port, database: 'app', username: db.users.scram.user, password: 'definitely-wrong-pw' });
    h.grant(agent.id, conn.id);
    const c = pgClient({ database: 'badpw' });
    const err: any = await c.connect().then(() => null, (e) => e);
    await c.end().catch(() => {});
    expect(err).toBeTruthy();
    expect(['08006', '08001', '28000', '28P01']).toContain(err.code);
    expect(JSON.stringify({ m: err.message, d: err.detail, h: err.hint })).not.toMatch(/definitely-wrong-pw|127\.0\.0\.1/);
    expect(h.auditKinds()).toContainEqual({ kind: 'upstream.failed', reason: 'auth' });
  });

  it('malformed and oversized startup packets get 08P01, and the gateway keeps serving', async () => {
    const sendRaw = (bytes: Buffer) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const s = net.connect(h.port, '127.0.0.1', () => s.write(bytes));
        s.on('data', (d) => chunks.push(d));
        s.on('close', () => resolve(Buffer.concat(chunks)));
        s.on('error', () => resolve(Buffer.concat(chunks)));
      });
    const oversized = Buffer.alloc(8);
    oversized.writeInt32BE(1_000_000, 0);
    oversized.writeInt32BE(196608, 4);
    const answer1 = await sendRaw(oversized);
    expect(answer1[0]).toBe(0x45); // 'E'
    expect(answer1.toString('latin1')).toContain('08P01');
    const garbage = Buffer.from([0, 0, 0, 12, 0, 3, 0, 0, 0x75, 0x73, 0x65, 0x72]); // unterminated
    const answer2 = await sendRaw(garbage);
    expect(answer2.toString('latin1')).toContain('08P01');
    const old = Buffer.alloc(8);
    old.writeInt32BE(8, 0);
    old.writeInt32BE(2 << 16, 4);
    const answer3 = await sendRaw(old);
    expect(answer3.toString('latin1')).toContain('0A000');
    const ok = await h.psql(h.dsn('app', 'bot', agent.secret), ['-At', '-c', 'select 7']);
    expect(ok.stdout.trim()).toBe('7');
    expect(h.auditKinds()).toContainEqual({ kind: 'protocol.violation', reason: 'malformed_startup' });
  });

  it('a client that disconnects mid-query ends its session cleanly and the query is cancelled upstream', async () => {
    const c = pgClient({ application_name: 'mid-query-drop' });
    c.on('error', () => {});
    await c.connect();
    c.query('SELECT pg_sleep(20)').catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    (c as any).connection.stream.destroy();
    await waitFor(() => {
      h.recorder.flush();
      const s = h.store.sessions.list({ limit: 1 }).items[0];
      return s.endedAt !== null;
    }, 'session end');
    const s = h.store.sessions.list({ limit: 1 }).items[0];
    expect(s.endReason).toBe('client_closed');
    const stmts = h.store.statements.listBySession(s.id);
    expect(stmts[0]).toMatchObject({ sql: 'SELECT pg_sleep(20)', errorCode: '08006' });
    // The upstream backend stops sleeping (cancelled), rather than running on for 20 s.
    let active = '1';
    for (let i = 0; i < 40 && active !== '0'; i++) {
      active = (await db.query("select count(*) from pg_stat_activity where application_name = 'mid-query-drop' and state = 'active'")).trim();
      if (active !== '0') await new Promise((r) => setTimeout(r, 100));
    }
    expect(active).toBe('0');
  });

  it('an upstream that dies mid-session gives the client an error and the session is closed and kept', async () => {
    const c = pgClient({ application_name: 'doomed' });
    await c.connect();
    const errors: any[] = [];
    c.on('error', (e) => errors.push(e));
    await c.query('SELECT 1');
    await db.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'doomed'");
    await waitFor(() => errors.length > 0, 'client error');
    expect(errors[0].code ?? errors[0].message).toMatch(/57P01|terminat/);
    await waitFor(() => {
      h.recorder.flush();
      return h.store.sessions.list({ limit: 1 }).items[0].endedAt !== null;
    }, 'session end');
    const s = h.store.sessions.list({ limit: 1 }).items[0];
    expect(s.endReason).toBe('upstream_closed');
    expect(h.store.statements.listBySession(s.id)).toHaveLength(1);
    const ok = await h.psql(h.dsn('app', 'bot', agent.secret), ['-At', '-c', 'select 8']);
    expect(ok.stdout.trim()).toBe('8');
  });

  it('a malformed message mid-session ends only that session with 08P01, audited, and the record is kept', async () => {
    const c = pgClient({ application_name: 'garbage' });
    const errors: any[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    await c.query('SELECT 1');
    (c as any).connection.stream.write(Buffer.from([0x51, 0, 0, 0, 2])); // Query with an impossible length
    await waitFor(() => errors.length > 0, 'client error');
    expect(errors[0].code).toBe('08P01');
    await waitFor(() => h.auditKinds().some((k) => k.kind === 'session.aborted' && k.reason === 'protocol_violation'), 'audit event');
    await waitFor(() => {
      h.recorder.flush();
      return h.store.sessions.list({ limit: 1 }).items[0].endReason === 'protocol_violation';
    }, 'session end');
    expect(h.store.statements.listBySession(h.store.sessions.list({ limit: 1 }).items[0].id).map((s) => s.sql)).toEqual(['SELECT 1']);
    const ok = await h.psql(h.dsn('app', 'bot', agent.secret), ['-At', '-c', 'select 9']);
    expect(ok.stdout.trim()).toBe('9');
  });

  it('closing sessions for a revoked grant ends the agent’s open sessions with 57P01', async () => {
    const c = pgClient();
    const errors: any[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    await c.query('SELECT 1');
    const closed = h.gateway.closeSessions({ agentId: agent.id, connectionId: connId }, 'grant_revoked');
    expect(closed).toBeGreaterThanOrEqual(1);
    await waitFor(() => errors.length > 0, 'client error');
    expect(errors[0].code).toBe('57P01');
    expect(errors[0].message).toContain('revoked');
    await waitFor(() => {
      h.recorder.flush();
      return h.store.sessions.list({ limit: 1 }).items[0].endReason === 'grant_revoked';
    }, 'session end with grant_revoked');
  });
});

describe('encryption and authentication negotiation', () => {
  it('answers GSSENCRequest with N and then serves the normal startup on the same connection', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(h.port, '127.0.0.1', () => {
        const gss = Buffer.alloc(8);
        gss.writeInt32BE(8, 0);
        gss.writeInt32BE(80877104, 4);
        s.write(gss);
      });
      let got = Buffer.alloc(0);
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length === 1) {
          // 'N' received: continue with a StartupMessage on the same socket.
          const params = Buffer.from('user\0bot\0database\0app\0\0');
          const startup = Buffer.alloc(8);
          startup.writeInt32BE(8 + params.length, 0);
          startup.writeInt32BE(196608, 4);
          s.write(Buffer.concat([startup, params]));
        } else if (got.length > 1) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
    });
    expect(String.fromCharCode(reply[0])).toBe('N');
    expect(String.fromCharCode(reply[1])).toBe('R'); // authentication request follows
    expect(reply.readInt32BE(6)).toBe(10); // AuthenticationSASL
  });

  it('offers cleartext password authentication only over TLS, when enabled', async () => {
    const tlsGateway = await new GatewayHarness().start({ cleartextOverTls: true });
    try {
      const conn = tlsGateway.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: db.users.scram.user, password: db.users.scram.password });
      const a = tlsGateway.addAgent('bot');
      tlsGateway.grant(a.id, conn.id);
      // The method the gateway asks for, read off the wire: 3 = cleartext password, 10 = SASL (SCRAM).
      expect(await firstAuthRequest(tlsGateway.port, true)).toBe(3);
      expect(await firstAuthRequest(tlsGateway.port, false)).toBe(10);
      expect(await firstAuthRequest(h.port, true)).toBe(10); // not enabled: SCRAM even over TLS
      const overTls = await tlsGateway.psql(tlsGateway.dsn('app', 'bot', a.secret, 'require'), ['-At', '-c', 'select 1']);
      expect(overTls.stderr).toBe('');
      expect(overTls.stdout.trim()).toBe('1');
      const scram = await tlsGateway.psql(tlsGateway.dsn('app', 'bot', a.secret, 'disable'), ['-At', '-c', 'select 2']);
      expect(scram.stdout.trim()).toBe('2');
      const wrong = await tlsGateway.psql(tlsGateway.dsn('app', 'bot', 'wrong', 'require'), ['-c', 'select 1']);
      expect(wrong.stderr).toContain('password authentication failed for user "bot"');
    } finally {
      await tlsGateway.stop();
    }
  });
});

/** Connect (optionally over TLS), send a StartupMessage, and return the code of the first Authentication request. */
async function firstAuthRequest(port: number, useTls: boolean): Promise<number> {
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  let sock: net.Socket = raw;
  if (useTls) {
    const req = Buffer.alloc(8);
    req.writeInt32BE(8, 0);
    req.writeInt32BE(80877103, 4);
    raw.write(req);
    const answer = await new Promise<Buffer>((r) => raw.once('data', r));
    expect(String.fromCharCode(answer[0])).toBe('S');
    sock = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise((r) => sock.once('secureConnect', r));
  }
  const params = Buffer.from('user\0bot\0database\0app\0\0');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(196608, 4);
  sock.write(Buffer.concat([head, params]));
  const msg = await new Promise<Buffer>((r) => sock.once('data', r));
  sock.destroy();
  expect(String.fromCharCode(msg[0])).toBe('R');
  return msg.readInt32BE(5);
}

describe('transport security for remote clients', () => {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it.skipIf(!external)('refuses plaintext from a non-loopback address with 28000, and accepts TLS from it', async () => {
    const remote = await new GatewayHarness().start({ host: '0.0.0.0' });
    try {
      const conn = remote.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: db.users.scram.user, password: db.users.scram.password });
      const a = remote.addAgent('bot');
      remote.grant(a.id, conn.id);
      const dsn = (ssl: string) => `host=${external} port=${remote.port} dbname=app user=bot password=${a.secret} sslmode=${ssl}`;
      const plain = await remote.psql(dsn('disable'), ['-At', '-c', 'select 1']);
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toContain('TLS is required for connections from other hosts');
      expect(remote.auditKinds()).toContainEqual({ kind: 'auth.failed', reason: 'tls_required' });
      const secure = await remote.psql(dsn('require'), ['-At', '-c', 'select 1']);
      expect(secure.stdout.trim()).toBe('1');
    } finally {
      await remote.stop();
    }
  });
});

/** Start a SCRAM exchange as `user` and return the salt from the server-first-message. */
async function serverFirstSalt(port: number, user: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const params = Buffer.from(`user\0${user}\0database\0app\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(196608, 4);
  sock.write(Buffer.concat([head, params]));
  await new Promise<Buffer>((r) => sock.once('data', r)); // AuthenticationSASL
  const first = Buffer.from('n,,n=,r=abcdefghijklmnop');
  const mech = Buffer.from('SCRAM-SHA-256\0');
  const body = Buffer.concat([mech, Buffer.alloc(4), first]);
  body.writeInt32BE(first.length, mech.length);
  const msg = Buffer.alloc(5);
  msg[0] = 0x70;
  msg.writeInt32BE(body.length + 4, 1);
  sock.write(Buffer.concat([msg, body]));
  const reply = await new Promise<Buffer>((r) => sock.once('data', r));
  sock.destroy();
  const serverFirst = reply.toString('utf8', 9);
  return /s=([^,]+)/.exec(serverFirst)![1];
}
