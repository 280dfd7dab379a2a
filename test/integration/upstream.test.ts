import net from 'node:net';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScramVerifier, parseScramVerifier, ScramServerExchange } from '../../src/gateway/identity/scram';
import {
  authenticationOk,
  authenticationSasl,
  authenticationSaslContinue,
  authenticationSaslFinal,
  backendKeyData,
  errorResponse,
  parameterStatus,
  readyForQuery,
} from '../../src/gateway/postgres/backend-messages';
import { readNoticeFields } from '../../src/gateway/postgres/frontend-messages';
import { HandshakeReader } from '../../src/gateway/postgres/handshake-reader';
import { Backend } from '../../src/gateway/postgres/protocol-codes';
import { connectUpstream, sendUpstreamCancel, testUpstream, UpstreamError, type Upstream, type UpstreamTarget } from '../../src/gateway/postgres/upstream';
import { freePort, startPostgres, type TestPostgres, type TestUser } from '../helpers/postgres';

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
}, 60_000);

afterAll(async () => {
  await Promise.all([scram, trust, cleartext, ssl].map((p) => p?.stop()));
});

const target = (db: TestPostgres, user: TestUser | null, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  host: '127.0.0.1',
  port: db.port,
  database: 'app',
  user: user?.user ?? db.users.scram.user,
  password: user?.password ?? null,
  tlsMode: 'disable',
  ...extra,
});

const failure = (p: Promise<unknown>): Promise<UpstreamError> =>
  p.then(
    () => {
      throw new Error('expected the connection to fail');
    },
    (err) => {
      expect(err).toBeInstanceOf(UpstreamError);
      return err as UpstreamError;
    },
  );

/** Run a simple query on a handed-over upstream session (leftover first); returns the rows' first column. */
async function query(up: Upstream, sql: string): Promise<{ values: (string | null)[]; error?: Record<string, string> }> {
  if (up.leftover.length) up.socket.unshift(up.leftover);
  const reader = new HandshakeReader(up.socket);
  up.socket.write(serialize.query(sql));
  const values: (string | null)[] = [];
  let error: Record<string, string> | undefined;
  try {
    for (;;) {
      const { type, body } = await reader.readAny(1 << 20);
      if (type === Backend.dataRow) {
        const len = body.readInt32BE(2);
        values.push(len < 0 ? null : body.toString('utf8', 6, 6 + len));
      } else if (type === Backend.errorResponse) error = readNoticeFields(body);
      else if (type === Backend.readyForQuery) return { values, error };
    }
  } finally {
    reader.release();
  }
}

