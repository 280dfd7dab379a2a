import type { Statement } from 'better-sqlite3';
import { auditEventHash, GENESIS_HASH, type ChainedEvent } from './audit-chain';
import type { AuditRecord } from './records';
import type { AuditCheckpoint, AuditRepo } from './store-api';
import type { Db } from './sql-helpers';

/** An audit_events row as stored (snake_case), chain fields included. */
export interface AuditRow {
  id: number;
  at: number;
  kind: string;
  actor: string;
  agent_name: string | null;
  connection_name: string | null;
  session_id: string | null;
  client_addr: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** A stored audit row as a chained event (the shape `audit export` and evidence packs write). */
export const chainedEventFromRow = (r: AuditRow): ChainedEvent => ({
  id: r.id,
  at: r.at,
  kind: r.kind,
  actor: r.actor,
  agentName: r.agent_name,
  connectionName: r.connection_name,
  sessionId: r.session_id,
  clientAddress: r.client_addr,
  detail: JSON.parse(r.detail),
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * The audit trail: append-only and hash-chained. Each event stores the hash of the one before it and its
 * own hash over its content and id, computed inside the inserting transaction.
 */
export class SqliteAuditRepo implements AuditRepo {
  private readonly ins: Statement;
  private readonly last: Statement<[], { id: number; hash: string }>;
  private readonly insCheckpoint: Statement;

  constructor(private readonly db: Db) {
    this.ins = db.prepare(
      `INSERT INTO audit_events (id, at, kind, actor, agent_name, connection_name, session_id, client_addr, detail, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.last = db.prepare('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1');
    this.insCheckpoint = db.prepare('INSERT INTO audit_checkpoints (event_id, event_hash, at, public_key, signature) VALUES (?, ?, ?, ?, ?)');
  }

  append(r: AuditRecord): number {
    return this.db.transaction(() => {
      const last = this.last.get();
      const id = (last?.id ?? 0) + 1;
      const prev = last?.hash ?? GENESIS_HASH;
      const hash = auditEventHash(prev, { ...r, id });
      this.ins.run(id, r.at, r.kind, r.actor, r.agentName, r.connectionName, r.sessionId, r.clientAddress, JSON.stringify(r.detail), prev, hash);
      return id;
    }).immediate();
  }

  list(q: { limit: number; kind?: string; agentName?: string; afterId?: number; since?: number; order?: 'asc' | 'desc' }): AuditRecord[] {
    const where: string[] = [];
    if (q.kind) where.push('kind = @kind');
    if (q.agentName) where.push('agent_name = @agent');
    if (q.afterId !== undefined) where.push('id > @afterId');
    if (q.since !== undefined) where.push('at >= @since');
    const sql = `SELECT * FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT @limit`;
    return (this.db.prepare(sql).all({ kind: q.kind, agent: q.agentName, afterId: q.afterId, since: q.since, limit: q.limit }) as AuditRow[]).map(chainedEventFromRow);
  }

  *chain(): IterableIterator<ChainedEvent> {
    for (const r of this.db.prepare('SELECT * FROM audit_events ORDER BY id').iterate() as IterableIterator<AuditRow>) yield chainedEventFromRow(r);
  }

  head(): { id: number; hash: string } | undefined {
    return this.last.get();
  }

  addCheckpoint(c: Omit<AuditCheckpoint, 'id'>): void {
    this.insCheckpoint.run(c.eventId, c.eventHash, c.at, c.publicKey, c.signature);
  }

  checkpoints(): AuditCheckpoint[] {
    return (this.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all() as Record<string, any>[]).map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventHash: r.event_hash,
      at: r.at,
      publicKey: r.public_key,
      signature: r.signature,
    }));
  }
}
