import type { Server as NetServer, Socket } from 'node:net';
import type { Server as SshServer } from 'ssh2';
import { ssh2Server } from './ssh2-runtime';
import type { ApprovalBroker } from '../approvals/approval-broker';
import type { Logger } from '../core/logger';
import type { CompiledPolicy } from '../policy/policy-engine';
import type { SecretBox } from '../identity/secret-box';
import type { AuditLog } from '../recording/audit-log';
import type { Recorder } from '../recording/recorder';
import type { StoreApi } from '../store/store-api';
import type { SshHostKey } from './host-key';
import { SshClientSession } from './ssh-session';
import { CIPHER_PREFERENCE } from './upstream';

export interface SshGatewayOptions {
  host: string;
  /** 0 picks a free port; read the real one from `address`. */
  port: number;
  dataDir: string;
  hostKey: SshHostKey;
  store: StoreApi;
  secretBox: SecretBox;
  audit: AuditLog;
  recorder: Recorder;
  log: Logger;
  /** Record keystrokes too ("i" events). Default false: output only. */
  recordInput?: boolean;
  /** Output bytes written to one channel's .cast file at most (default 16 MiB); the rest is counted only. */
  maxRecordingBytes?: number;
  /** Most agent connections at once (default 500). */
  maxConnections?: number;
  /** Time for the upstream login (default 15 s). */
  upstreamTimeoutMs?: number;
  /** The policy in force, read at every decision (absent: every command and shell is allowed). */
  policy?: () => CompiledPolicy;
  /** Holds `approve` decisions for a human (absent: they are denied). */
  approvals?: ApprovalBroker;
  /** Key of the `hash` masking strategy (the data dir's masking key); absent: output is not masked. */
  maskingKey?: Buffer;
  /** Idle time after which output held by the masker (an unfinished line) is written out (default 20 ms). */
  maskFlushMs?: number;
}

/**
 * The SSH listener: agents connect with plain OpenSSH (`ssh -p PORT conn@host`), authenticate with a
 * registered key or their secret, and are bridged to the connection's SSH server, logged in with the
 * credential Gatehouse keeps. See SshClientSession for one connection.
 */
export class SshGateway {
  private readonly sessions = new Set<SshClientSession>();
  private closing = false;

  private constructor(
    private readonly server: SshServer,
    private readonly opts: SshGatewayOptions,
  ) {}

  /** Start listening; resolves once the port is bound. */
  static async start(opts: SshGatewayOptions): Promise<SshGateway> {
    const server = new (ssh2Server())({
      hostKeys: [opts.hostKey.privateKey],
      ident: 'Gatehouse',
      algorithms: { cipher: [...CIPHER_PREFERENCE] },
    });
    const gateway = new SshGateway(server, opts);
    const deps = {
      store: opts.store,
      secretBox: opts.secretBox,
      audit: opts.audit,
      recorder: opts.recorder,
      log: opts.log,
      dataDir: opts.dataDir,
      recordInput: opts.recordInput ?? false,
      maxRecordingBytes: opts.maxRecordingBytes ?? 16 * 1024 * 1024,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? 15_000,
      policy: opts.policy ?? null,
      approvals: opts.approvals ?? null,
      maskingKey: opts.maskingKey ?? null,
      maskFlushMs: opts.maskFlushMs ?? 20,
    };
    const max = opts.maxConnections ?? 500;
    // Keystrokes are tiny packets: without TCP_NODELAY, Nagle's algorithm would hold echoes back.
    (server as unknown as { _srv: NetServer })._srv.on('connection', (socket: Socket) => socket.setNoDelay(true));
    server.on('connection', (conn, info) => {
      if (gateway.closing || gateway.sessions.size >= max) {
        conn.on('error', () => {});
        conn.end();
        return;
      }
      const session = new SshClientSession(conn, info, deps, (s) => gateway.sessions.delete(s));
      gateway.sessions.add(session);
    });
    server.on('error', (err: Error) => opts.log.error('ssh listener error', { err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    opts.log.info('ssh listener started', { ...gateway.address, fingerprint: opts.hostKey.fingerprint });
    return gateway;
  }

  get address(): { host: string; port: number } {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('ssh listener is not bound');
    return { host: a.address, port: a.port };
  }

  get fingerprint(): string {
    return this.opts.hostKey.fingerprint;
  }

  /** End open sessions matching the filter (e.g. a revoked grant); returns how many were closed. */
  closeSessions(filter: { agentId?: string; connectionId?: string }, reason: string): number {
    let n = 0;
    for (const s of [...this.sessions]) {
      if (!s.agentId) continue;
      if (filter.agentId && s.agentId !== filter.agentId) continue;
      if (filter.connectionId && s.connectionId !== filter.connectionId) continue;
      s.terminate(reason, messageFor(reason));
      n++;
    }
    return n;
  }

  /** Stop accepting and end every session with reason `gateway_stopped`. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of [...this.sessions]) s.terminate('gateway_stopped', messageFor('gateway_stopped'));
    // Let the channels' last messages go out; then cut what is left.
    await new Promise((r) => setTimeout(r, 150));
    for (const s of [...this.sessions]) s.destroy();
    await closed;
  }
}

function messageFor(reason: string): string {
  switch (reason) {
    case 'grant_revoked':
      return 'the grant for this connection was revoked';
    case 'gateway_stopped':
      return 'gatehouse is shutting down';
    default:
      return `session ended: ${reason.replace(/_/g, ' ')}`;
  }
}
