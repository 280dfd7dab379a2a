import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteAgentsRepo } from './agents-repo';
import { SqliteApprovalsRepo } from './approvals-repo';
import { SqlitePoliciesRepo } from './policies-repo';
import { SqliteAuditRepo } from './audit-repo';
import { SqliteConnectionsRepo } from './connections-repo';
import { SqliteEvidenceRepo } from './evidence-repo';
import { SqliteGrantsRepo } from './grants-repo';
import { assertCurrentSchema, migrate } from './migrations';
import { SqliteSessionsRepo } from './sessions-repo';
import { SqliteStatementsRepo } from './statements-repo';
import { SqliteRetentionRepo } from './retention-repo';
import { SqliteReviewsRepo } from './reviews-repo';
import { SqliteSshRepo } from './ssh-repo';
import type { MetaRepo, StoreApi } from './store-api';

/**
 * The Gatehouse store: one SQLite file in WAL mode.
 *
 * Durability: with journal_mode=WAL and synchronous=NORMAL, commit appends the transaction to the WAL
 * file with write(2) before it returns (fsync happens only at checkpoints). The OS keeps written data
 * when the process dies, so every committed transaction survives a kill, SIGKILL included
 * (test/integration/store-durability.test.ts); only a power loss or kernel crash can drop the last
 * transactions. The recorder's group commit relies on exactly that.
 */
export class Store implements StoreApi {
  readonly connections: SqliteConnectionsRepo;
  readonly agents: SqliteAgentsRepo;
  readonly grants: SqliteGrantsRepo;
  readonly sessions: SqliteSessionsRepo;
  readonly statements: SqliteStatementsRepo;
  readonly audit: SqliteAuditRepo;
  readonly reviews: SqliteReviewsRepo;
  readonly ssh: SqliteSshRepo;
  readonly approvals: SqliteApprovalsRepo;
  readonly policies: SqlitePoliciesRepo;
  readonly evidence: SqliteEvidenceRepo;
  readonly retention: SqliteRetentionRepo;
  readonly meta: MetaRepo;

  private constructor(readonly db: Database.Database) {
    this.connections = new SqliteConnectionsRepo(db);
    this.agents = new SqliteAgentsRepo(db);
    this.grants = new SqliteGrantsRepo(db);
    this.sessions = new SqliteSessionsRepo(db);
    this.statements = new SqliteStatementsRepo(db);
    this.audit = new SqliteAuditRepo(db);
    this.reviews = new SqliteReviewsRepo(db);
    this.ssh = new SqliteSshRepo(db);
    this.approvals = new SqliteApprovalsRepo(db);
    this.policies = new SqlitePoliciesRepo(db);
    this.evidence = new SqliteEvidenceRepo(db);
    this.retention = new SqliteRetentionRepo(db);
    const get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.meta = { get: (k) => get.get(k)?.value, set: (k, v) => void set.run(k, v) };
  }

  /**
   * Open (creating if needed) and migrate the store at `file` (':memory:' for tests). `nativeBinding`
   * points better-sqlite3 at a build for another ABI (the desktop app's Electron build). `readonly` opens
   * an existing store for reading only (no migration: it must already be at this build's schema); its
   * write methods throw.
   */
  static open(file: string, opts: { nativeBinding?: string; readonly?: boolean } = {}): Store {
    // The store holds recorded SQL and credential verifiers. SQLite would create the file 0644 (minus
    // umask) and gives -wal and -shm the main file's mode, so create it 0600 first.
    if (!opts.readonly && file !== ':memory:' && file !== '' && !file.startsWith('file:')) closeSync(openSync(file, 'a', 0o600));
    const db = new Database(file, {
      ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
      ...(opts.readonly ? { readonly: true, fileMustExist: true } : {}),
    });
    try {
      // First, so that the pragmas and migrations below wait for another process's lock instead of failing.
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      if (opts.readonly) {
        assertCurrentSchema(db);
      } else {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrate(db);
      }
      return new Store(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Run fn in one transaction and return its result; a throw rolls it back and propagates. Called
   * inside another transaction it joins it as a savepoint: a throw rolls back only the inner part (if
   * the outer fn catches it), and nothing is durable until the outermost one commits.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Close the database (idempotent). Keeps the query planner's statistics fresh on the way out. */
  close(): void {
    if (!this.db.open) return;
    if (!this.db.readonly) {
      try {
        this.db.pragma('optimize');
      } catch {
        // Statistics are an optimisation; a busy database must not make close fail.
      }
    }
    this.db.close();
  }
}
