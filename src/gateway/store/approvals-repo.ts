import type { Statement } from 'better-sqlite3';
import type { ApprovalRecord, ApprovalStatus } from './records';
import type { Db } from './sql-helpers';

const fromRow = (r: Record<string, any>): ApprovalRecord => ({
  id: r.id,
  sessionId: r.session_id,
  agentName: r.agent_name,
  connectionName: r.connection_name,
  protocol: r.protocol,
  statement: r.statement,
  rule: r.rule,
  message: r.message,
  requestedAt: r.requested_at,
  expiresAt: r.expires_at,
  status: r.status,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  reason: r.reason,
  scope: r.scope,
  scopeUntil: r.scope_until,
});

/** Approval requests: statements and commands held for a human, and what was decided. */
export class SqliteApprovalsRepo {
  private readonly ins: Statement;
  private readonly upd: Statement;
  private readonly byId: Statement<[string], Record<string, any>>;

  constructor(private readonly db: Db) {
    this.ins = db.prepare(
      `INSERT INTO approvals (id, session_id, agent_name, connection_name, protocol, statement, rule, message, requested_at, expires_at, status)
       VALUES (@id, @sessionId, @agentName, @connectionName, @protocol, @statement, @rule, @message, @requestedAt, @expiresAt, 'pending')`,
    );
    this.upd = db.prepare(
      `UPDATE approvals SET status = @status, decided_by = @decidedBy, decided_at = @decidedAt, reason = @reason, scope = @scope, scope_until = @scopeUntil
       WHERE id = @id AND status = 'pending'`,
    );
    this.byId = db.prepare('SELECT * FROM approvals WHERE id = ?');
  }

  /** Record a new pending request. */
  insert(rec: Omit<ApprovalRecord, 'status' | 'decidedBy' | 'decidedAt' | 'reason' | 'scope' | 'scopeUntil'>): void {
    this.ins.run(rec);
  }

  /** Settle a pending request; false when it was no longer pending (decided, timed out or withdrawn). */
  settle(
    id: string,
    outcome: { status: Exclude<ApprovalStatus, 'pending'>; decidedBy: string | null; decidedAt: number; reason: string | null; scope?: 'statement' | 'session' | null; scopeUntil?: number | null },
  ): boolean {
    return this.upd.run({ id, scope: null, scopeUntil: null, ...outcome }).changes === 1;
  }

  get(id: string): ApprovalRecord | undefined {
    const r = this.byId.get(id);
    return r ? fromRow(r) : undefined;
  }

  /** Newest first; `status` filters (e.g. only pending). */
  list(opts: { status?: ApprovalStatus; limit?: number } = {}): ApprovalRecord[] {
    const where = opts.status ? 'WHERE status = @status' : '';
    return this.db
      .prepare(`SELECT * FROM approvals ${where} ORDER BY requested_at DESC, id LIMIT @limit`)
      .all({ status: opts.status, limit: opts.limit ?? -1 })
      .map((r) => fromRow(r as Record<string, any>));
  }

  /**
   * Requests left pending by a gateway that stopped without settling them (crash, kill): nothing held
   * survives a restart as approved, so they are closed as `gateway_stopped`. Returns the closed ones.
   */
  closeOrphans(now: number): ApprovalRecord[] {
    const open = this.list({ status: 'pending' });
    for (const a of open) this.settle(a.id, { status: 'gateway_stopped', decidedBy: 'gatehouse', decidedAt: now, reason: 'the gateway stopped while the request was pending' });
    return open;
  }
}
