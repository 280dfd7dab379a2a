import type { AgentRecord } from './records';
import type { AgentsRepo } from './store-api';
import { updateSet, withNameConflict, type Db } from './sql-helpers';
import { notFound } from '../core/errors';
import { StatementCache } from './statement-cache';

interface Row {
  id: string;
  name: string;
  secret_verifier: string;
  tags: string;
  disabled: number;
  created_at: number;
}

const fromRow = (r: Row): AgentRecord => ({
  id: r.id,
  name: r.name,
  secretVerifier: r.secret_verifier,
  tags: JSON.parse(r.tags),
  disabled: r.disabled !== 0,
  createdAt: r.created_at,
});

/** Agent identities; only SCRAM verifiers of their secrets are stored. */
export class SqliteAgentsRepo implements AgentsRepo {

  private readonly all;
  private readonly byName;
  private readonly byId;
  private readonly ins;
  private readonly del;
  private readonly shapes: StatementCache;

  constructor(db: Db) {
    this.shapes = new StatementCache(db);
    this.all = db.prepare<[], Row>('SELECT * FROM agents ORDER BY name');
    this.byName = db.prepare<[string], Row>('SELECT * FROM agents WHERE name = ?');
    this.byId = db.prepare<[string], Row>('SELECT * FROM agents WHERE id = ?');
    this.ins = db.prepare(
    'INSERT INTO agents (id, name, secret_verifier, tags, disabled, created_at) VALUES (@id, @name, @secret_verifier, @tags, @disabled, @created_at)',
  );
    this.del = db.prepare<[string]>('DELETE FROM agents WHERE id = ?');
  }

  list(): AgentRecord[] {
    return this.all.all().map(fromRow);
  }

  getByName(name: string): AgentRecord | undefined {
    const r = this.byName.get(name);
    return r && fromRow(r);
  }

  getById(id: string): AgentRecord | undefined {
    const r = this.byId.get(id);
    return r && fromRow(r);
  }

  insert(a: AgentRecord): void {
    withNameConflict('agent', a.name, () =>
      this.ins.run({ id: a.id, name: a.name, secret_verifier: a.secretVerifier, tags: JSON.stringify(a.tags), disabled: a.disabled ? 1 : 0, created_at: a.createdAt }),
    );
  }

  update(id: string, patch: Partial<Omit<AgentRecord, 'id' | 'createdAt'>>): AgentRecord {
    const set = updateSet({
      name: patch.name,
      secret_verifier: patch.secretVerifier,
      tags: patch.tags && JSON.stringify(patch.tags),
      disabled: patch.disabled === undefined ? undefined : patch.disabled ? 1 : 0,
    });
    if (set.sql) withNameConflict('agent', patch.name ?? '', () => this.shapes.get(`UPDATE agents SET ${set.sql} WHERE id = @id`).run({ ...set.params, id }));
    const after = this.getById(id);
    if (!after) throw notFound('agent', id);
    return after;
  }

  remove(id: string): boolean {
    return this.del.run(id).changes > 0;
  }
}
