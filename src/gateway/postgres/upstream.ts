import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { serialize } from 'pg-protocol';
import type { ConnectionTestResult } from '../../shared/contract';
import { ScramClientExchange, ScramError } from '../identity/scram';
import type { TlsMode } from '../store/records';
import { readNoticeFields } from './frontend-messages';
import { HandshakeReader } from './handshake-reader';
import { AuthCode, Backend, SqlState, StartupCode } from './protocol-codes';

export interface UpstreamTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | null;
  tlsMode: TlsMode;
  /** Whole-handshake limit (DNS, TCP, TLS, authentication, startup); default 10 s. */
  connectTimeoutMs?: number;
  /** Extra CA certificates (PEM) trusted for verify-full; default: the system's. */
  ca?: string;
}

export interface Upstream {
  /** Positioned right after the first ReadyForQuery; paused, with no listeners of ours attached. */
  socket: net.Socket | tls.TLSSocket;
  backendKey: { processId: number; secretKey: number };
  /** Every ParameterStatus received during startup. */
  parameters: Map<string, string>;
  serverVersion: string;
  /** ParameterStatus, BackendKeyData and NoticeResponse messages as received, to relay to the client. */
  startupMessages: Buffer;
  /** Bytes read past the first ReadyForQuery (normally none), to process before further socket data. */
  leftover: Buffer;
  /** The address actually connected to (a resolved IP): where a CancelRequest for this session must go. */
  cancelTarget: { host: string; port: number };
}

export type UpstreamStage = 'dns' | 'tcp' | 'tls' | 'auth' | 'startup' | 'timeout';
/** The stages a handshake goes through, in order; a timeout happens during one of them. */
export type HandshakeStage = Exclude<UpstreamStage, 'timeout'>;

/**
 * Why the upstream could not be reached or would not take the session. `safeMessage` and `sqlstate` are
 * what the agent is told: no host, port, user or password in them. `detail` (also the Error message) is
 * for logs and the operator; it may carry the upstream's own words and SQLSTATE, never the password.
 */
export class UpstreamError extends Error {
  readonly detail: string;
  /** The SQLSTATE of the upstream's ErrorResponse, when it sent one. */
  readonly upstreamCode?: string;
  /** For a timeout: the stage that was under way. Otherwise the same as `stage`. */
  readonly during: HandshakeStage;

  constructor(
    readonly stage: UpstreamStage,
    readonly sqlstate: string,
    readonly safeMessage: string,
    detail: string,
    extra: { upstreamCode?: string; during?: HandshakeStage } = {},
  ) {
    super(detail);
    this.name = 'UpstreamError';
    this.detail = detail;
    this.upstreamCode = extra.upstreamCode;
    this.during = extra.during ?? (stage === 'timeout' ? 'tcp' : stage);
  }
}

const SAFE: Record<UpstreamStage, [sqlstate: string, message: string]> = {
  dns: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (name resolution failed)'],
  tcp: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (connection refused or unreachable)'],
  timeout: [SqlState.unableToConnect, 'gatehouse could not reach the upstream database (timed out)'],
  tls: [SqlState.unableToConnect, 'gatehouse could not establish TLS with the upstream database'],
  // 28000, not 28P01: 28P01 from the gateway means the agent's own secret was wrong.
  auth: [SqlState.invalidAuthorization, 'gatehouse could not log in to the upstream database with its stored credential; an administrator must check the connection'],
  startup: [SqlState.connectionFailure, 'the upstream database refused the session'],
};

/** Upstream SQLSTATEs worth passing on as they are: the client may retry later. */
const RETRYABLE: Record<string, string> = {
  '53300': 'the upstream database has too many connections; try again later',
  '57P03': 'the upstream database is starting up or shutting down; try again later',
};

const fail = (stage: UpstreamStage, detail: string, extra?: { upstreamCode?: string; during?: HandshakeStage }): UpstreamError =>
  new UpstreamError(stage, SAFE[stage][0], SAFE[stage][1], detail, extra);

/** Startup parameters never taken from the client: the target decides, or the gateway can't relay them. */
function forwardable(key: string, value: string): boolean {
  if (key === 'user' || key === 'database' || key === 'replication') return false;
  // Protocol extensions would need NegotiateProtocolVersion relayed; the gateway speaks plain 3.0.
  if (key.startsWith('_pq_.')) return false;
  return key.length > 0 && !key.includes('\0') && !value.includes('\0');
}

/** StartupMessage for protocol 3.0. (pg-protocol's serializer appends client_encoding=UTF8, overriding the client's.) */
function startupMessage(params: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.alloc(8)];
  for (const [k, v] of Object.entries(params)) parts.push(Buffer.from(`${k}\0${v}\0`, 'utf8'));
  parts.push(Buffer.from([0]));
  const msg = Buffer.concat(parts);
  msg.writeInt32BE(msg.length, 0);
  msg.writeInt32BE(StartupCode.protocol3, 4);
  return msg;
}

