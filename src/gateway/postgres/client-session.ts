import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { ApprovalBroker } from '../approvals/approval-broker';
import { authorizeGrant } from '../core/authorize-grant';
import type { Logger } from '../core/logger';
import type { SecretBox } from '../identity/secret-box';
import type { AuditLog } from '../recording/audit-log';
import type { Recorder } from '../recording/recorder';
import type { ConnectionRecord, SessionRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';
import { authenticateAgent } from './agent-auth';
import { authenticationOk, backendKeyData, errorResponse, readyForQuery, type ErrorFields } from './backend-messages';
import type { CancelRegistry } from './cancel-registry';
import { ClientGone } from './handshake-reader';
import { MessageFramer, ProtocolViolation, typeSet } from './message-framer';
import { Backend, SqlState } from './protocol-codes';
import { PgRelay, type ColumnCatalog, type RelayMasking } from './relay';
import { ResultMasker } from '../policy/masking/result-masker';
import type { MaskingPlan } from '../policy/policy-types';
import { createSqlGate, type SqlPolicy } from './sql-gate';
import { negotiateStartup, UnsupportedRequest } from './startup';
import { connectUpstream, sendUpstreamCancel, UpstreamError, type Upstream } from './upstream';

export interface SessionDeps {
  store: StoreApi;
  secretBox: SecretBox;
  audit: AuditLog;
  recorder: Recorder;
  cancels: CancelRegistry;
  log: Logger;
  secureContext: SecureContext | null;
  allowPlaintextRemote: boolean;
  /** Offer cleartext password auth instead of SCRAM to clients on TLS. */
  cleartextOverTls: boolean;
  /** Time allowed from TCP accept to an authenticated, connected session. */
  handshakeTimeoutMs: number;
  /** Installation secret that keys the fake SCRAM salts of unknown agents. */
  scramMockKey: Buffer;
  /** Policy and approvals; null runs without policy (every statement goes ahead). */
  policy: SessionPolicyDeps | null;
}

/** What sessions need for policy: the engine, approvals, and for masking the hash key and catalog. */
export interface SessionPolicyDeps {
  engine: SqlPolicy;
  approvals: ApprovalBroker;
  /** Key of the deterministic masking hash (from the data dir). */
  maskingKey: Buffer;
  /** Source columns of result columns for a connection (null: name patterns and detectors only). */
  catalog?: (connection: ConnectionRecord) => ColumnCatalog | null;
}

/** A refusal during the handshake: what the client is told, and what the audit trail says. */
class Refusal extends Error {
  constructor(
    readonly fields: ErrorFields,
    readonly audit: { kind: string; reason: string; extra?: Record<string, unknown> } | null,
  ) {
    super(fields.message);
  }
}

/** Session ends that mean something went wrong on the gateway's side of the contract: audited. */
const ABNORMAL_ENDS = new Set(['recording_failed', 'protocol_violation', 'upstream_protocol_violation']);

/** Startup parameters the gateway decides itself and never forwards. */
const RESERVED_PARAMS = new Set(['user', 'database', 'replication']);

/**
 * One client connection, from TCP accept to close: startup and TLS, agent authentication, the grant
 * check, the upstream connection with the stored credential, then the relay. Every refusal answers with
 * a PostgreSQL ErrorResponse carrying the right SQLSTATE and is written to the audit trail.
 */
export class ClientSession {
  readonly id = randomUUID();
  agentId: string | null = null;
  /** How the agent proved its identity (recorded in the session.started audit event). */
  private authMethod: 'scram-sha-256' | 'password' | null = null;
  connectionId: string | null = null;
  private relay: PgRelay | null = null;
  private record: SessionRecord | null = null;
  private agentName: string | null = null;
  private connectionName: string | null = null;
  private readonly clientAddress: string;
  private readonly log: Logger;

  constructor(
    private readonly raw: Socket,
    private readonly deps: SessionDeps,
    private readonly onClosed: (s: ClientSession) => void,
  ) {
    this.clientAddress = `${raw.remoteAddress ?? 'unknown'}:${raw.remotePort ?? 0}`;
    this.log = deps.log.child({ session: this.id, client: this.clientAddress });
    raw.setNoDelay(true);
  }

  /** Drive the connection; never throws (every failure ends as an error to the client). */
  async run(): Promise<void> {
    const timer = setTimeout(() => {
      this.log.info('handshake timed out');
      this.raw.destroy();
    }, this.deps.handshakeTimeoutMs);
    let socket: Socket | TLSSocket = this.raw;
    let upstream: Upstream | null = null;
    try {
      const outcome = await negotiateStartup(this.raw, this.deps.secureContext);
      if (outcome.kind === 'cancel') {
        clearTimeout(timer);
        this.raw.end();
        await this.forwardCancel(outcome.processId, outcome.secretKey);
        this.onClosed(this);
        return;
      }
      socket = outcome.socket;
      const { reader, params, tls } = outcome;
      this.checkTransport(tls, params);

      const user = params.get('user') ?? '';
      this.agentName = user;
      // The connection the client asked for, recorded with any refusal (even before authentication).
      this.connectionName = params.get('database') || user;
      const agent = user ? this.deps.store.agents.getByName(user) : undefined;
      const auth = await authenticateAgent(socket, reader, agent, { cleartext: tls && this.deps.cleartextOverTls, name: user, mockKey: this.deps.scramMockKey });
      if (!auth.ok) {
        throw new Refusal(
          { severity: 'FATAL', code: SqlState.invalidPassword, message: `password authentication failed for user "${user}"` },
          { kind: 'auth.failed', reason: auth.reason, extra: { method: auth.method } },
        );
      }
      this.agentId = agent!.id;
      this.authMethod = auth.method;

      const connection = this.authorize(params.get('database') || user);
      upstream = await this.openUpstream(connection, params);
      clearTimeout(timer);
      const clientLeftover = reader.release();
      this.startRelay(socket, connection, upstream, tls, clientLeftover, params);
    } catch (err) {
      clearTimeout(timer);
      upstream?.socket.destroy();
      this.refuse(socket, err);
      this.onClosed(this);
    }
  }

  /** End this session from the gateway side (revoked grant, shutdown). */
  terminate(reason: string, message: string): void {
    if (this.relay) this.relay.terminate(reason, { severity: 'FATAL', code: SqlState.adminShutdown, message });
    else this.raw.destroy();
  }

  private checkTransport(tls: boolean, params: Map<string, string>): void {
    if (!tls && !this.deps.allowPlaintextRemote && !isLoopback(this.raw.remoteAddress)) {
      throw new Refusal(
        { severity: 'FATAL', code: SqlState.invalidAuthorization, message: 'TLS is required for connections from other hosts', hint: 'connect with sslmode=require' },
        { kind: 'auth.failed', reason: 'tls_required' },
      );
    }
    const replication = params.get('replication');
    if (replication && !['false', 'off', 'no', '0'].includes(replication.toLowerCase())) {
      throw new Refusal({ severity: 'FATAL', code: SqlState.featureNotSupported, message: 'replication connections are not supported by gatehouse' }, null);
    }
  }

  /** The connection named by the client, if the agent holds an active grant for it. */
  private authorize(name: string): ConnectionRecord {
    this.connectionName = name;
    const check = authorizeGrant(this.deps.store, { id: this.agentId!, name: this.agentName ?? '' }, name, 'postgres');
    if (check.connection) this.connectionId = check.connection.id;
    if (check.ok) return check.connection;
    if (check.reason === 'unknown_connection' || check.reason === 'wrong_kind') {
      throw new Refusal(
        { severity: 'FATAL', code: SqlState.invalidCatalogName, message: check.message, hint: 'the database name selects a Gatehouse connection' },
        { kind: 'access.denied', reason: check.reason },
      );
    }
    throw new Refusal({ severity: 'FATAL', code: SqlState.invalidAuthorization, message: check.message, detail: check.detail }, { kind: 'access.denied', reason: check.reason });
  }

  private async openUpstream(connection: ConnectionRecord, params: Map<string, string>): Promise<Upstream> {
    let password: string | null = null;
    if (connection.secretEnc) {
      try {
        password = this.deps.secretBox.open(connection.secretEnc, connection.id);
      } catch (err) {
        this.log.error('stored credential cannot be decrypted', { connection: connection.name, err: { message: (err as Error).message } });
        throw new Refusal(
          { severity: 'FATAL', code: SqlState.internalError, message: `gatehouse cannot use the stored credential of connection "${connection.name}"` },
          { kind: 'upstream.failed', reason: 'credential_unreadable' },
        );
      }
    }
    const startupParams: Record<string, string> = {};
    for (const [k, v] of params) if (!RESERVED_PARAMS.has(k)) startupParams[k] = v;
    try {
      const upstream = await connectUpstream(
        { host: connection.host, port: connection.port, database: connection.database, user: connection.username, password, tlsMode: connection.tlsMode },
        startupParams,
      );
      upstream.socket.setNoDelay?.(true);
      return upstream;
    } catch (err) {
      if (err instanceof UpstreamError) {
        this.log.warn('upstream connection failed', { connection: connection.name, stage: err.stage, err: { message: err.message } });
        throw new Refusal(
          { severity: 'FATAL', code: err.sqlstate, message: err.safeMessage },
          { kind: 'upstream.failed', reason: err.stage, extra: { sqlstate: err.sqlstate } },
        );
      }
      throw err;
    }
  }

  private startRelay(socket: Socket | TLSSocket, connection: ConnectionRecord, upstream: Upstream, tls: boolean, clientLeftover: Buffer, params: ReadonlyMap<string, string>): void {
    const { recorder, cancels } = this.deps;
    // The address actually connected to: a host name could resolve elsewhere for the cancel.
    const target = upstream.cancelTarget;
    const key = cancels.register({ ...target, ...upstream.backendKey });
    const record: SessionRecord = {
      id: this.id,
      protocol: 'postgres',
      agentId: this.agentId!,
      agentName: this.agentName!,
      connectionId: connection.id,
      connectionName: connection.name,
      clientAddress: this.clientAddress,
      tls,
      startedAt: Date.now(),
      endedAt: null,
      bytesIn: 0,
      bytesOut: 0,
      endReason: null,
      statementCount: 0,
    };
    this.record = record;
    recorder.startSession(record);
    // The successful authentication, in the audit trail next to the failures (who, from where, how).
    this.deps.audit.append({
      kind: 'session.started',
      actor: `agent:${record.agentName}`,
      agentName: record.agentName,
      connectionName: record.connectionName,
      sessionId: record.id,
      clientAddress: record.clientAddress,
      detail: { protocol: 'postgres', method: this.authMethod, tls },
    });

    // Hello: AuthenticationOk, the upstream's ParameterStatus/notices with OUR key data, ReadyForQuery.
    socket.write(Buffer.concat([authenticationOk(), rewriteKeyData(upstream.startupMessages, key), readyForQuery('I')]));
    this.log.info('session started', { agent: this.agentName, connection: this.connectionName, tls });

    const agent = this.deps.store.agents.getById(record.agentId);
    const policy = this.deps.policy;
    // The startup parameters go along: settings made there (role, search_path) are decided like SETs.
    const sessionPolicy = policy?.engine.session(
      {
        agent: { name: record.agentName, tags: agent?.tags ?? [] },
        connection: { name: connection.name, tags: connection.tags },
      },
      params,
    );
    const gate =
      policy && sessionPolicy
        ? createSqlGate(sessionPolicy, policy.approvals, this.deps.audit, {
            id: record.id,
            agentName: record.agentName,
            connectionName: record.connectionName,
            clientAddress: record.clientAddress,
          })
        : null;
    // Masking for a plan; the relay asks again at statement boundaries, so a policy apply changing the
    // masking rules reaches this session at its next statement (the plan is the same object until then).
    const maskingFor = (plan: MaskingPlan | undefined): RelayMasking | null => {
      if (!policy || !plan || (plan.columns.length === 0 && plan.values.length === 0)) return null;
      const catalog = policy.catalog?.(connection) ?? null;
      return { masker: new ResultMasker(plan, policy.maskingKey, catalog ? (oid, attnum) => catalog.lookup(oid, attnum) : undefined), catalog };
    };
    let plan = sessionPolicy?.masking();
    const masking = maskingFor(plan);
    let current = masking;
    const maskingNow = sessionPolicy
      ? () => {
          const next = sessionPolicy.masking();
          if (next !== plan) {
            plan = next;
            current = maskingFor(next);
          }
          return current;
        }
      : null;
    this.relay = new PgRelay(socket, upstream.socket, recorder, record, this.log, {
      cancelUpstream: () => void sendUpstreamCancel(target, upstream.backendKey).catch(() => {}),
      ended: (reason) => {
        cancels.unregister(key.processId);
        this.deps.policy?.approvals.endSession(record.id);
        if (ABNORMAL_ENDS.has(reason)) {
          this.deps.audit.append({
            kind: 'session.aborted',
            actor: 'gatehouse',
            agentName: record.agentName,
            connectionName: record.connectionName,
            sessionId: record.id,
            clientAddress: record.clientAddress,
            detail: { reason },
          });
        }
        try {
          recorder.endSession(record, { endedAt: Date.now(), bytesIn: record.bytesIn, bytesOut: record.bytesOut, endReason: reason });
        } catch (err) {
          this.log.error('could not record the end of a session', { err });
        }
        this.log.info('session ended', { reason, statements: record.statementCount });
        this.onClosed(this);
      },
    }, gate, masking, maskingNow);
    this.relay.start(clientLeftover, upstream.leftover);
  }

  private async forwardCancel(processId: number, secretKey: number): Promise<void> {
    const target = this.deps.cancels.resolve(processId, secretKey);
    if (!target) {
      this.log.info('cancel request for an unknown key ignored');
      return;
    }
    await sendUpstreamCancel({ host: target.host, port: target.port }, { processId: target.processId, secretKey: target.secretKey }).catch((err) =>
      this.log.warn('forwarding a cancel request failed', { err: { message: (err as Error).message } }),
    );
  }

  /** Answer a handshake failure with the right ErrorResponse and audit it. */
  private refuse(socket: Socket | TLSSocket, err: unknown): void {
    let refusal: Refusal;
    if (err instanceof Refusal) refusal = err;
    else if (err instanceof ClientGone) {
      socket.destroy();
      return;
    } else if (err instanceof ProtocolViolation || (err as Error)?.name === 'ScramError') {
      refusal = new Refusal(
        { severity: 'FATAL', code: SqlState.protocolViolation, message: `invalid startup: ${(err as Error).message}` },
        { kind: 'protocol.violation', reason: 'malformed_startup' },
      );
    } else if (err instanceof UnsupportedRequest) {
      refusal = new Refusal({ severity: 'FATAL', code: SqlState.featureNotSupported, message: err.message }, null);
    } else {
      this.log.error('session handshake failed', { err });
      refusal = new Refusal({ severity: 'FATAL', code: SqlState.internalError, message: 'internal error in gatehouse' }, null);
    }
    if (refusal.audit) {
      this.deps.audit.append({
        kind: refusal.audit.kind,
        actor: this.agentName ? `agent:${this.agentName}` : 'anonymous',
        agentName: this.agentName || null,
        connectionName: this.connectionName,
        clientAddress: this.clientAddress,
        detail: { reason: refusal.audit.reason, sqlstate: refusal.fields.code, ...refusal.audit.extra },
      });
    }
    this.log.info('connection refused', { code: refusal.fields.code, reason: refusal.audit?.reason });
    if (!socket.destroyed && socket.writable) {
      socket.end(errorResponse(refusal.fields));
      setTimeout(() => socket.destroy(), 2000).unref();
    } else socket.destroy();
  }
}

/** Replace the upstream's BackendKeyData in the startup messages with the gateway's own key. */
function rewriteKeyData(messages: Buffer, key: { processId: number; secretKey: number }): Buffer {
  const parts: Buffer[] = [];
  new MessageFramer(typeSet([Backend.backendKeyData])).push(messages, {
    message: () => parts.push(backendKeyData(key.processId, key.secretKey)),
    passthrough: (buf, start, end) => parts.push(buf.subarray(start, end)),
  });
  return Buffer.concat(parts);
}

/** Whether a peer address is the local host. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
