import { randomUUID } from 'node:crypto';
import { approvalToDto } from '../core/dto';
import { GatehouseError } from '../core/errors';
import type { EventBus } from '../core/event-bus';
import type { Logger } from '../core/logger';
import type { AuditLog } from '../recording/audit-log';
import type { ApprovalRecord, ApprovalStatus } from '../store/records';
import type { StoreApi } from '../store/store-api';

/** What a protocol session asks a human about. */
export interface ApprovalRequestInput {
  sessionId: string;
  agentName: string;
  connectionName: string;
  /** postgres, ssh ... */
  protocol: string;
  /** The full statement or command line. */
  statement: string;
  rule: string;
  /** Why it is held (names the rule). */
  message: string;
  timeoutMs: number;
}

/** How a held request ended. Anything but `approved` means: do not run it. */
export interface ApprovalOutcome {
  status: Exclude<ApprovalStatus, 'pending'>;
  approval: ApprovalRecord;
}

/** A request waiting for a human; `withdraw()` when the client goes away. */
export interface HeldRequest {
  readonly id: string;
  readonly outcome: Promise<ApprovalOutcome>;
  withdraw(): void;
}

interface Pending {
  record: ApprovalRecord;
  resolve: (o: ApprovalOutcome) => void;
  timer: NodeJS.Timeout;
}

/**
 * Holds statements and commands for a human decision: records each request, publishes it as a contract
 * event, and settles it exactly once — approved or denied by a person, timed out, withdrawn by a client
 * that went away, or denied because the gateway stopped. Nothing held survives a restart as approved:
 * requests a crashed gateway left pending are closed at the next start.
 *
 * A person can approve one statement, or the rest of the session for N minutes for statements that the
 * same rule would hold (`sessionApproval`).
 */
export class ApprovalBroker {
  private readonly pending = new Map<string, Pending>();
  /** sessionId -> rule -> { approval id, until }. */
  private readonly sessionGrants = new Map<string, Map<string, { id: string; until: number }>>();
  private closed = false;

