import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { serialize } from 'pg-protocol';
import type { ConnectionTestResult } from '../../shared/contract';
import { ScramClientExchange, ScramError } from '../identity/scram';
import type { TlsMode } from '../store/records';
import { readNoticeFields } from './frontend-messages';
import { HandshakeReader } from './handshake-reader';
import { AuthCode, Backend, SqlState } from './protocol-codes';

export interface UpstreamTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | null;
  tlsMode: TlsMode;
  connectTimeoutMs?: number;
}

export interface Upstream {
  /** Positioned right after the first ReadyForQuery; paused, with no listeners of ours attached. */
  socket: net.Socket | tls.TLSSocket;
  backendKey: { processId: number; secretKey: number };
  parameters: Map<string, string>;
  serverVersion: string;
  /** ParameterStatus, BackendKeyData and NoticeResponse messages as received, to relay to the client. */
  startupMessages: Buffer;
  /** Bytes read past the first ReadyForQuery (normally none). */
  leftover: Buffer;
}

export type UpstreamStage = 'dns' | 'tcp' | 'tls' | 'auth' | 'startup' | 'timeout';

/**
 * Why the upstream could not be reached. `safeMessage` is what the agent is told: it names neither host,
 * port, user nor password. `message` (for logs) may carry the upstream's own words.
 */
export class UpstreamError extends Error {
  constructor(
    readonly stage: UpstreamStage,
    readonly sqlstate: string,
    readonly safeMessage: string,
    detail: string,
    readonly upstreamCode?: string,
  ) {
    super(detail);
    this.name = 'UpstreamError';
  }
}

const fail = (stage: UpstreamStage, detail: string, upstreamCode?: string): UpstreamError => {
  const safe: Record<UpstreamStage, [string, string]> = {
    dns: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (name resolution failed)'],
    tcp: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (connection refused or unreachable)'],
    timeout: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (timed out)'],
    tls: [SqlState.connectionFailure, 'gatehouse could not establish TLS with the upstream database'],
    auth: [SqlState.connectionFailure, 'gatehouse could not log in to the upstream database; an administrator must check the stored credential'],
    startup: [SqlState.connectionFailure, 'the upstream database refused the session'],
  };
  return new UpstreamError(stage, safe[stage][0], safe[stage][1], detail, upstreamCode);
};

/**
 * Open an authenticated session on the real upstream with the stored credential. Supports trust,
 * cleartext, md5 and SCRAM-SHA-256 (whose server signature is verified, so an impostor upstream can't
 * pass), and TLS per `tlsMode`. `startupParams` are the client's other startup parameters (application
 * name, encoding, options...); user and database always come from the target.
 */