describe('upstream authentication against real PostgreSQL', () => {
  it('logs in with SCRAM-SHA-256, md5, cleartext and trust', async () => {
    for (const [name, t] of [
      ['scram', target(scram, scram.users.scram)],
      ['md5', target(scram, scram.users.md5)],
      ['cleartext', target(cleartext, cleartext.users.scram)],
      ['trust', target(trust, null)],
    ] as const) {
      const r = await testUpstream(t);
      expect(r, name).toMatchObject({ ok: true, stage: 'ok', message: 'connected and authenticated' });
      expect(r.serverVersion, name).toMatch(/^PostgreSQL 1\d/);
      expect(r.elapsedMs, name).toBeGreaterThanOrEqual(0);
    }
    // The server really used the method each case claims to test.
    const methods = await scram.query(
      `SELECT rolname, substr(rolpassword, 1, 3) FROM pg_authid WHERE rolname IN ('gh_scram', 'gh_md5') ORDER BY 1`,
    );
    expect(methods.trim().split('\n')).toEqual(['gh_md5|md5', 'gh_scram|SCR']);
  });

  it('hands over an idle session: paused, none of our listeners, parameters and key data captured', async () => {
    const up = await connectUpstream(target(scram, scram.users.scram), { application_name: 'upstream-test' });
    try {
      expect(up.socket.isPaused()).toBe(true);
      // (Node keeps internal 'end'/'close' listeners of its own on every socket.)
      for (const event of ['data', 'readable', 'error']) expect(up.socket.listenerCount(event), event).toBe(0);
      expect(up.leftover.length).toBe(0);
      expect(up.backendKey.processId).toBeGreaterThan(0);
      expect(up.cancelTarget).toEqual({ host: '127.0.0.1', port: scram.port });
      expect(up.parameters.get('application_name')).toBe('upstream-test');
      expect(up.serverVersion).toMatch(/^1\d/);
      expect(up.parameters.get('server_version')).toBe(up.serverVersion);
      // startupMessages holds the raw ParameterStatus ('S') and BackendKeyData ('K') messages, back to back.
      const types: string[] = [];
      for (let at = 0; at < up.startupMessages.length; at += 1 + up.startupMessages.readInt32BE(at + 1)) types.push(String.fromCharCode(up.startupMessages[at]));
      expect(types.filter((t) => t === 'S').length).toBe(up.parameters.size);
      expect(types).toContain('K');
      const r = await query(up, 'SELECT current_user || \'@\' || current_database()');
      expect(r.values).toEqual(['gh_scram@app']);
    } finally {
      up.socket.destroy();
    }
  });

  it("forwards the client's startup parameters but never its user, database or replication mode", async () => {
    const up = await connectUpstream(target(scram, scram.users.md5), {
      user: 'postgres',
      database: 'postgres',
      replication: 'database',
      application_name: 'agent-app',
      client_encoding: 'LATIN1',
      DateStyle: 'SQL, DMY',
      options: '-c search_path=pg_catalog',
      '_pq_.made_up': 'x',
    });
    try {
      expect(up.parameters.get('client_encoding')).toBe('LATIN1');
      expect(up.parameters.get('DateStyle')).toBe('SQL, DMY');
      expect(up.parameters.get('application_name')).toBe('agent-app');
      const r = await query(up, 'SELECT current_user');
      expect(r).toEqual({ values: ['gh_md5'], error: undefined });
      const db = await query(up, 'SELECT current_database()');
      expect(db.values).toEqual(['app']);
      const sp = await query(up, "SELECT current_setting('search_path')");
      expect(sp.values).toEqual(['pg_catalog']);
    } finally {
      up.socket.destroy();
    }
  });

  it('logs in with a non-ASCII password, SASLprepped as PostgreSQL does', async () => {
    const password = 'pa\u00A0ss\u00ADw\uFB01rd-\u00E9';
    await scram.query(`DROP ROLE IF EXISTS gh_unicode; CREATE ROLE gh_unicode LOGIN PASSWORD '${password}'`);
    const r = await testUpstream(target(scram, { user: 'gh_unicode', password }, { database: 'postgres' }));
    expect(r).toMatchObject({ ok: true, stage: 'ok' });
    const wrong = await testUpstream(target(scram, { user: 'gh_unicode', password: 'pa ssw\uFB01rd-e' }, { database: 'postgres' }));
    expect(wrong).toMatchObject({ ok: false, stage: 'auth' });
  });

  it('reports a wrong password as an auth failure whose safe message names no secret, host or user', async () => {
    const err = await failure(connectUpstream(target(scram, { user: scram.users.scram.user, password: 'wrong-password-xyz' }), {}));
    expect(err.stage).toBe('auth');
    expect(err.upstreamCode).toBe('28P01');
    expect(err.detail).toContain('28P01');
    expect(err.sqlstate).toBe('28000');
    for (const text of [err.safeMessage, err.detail]) expect(text).not.toContain('wrong-password-xyz');
    expect(err.safeMessage).not.toMatch(/127\.0\.0\.1|gh_scram|localhost|app/);
    expect(err.safeMessage).not.toContain(String(scram.port));

    const md5 = await failure(connectUpstream(target(scram, { user: scram.users.md5.user, password: 'nope' }), {}));
    expect(md5).toMatchObject({ stage: 'auth', upstreamCode: '28P01', sqlstate: '28000' });

    const none = await failure(connectUpstream(target(scram, { user: scram.users.scram.user, password: null as unknown as string }), {}));
    expect(none.stage).toBe('auth');
    expect(none.detail).toContain('none is stored');

    const cleartextWrong = await failure(connectUpstream(target(cleartext, { user: cleartext.users.scram.user, password: 'wrong' }), {}));
    expect(cleartextWrong).toMatchObject({ stage: 'auth', upstreamCode: '28P01' });
  });

  it('reports an unknown upstream database as a startup failure', async () => {
    const err = await failure(connectUpstream(target(scram, scram.users.scram, { database: 'no_such_db' }), {}));
    expect(err).toMatchObject({ stage: 'startup', upstreamCode: '3D000', sqlstate: '08006' });
    expect(err.safeMessage).not.toContain('no_such_db');
  });
});

