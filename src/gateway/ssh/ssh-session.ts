import { randomUUID } from 'node:crypto';
import type { AuthContext, Client, ClientInfo, Connection } from 'ssh2';
import type { ApprovalBroker } from '../approvals/approval-broker';
import { authorizeGrant } from '../core/authorize-grant';
import type { Logger } from '../core/logger';
import { TerminalMasker } from '../policy/masking/terminal-masker';
import { maskingPlanFor, type CompiledPolicy } from '../policy/policy-engine';
import type { PolicySubject, StatementDecision } from '../policy/policy-types';
import { decideSsh, type SshRequest } from '../policy/ssh-policy';
import type { SecretBox } from '../identity/secret-box';
import type { AuditLog } from '../recording/audit-log';
import type { Recorder } from '../recording/recorder';
import type { AgentRecord, ConnectionRecord, SessionRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';
import type { SshForwardingKind } from '../store/ssh-repo';
import { authenticateSshAgent, parseLoginName } from './agent-auth';
import { bridgeAgent } from './agent-channel';
import { SessionChannel, type ChannelHost } from './session-channel';
import { openSshCredential } from './ssh-credential';
import { SessionForwarding, type ForwardingHost, type SessionForwardRequest } from './ssh-forwarding';
import { connectSshUpstream, SshUpstreamError } from './upstream';

export interface SshSessionDeps {
  store: StoreApi;
  secretBox: SecretBox;
  audit: AuditLog;
  recorder: Recorder;
  log: Logger;
  dataDir: string;
  recordInput: boolean;
  maxRecordingBytes: number;
  upstreamTimeoutMs: number;
  /** The policy in force (read at each decision, so a new policy reaches running sessions); null = allow all. */
  policy: (() => CompiledPolicy) | null;
  approvals: ApprovalBroker | null;
  /** Key of the `hash` masking strategy; null = no output masking. */
  maskingKey: Buffer | null;
  /** Idle time before a masker's held tail is written out (ms). */
  maskFlushMs: number;
}

/** Authentication attempts allowed per connection before it is dropped. */
const MAX_AUTH_ATTEMPTS = 10;

/**
 * One agent's SSH connection to the gateway: authentication (key or agent secret), the grant check for
 * the connection named by the user name, one upstream SSH connection logged in with the stored
 * credential, and its session channels (each a SessionChannel). Forwarding (ssh -L / -W / -R, -A, -X) is
 * bridged when the connection allows its kind and refused otherwise, all audited (see SessionForwarding).
 * The session is a row in the sessions table (protocol 'ssh'); channels are indexed in ssh_recordings.
 */
export class SshClientSession implements ChannelHost, ForwardingHost {
  readonly sessionId = randomUUID();
  agentId: string | null = null;
  connectionId: string | null = null;
  private agent: AgentRecord | null = null;
  private connectionLabel: string | null = null;
  private authMethod: string | null = null;
  private record: SessionRecord | null = null;
  private upstreamClient: Promise<Client> | null = null;
  private liveUpstream: Client | null = null;
  private refused: { message: string; reason: string } | null = null;
  private subject: PolicySubject | null = null;
  private readonly failures: { method: string; reason: string; key?: string }[] = [];
  private readonly channels = new Set<SessionChannel>();
  private readonly forwarding: SessionForwarding;
  private channelCount = 0;
  private endReason: string | null = null;
  private closed = false;
  private readonly clientAddress: string;
  readonly log: Logger;

  constructor(
    private readonly conn: Connection,
    info: ClientInfo,
    private readonly deps: SshSessionDeps,
    private readonly onClosed: (s: SshClientSession) => void,
  ) {
    this.clientAddress = `${info.ip}:${info.port}`;
    this.log = deps.log.child({ session: this.sessionId, client: this.clientAddress, protocol: 'ssh' });
    conn.on('authentication', (ctx) => this.authenticate(ctx));
    conn.on('ready', () => this.ready());
    conn.on('session', (accept, reject) => {
      if (!this.agent) return reject();
      const channel = new SessionChannel(this, accept());
      this.channels.add(channel);
    });
    this.forwarding = new SessionForwarding(this, conn);
    conn.on('tcpip', (accept, reject, info) => this.forwarding.directTcpip(accept, reject, info));
    conn.on('openssh.streamlocal', (_accept, reject, info) => {
      this.auditEvent('ssh.refused', { request: 'direct-streamlocal', socketPath: info.socketPath });
      reject();
    });
    conn.on('request', (accept, reject, name, info) => this.forwarding.globalRequest(accept, reject, name, info));
    conn.on('error', (err) => this.log.debug('ssh client connection error', { err: { message: err.message } }));
    conn.on('close', () => this.connectionClosed());
  }

  get dataDir(): string {
    return this.deps.dataDir;
  }
  get store(): StoreApi {
    return this.deps.store;
  }
  get recordInput(): boolean {
    return this.deps.recordInput;
  }
  get maxRecordingBytes(): number {
    return this.deps.maxRecordingBytes;
  }

  get approvals(): ApprovalBroker | null {
    return this.deps.approvals;
  }
  get agentName(): string {
    return this.agent?.name ?? '';
  }
  get connectionName(): string {
    return this.connectionLabel ?? '';
  }

  decide(req: SshRequest): StatementDecision {
    const policy = this.deps.policy;
    if (!policy || !this.subject) return { action: 'allow', rule: null, message: '', timeoutMs: 0 };
    return decideSsh(policy(), this.subject, req);
  }

  get maskFlushMs(): number {
    return this.deps.maskFlushMs;
  }

  outputMasker(): TerminalMasker | null {
    const policy = this.deps.policy;
    if (!policy || !this.subject || !this.deps.maskingKey) return null;
    // Read when the channel starts: a policy applied later reaches the session's next channel.
    const plan = maskingPlanFor(policy(), this.subject);
    if (plan.values.length === 0) return null;
    const masker = new TerminalMasker(plan.values, this.deps.maskingKey);
    return masker.enabled ? masker : null;
  }

  refusal(): { message: string; reason: string } | null {
    return this.refused;
  }

  upstreamNow(): Client | null {
    return this.liveUpstream;
  }

  active(): boolean {
    return this.record !== null && this.refused === null && !this.closed;
  }

  allowedForwarding(): readonly SshForwardingKind[] {
    return this.connectionId === null ? [] : this.deps.store.ssh.allowedForwarding(this.connectionId);
  }

  forwardingRequest(request: SessionForwardRequest, channel: number | null, detail?: Record<string, unknown>): boolean {
    return this.forwarding.sessionRequest(request, channel, detail);
  }

  forwardingEnded(agent: boolean, x11: boolean): void {
    this.forwarding.sessionEnded(agent, x11);
  }

  upstream(): Promise<Client> {
    return this.upstreamClient ?? Promise.reject(new Error('no upstream for this session'));
  }

  nextChannelId(): number {
    return ++this.channelCount;
  }

  countBytes(inBytes: number, outBytes: number): void {
    if (!this.record) return;
    this.record.bytesIn += inBytes;
    this.record.bytesOut += outBytes;
  }

  auditEvent(kind: string, detail: Record<string, unknown>): void {
    this.deps.audit.append({
      kind,
      actor: this.agent ? `agent:${this.agent.name}` : 'anonymous',
      agentName: this.agent?.name ?? null,
      connectionName: this.connectionLabel,
      sessionId: this.record ? this.sessionId : null,
      clientAddress: this.clientAddress,
      detail: { protocol: 'ssh', ...detail },
    });
  }

  channelClosed(ch: SessionChannel): void {
    this.channels.delete(ch);
  }

  /** End the session from the gateway side (grant revoked, connection removed, shutdown). */
  terminate(reason: string, message: string): void {
    this.endReason ??= reason;
    for (const ch of [...this.channels]) ch.terminate(reason, message);
    this.forwarding.closeAll();
    // Give the channels' messages a moment to leave before the transport closes.
    setTimeout(() => this.conn.end(), 100).unref();
  }

  /** Cut the connection now (shutdown after terminate). */
  destroy(): void {
    this.conn.end();
    this.connectionClosed();
  }

  private authenticate(ctx: AuthContext): void {
    const methods: ('publickey' | 'password')[] = ['publickey', 'password'];
    if (ctx.method === 'none') return ctx.reject(methods);
    this.connectionLabel = parseLoginName(ctx.username).connectionName;
    let result;
    try {
      result = authenticateSshAgent(this.deps.store, ctx);
    } catch (err) {
      this.log.error('ssh authentication failed with an error', { err });
      result = { ok: false as const, reason: 'internal_error', method: ctx.method };
    }
    if ('pending' in result) return ctx.accept();
    if (result.ok) {
      this.agent = result.agent;
      this.agentId = result.agent.id;
      this.authMethod = result.method;
      return ctx.accept();
    }
    this.failures.push({ method: result.method, reason: result.reason, ...(result.keyFingerprint ? { key: result.keyFingerprint } : {}) });
    if (this.failures.length >= MAX_AUTH_ATTEMPTS) {
      ctx.reject();
      this.conn.end();
      return;
    }
    ctx.reject(methods);
  }

  /** Authenticated: check the connection and grant, then start the upstream login. */
  private ready(): void {
    const agent = this.agent!;
    const name = this.connectionLabel ?? '';
    const check = authorizeGrant(this.deps.store, agent, name, 'ssh');
    if (check.connection) this.connectionId = check.connection.id;
    if (check.ok) return this.startSession(agent, check.connection);
    const why = check.reason === 'unknown_connection' ? 'the ssh user name selects the Gatehouse connection' : check.detail;
    this.refuse(why ? `${check.message} (${why})` : check.message, check.reason);
  }

  private refuse(message: string, reason: string): void {
    this.refused = { message, reason };
    this.auditEvent('access.denied', { reason, method: this.authMethod });
    this.log.info('ssh session refused', { reason });
  }

  private startSession(agent: AgentRecord, connection: ConnectionRecord): void {
    const record: SessionRecord = {
      id: this.sessionId,
      protocol: 'ssh',
      agentId: agent.id,
      agentName: agent.name,
      connectionId: connection.id,
      connectionName: connection.name,
      clientAddress: this.clientAddress,
      tls: true,
      startedAt: Date.now(),
      endedAt: null,
      bytesIn: 0,
      bytesOut: 0,
      endReason: null,
      statementCount: 0,
    };
    this.deps.recorder.startSession(record);
    this.record = record;
    this.subject = { connection: { name: connection.name, tags: connection.tags }, agent: { name: agent.name, tags: agent.tags } };
    this.log.info('ssh session started', { agent: agent.name, connection: connection.name, method: this.authMethod });
    // The successful authentication, in the audit trail next to the failures.
    this.auditEvent('session.started', { method: this.authMethod });
    this.upstreamClient = this.connectUpstream(connection);
    // Channels await it; a failure is reported to each of them (and audited once, below).
    this.upstreamClient.catch(() => {});
  }

  private async connectUpstream(connection: ConnectionRecord): Promise<Client> {
    let credential;
    try {
      if (!connection.secretEnc) throw new Error('no credential stored');
      credential = openSshCredential(this.deps.secretBox, connection.id, connection.secretEnc);
    } catch (err) {
      this.log.error('stored ssh credential cannot be used', { connection: connection.name, err: { message: (err as Error).message } });
      this.auditEvent('upstream.failed', { reason: 'credential_unreadable' });
      throw new Error(`gatehouse cannot use the stored credential of connection "${connection.name}"`);
    }
    try {
      const up = await connectSshUpstream(connection, credential, this.deps.store.ssh, {
        timeoutMs: this.deps.upstreamTimeoutMs,
        // Agent channels the upstream opens come back to the agent's own ssh-agent (when allowed).
        agent: bridgeAgent((cb) => this.forwarding.agentStream(cb)),
      });
      if (up.hostKey.pinnedNow) this.auditEvent('ssh.host_key_pinned', { fingerprint: up.hostKey.fingerprint, host: `${connection.host}:${connection.port}` });
      if (this.closed) {
        up.client.end();
        throw new Error('the agent disconnected');
      }
      this.liveUpstream = up.client;
      up.client.setNoDelay(true);
      this.forwarding.watchUpstream(up.client);
      up.client.on('close', () => {
        if (this.closed) return;
        this.endReason ??= 'upstream_closed';
        this.terminate('upstream_closed', `the upstream connection "${connection.name}" closed`);
      });
      return up.client;
    } catch (err) {
      if (err instanceof SshUpstreamError) {
        this.log.warn('ssh upstream connection failed', { stage: err.stage, err: { message: err.message } });
        this.auditEvent(err.stage === 'host_key_mismatch' ? 'ssh.host_key_mismatch' : 'upstream.failed', { reason: err.stage, ...err.detail });
      }
      throw err;
    }
  }

  private connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    // Cancel the remote listeners first: their requests go out before the upstream connection ends.
    this.forwarding.closeAll();
    this.liveUpstream?.end();
    void this.upstreamClient?.then((c) => c.end(), () => {});
    for (const ch of [...this.channels]) ch.clientGone();
    if (!this.agent && this.failures.length) {
      const last = this.failures[this.failures.length - 1];
      this.deps.audit.append({
        kind: 'auth.failed',
        actor: 'anonymous',
        agentName: null,
        connectionName: this.connectionLabel,
        sessionId: null,
        clientAddress: this.clientAddress,
        detail: { protocol: 'ssh', reason: last.reason, attempts: this.failures },
      });
      this.log.info('ssh authentication failed', { reason: last.reason, attempts: this.failures.length });
    }
    if (this.record) {
      this.deps.approvals?.endSession(this.sessionId);
      try {
        this.deps.recorder.endSession(this.record, { endedAt: Date.now(), bytesIn: this.record.bytesIn, bytesOut: this.record.bytesOut, endReason: this.endReason ?? 'client_closed' });
      } catch (err) {
        this.log.error('could not record the end of an ssh session', { err });
      }
      this.log.info('ssh session ended', { reason: this.endReason ?? 'client_closed' });
    }
    this.onClosed(this);
  }
}
