import type { Statement } from 'better-sqlite3';
import type { StatementRecord } from './records';
import type { StatementsRepo } from './store-api';
import type { Db } from './sql-helpers';

interface Row {
  id: number;
  session_id: string;
  seq: number;
  protocol: string;
  sql: string;
  param_count: number;
  started_at: number;
  duration_ms: number;
  command_tag: string | null;
  rows: number | null;
  error_code: string | null;
  policy_action: string | null;
  policy_rule: string | null;
  approval_id: string | null;
  masked_values: number | null;
  result_preview: string | null;
  masked_by: string | null;
}

const fromRow = (r: Row): StatementRecord => ({
  id: r.id,
  sessionId: r.session_id,
  seq: r.seq,
  protocol: r.protocol as StatementRecord['protocol'],
  sql: r.sql,
  paramCount: r.param_count,
  startedAt: r.started_at,
  durationMs: r.duration_ms,
  commandTag: r.command_tag,
  rows: r.rows,
  errorCode: r.error_code,
  policyAction: r.policy_action as StatementRecord['policyAction'],
  policyRule: r.policy_rule,
  approvalId: r.approval_id,
  maskedValues: r.masked_values,
  resultPreview: r.result_preview,
  ...(r.masked_by ? { maskedBy: JSON.parse(r.masked_by) as Record<string, number> } : {}),
});

/**
 * One row per executed statement. Inserts are batched by the recorder (data path): one prepared INSERT
 * run per row inside the caller's transaction; the commit, not the rows, is what costs.
 */
export class SqliteStatementsRepo implements StatementsRepo {
  private readonly ins: Statement;
  private readonly insIgnore: Statement;
  private readonly bySession: Statement<{ session: string; after: number; limit: number }, Row>;
  private readonly count: Statement<[string], { n: number }>;

  constructor(db: Db) {
    this.ins = db.prepare(
      `INSERT INTO statements (session_id, seq, protocol, sql, param_count, started_at, duration_ms, command_tag, rows, error_code, policy_action, policy_rule, approval_id, masked_values, result_preview, masked_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insIgnore = db.prepare(
      `INSERT OR IGNORE INTO statements (session_id, seq, protocol, sql, param_count, started_at, duration_ms, command_tag, rows, error_code, policy_action, policy_rule, approval_id, masked_values, result_preview, masked_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.bySession = db.prepare('SELECT * FROM statements WHERE session_id = @session AND seq > @after ORDER BY seq LIMIT @limit');
    this.count = db.prepare('SELECT count(*) AS n FROM statements WHERE session_id = ?');
  }

  insertMany(recs: StatementRecord[], opts: { ignoreExisting?: boolean } = {}): void {
    const stmt = opts.ignoreExisting ? this.insIgnore : this.ins;
    for (const s of recs) {
      const info = stmt.run(
        s.sessionId, s.seq, s.protocol, s.sql, s.paramCount, s.startedAt, s.durationMs, s.commandTag, s.rows, s.errorCode,
        s.policyAction ?? null, s.policyRule ?? null, s.approvalId ?? null, s.maskedValues ?? null, s.resultPreview ?? null,
        s.maskedBy ? JSON.stringify(s.maskedBy) : null,
      );
      // A skipped duplicate leaves lastInsertRowid at the previous row's id; it must not be taken as this one's.
      if (info.changes > 0) s.id = Number(info.lastInsertRowid);
    }
  }

  listBySession(sessionId: string, opts: { limit?: number; afterSeq?: number } = {}): StatementRecord[] {
    return this.bySession.all({ session: sessionId, after: opts.afterSeq ?? 0, limit: opts.limit ?? -1 }).map(fromRow);
  }

  countBySession(sessionId: string): number {
    return this.count.get(sessionId)!.n;
  }
}