describe('upstream reachability', () => {
  it('an unresolvable host fails at dns with 08001', async () => {
    const err = await failure(connectUpstream({ ...target(scram, scram.users.scram), host: 'no-such-host.invalid' }, {}));
    expect(err).toMatchObject({ stage: 'dns', sqlstate: '08001' });
    expect(err.safeMessage).not.toContain('no-such-host');
  });

  it('a port with nothing listening fails at tcp with 08001', async () => {
    const port = await freePort();
    const err = await failure(connectUpstream({ ...target(scram, scram.users.scram), port }, {}));
    expect(err).toMatchObject({ stage: 'tcp', sqlstate: '08001' });
    expect(err.safeMessage).not.toContain(String(port));
  });

  it('times out on a server that never answers, and closes the connection it opened', async () => {
    const silent = net.createServer();
    const closed = new Promise<void>((resolve) => silent.once('connection', (s) => s.on('close', () => resolve()).resume()));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const err = await failure(connectUpstream({ ...target(scram, scram.users.scram), port, connectTimeoutMs: 300 }, {}));
      expect(err).toMatchObject({ stage: 'timeout', sqlstate: '08001', during: 'auth' });
      await closed;
      const r = await testUpstream({ ...target(scram, scram.users.scram), port, connectTimeoutMs: 300 });
      expect(r).toMatchObject({ ok: false, stage: 'auth' });
      expect(r.message).toContain('timed out');
    } finally {
      silent.close();
    }
  });

  it('testUpstream reports dns, tcp, auth and tls failures with a clear message', async () => {
    const dns = await testUpstream({ ...target(scram, scram.users.scram), host: 'no-such-host.invalid' });
    expect(dns).toMatchObject({ ok: false, stage: 'dns', serverVersion: null });
    expect(dns.message).toContain('name resolution failed');
    const tcp = await testUpstream({ ...target(scram, scram.users.scram), port: await freePort() });
    expect(tcp).toMatchObject({ ok: false, stage: 'tcp' });
    expect(tcp.message).toContain('ECONNREFUSED');
    const auth = await testUpstream(target(scram, { user: scram.users.scram.user, password: 'bad-pw-123' }));
    expect(auth).toMatchObject({ ok: false, stage: 'auth' });
    expect(auth.message).toContain('password authentication failed');
    expect(auth.message).not.toContain('bad-pw-123');
    const tls = await testUpstream(target(scram, scram.users.scram, { tlsMode: 'require' }));
    expect(tls).toMatchObject({ ok: false, stage: 'tls' });
  });
});

