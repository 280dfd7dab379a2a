import type { ConnectionRecord } from './records';
import type { ConnectionsRepo } from './store-api';
import { updateSet, withNameConflict, type Db } from './sql-helpers';
import { notFound } from '../core/errors';
import { StatementCache } from './statement-cache';

interface Row {
  id: string;
  name: string;
  kind: string;
  host: string;
  port: number;
  database: string;
  username: string;
  tls_mode: string;
  secret_enc: Buffer | null;
  tags: string;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: Row): ConnectionRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind as ConnectionRecord['kind'],
  host: r.host,
  port: r.port,
  database: r.database,
  username: r.username,
  tlsMode: r.tls_mode as ConnectionRecord['tlsMode'],
  secretEnc: r.secret_enc,
  tags: JSON.parse(r.tags),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Registered upstreams. */
export class SqliteConnectionsRepo implements ConnectionsRepo {

  private readonly all;
  private readonly byName;
  private readonly byId;
  private readonly ins;
  private readonly del;
  private readonly shapes: StatementCache;

  constructor(db: Db) {
    this.shapes = new StatementCache(db);
    this.all = db.prepare<[], Row>('SELECT * FROM connections ORDER BY name');
    this.byName = db.prepare<[string], Row>('SELECT * FROM connections WHERE name = ?');
    this.byId = db.prepare<[string], Row>('SELECT * FROM connections WHERE id = ?');
    this.ins = db.prepare(
    `INSERT INTO connections (id, name, kind, host, port, database, username, tls_mode, secret_enc, tags, created_at, updated_at)
     VALUES (@id, @name, @kind, @host, @port, @database, @username, @tls_mode, @secret_enc, @tags, @created_at, @updated_at)`,
  );
    this.del = db.prepare<[string]>('DELETE FROM connections WHERE id = ?');
  }

  list(): ConnectionRecord[] {
    return this.all.all().map(fromRow);
  }

  getByName(name: string): ConnectionRecord | undefined {
    const r = this.byName.get(name);
    return r && fromRow(r);
  }

  getById(id: string): ConnectionRecord | undefined {
    const r = this.byId.get(id);
    return r && fromRow(r);
  }

  insert(c: ConnectionRecord): void {
    withNameConflict('connection', c.name, () =>
      this.ins.run({
        id: c.id,
        name: c.name,
        kind: c.kind,
        host: c.host,
        port: c.port,
        database: c.database,
        username: c.username,
        tls_mode: c.tlsMode,
        secret_enc: c.secretEnc,
        tags: JSON.stringify(c.tags),
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      }),
    );
  }

  update(id: string, patch: Partial<Omit<ConnectionRecord, 'id' | 'createdAt'>>): ConnectionRecord {
    const set = updateSet({
      name: patch.name,
      kind: patch.kind,
      host: patch.host,
      port: patch.port,
      database: patch.database,
      username: patch.username,
      tls_mode: patch.tlsMode,
      secret_enc: patch.secretEnc,
      tags: patch.tags && JSON.stringify(patch.tags),
      updated_at: patch.updatedAt ?? Date.now(),
    });
    withNameConflict('connection', patch.name ?? '', () => this.shapes.get(`UPDATE connections SET ${set.sql} WHERE id = @id`).run({ ...set.params, id }));
    const after = this.getById(id);
    if (!after) throw notFound('connection', id);
    return after;
  }

  remove(id: string): boolean {
    return this.del.run(id).changes > 0;
  }
}
