import type { Statement } from 'better-sqlite3';
import type { SessionEnd, SessionListQuery, SessionRecord } from './records';
import type { SessionsRepo } from './store-api';
import type { Db } from './sql-helpers';
import { invalid } from '../core/errors';
import { StatementCache } from './statement-cache';

interface Row {
  id: string;
  protocol: string;
  agent_id: string;
  agent_name: string;
  connection_id: string;
  connection_name: string;
  client_addr: string;
  tls: number;
  started_at: number;
  ended_at: number | null;
  bytes_in: number;
  bytes_out: number;
  end_reason: string | null;
  statement_count: number;
  recording_purged_at?: number | null;
}

const fromRow = (r: Row): SessionRecord => ({
  id: r.id,
  protocol: r.protocol as SessionRecord['protocol'],
  agentId: r.agent_id,
  agentName: r.agent_name,
  connectionId: r.connection_id,
  connectionName: r.connection_name,
  clientAddress: r.client_addr,
  tls: r.tls !== 0,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  bytesIn: r.bytes_in,
  bytesOut: r.bytes_out,
  endReason: r.end_reason,
  statementCount: r.statement_count,
  ...(r.recording_purged_at ? { recordingPurgedAt: r.recording_purged_at } : {}),
});

/** The statements a session-list decision filter looks for. */
const DECISION_SQL = {
  blocked: "st.policy_action = 'block'",
  held: "st.policy_action = 'approve'",
  masked: 'st.masked_values > 0',
  errored: 'st.error_code IS NOT NULL',
} as const;

/**
 * Recorded sessions, listed newest first with keyset paging. Names are stored as they were when the
 * session started, so history survives renames and removals.
 *
 * Lists stay cheap at any size: each filter has an index ordered like the list (started_at desc, id
 * desc), open sessions have a partial index of their own, and totals come from `session_counts`
 * (per agent and connection, maintained by triggers; see migration 4) instead of counting rows.
 */
export class SqliteSessionsRepo implements SessionsRepo {
  private readonly ins: Statement;
  private readonly fin: Statement;
  private readonly byId: Statement<[string], Row>;
  private readonly orphans: Statement;
  private readonly shapes: StatementCache;

  constructor(db: Db) {
    this.shapes = new StatementCache(db);
    this.ins = db.prepare(
      `INSERT INTO sessions (id, protocol, agent_id, agent_name, connection_id, connection_name, client_addr, tls, started_at, ended_at, bytes_in, bytes_out, end_reason, statement_count)
       VALUES (@id, @protocol, @agent_id, @agent_name, @connection_id, @connection_name, @client_addr, @tls, @started_at, @ended_at, @bytes_in, @bytes_out, @end_reason, @statement_count)`,
    );
    this.fin = db.prepare(
      `UPDATE sessions SET ended_at = @endedAt, bytes_in = @bytesIn, bytes_out = @bytesOut, end_reason = @endReason, statement_count = @statementCount WHERE id = @id`,
    );
    this.byId = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.orphans = db.prepare(
      `UPDATE sessions SET ended_at = @at, end_reason = 'gateway_crashed',
         statement_count = (SELECT count(*) FROM statements s WHERE s.session_id = sessions.id)
       WHERE ended_at IS NULL`,
    );
  }

  insert(s: SessionRecord): void {
    this.ins.run({
      id: s.id,
      protocol: s.protocol,
      agent_id: s.agentId,
      agent_name: s.agentName,
      connection_id: s.connectionId,
      connection_name: s.connectionName,
      client_addr: s.clientAddress,
      tls: s.tls ? 1 : 0,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      bytes_in: s.bytesIn,
      bytes_out: s.bytesOut,
      end_reason: s.endReason,
      statement_count: s.statementCount,
    });
  }

  finish(id: string, end: SessionEnd): void {
    this.fin.run({ id, ...end });
  }

  get(id: string): SessionRecord | undefined {
    const r = this.byId.get(id);
    return r && fromRow(r);
  }

  list(q: SessionListQuery): { items: SessionRecord[]; total: number } {
    const filter: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.agentName) {
      filter.push('agent_name = @agent');
      params.agent = q.agentName;
    }
    if (q.connectionName) {
      filter.push('connection_name = @connection');
      params.connection = q.connectionName;
    }
    // Decision, text and time filters are not in session_counts: their totals are counted. A time range
    // is a range of the started_at index every list is ordered by, so counting it stays cheap.
    const deep: string[] = [];
    if (q.from !== undefined) {
      deep.push('started_at >= @from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      deep.push('started_at < @to');
      params.to = q.to;
    }
    if (q.decision) deep.push(`EXISTS (SELECT 1 FROM statements st WHERE st.session_id = sessions.id AND ${DECISION_SQL[q.decision]})`);
    if (q.text) {
      deep.push(`(instr(lower(client_addr), @text) > 0 OR EXISTS (SELECT 1 FROM statements st WHERE st.session_id = sessions.id AND instr(lower(st.sql), @text) > 0))`);
      params.text = q.text.toLowerCase();
    }
    const total = deep.length
      ? this.shapes
          .get<Record<string, unknown>, { n: number }>(`SELECT count(*) AS n FROM sessions ${where([...filter, ...deep, ...(q.activeOnly ? ['ended_at IS NULL'] : [])])}`)
          .get(params)!.n
      : this.shapes
          .get<Record<string, unknown>, { n: number }>(
            `SELECT coalesce(sum(${q.activeOnly ? 'open' : 'total'}), 0) AS n FROM session_counts ${where(filter)}`,
          )
          .get(params)!.n;

    const page = [...filter, ...deep];
    if (q.activeOnly) page.push('ended_at IS NULL');
    if (q.before !== undefined) {
      const anchor = this.byId.get(q.before);
      // Paging from a session that doesn't exist is a caller error, not "start from the top".
      if (!anchor) throw invalid(`unknown session "${q.before}" in before`, [{ path: 'before', message: 'no such session' }]);
      page.push('(started_at, id) < (@bStart, @bId)');
      params.bStart = anchor.started_at;
      params.bId = anchor.id;
    }
    params.limit = q.limit;
    // Open sessions are always few, so their partial index is the best driver whatever the other filters.
    const from = q.activeOnly ? 'sessions INDEXED BY sessions_open' : 'sessions';
    const rows = this.shapes
      .get<Record<string, unknown>, Row>(`SELECT * FROM ${from} ${where(page)} ORDER BY started_at DESC, id DESC LIMIT @limit`)
      .all(params);
    return { items: rows.map(fromRow), total };
  }

  closeOrphans(at: number): number {
    return this.orphans.run({ at }).changes;
  }
}

const where = (conds: string[]) => (conds.length ? `WHERE ${conds.join(' AND ')}` : '');
