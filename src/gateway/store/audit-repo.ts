import type { Statement } from 'better-sqlite3';
import type { AuditRecord } from './records';
import type { AuditRepo } from './store-api';
import type { Db } from './sql-helpers';

interface Row {
  id: number;
  at: number;
  kind: string;
  actor: string;
  agent_name: string | null;
  connection_name: string | null;
  session_id: string | null;
  client_addr: string | null;
  detail: string;
}

const fromRow = (r: Row): AuditRecord => ({
  id: r.id,
  at: r.at,
  kind: r.kind,
  actor: r.actor,
  agentName: r.agent_name,
  connectionName: r.connection_name,
  sessionId: r.session_id,
  clientAddress: r.client_addr,
  detail: JSON.parse(r.detail),
});

/** The audit trail: append-only. */
export class SqliteAuditRepo implements AuditRepo {
  private readonly ins: Statement;

  constructor(private readonly db: Db) {
    this.ins = db.prepare(
      `INSERT INTO audit_events (at, kind, actor, agent_name, connection_name, session_id, client_addr, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  append(r: AuditRecord): number {
    const info = this.ins.run(r.at, r.kind, r.actor, r.agentName, r.connectionName, r.sessionId, r.clientAddress, JSON.stringify(r.detail));
    return Number(info.lastInsertRowid);
  }

  list(q: { limit: number; kind?: string; agentName?: string }): AuditRecord[] {
    const where: string[] = [];
    if (q.kind) where.push('kind = @kind');
    if (q.agentName) where.push('agent_name = @agent');
    const sql = `SELECT * FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all({ kind: q.kind, agent: q.agentName, limit: q.limit }) as Row[]).map(fromRow);
  }
}
