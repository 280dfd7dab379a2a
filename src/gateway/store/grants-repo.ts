import type { GrantRecord, GrantView } from './records';
import type { GrantsRepo } from './store-api';
import type { Db } from './sql-helpers';
import type { Statement } from 'better-sqlite3';
import { StatementCache } from './statement-cache';

interface Row {
  id: string;
  agent_id: string;
  connection_id: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  created_by: string;
  agent_name: string;
  connection_name: string;
}

const recordFromRow = (r: Omit<Row, 'agent_name' | 'connection_name'>): GrantRecord => ({
  id: r.id,
  agentId: r.agent_id,
  connectionId: r.connection_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  createdBy: r.created_by,
});

const fromRow = (r: Row): GrantView => ({
  id: r.id,
  agentId: r.agent_id,
  connectionId: r.connection_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  createdBy: r.created_by,
  agentName: r.agent_name,
  connectionName: r.connection_name,
});

const VIEW = `SELECT g.*, a.name AS agent_name, c.name AS connection_name
  FROM grants g JOIN agents a ON a.id = g.agent_id JOIN connections c ON c.id = g.connection_id`;
const ACTIVE = 'g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > @now)';

/** Which agent may use which connection, until when. */
export class SqliteGrantsRepo implements GrantsRepo {
  private readonly active: Statement<{ agent: string; connection: string; now: number }, Omit<Row, 'agent_name' | 'connection_name'>>;
  private readonly byId: Statement<[string], Row>;
  private readonly ins: Statement;
  private readonly revokeOne: Statement;
  private readonly revokeAll: Statement;
  private readonly expiry: Statement<[number | null, string]>;
  private readonly shapes: StatementCache;

  constructor(db: Db) {
    this.shapes = new StatementCache(db);
    // Data path (every agent login): one lookup in grants_agent_connection, no joins.
    this.active = db.prepare(`SELECT g.* FROM grants g WHERE g.agent_id = @agent AND g.connection_id = @connection AND ${ACTIVE} LIMIT 1`);
    this.byId = db.prepare(`${VIEW} WHERE g.id = ?`);
    this.ins = db.prepare(
      `INSERT INTO grants (id, agent_id, connection_id, created_at, expires_at, revoked_at, created_by)
       VALUES (@id, @agent_id, @connection_id, @created_at, @expires_at, @revoked_at, @created_by)`,
    );
    this.revokeOne = db.prepare(`UPDATE grants AS g SET revoked_at = @at WHERE g.id = @id AND ${ACTIVE.replace('@now', '@at')}`);
    this.revokeAll = db.prepare(`UPDATE grants AS g SET revoked_at = @at WHERE g.agent_id = @agent AND g.connection_id = @connection AND ${ACTIVE.replace('@now', '@at')}`);
    this.expiry = db.prepare('UPDATE grants SET expires_at = ? WHERE id = ?');
  }

  list(f: { agentId?: string; connectionId?: string; includeInactive: boolean; now: number }): GrantView[] {
    const where: string[] = [];
    if (f.agentId) where.push('g.agent_id = @agentId');
    if (f.connectionId) where.push('g.connection_id = @connectionId');
    if (!f.includeInactive) where.push(ACTIVE);
    const sql = `${VIEW} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY a.name, c.name, g.created_at`;
    return this.shapes.get<Record<string, unknown>, Row>(sql).all({ agentId: f.agentId, connectionId: f.connectionId, now: f.now }).map(fromRow);
  }

  get(id: string): GrantView | undefined {
    const r = this.byId.get(id);
    return r && fromRow(r);
  }

  findActive(agentId: string, connectionId: string, now: number): GrantRecord | undefined {
    const r = this.active.get({ agent: agentId, connection: connectionId, now });
    return r && recordFromRow(r);
  }

  insert(g: GrantRecord): void {
    this.ins.run({
      id: g.id,
      agent_id: g.agentId,
      connection_id: g.connectionId,
      created_at: g.createdAt,
      expires_at: g.expiresAt,
      revoked_at: g.revokedAt,
      created_by: g.createdBy,
    });
  }

  revoke(id: string, at: number): boolean {
    return this.revokeOne.run({ id, at }).changes > 0;
  }

  setExpiry(id: string, expiresAt: number | null): void {
    this.expiry.run(expiresAt, id);
  }

  revokeFor(agentId: string, connectionId: string, at: number): number {
    return this.revokeAll.run({ agent: agentId, connection: connectionId, at }).changes;
  }
}