export async function connectUpstream(target: UpstreamTarget, startupParams: Record<string, string>): Promise<Upstream> {
  const timeoutMs = target.connectTimeoutMs ?? 10_000;
  let socket: net.Socket | tls.TLSSocket | null = null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      socket?.destroy();
      reject(fail('timeout', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      handshake(target, startupParams, (s) => (socket = s)),
      timeout,
    ]);
  } catch (err) {
    (socket as net.Socket | null)?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function handshake(target: UpstreamTarget, params: Record<string, string>, track: (s: net.Socket | tls.TLSSocket) => void): Promise<Upstream> {
  let address: string;
  try {
    address = net.isIP(target.host) ? target.host : (await lookup(target.host)).address;
  } catch (err) {
    throw fail('dns', (err as Error).message);
  }
  const raw = net.connect({ host: address, port: target.port, noDelay: true });
  track(raw);
  await new Promise<void>((resolve, reject) => {
    raw.once('connect', resolve);
    raw.once('error', (err) => reject(fail('tcp', err.message)));
  });
  raw.on('error', () => {});

  let socket: net.Socket | tls.TLSSocket = raw;
  let reader = new HandshakeReader(raw);
  if (target.tlsMode !== 'disable') {
    raw.write(serialize.requestSsl());
    const answer = await reader.readByte().catch((e) => {
      throw fail('tls', (e as Error).message);
    });
    // Bytes after 'S' would be read as if they had come over TLS (CVE-2021-23222).
    if (reader.buffered > 0) throw fail('tls', 'unexpected data after the SSLRequest answer');
    if (answer === 0x53 /* 'S' */) {
      reader.release();
      const verify = target.tlsMode === 'verify-full';
      const secure = tls.connect({ socket: raw, servername: net.isIP(target.host) ? undefined : target.host, rejectUnauthorized: verify });
      track(secure);
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', (err) => reject(fail('tls', err.message)));
      });
      secure.on('error', () => {});
      socket = secure;
      reader = new HandshakeReader(secure);
    } else if (answer === 0x4e /* 'N' */) {
      if (target.tlsMode !== 'prefer') throw fail('tls', 'the upstream does not accept TLS');
    } else {
      throw fail('tls', `unexpected answer to SSLRequest: 0x${answer.toString(16)}`);
    }
  }

  socket.write(serialize.startup({ ...params, user: target.user, database: target.database }));
  const parameters = new Map<string, string>();
  const relay: Buffer[] = [];
  let backendKey = { processId: 0, secretKey: 0 };
  let scram: ScramClientExchange | null = null;
  let authenticated = false;

  for (;;) {
    let msg: { type: number; body: Buffer; raw: Buffer };
    try {
      msg = await reader.readAny(1 << 20);
    } catch (err) {
      throw fail(authenticated ? 'startup' : 'auth', `upstream closed during startup: ${(err as Error).message}`);
    }
    const { type, body, raw: bytes } = msg;
    switch (type) {
      case Backend.authentication: {
        const code = body.readInt32BE(0);
        const pw = target.password;
        const needPassword = () => {
          if (pw === null) throw fail('auth', 'the upstream asks for a password and none is stored');
          return pw;
        };
        if (code === AuthCode.ok) {
          authenticated = true;
          if (scram) throw fail('auth', 'upstream skipped the SCRAM server signature');
        } else if (code === AuthCode.cleartextPassword) {
          socket.write(serialize.password(needPassword()));
        } else if (code === AuthCode.md5Password) {
          const salt = body.subarray(4, 8);
          const inner = createHash('md5').update(needPassword() + target.user).digest('hex');
          socket.write(serialize.password('md5' + createHash('md5').update(inner).update(salt).digest('hex')));
        } else if (code === AuthCode.sasl) {
          const mechanisms = body.toString('utf8', 4).split('\0').filter(Boolean);
          if (!mechanisms.includes('SCRAM-SHA-256')) throw fail('auth', `unsupported SASL mechanisms: ${mechanisms.join(', ')}`);
          scram = new ScramClientExchange(needPassword());
          socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.clientFirst()));
        } else if (code === AuthCode.saslContinue && scram) {
          socket.write(serialize.sendSCRAMClientFinalMessage(wrapScram(() => scram!.handleServerFirst(body.toString('utf8', 4)))));
        } else if (code === AuthCode.saslFinal && scram) {
          wrapScram(() => scram!.verifyServerFinal(body.toString('utf8', 4)));
          scram = null;
        } else {
          throw fail('auth', `unsupported authentication request ${code}`);
        }
        break;
      }
      case Backend.errorResponse: {
        const f = readNoticeFields(body);
        throw fail(authenticated ? 'startup' : 'auth', `${f.C ?? ''} ${f.M ?? 'upstream error'}`, f.C);
      }
      case Backend.parameterStatus: {
        const nul = body.indexOf(0);
        parameters.set(body.toString('utf8', 0, nul), body.toString('utf8', nul + 1, body.length - 1));
        relay.push(bytes);
        break;
      }
      case Backend.backendKeyData:
        backendKey = { processId: body.readInt32BE(0), secretKey: body.readInt32BE(4) };
        relay.push(bytes);
        break;
      case Backend.noticeResponse:
        relay.push(bytes);
        break;
      case Backend.negotiateProtocolVersion:
        // We only ever ask for 3.0 without extensions; nothing to relay.
        break;
      case Backend.readyForQuery: {
        if (!authenticated) throw fail('auth', 'ReadyForQuery before authentication');
        const leftover = reader.release();
        return {
          socket,
          backendKey,
          parameters,
          serverVersion: parameters.get('server_version') ?? '',
          startupMessages: Buffer.concat(relay),
          leftover,
        };
      }
      default:
        throw fail('startup', `unexpected message 0x${type.toString(16)} during startup`);
    }
  }
}

function wrapScram<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ScramError) throw fail('auth', err.message);
    throw err;
  }
}

/** Send a CancelRequest for an upstream backend on a fresh connection (the upstream closes it). */
export async function sendUpstreamCancel(target: { host: string; port: number }, key: { processId: number; secretKey: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port }, () => s.end(serialize.cancel(key.processId, key.secretKey)));
    const t = setTimeout(() => s.destroy(), 5000);
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
    s.on('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

/**
 * Check a connection end to end, the way an operator wants to read it: which stage failed (dns, tcp, tls,
 * auth) and why, or the server version when it works.
 */
export async function testUpstream(target: UpstreamTarget): Promise<ConnectionTestResult> {
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  let upstream: Upstream;
  try {
    upstream = await connectUpstream(target, { application_name: 'gatehouse-connection-test' });
  } catch (err) {
    if (err instanceof UpstreamError) {
      const stage = err.stage === 'timeout' ? 'tcp' : err.stage === 'startup' ? 'auth' : err.stage;
      return { ok: false, stage, message: `${err.safeMessage}: ${err.message}`, serverVersion: null, elapsedMs: elapsed() };
    }
    throw err;
  }
  try {
    const version = await simpleQueryFirstValue(upstream, 'SELECT version()');
    return { ok: true, stage: 'ok', message: 'connected and authenticated', serverVersion: version, elapsedMs: elapsed() };
  } catch (err) {
    return { ok: false, stage: 'query', message: (err as Error).message, serverVersion: null, elapsedMs: elapsed() };
  } finally {
    upstream.socket.end(serialize.end());
    upstream.socket.destroy();
  }
}

/** Run one simple query on an idle upstream and return the first column of the first row. */
async function simpleQueryFirstValue(upstream: Upstream, sql: string): Promise<string | null> {
  const reader = new HandshakeReader(upstream.socket);
  upstream.socket.write(serialize.query(sql));
  let value: string | null = null;
  for (;;) {
    const { type, body } = await reader.readAny(1 << 24);
    if (type === Backend.dataRow && value === null) {
      const len = body.readInt32BE(2);
      value = len < 0 ? null : body.toString('utf8', 6, 6 + len);
    } else if (type === Backend.errorResponse) {
      const f = readNoticeFields(body);
      throw new Error(`query failed: ${f.C} ${f.M}`);
    } else if (type === Backend.readyForQuery) {
      reader.release();
      return value;
    }
  }
}