  constructor(
    private readonly store: StoreApi,
    private readonly audit: AuditLog,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Close requests a previous run left pending (it crashed or was killed): denied, and audited. */
  recoverOrphans(): number {
    const orphans = this.store.approvals.closeOrphans(this.now());
    for (const a of orphans) {
      this.audit.append({
        kind: 'approval.gateway_stopped',
        actor: 'gatehouse',
        agentName: a.agentName,
        connectionName: a.connectionName,
        sessionId: a.sessionId,
        detail: { approvalId: a.id, rule: a.rule, reason: 'pending when the gateway stopped; denied at restart' },
      });
    }
    return orphans.length;
  }

  /** Hold a statement: record the request, publish it, and wait for its outcome. */
  request(input: ApprovalRequestInput): HeldRequest {
    const requestedAt = this.now();
    const record: ApprovalRecord = {
      id: randomUUID(),
      sessionId: input.sessionId,
      agentName: input.agentName,
      connectionName: input.connectionName,
      protocol: input.protocol,
      statement: input.statement,
      rule: input.rule,
      message: input.message,
      requestedAt,
      expiresAt: requestedAt + input.timeoutMs,
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      reason: null,
      scope: null,
      scopeUntil: null,
    };
    if (this.closed) {
      // Shutting down: deny at once rather than hold something nobody can answer.
      const outcome = Promise.resolve<ApprovalOutcome>({ status: 'gateway_stopped', approval: { ...record, status: 'gateway_stopped', decidedAt: requestedAt } });
      return { id: record.id, outcome, withdraw: () => {} };
    }
    this.store.approvals.insert(record);
    let resolve!: (o: ApprovalOutcome) => void;
    const outcome = new Promise<ApprovalOutcome>((r) => (resolve = r));
    const timer = setTimeout(() => this.settle(record.id, 'timed_out', 'gatehouse', `no decision within ${Math.round(input.timeoutMs / 1000)} s`), input.timeoutMs);
    timer.unref();
    this.pending.set(record.id, { record, resolve, timer });
    this.audit.append({
      kind: 'approval.requested',
      actor: `agent:${input.agentName}`,
      agentName: input.agentName,
      connectionName: input.connectionName,
      sessionId: input.sessionId,
      detail: { approvalId: record.id, rule: input.rule, statement: input.statement, expiresAt: new Date(record.expiresAt).toISOString() },
    });
    this.events.emit('approval.requested', approvalToDto(record));
    this.log.info('statement held for approval', { approval: record.id, rule: input.rule, session: input.sessionId });
    return { id: record.id, outcome, withdraw: () => this.settle(record.id, 'withdrawn', `agent:${input.agentName}`, 'the client went away') };
  }

  /** A person's decision. Throws not_found for an unknown id and conflict when it is no longer pending. */
  decide(id: string, d: { decision: 'approve' | 'deny'; by: string; reason?: string; sessionMinutes?: number }): ApprovalRecord {
    if (!this.pending.has(id)) {
      const stored = this.store.approvals.get(id);
      if (!stored) throw new GatehouseError('not_found', `approval request "${id}" does not exist`);
      if (stored.status !== 'pending') throw new GatehouseError('conflict', `approval request "${id}" is already ${stored.status.replace('_', ' ')}`);
      // Pending in the store but not held here: left by another run, or held by another gateway process.
      throw new GatehouseError('conflict', `approval request "${id}" is not held by this gateway (it was left by a run that stopped)`);
    }
    const until = d.decision === 'approve' && d.sessionMinutes ? this.now() + d.sessionMinutes * 60_000 : null;
    return this.settle(id, d.decision === 'approve' ? 'approved' : 'denied', d.by, d.reason ?? null, until)!;
  }

  /** The id of a session-wide approval covering statements held by `rule`, if one is still in force. */
  sessionApproval(sessionId: string, rule: string): string | null {
    const g = this.sessionGrants.get(sessionId)?.get(rule);
    if (!g) return null;
    if (g.until <= this.now()) {
      this.sessionGrants.get(sessionId)!.delete(rule);
      return null;
    }
    return g.id;
  }

  /** Forget a session's session-wide approvals (it ended). */
  endSession(sessionId: string): void {
    this.sessionGrants.delete(sessionId);
  }

  /** Requests still waiting, oldest first. */
  listPending(): ApprovalRecord[] {
    return [...this.pending.values()].map((p) => p.record).sort((a, b) => a.requestedAt - b.requestedAt);
  }

  /** Deny everything still pending (the gateway is stopping) and refuse new requests. */
  close(): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, 'gateway_stopped', 'gatehouse', 'the gateway stopped');
  }

  private settle(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, reason: string | null, scopeUntil: number | null = null): ApprovalRecord | null {
    const p = this.pending.get(id);
    if (!p) return null;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const decidedAt = this.now();
    const scope = status === 'approved' ? (scopeUntil ? 'session' : 'statement') : null;
    const record: ApprovalRecord = { ...p.record, status, decidedBy: by, decidedAt, reason, scope, scopeUntil };
    try {
      this.store.approvals.settle(id, { status, decidedBy: by, decidedAt, reason, scope, scopeUntil });
      this.audit.append({
        kind: `approval.${status}`,
        actor: by,
        agentName: record.agentName,
        connectionName: record.connectionName,
        sessionId: record.sessionId,
        detail: { approvalId: id, rule: record.rule, statement: record.statement, ...(reason ? { reason } : {}), ...(scopeUntil ? { sessionUntil: new Date(scopeUntil).toISOString() } : {}) },
      });
    } catch (err) {
      // Fail closed: a decision that could not be recorded does not count as an approval.
      this.log.error('could not record an approval decision; denying', { err, approval: id });
      p.resolve({ status: 'denied', approval: { ...record, status: 'denied', reason: 'the decision could not be recorded' } });
      return record;
    }
    if (scopeUntil) {
      let m = this.sessionGrants.get(record.sessionId);
      if (!m) this.sessionGrants.set(record.sessionId, (m = new Map()));
      m.set(record.rule, { id, until: scopeUntil });
    }
    this.events.emit('approval.decided', approvalToDto(record));
    p.resolve({ status, approval: record });
    return record;
  }
}
