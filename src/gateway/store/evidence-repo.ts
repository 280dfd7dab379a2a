import type { AuditRow } from './audit-repo';
import type { Statement } from 'better-sqlite3';
import { GENESIS_HASH } from './audit-chain';
import type { Db } from './sql-helpers';

/** What an evidence pack covers: a period (epoch ms, inclusive) and optional agent / connection names. */
export interface EvidenceScope {
  start: number;
  end: number;
  /** Agent names; empty = every agent. */
  agents: readonly string[];
  /** Connection names; empty = every connection. */
  connections: readonly string[];
}

/** A session row as exported (names as they were when it started). */
export interface EvidenceSessionRow {
  id: string;
  protocol: string;
  agent_name: string;
  connection_name: string;
  client_addr: string;
  tls: number;
  started_at: number;
  ended_at: number | null;
  bytes_in: number;
  bytes_out: number;
  end_reason: string | null;
  statement_count: number;
  /** When retention removed the recording (schema 11; null before it or when kept). */
  recording_purged_at: number | null;
}

/**
 * A statement row as stored: the base columns, plus the policy and masking columns (policy_action,
 * policy_rule, approval_id, masked_values, result_preview) when this store's schema has them.
 */
export type EvidenceStatementRow = {
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
} & Record<string, unknown>;

/** An audit event row with its chain fields. */
export type EvidenceAuditRow = AuditRow;

/**
 * Read-only queries behind evidence packs. Every list is read in bounded keyset pages (never the whole
 * table at once, and no cursor left open between pages), so an export of millions of statements keeps
 * memory flat and lets the gateway keep writing to the same connection between pages. Tables that arrive
 * with later features (approvals, policies, SSH recordings) are optional: `hasTable` / `hasColumn` say
 * whether this store has them.
 */
export class SqliteEvidenceRepo {
  private readonly prepared = new Map<string, Statement>();
  private readonly rowQueries = new Map<readonly string[], Statement>();

  constructor(private readonly db: Db) {}

