import type {
  AgentRecord,
  AuditRecord,
  ConnectionRecord,
  GrantRecord,
  GrantView,
  SessionEnd,
  SessionListQuery,
  SessionRecord,
  StatementRecord,
} from './records';
import type { ChainedEvent } from './audit-chain';
import type { SqliteApprovalsRepo } from './approvals-repo';
import type { SqlitePoliciesRepo } from './policies-repo';
import type { SqliteRetentionRepo } from './retention-repo';
import type { SqliteEvidenceRepo } from './evidence-repo';
import type { SqliteReviewsRepo } from './reviews-repo';
import type { SqliteSshRepo } from './ssh-repo';

/**
 * What the rest of the gateway may ask of the store. Implemented by `Store` (store.ts) over
 * better-sqlite3 in WAL mode. All methods are synchronous (better-sqlite3 is), and cheap enough to call
 * on the data path only where noted.
 */
export interface ConnectionsRepo {
  list(): ConnectionRecord[];
  getByName(name: string): ConnectionRecord | undefined;
  getById(id: string): ConnectionRecord | undefined;
  /** Throws GatehouseError('conflict') when the name is taken. */
  insert(rec: ConnectionRecord): void;
  update(id: string, patch: Partial<Omit<ConnectionRecord, 'id' | 'createdAt'>>): ConnectionRecord;
  /** Removes the connection and its grants. Returns false when it did not exist. */
  remove(id: string): boolean;
}

export interface AgentsRepo {
  list(): AgentRecord[];
  getByName(name: string): AgentRecord | undefined;
  getById(id: string): AgentRecord | undefined;
  /** Throws GatehouseError('conflict') when the name is taken. */
  insert(rec: AgentRecord): void;
  update(id: string, patch: Partial<Omit<AgentRecord, 'id' | 'createdAt'>>): AgentRecord;
  /** Removes the agent and its grants. Returns false when it did not exist. */
  remove(id: string): boolean;
}

export interface GrantsRepo {
  list(filter: { agentId?: string; connectionId?: string; includeInactive: boolean; now: number }): GrantView[];
  get(id: string): GrantView | undefined;
  /** The grant that currently lets this agent use this connection (unrevoked, unexpired), if any. Data path. */
  findActive(agentId: string, connectionId: string, now: number): GrantRecord | undefined;
  insert(rec: GrantRecord): void;
  /** Revoke one grant; returns true if it was active. */
  revoke(id: string, at: number): boolean;
  /** Set (or clear) a grant's expiry. */
  setExpiry(id: string, expiresAt: number | null): void;
  /** Revoke every active grant of agent on connection; returns how many. */
  revokeFor(agentId: string, connectionId: string, at: number): number;
}

export interface SessionsRepo {
  insert(rec: SessionRecord): void;
  finish(id: string, end: SessionEnd): void;
  get(id: string): SessionRecord | undefined;
  list(q: SessionListQuery): { items: SessionRecord[]; total: number };
  /** At start-up: sessions left open by a crash get endedAt = at and endReason 'gateway_crashed'. */
  closeOrphans(at: number): number;
}

export interface StatementsRepo {
  /**
   * Inserts in the caller's transaction (see Store.transaction); assigns ids. Batched by the recorder.
   * With ignoreExisting, rows whose (session, seq) is already stored are skipped (journal replay).
   */
  insertMany(recs: StatementRecord[], opts?: { ignoreExisting?: boolean }): void;
  listBySession(sessionId: string, opts?: { limit?: number; afterSeq?: number }): StatementRecord[];
  countBySession(sessionId: string): number;
}

/** A signed statement that the audit chain reached `eventHash` at event `eventId`. */
export interface AuditCheckpoint {
  id: number;
  eventId: number;
  eventHash: string;
  at: number;
  /** Ed25519 public key, base64 SPKI DER. */
  publicKey: string;
  /** Ed25519 signature (base64) over `checkpointMessage(...)`. */
  signature: string;
}

export interface AuditRepo {
  /** Appends one event to the hash chain and returns its id. */
  append(rec: AuditRecord): number;
  list(q: { limit: number; kind?: string; agentName?: string; afterId?: number; since?: number; order?: 'asc' | 'desc' }): AuditRecord[];
  /** Every event in id order, with its chain fields (for verification and export). */
  chain(): IterableIterator<ChainedEvent>;
  /** The newest event's id and hash. */
  head(): { id: number; hash: string } | undefined;
  addCheckpoint(c: Omit<AuditCheckpoint, 'id'>): void;
  checkpoints(): AuditCheckpoint[];
}

export interface MetaRepo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export interface StoreApi {
  readonly connections: ConnectionsRepo;
  readonly agents: AgentsRepo;
  readonly grants: GrantsRepo;
  readonly sessions: SessionsRepo;
  readonly statements: StatementsRepo;
  readonly audit: AuditRepo;
  readonly meta: MetaRepo;
  readonly reviews: SqliteReviewsRepo;
  /** SSH agent keys, upstream host key pins, channel recordings, file operations (schema 7). */
  readonly ssh: SqliteSshRepo;
  readonly approvals: SqliteApprovalsRepo;
  /** Applied policy files, every version kept (schema 5). */
  readonly policies: SqlitePoliciesRepo;
  /** Read-only, paged queries behind evidence packs. */
  readonly evidence: SqliteEvidenceRepo;
  /** Run-time settings and recording retention (schema 11). */
  readonly retention: SqliteRetentionRepo;
  /** Run fn in one SQLite transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  close(): void;
}