describe('upstream TLS', () => {
  const encrypted = (up: Upstream) => (up.socket as { encrypted?: boolean }).encrypted === true;

  it('require uses TLS when the server offers it (self-signed accepted)', async () => {
    const up = await connectUpstream(target(ssl, ssl.users.scram, { tlsMode: 'require' }), {});
    try {
      expect(encrypted(up)).toBe(true);
      expect(up.socket.isPaused()).toBe(true);
      expect(up.socket.listenerCount('data')).toBe(0);
      expect((await query(up, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).values).toEqual(['true']);
    } finally {
      up.socket.destroy();
    }
  });

  it('require and verify-full fail against a server without TLS; prefer falls back to plaintext', async () => {
    expect(await failure(connectUpstream(target(scram, scram.users.scram, { tlsMode: 'require' }), {}))).toMatchObject({ stage: 'tls', sqlstate: '08001' });
    expect((await failure(connectUpstream(target(scram, scram.users.scram, { tlsMode: 'verify-full' }), {}))).stage).toBe('tls');
    const up = await connectUpstream(target(scram, scram.users.scram, { tlsMode: 'prefer' }), {});
    expect(encrypted(up)).toBe(false);
    up.socket.destroy();
  });

  it('prefer uses TLS when the server offers it', async () => {
    const up = await connectUpstream(target(ssl, ssl.users.md5, { tlsMode: 'prefer' }), {});
    expect(encrypted(up)).toBe(true);
    up.socket.destroy();
  });

  it('verify-full rejects a certificate it cannot verify and accepts one from a trusted CA with the right name', async () => {
    const untrusted = await testUpstream({ ...target(ssl, ssl.users.scram), host: 'localhost', tlsMode: 'verify-full' });
    expect(untrusted).toMatchObject({ ok: false, stage: 'tls' });
    expect(untrusted.message).toMatch(/self[- ]signed/i);
    const trusted = await connectUpstream({ ...target(ssl, ssl.users.scram), host: 'localhost', tlsMode: 'verify-full', ca: ssl.sslCert! }, {});
    expect(encrypted(trusted)).toBe(true);
    trusted.socket.destroy();
    const byIp = await connectUpstream({ ...target(ssl, ssl.users.scram), tlsMode: 'verify-full', ca: ssl.sslCert! }, {});
    byIp.socket.destroy();
    // Same trusted certificate, a name it was not issued for: refused.
    const wrongName = await failure(connectUpstream({ ...target(ssl, ssl.users.scram), host: '::ffff:127.0.0.1', tlsMode: 'verify-full', ca: ssl.sslCert! }, {}));
    expect(wrongName.stage).toBe('tls');
    expect(wrongName.detail).toMatch(/not in the cert/);
  });
});

describe('upstream cancel', () => {
  it('cancels a running statement with CancelRequest on a fresh connection', async () => {
    const up = await connectUpstream(target(scram, scram.users.scram), {});
    try {
      const reader = new HandshakeReader(up.socket);
      up.socket.write(serialize.query('SELECT pg_sleep(10)'));
      // Wait until the backend is really running the statement, then cancel it.
      for (;;) {
        const active = await scram.query(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${up.backendKey.processId} AND state = 'active'`);
        if (active.trim() === '1') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await sendUpstreamCancel({ host: '127.0.0.1', port: scram.port }, up.backendKey);
      let code: string | undefined;
      for (;;) {
        const { type, body } = await reader.readAny(1 << 20);
        if (type === Backend.errorResponse) code = readNoticeFields(body).C;
        if (type === Backend.readyForQuery) break;
      }
      reader.release();
      expect(code).toBe('57014');
    } finally {
      up.socket.destroy();
    }
  });

  it('a cancel with a wrong key cancels nothing', async () => {
    const up = await connectUpstream(target(scram, scram.users.scram), {});
    try {
      await sendUpstreamCancel(up.cancelTarget, { processId: up.backendKey.processId, secretKey: up.backendKey.secretKey ^ 1 });
      const r = await query(up, 'SELECT 1');
      expect(r).toEqual({ values: ['1'], error: undefined });
    } finally {
      up.socket.destroy();
    }
  });
});

/**
 * A scripted server speaking just enough of the protocol to play a hostile or odd upstream: it reads the
 * first startup packet (answering SSLRequest with `sslAnswer` first, if given) and hands the socket over.
 */
async function scriptedUpstream(
  script: (socket: net.Socket) => void,
  opts: { sslAnswer?: Buffer } = {},
): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 8 && buf.length >= buf.readInt32BE(0)) {
        const len = buf.readInt32BE(0);
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        if (code === 80877103) {
          socket.write(opts.sslAnswer ?? Buffer.from('N'));
          continue;
        }
        socket.off('data', onData);
        script(socket);
        return;
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Read whole frontend messages ('p' etc.) from a scripted server's socket, one per call. */
function messages(socket: net.Socket): () => Promise<Buffer> {
  let buf = Buffer.alloc(0);
  let waiting: (() => void) | null = null;
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    waiting?.();
  });
  return async () => {
    while (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) await new Promise<void>((r) => (waiting = r));
    const len = 1 + buf.readInt32BE(1);
    const msg = buf.subarray(0, len);
    buf = buf.subarray(len);
    return msg;
  };
}

/** The SCRAM payload of a SASLInitialResponse ('p', mechanism, int32 length, data) or SASLResponse. */
function saslPayload(msg: Buffer, initial: boolean): string {
  if (!initial) return msg.toString('utf8', 5);
  const nul = msg.indexOf(0, 5);
  return msg.toString('utf8', nul + 5);
}

describe('upstream refuses hostile or unsupported servers', () => {
  const t = (port: number, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
    host: '127.0.0.1',
    port,
    database: 'app',
    user: 'gh',
    password: 'real-password',
    tlsMode: 'disable',
    connectTimeoutMs: 5000,
    ...extra,
  });
  const authRequest = (code: number) => {
    const b = Buffer.alloc(9);
    b.write('R', 0);
    b.writeInt32BE(8, 1);
    b.writeInt32BE(code, 5);
    return b;
  };

  it('rejects GSSAPI, SSPI and Kerberos requests', async () => {
    for (const [code, name] of [[7, 'GSSAPI'], [9, 'SSPI'], [2, 'Kerberos']] as const) {
      const srv = await scriptedUpstream((s) => s.write(authRequest(code)));
      try {
        const err = await failure(connectUpstream(t(srv.port), {}));
        expect(err.stage).toBe('auth');
        expect(err.detail).toContain(name);
      } finally {
        srv.close();
      }
    }
  });

  it('rejects a SASL server without SCRAM-SHA-256', async () => {
    const srv = await scriptedUpstream((s) => s.write(authenticationSasl(['SCRAM-SHA-256-PLUS', 'OTHER'])));
    try {
      expect((await failure(connectUpstream(t(srv.port), {}))).stage).toBe('auth');
    } finally {
      srv.close();
    }
  });

  it('an impostor that does not know the password cannot finish SCRAM, even by skipping the signature', async () => {
    for (const variant of ['bad-signature', 'skip-final'] as const) {
      const srv = await scriptedUpstream(async (s) => {
        const next = messages(s);
        // The impostor has some verifier, not the one for the real password.
        const exchange = new ScramServerExchange(parseScramVerifier(createScramVerifier('guess')));
        s.write(authenticationSasl(['SCRAM-SHA-256']));
        s.write(authenticationSaslContinue(exchange.handleClientFirst(saslPayload(await next(), true))));
        exchange.handleClientFinal(saslPayload(await next(), false));
        if (variant === 'bad-signature') s.write(authenticationSaslFinal('v=' + Buffer.alloc(32, 1).toString('base64')));
        s.write(Buffer.concat([authenticationOk(), backendKeyData(1, 2), readyForQuery()]));
      });
      try {
        const err = await failure(connectUpstream(t(srv.port), {}));
        expect(err.stage, variant).toBe('auth');
        expect(err.detail, variant).toMatch(/signature/);
      } finally {
        srv.close();
      }
    }
  });

  it('passes on "too many connections" as 53300 so the client can retry', async () => {
    const srv = await scriptedUpstream((s) => s.end(errorResponse({ severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' })));
    try {
      expect(await failure(connectUpstream(t(srv.port), {}))).toMatchObject({ stage: 'startup', sqlstate: '53300', upstreamCode: '53300' });
    } finally {
      srv.close();
    }
  });

  it('refuses bytes smuggled after the SSLRequest answer', async () => {
    const srv = await scriptedUpstream(() => {}, { sslAnswer: Buffer.concat([Buffer.from('S'), authenticationOk(), readyForQuery()]) });
    try {
      const err = await failure(connectUpstream(t(srv.port, { tlsMode: 'require' }), {}));
      expect(err.stage).toBe('tls');
      expect(err.detail).toContain('unexpected data');
    } finally {
      srv.close();
    }
  });

  it('returns bytes that arrive after the first ReadyForQuery as leftover', async () => {
    const extra = parameterStatus('late', 'value');
    const srv = await scriptedUpstream((s) =>
      s.write(Buffer.concat([authenticationOk(), parameterStatus('server_version', '15.99'), backendKeyData(7, 9), readyForQuery(), extra])),
    );
    try {
      const up = await connectUpstream(t(srv.port, { password: null }), {});
      expect(up.leftover).toEqual(extra);
      expect(up.backendKey).toEqual({ processId: 7, secretKey: 9 });
      expect(up.serverVersion).toBe('15.99');
      up.socket.destroy();
    } finally {
      srv.close();
    }
  });
});
