import Database from 'better-sqlite3';
import { SqliteAgentsRepo } from './agents-repo';
import { SqliteAuditRepo } from './audit-repo';
import { SqliteConnectionsRepo } from './connections-repo';
import { SqliteGrantsRepo } from './grants-repo';
import { migrate } from './migrations';
import { SqliteSessionsRepo } from './sessions-repo';
import { SqliteStatementsRepo } from './statements-repo';
import { SqliteReviewsRepo } from './reviews-repo';
import type { MetaRepo, StoreApi } from './store-api';

/**
 * The Gatehouse store: one SQLite file in WAL mode.
 *
 * synchronous=NORMAL with WAL: a committed transaction is in the WAL file before commit returns, so it
 * survives a kill of the process (only a power loss can drop the last transactions). That is what the
 * recorder's group commit relies on.
 */
export class Store implements StoreApi {
  readonly connections: SqliteConnectionsRepo;
  readonly agents: SqliteAgentsRepo;
  readonly grants: SqliteGrantsRepo;
  readonly sessions: SqliteSessionsRepo;
  readonly statements: SqliteStatementsRepo;
  readonly audit: SqliteAuditRepo;
  readonly reviews: SqliteReviewsRepo;
  readonly meta: MetaRepo;

  private constructor(readonly db: Database.Database) {
    this.connections = new SqliteConnectionsRepo(db);
    this.agents = new SqliteAgentsRepo(db);
    this.grants = new SqliteGrantsRepo(db);
    this.sessions = new SqliteSessionsRepo(db);
    this.statements = new SqliteStatementsRepo(db);
    this.audit = new SqliteAuditRepo(db);
    this.reviews = new SqliteReviewsRepo(db);
    const get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.meta = { get: (k) => get.get(k)?.value, set: (k, v) => void set.run(k, v) };
  }

  /**
   * Open (creating if needed) and migrate the store at `file` (':memory:' for tests). `nativeBinding`
   * points better-sqlite3 at a build for another ABI (the desktop app's Electron build).
   */
  static open(file: string, opts: { nativeBinding?: string } = {}): Store {
    const db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    try {
      migrate(db);
      return new Store(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