/** The sockets and progress of one handshake, so a timeout can end whatever is under way. */
class Attempt {
  stage: HandshakeStage = 'dns';
  aborted = false;
  private readonly sockets = new Set<net.Socket>();

  track<T extends net.Socket>(socket: T): T {
    if (this.aborted) socket.destroy();
    else this.sockets.add(socket);
    return socket;
  }

  abort(): void {
    this.aborted = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** Resolve on `event`; reject on 'error' or 'close' first. Removes its listeners either way. */
function waitFor(emitter: EventEmitter, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      emitter.off(event, onEvent);
      emitter.off('error', onError);
      emitter.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onEvent = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('connection closed'));
    emitter.once(event, onEvent);
    emitter.once('error', onError);
    emitter.once('close', onClose);
  });
}

/**
 * Open an authenticated session on the real upstream with the stored credential, when an agent's session
 * starts. Supports trust, cleartext, md5 and SCRAM-SHA-256 (whose server signature is verified, so a
 * server that doesn't hold the password's keys can't complete it), and TLS per `tlsMode`.
 * `startupParams` are the client's other startup parameters (application_name, client_encoding,
 * DateStyle, options...); user and database always come from the target. Fails with UpstreamError.
 */
export async function connectUpstream(target: UpstreamTarget, startupParams: Record<string, string>): Promise<Upstream> {
  const timeoutMs = target.connectTimeoutMs ?? 10_000;
  const attempt = new Attempt();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const during = attempt.stage;
      attempt.abort();
      reject(fail('timeout', `no answer within ${timeoutMs} ms (during ${during})`, { during }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([handshake(target, startupParams, attempt), timeout]);
  } catch (err) {
    attempt.abort();
    if (err instanceof UpstreamError) throw err;
    throw fail(attempt.stage, `unexpected failure: ${(err as Error)?.message ?? err}`);
  } finally {
    clearTimeout(timer);
  }
}

async function openTcp(target: UpstreamTarget, attempt: Attempt): Promise<net.Socket> {
  attempt.stage = 'dns';
  let addresses: string[];
  if (net.isIP(target.host)) addresses = [target.host];
  else {
    try {
      addresses = (await lookup(target.host, { all: true })).map((a) => a.address);
    } catch (err) {
      throw fail('dns', `cannot resolve the upstream host: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (addresses.length === 0) throw fail('dns', 'the upstream host has no address');
  }
  attempt.stage = 'tcp';
  let lastError = 'no address to try';
  // Every address in turn, like libpq: "localhost" may resolve to ::1 first while the server is on 127.0.0.1.
  for (const address of addresses) {
    if (attempt.aborted) break;
    const socket = attempt.track(net.connect({ host: address, port: target.port, noDelay: true }));
    try {
      await waitFor(socket, 'connect');
      return socket;
    } catch (err) {
      socket.destroy();
      lastError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }
  throw fail('tcp', `cannot connect to the upstream: ${lastError}`);
}

/** SSLRequest, then TLS over the same socket when the server agrees. Returns the socket to speak on. */
async function negotiateTls(raw: net.Socket, target: UpstreamTarget, attempt: Attempt): Promise<net.Socket | tls.TLSSocket> {
  if (target.tlsMode === 'disable') return raw;
  attempt.stage = 'tls';
  const reader = new HandshakeReader(raw);
  raw.write(serialize.requestSsl());
  let answer: number;
  try {
    answer = await reader.readByte();
  } catch (err) {
    reader.release();
    throw fail('tls', `the upstream closed the connection after SSLRequest: ${(err as Error).message}`);
  }
  // Bytes after the answer would be read as if they had come over TLS (CVE-2021-23222).
  const extra = reader.buffered;
  reader.release();
  if (extra > 0) throw fail('tls', 'unexpected data after the answer to SSLRequest');
  if (answer === 0x4e /* 'N' */) {
    if (target.tlsMode === 'prefer') return raw;
    throw fail('tls', 'the upstream does not accept TLS');
  }
  if (answer !== 0x53 /* 'S' */) throw fail('tls', `unexpected answer to SSLRequest: 0x${answer.toString(16)}`);
  const verify = target.tlsMode === 'verify-full';
  const secure = attempt.track(
    tls.connect({
      socket: raw,
      host: target.host,
      servername: net.isIP(target.host) ? undefined : target.host,
      rejectUnauthorized: verify,
      ...(target.ca ? { ca: target.ca } : {}),
    }),
  );
  // The TLS socket reports transport errors itself; this keeps a late one on the raw socket from crashing.
  raw.on('error', () => {});
  try {
    await waitFor(secure, 'secureConnect');
  } catch (err) {
    throw fail('tls', `TLS handshake failed: ${(err as Error).message}`);
  }
  return secure;
}

async function handshake(target: UpstreamTarget, params: Record<string, string>, attempt: Attempt): Promise<Upstream> {
  const raw = await openTcp(target, attempt);
  const socket = await negotiateTls(raw, target, attempt);
  if (attempt.aborted) throw fail('timeout', 'aborted');

  attempt.stage = 'auth';
  const forwarded: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (forwardable(k, v)) forwarded[k] = v;
  const reader = new HandshakeReader(socket);
  socket.write(startupMessage({ ...forwarded, user: target.user, database: target.database }));

  const parameters = new Map<string, string>();
  const relay: Buffer[] = [];
  let backendKey = { processId: 0, secretKey: 0 };
  let scram: ScramClientExchange | null = null;

  try {
    for (;;) {
      let msg: { type: number; body: Buffer; raw: Buffer };
      try {
        msg = await reader.readAny(1 << 20);
      } catch (err) {
        throw fail(attempt.stage, `the upstream closed the connection during ${attempt.stage}: ${(err as Error).message}`);
      }
      const { type, body, raw: bytes } = msg;
      switch (type) {
        case Backend.authentication: {
          if (attempt.stage !== 'auth') throw fail('startup', 'authentication request after authentication');
          scram = await answerAuthentication(socket, target, body, scram);
          if (body.readInt32BE(0) === AuthCode.ok) attempt.stage = 'startup';
          break;
        }
        case Backend.errorResponse:
          throw startupError(body, attempt.stage);
        case Backend.parameterStatus: {
          const nul = body.indexOf(0);
          if (nul < 0) throw fail('startup', 'malformed ParameterStatus');
          parameters.set(body.toString('utf8', 0, nul), body.toString('utf8', nul + 1, Math.max(nul + 1, body.length - 1)));
          relay.push(bytes);
          break;
        }
        case Backend.backendKeyData:
          if (body.length < 8) throw fail('startup', 'malformed BackendKeyData');
          backendKey = { processId: body.readInt32BE(0), secretKey: body.readInt32BE(4) };
          relay.push(bytes);
          break;
        case Backend.noticeResponse:
          relay.push(bytes);
          break;
        case Backend.negotiateProtocolVersion:
          // Only sent for _pq_ options or a newer minor version, neither of which we ask for.
          break;
        case Backend.readyForQuery: {
          if (attempt.stage !== 'startup') throw fail('auth', 'ReadyForQuery before authentication completed');
          const leftover = reader.release();
          const remote = { host: raw.remoteAddress ?? target.host, port: target.port };
          return {
            socket,
            backendKey,
            parameters,
            serverVersion: parameters.get('server_version') ?? '',
            startupMessages: Buffer.concat(relay),
            leftover,
            cancelTarget: remote,
          };
        }
        default:
          throw fail(attempt.stage, `unexpected message 0x${type.toString(16)} during ${attempt.stage}`);
      }
    }
  } catch (err) {
    reader.release();
    throw err;
  }
}

/**
 * Answer one Authentication request. Returns the SCRAM exchange in progress, if any. Throws
 * UpstreamError for unsupported methods, a missing password, or a SCRAM server that can't prove itself.
 */
async function answerAuthentication(
  socket: net.Socket,
  target: UpstreamTarget,
  body: Buffer,
  scram: ScramClientExchange | null,
): Promise<ScramClientExchange | null> {
  if (body.length < 4) throw fail('auth', 'malformed authentication request');
  const code = body.readInt32BE(0);
  const password = (): string => {
    if (target.password === null) throw fail('auth', 'the upstream asks for a password and none is stored');
    return target.password;
  };
  switch (code) {
    case AuthCode.ok:
      // A SCRAM exchange must end with a verified server signature before AuthenticationOk.
      if (scram) throw fail('auth', 'the upstream skipped the SCRAM server signature');
      return null;
    case AuthCode.cleartextPassword:
      socket.write(serialize.password(password()));
      return null;
    case AuthCode.md5Password: {
      if (body.length < 8) throw fail('auth', 'malformed md5 authentication request');
      const inner = createHash('md5').update(password() + target.user).digest('hex');
      socket.write(serialize.password('md5' + createHash('md5').update(inner).update(body.subarray(4, 8)).digest('hex')));
      return null;
    }
    case AuthCode.sasl: {
      if (scram) throw fail('auth', 'unexpected second SASL request');
      const mechanisms = body.toString('utf8', 4).split('\0').filter(Boolean);
      if (!mechanisms.includes('SCRAM-SHA-256')) throw fail('auth', `unsupported SASL mechanisms: ${mechanisms.join(', ') || 'none'}`);
      const exchange = new ScramClientExchange(password());
      socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', exchange.clientFirst()));
      return exchange;
    }
    case AuthCode.saslContinue: {
      if (!scram) throw fail('auth', 'SASL continuation without a SASL exchange');
      const final = await scramStep(() => scram.handleServerFirstAsync(body.toString('utf8', 4)));
      socket.write(serialize.sendSCRAMClientFinalMessage(final));
      return scram;
    }
    case AuthCode.saslFinal: {
      if (!scram) throw fail('auth', 'SASL final message without a SASL exchange');
      await scramStep(async () => scram.verifyServerFinal(body.toString('utf8', 4)));
      return null;
    }
    default: {
      const names: Record<number, string> = { 2: 'Kerberos V5', 6: 'SCM credentials', 7: 'GSSAPI', 8: 'GSSAPI', 9: 'SSPI' };
      throw fail('auth', `the upstream asks for ${names[code] ?? `authentication method ${code}`}, which gatehouse does not support`);
    }
  }
}

async function scramStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScramError) throw fail('auth', err.message);
    throw err;
  }
}

/** Map an ErrorResponse received during the handshake to the error the agent and the log get. */
function startupError(body: Buffer, stage: HandshakeStage): UpstreamError {
  const f = readNoticeFields(body);
  const code = f.C ?? '';
  const detail = `upstream ${code || 'error'}: ${f.M ?? 'no message'}`;
  if (code.startsWith('28')) return fail('auth', detail, { upstreamCode: code });
  if (RETRYABLE[code]) return new UpstreamError('startup', code, RETRYABLE[code], detail, { upstreamCode: code });
  return fail(stage === 'auth' ? 'auth' : 'startup', detail, { upstreamCode: code || undefined });
}

/**
 * Ask the upstream to cancel the query running on the backend `key` belongs to: a fresh TCP connection
 * carrying CancelRequest (80877102), then close. Used when an agent cancels (or the gateway times out) a
 * statement. Resolves once the upstream closed the connection; PostgreSQL never answers it.
 */
export async function sendUpstreamCancel(target: Pick<UpstreamTarget, 'host' | 'port'>, key: { processId: number; secretKey: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port, noDelay: true }, () => s.end(serialize.cancel(key.processId, key.secretKey)));
    const timer = setTimeout(() => s.destroy(new Error('cancel request timed out')), 5000);
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Check a connection end to end for an operator ("connections test"): connect, authenticate, run
 * `SELECT version()`, close. Reports which stage failed (dns, tcp, tls, auth, query) and why, or the
 * server version when it works. Never throws for upstream problems.
 */
export async function testUpstream(target: UpstreamTarget): Promise<ConnectionTestResult> {
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  let upstream: Upstream;
  try {
    upstream = await connectUpstream(target, { application_name: 'gatehouse-connection-test' });
  } catch (err) {
    const e = err instanceof UpstreamError ? err : fail('tcp', (err as Error)?.message ?? String(err));
    const stage = e.during === 'startup' ? 'auth' : e.during;
    return { ok: false, stage, message: `${e.safeMessage}: ${e.detail}`, serverVersion: null, elapsedMs: elapsed() };
  }
  try {
    const version = await simpleQueryFirstValue(upstream, 'SELECT version()');
    return { ok: true, stage: 'ok', message: 'connected and authenticated', serverVersion: version, elapsedMs: elapsed() };
  } catch (err) {
    return { ok: false, stage: 'query', message: (err as Error).message, serverVersion: null, elapsedMs: elapsed() };
  } finally {
    const socket = upstream.socket;
    socket.on('error', () => {});
    socket.end(serialize.end());
    // PostgreSQL closes on Terminate; don't wait on a server that doesn't.
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

/** Run one simple query on an idle upstream and return the first column of the first row. */
async function simpleQueryFirstValue(upstream: Upstream, sql: string): Promise<string | null> {
  if (upstream.leftover.length > 0) upstream.socket.unshift(upstream.leftover);
  const reader = new HandshakeReader(upstream.socket);
  try {
    upstream.socket.write(serialize.query(sql));
    let value: string | null = null;
    let seenRow = false;
    for (;;) {
      const { type, body } = await reader.readAny(1 << 24).catch((err: Error) => {
        throw new Error(`the upstream closed the connection during the test query: ${err.message}`);
      });
      if (type === Backend.dataRow && !seenRow) {
        seenRow = true;
        const len = body.readInt32BE(2);
        value = len < 0 ? null : body.toString('utf8', 6, 6 + len);
      } else if (type === Backend.errorResponse) {
        const f = readNoticeFields(body);
        throw new Error(`the test query failed: ${f.C ?? ''} ${f.M ?? ''}`.trim());
      } else if (type === Backend.readyForQuery) {
        return value;
      }
    }
  } finally {
    reader.release();
  }
}