  /** Prepare once per SQL text: an export runs the same page queries tens of thousands of times. */
  private q(sql: string): Statement {
    let st = this.prepared.get(sql);
    if (!st) this.prepared.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  /** Whether the store has this table (features added by later migrations). */
  hasTable(name: string): boolean {
    return this.q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /** The columns of a table, in order (empty when it doesn't exist). */
  columns(table: string): string[] {
    return (this.db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((r) => r.name);
  }

  private scopeWhere(agentCol: string, connectionCol: string, scope: EvidenceScope): { sql: string; params: Record<string, unknown> } {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    if (scope.agents.length) {
      parts.push(`${agentCol} IN (${scope.agents.map((_, i) => `@a${i}`).join(', ')})`);
      scope.agents.forEach((a, i) => (params[`a${i}`] = a));
    }
    if (scope.connections.length) {
      parts.push(`${connectionCol} IN (${scope.connections.map((_, i) => `@c${i}`).join(', ')})`);
      scope.connections.forEach((c, i) => (params[`c${i}`] = c));
    }
    return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
  }

  /** How many sessions started in the period and scope, and their statements (for progress totals). */
  totals(scope: EvidenceScope): { sessions: number; statements: number } {
    const w = this.scopeWhere('agent_name', 'connection_name', scope);
    const r = this.db
      .prepare(`SELECT count(*) AS sessions, coalesce(sum(statement_count), 0) AS statements FROM sessions WHERE started_at BETWEEN @start AND @end ${w.sql}`)
      .get({ start: scope.start, end: scope.end, ...w.params }) as { sessions: number; statements: number };
    return r;
  }

  /** Sessions that started in the period and scope, oldest first, one page after `after`. */
  sessionPage(scope: EvidenceScope, after: { startedAt: number; id: string } | null, limit: number): EvidenceSessionRow[] {
    const w = this.scopeWhere('agent_name', 'connection_name', scope);
    const purged = this.columns('sessions').includes('recording_purged_at') ? 'recording_purged_at' : 'NULL AS recording_purged_at';
    return this.q(
        `SELECT id, protocol, agent_name, connection_name, client_addr, tls, started_at, ended_at, bytes_in, bytes_out, end_reason, statement_count, ${purged}
         FROM sessions WHERE started_at BETWEEN @start AND @end ${w.sql}
           ${after ? 'AND (started_at > @afterAt OR (started_at = @afterAt AND id > @afterId))' : ''}
         ORDER BY started_at, id LIMIT @limit`,
      ).all({ start: scope.start, end: scope.end, ...w.params, afterAt: after?.startedAt, afterId: after?.id, limit }) as EvidenceSessionRow[];
  }

  /** One page of a session's statements in order, after sequence number `afterSeq`. */
  statementPage(sessionId: string, afterSeq: number, limit: number): EvidenceStatementRow[] {
    return this.q('SELECT * FROM statements WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(sessionId, afterSeq, limit) as EvidenceStatementRow[];
  }

  /**
   * One page of a session's statements in order, after sequence number `afterSeq`, as arrays of the
   * given columns (in that order; a column this store lacks reads as NULL). No object per row: the
   * exporter reads every statement of a period through here.
   */
  statementRows(sessionId: string, afterSeq: number, limit: number, columns: readonly string[]): unknown[][] {
    let st = this.rowQueries.get(columns);
    if (!st) {
      const have = new Set(this.columns('statements'));
      const list = columns.map((c) => (have.has(c) ? `"${c}"` : `NULL AS "${c}"`)).join(', ');
      st = this.db.prepare(`SELECT ${list} FROM statements WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`).raw(true);
      this.rowQueries.set(columns, st);
    }
    return st.all(sessionId, afterSeq, limit) as unknown[][];
  }

  /**
   * Policy versions in force during the period: the one in force at its start and every one applied
   * during it, oldest first (empty without a policies table, or when none was applied by its end).
   */
  policyVersions(start: number, end: number): { version: number; yaml: string; sha256: string; applied_at: number; applied_by: string }[] {
    if (!this.hasTable('policies')) return [];
    return this.db
      .prepare(
        `SELECT * FROM policies WHERE applied_at <= @end
           AND (applied_at >= @start OR version = (SELECT max(version) FROM policies WHERE applied_at < @start))
         ORDER BY version`,
      )
      .all({ start, end }) as { version: number; yaml: string; sha256: string; applied_at: number; applied_by: string }[];
  }

  /** The recorded channels of an SSH session that have an asciicast file (empty without SSH recordings). */
  sshRecordings(sessionId: string): { channel_id: number; kind: string; command: string | null; file: string }[] {
    if (!this.hasTable('ssh_recordings')) return [];
    return this.q('SELECT channel_id, kind, command, file FROM ssh_recordings WHERE session_id = ? AND file IS NOT NULL ORDER BY channel_id').all(sessionId) as {
      channel_id: number;
      kind: string;
      command: string | null;
      file: string;
    }[];
  }

  /**
   * Statements policy blocked (when the store records policy decisions), in sessions of the period and
   * scope, one page after statement id `afterId`.
   */
  blockPage(scope: EvidenceScope, afterId: number, limit: number): (EvidenceStatementRow & { agent_name: string; connection_name: string })[] {
    if (!this.columns('statements').includes('policy_action')) return [];
    const w = this.scopeWhere('se.agent_name', 'se.connection_name', scope);
    return this.db
      .prepare(
        `SELECT st.*, se.agent_name, se.connection_name FROM statements st JOIN sessions se ON se.id = st.session_id
         WHERE st.policy_action = 'block' AND st.id > @afterId AND se.started_at BETWEEN @start AND @end ${w.sql}
         ORDER BY st.id LIMIT @limit`,
      )
      .all({ start: scope.start, end: scope.end, afterId, limit, ...w.params }) as (EvidenceStatementRow & { agent_name: string; connection_name: string })[];
  }

  /** Approval requests made in the period and scope (empty when the store has no approvals table). */
  approvalPage(scope: EvidenceScope, after: { requestedAt: number; id: string } | null, limit: number): Record<string, unknown>[] {
    if (!this.hasTable('approvals')) return [];
    const w = this.scopeWhere('agent_name', 'connection_name', scope);
    return this.db
      .prepare(
        `SELECT * FROM approvals WHERE requested_at BETWEEN @start AND @end ${w.sql}
           ${after ? 'AND (requested_at > @afterAt OR (requested_at = @afterAt AND id > @afterId))' : ''}
         ORDER BY requested_at, id LIMIT @limit`,
      )
      .all({ start: scope.start, end: scope.end, ...w.params, afterAt: after?.requestedAt, afterId: after?.id, limit }) as Record<string, unknown>[];
  }

  /**
   * Every grant in force at some point of the period (in scope), joined with the review decisions taken
   * on it (one row per decision; a grant no review covered has one row with null review fields), and the
   * use the agent made of the connection during the period.
   */
  entitlements(scope: EvidenceScope): Record<string, unknown>[] {
    const w = this.scopeWhere('a.name', 'c.name', scope);
    return this.db
      .prepare(
        `SELECT g.id AS grant_id, a.name AS agent_name, c.name AS connection_name, g.created_at AS grant_created_at,
                g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at, g.created_by AS granted_by,
                rc.id AS review_id, rc.name AS review_name, rc.completed_at AS review_completed_at,
                ri.decision, ri.new_expires_at, ri.comment, ri.decided_by, ri.decided_at,
                coalesce(u.sessions, 0) AS sessions_in_period, coalesce(u.statements, 0) AS statements_in_period
         FROM grants g JOIN agents a ON a.id = g.agent_id JOIN connections c ON c.id = g.connection_id
           -- Use in the period per agent and connection, aggregated once (not once per grant).
           LEFT JOIN (SELECT agent_id, connection_id, count(*) AS sessions, sum(statement_count) AS statements FROM sessions
                      WHERE started_at BETWEEN @start AND @end GROUP BY agent_id, connection_id) u
             ON u.agent_id = g.agent_id AND u.connection_id = g.connection_id
           LEFT JOIN review_items ri ON ri.grant_id = g.id
           LEFT JOIN review_campaigns rc ON rc.id = ri.campaign_id
         WHERE g.created_at <= @end AND (g.revoked_at IS NULL OR g.revoked_at >= @start) AND (g.expires_at IS NULL OR g.expires_at >= @start) ${w.sql}
         UNION ALL
         -- Entitlements reviewed in a campaign whose grant (or agent, or connection) has since been removed.
         SELECT ri.grant_id, ri.agent_name, ri.connection_name, NULL, NULL, NULL, NULL, rc.id, rc.name, rc.completed_at,
                ri.decision, ri.new_expires_at, ri.comment, ri.decided_by, ri.decided_at, NULL, NULL
         FROM review_items ri JOIN review_campaigns rc ON rc.id = ri.campaign_id
         WHERE rc.period_start <= @end AND rc.period_end >= @start AND ri.grant_id NOT IN (SELECT id FROM grants)
           ${this.scopeWhere('ri.agent_name', 'ri.connection_name', scope).sql}
         ORDER BY agent_name, connection_name, grant_id, decided_at`,
      )
      .all({ start: scope.start, end: scope.end, ...w.params }) as Record<string, unknown>[];
  }

  /** Review campaigns whose period overlaps this one, with their signed digests. */
  reviews(scope: EvidenceScope): Record<string, unknown>[] {
    return this.db
      .prepare('SELECT * FROM review_campaigns WHERE period_start <= @end AND period_end >= @start ORDER BY created_at, id')
      .all({ start: scope.start, end: scope.end }) as Record<string, unknown>[];
  }

  /**
   * The audit chain's segment for a period: the ids of the first event at or after `start` and the last
   * at or before `end`, and the hash of the event before the segment (what its first event points to).
   * `first > last` when the period has no events.
   */
  auditSegment(start: number, end: number): { first: number; last: number; anchorHash: string | null } {
    const first = (this.db.prepare('SELECT min(id) AS id FROM audit_events WHERE at >= ?').get(start) as { id: number | null }).id;
    const last = (this.db.prepare('SELECT max(id) AS id FROM audit_events WHERE at <= ?').get(end) as { id: number | null }).id;
    if (first === null || last === null || first > last) return { first: 1, last: 0, anchorHash: null };
    const before = this.db.prepare('SELECT hash FROM audit_events WHERE id = ?').get(first - 1) as { hash: string } | undefined;
    return { first, last, anchorHash: before?.hash ?? (first === 1 ? GENESIS_HASH : null) };
  }

  /** One page of audit events with ids in (afterId, last]. */
  auditPage(afterId: number, last: number, limit: number): EvidenceAuditRow[] {
    return this.db.prepare('SELECT * FROM audit_events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?').all(afterId, last, limit) as EvidenceAuditRow[];
  }

  /** Signed checkpoints of events in [first, last]. */
  checkpoints(first: number, last: number): Record<string, unknown>[] {
    return this.db.prepare('SELECT * FROM audit_checkpoints WHERE event_id BETWEEN ? AND ? ORDER BY id').all(first, last) as Record<string, unknown>[];
  }

  /** Audit events of some kinds in the period and scope, counted by kind, agent and connection. */
  auditCounts(scope: EvidenceScope, kinds: readonly string[]): { kind: string; agent_name: string | null; connection_name: string | null; n: number }[] {
    if (!kinds.length) return [];
    const w = this.scopeWhere('agent_name', 'connection_name', scope);
    return this.db
      .prepare(
        `SELECT kind, agent_name, connection_name, count(*) AS n FROM audit_events
         WHERE at BETWEEN @start AND @end AND kind IN (${kinds.map((_, i) => `@k${i}`).join(', ')}) ${w.sql}
         GROUP BY kind, agent_name, connection_name`,
      )
      .all({ start: scope.start, end: scope.end, ...w.params, ...Object.fromEntries(kinds.map((k, i) => [`k${i}`, k])) }) as {
      kind: string;
      agent_name: string | null;
      connection_name: string | null;
      n: number;
    }[];
  }

}
