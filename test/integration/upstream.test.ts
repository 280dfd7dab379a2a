import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUpstream, testUpstream, UpstreamError, type UpstreamTarget } from '../../src/gateway/postgres/upstream';
import { freePort, startPostgres, type TestPostgres } from '../helpers/postgres';

/** The gateway's upstream side against real PostgreSQL servers with each authentication method. */
let scram: TestPostgres;
let trust: TestPostgres;
let cleartext: TestPostgres;
let ssl: TestPostgres;

beforeAll(async () => {
  [scram, trust, cleartext, ssl] = await Promise.all([
    startPostgres({ auth: 'scram-sha-256' }),
    startPostgres({ auth: 'trust' }),
    startPostgres({ auth: 'password' }),
    startPostgres({ auth: 'scram-sha-256', ssl: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([scram, trust, cleartext, ssl].map((p) => p?.stop()));
});

const target = (db: TestPostgres, user: { user: string; password: string } | null, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  host: '127.0.0.1',
  port: db.port,
  database: 'app',
  user: user?.user ?? db.users.scram.user,
  password: user?.password ?? null,
  tlsMode: 'disable',
  ...extra,
});

describe('upstream authentication', () => {
  it('logs in with SCRAM-SHA-256, md5, cleartext and trust', async () => {
    for (const [name, t] of [
      ['scram', target(scram, scram.users.scram)],
      ['md5', target(scram, scram.users.md5)],
      ['cleartext', target(cleartext, cleartext.users.scram)],
      ['trust', target(trust, null)],
    ] as const) {
      const r = await testUpstream(t);
      expect(r, name).toMatchObject({ ok: true, stage: 'ok' });
      expect(r.serverVersion, name).toMatch(/^PostgreSQL 1\d/);
    }
  });

  it('hands over a session positioned after ReadyForQuery, with key data and parameters', async () => {
    const up = await connectUpstream(target(scram, scram.users.scram), { application_name: 'upstream-test' });
    expect(up.backendKey.processId).toBeGreaterThan(0);
    expect(up.parameters.get('application_name')).toBe('upstream-test');
    expect(up.serverVersion).toMatch(/^1\d/);
    expect(up.startupMessages.length).toBeGreaterThan(0);
    up.socket.destroy();
  });

  it('reports a wrong password as an auth failure whose safe message names no secret or host', async () => {
    const err = await connectUpstream(target(scram, { user: scram.users.scram.user, password: 'wrong-password-xyz' }), {}).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.stage).toBe('auth');
    expect(err.upstreamCode).toBe('28P01');
    expect(err.safeMessage).not.toMatch(/wrong-password-xyz|127\.0\.0\.1|gh_scram/);
    const md5 = await connectUpstream(target(scram, { user: scram.users.md5.user, password: 'nope' }), {}).catch((e) => e);
    expect(md5.stage).toBe('auth');
    const none = await connectUpstream(target(scram, { user: scram.users.scram.user, password: null as unknown as string }), {}).catch((e) => e);
    expect(none.message).toContain('none is stored');
  });

  it('tells which stage failed: dns, tcp', async () => {
    const dns = await testUpstream({ ...target(scram, scram.users.scram), host: 'no-such-host.invalid' });
    expect(dns).toMatchObject({ ok: false, stage: 'dns' });
    const port = await freePort();
    const tcp = await testUpstream({ ...target(scram, scram.users.scram), port });
    expect(tcp).toMatchObject({ ok: false, stage: 'tcp' });
  });

  it('times out on a server that never answers', async () => {
    const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const err = await connectUpstream({ ...target(scram, scram.users.scram), port: (silent.address() as net.AddressInfo).port, connectTimeoutMs: 300 }, {}).catch((e) => e);
    silent.close();
    expect(err.stage).toBe('timeout');
    expect(err.sqlstate).toBe('08001');
  });
});

describe('upstream TLS', () => {
  it('uses TLS when required and the server offers it', async () => {
    const up = await connectUpstream(target(ssl, ssl.users.scram, { tlsMode: 'require' }), {});
    expect('encrypted' in up.socket && (up.socket as { encrypted?: boolean }).encrypted).toBe(true);
    up.socket.destroy();
  });

  it('refuses require against a server without TLS, and falls back for prefer', async () => {
    const err = await connectUpstream(target(scram, scram.users.scram, { tlsMode: 'require' }), {}).catch((e) => e);
    expect(err.stage).toBe('tls');
    const up = await connectUpstream(target(scram, scram.users.scram, { tlsMode: 'prefer' }), {});
    expect((up.socket as { encrypted?: boolean }).encrypted).toBeFalsy();
    up.socket.destroy();
  });

  it('verify-full rejects a self-signed upstream certificate', async () => {
    const r = await testUpstream({ ...target(ssl, ssl.users.scram), host: 'localhost', tlsMode: 'verify-full' });
    expect(r).toMatchObject({ ok: false, stage: 'tls' });
  });
});
