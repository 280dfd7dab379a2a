import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { AuditLog } from '../recording/audit-log';
import type { EventBus } from '../core/event-bus';
import type { Logger } from '../core/logger';
import type { StoreApi } from '../store/store-api';
import type { SecretBox } from '../identity/secret-box';
import type { Recorder } from '../recording/recorder';
import { errorResponse } from './backend-messages';
import { CancelRegistry } from './cancel-registry';
import { CatalogResolver } from './catalog-resolver';
import { ClientSession, type SessionPolicyDeps } from './client-session';
import type { ConnectionRecord } from '../store/records';
import { SqlState } from './protocol-codes';

export interface PgGatewayOptions {
  host: string;
  /** 0 picks a free port; read the real one from `address`. */
  port: number;
  store: StoreApi;
  secretBox: SecretBox;
  audit: AuditLog;
  events: EventBus;
  recorder: Recorder;
  log: Logger;
  /** Certificate for SSLRequest; null answers 'N' (plaintext only). */
  tls: { cert: string; key: string } | null;
  /** Allow plaintext from non-loopback clients (default false: they must use TLS). */
  allowPlaintextRemote?: boolean;
  /** Ask TLS clients for a cleartext password instead of SCRAM (for drivers without SCRAM). Default false. */
  cleartextOverTls?: boolean;
  /** Most client connections at once (default 1000); more are refused with 53300. */
  maxConnections?: number;
  /** Time from accept to a ready session (default 30 s). */
  handshakeTimeoutMs?: number;
  /** Keys the fake SCRAM salts of unknown agents; keep it stable across restarts (default: random). */
  scramMockKey?: Buffer;
  /** Statement policy and the approvals it holds for; omitted = no policy. */
  policy?: SessionPolicyDeps | null;
}

/** The PostgreSQL listener: authenticates agents, opens upstreams with stored credentials, relays and records. */
export class PgGateway {
  private readonly sessions = new Set<ClientSession>();
  private readonly cancels = new CancelRegistry();
  /** Catalog resolvers for masking rules written as table.column, one per connection (and its settings). */
  private readonly catalogs = new Map<string, { updatedAt: number; resolver: CatalogResolver }>();
  private closing = false;

  private constructor(
    private readonly server: Server,
    private readonly opts: PgGatewayOptions,
  ) {}

  /** Start listening; resolves once the port is bound. */
  static async start(opts: PgGatewayOptions): Promise<PgGateway> {
    const server = createServer({ noDelay: true });
    const gateway = new PgGateway(server, opts);
    const secureContext = opts.tls ? createSecureContext({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }) : null;
    const deps = {
      store: opts.store,
      secretBox: opts.secretBox,
      audit: opts.audit,
      recorder: opts.recorder,
      cancels: gateway.cancels,
      log: opts.log,
      secureContext,
      allowPlaintextRemote: opts.allowPlaintextRemote ?? false,
      cleartextOverTls: opts.cleartextOverTls ?? false,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 30_000,
      scramMockKey: opts.scramMockKey ?? randomBytes(32),
      policy: opts.policy ? { catalog: (c: ConnectionRecord) => gateway.catalogFor(c), ...opts.policy } : null,
    };
    const max = opts.maxConnections ?? 1000;
    server.on('connection', (socket: Socket) => {
      if (gateway.closing) {
        socket.destroy();
        return;
      }
      socket.on('error', () => {});
      if (gateway.sessions.size >= max) {
        socket.end(errorResponse({ severity: 'FATAL', code: SqlState.tooManyConnections, message: 'too many connections to gatehouse' }));
        return;
      }
      const session = new ClientSession(socket, deps, (s) => gateway.sessions.delete(s));
      gateway.sessions.add(session);
      void session.run();
    });
    server.on('error', (err) => opts.log.error('postgres listener error', { err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    opts.log.info('postgres listener started', gateway.address);
    return gateway;
  }

  get address(): { host: string; port: number } {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('postgres listener is not bound');
    return { host: a.address, port: a.port };
  }

  /**
   * The catalog resolver of a connection: a side connection with the stored credential, shared by the
   * connection's sessions, replaced when the connection's settings change.
   */
  catalogFor(c: ConnectionRecord): CatalogResolver | null {
    const known = this.catalogs.get(c.id);
    if (known && known.updatedAt === c.updatedAt) return known.resolver;
    if (known) void known.resolver.close();
    let password: string | null = null;
    try {
      password = c.secretEnc ? this.opts.secretBox.open(c.secretEnc, c.id) : null;
    } catch {
      return null; // unreadable credential: table.column rules then fail closed in the masker
    }
    const resolver = CatalogResolver.forTarget({ host: c.host, port: c.port, database: c.database, user: c.username, password, tlsMode: c.tlsMode });
    this.catalogs.set(c.id, { updatedAt: c.updatedAt, resolver });
    return resolver;
  }

  /** Number of client connections (handshaking or relaying). */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** End open sessions matching the filter (e.g. a revoked grant); returns how many were closed. */
  closeSessions(filter: { agentId?: string; connectionId?: string }, reason: string): number {
    let n = 0;
    for (const s of [...this.sessions]) {
      if (filter.agentId && s.agentId !== filter.agentId) continue;
      if (filter.connectionId && s.connectionId !== filter.connectionId) continue;
      if (!s.agentId) continue;
      s.terminate(reason, messageFor(reason));
      n++;
    }
    return n;
  }

  /** Stop accepting, end every session with reason `gateway_stopped`, flush recordings. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of [...this.sessions]) s.terminate('gateway_stopped', messageFor('gateway_stopped'));
    this.opts.recorder.flush();
    for (const { resolver } of this.catalogs.values()) void resolver.close();
    this.catalogs.clear();
    await closed;
  }
}

function messageFor(reason: string): string {
  switch (reason) {
    case 'grant_revoked':
      return 'terminating connection: the grant for this connection was revoked';
    case 'gateway_stopped':
      return 'terminating connection: gatehouse is shutting down';
    default:
      return `terminating connection: ${reason}`;
  }
}
