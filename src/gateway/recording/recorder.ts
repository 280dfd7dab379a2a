import { sessionToDto, statementToDto } from '../core/dto';
import type { EventBus } from '../core/event-bus';
import type { Logger } from '../core/logger';
import type { SessionEnd, SessionRecord, StatementRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';
import type { AuditLog } from './audit-log';
import { sessionDigest } from './session-digest';
import { StatementJournal } from './statement-journal';

/** Longest a finished statement waits in the journal before it is committed to the store. */
const FLUSH_INTERVAL_MS = 100;
/** Commit early when this many statements are waiting. */
const FLUSH_BATCH = 2000;

/**
 * Records sessions and statements without slowing the data path, and without losing anything a client
 * has seen acknowledged:
 *
 * 1. A session queues each finished statement (`statement`), and before it forwards the bytes that
 *    acknowledge it (ReadyForQuery) calls `persist()`: one write(2) to the journal for everything queued.
 * 2. Every FLUSH_INTERVAL_MS (or FLUSH_BATCH records) the queued records are inserted into the store in
 *    one transaction and the journal is emptied. Both steps are synchronous, so nothing can slip between.
 * 3. After a crash, the journal is replayed into the store at start-up (StatementJournal.replay).
 *
 * A failed journal write throws to the session, which then fails closed (ends the client's session).
 */
export class Recorder {
  private unjournaled: StatementRecord[] = [];
  private uncommitted: StatementRecord[] = [];
  private ends: { id: string; end: SessionEnd }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly journal: StatementJournal;
  /** Live sessions, so events can carry their current counters. */
  private readonly live = new Map<string, SessionRecord>();
  private readonly lastUpdate = new Map<string, number>();

  constructor(
    private readonly store: StoreApi,
    private readonly events: EventBus,
    private readonly log: Logger,
    journalFile: string,
    /** Where finished sessions' digests are chained (null: not sealed, e.g. in unit tests). */
    private readonly audit: AuditLog | null = null,
  ) {
    this.journal = new StatementJournal(journalFile);
  }

  /** Insert the session row now (once per connection) and announce it. */
  startSession(rec: SessionRecord): void {
    this.store.sessions.insert(rec);
    this.live.set(rec.id, rec);
    this.events.emit('session.started', sessionToDto(rec));
  }

  /** Queue one finished statement of a live session; numbering and counters are kept here. */
  statement(session: SessionRecord, rec: Omit<StatementRecord, 'sessionId' | 'seq'>): void {
    session.statementCount++;
    const full = rec as StatementRecord;
    full.sessionId = session.id;
    full.seq = session.statementCount;
    this.unjournaled.push(full);
  }

  /** Make every queued statement durable (one journal write). Throws if it cannot. Data path. */
  persist(): void {
    if (this.unjournaled.length === 0) return;
    const batch = this.unjournaled;
    this.unjournaled = [];
    this.journal.append(batch);
    for (const r of batch) this.uncommitted.push(r);
    this.schedule();
  }

  /** Queue the end of a session; it is committed with the next batch. */
  endSession(session: SessionRecord, end: Omit<SessionEnd, 'statementCount'>): void {
    this.persist();
    session.endedAt = end.endedAt;
    session.bytesIn = end.bytesIn;
    session.bytesOut = end.bytesOut;
    session.endReason = end.endReason;
    this.ends.push({ id: session.id, end: { ...end, statementCount: session.statementCount } });
    this.schedule();
  }

  /** Commit everything journaled to the store now (timer, shutdown, tests). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.persist();
    } catch (err) {
      this.log.error('journal write failed during flush', { err });
    }
    const statements = this.uncommitted;
    const ends = this.ends;
    if (statements.length === 0 && ends.length === 0) return;
    this.uncommitted = [];
    this.ends = [];
    try {
      this.store.transaction(() => {
        if (statements.length) this.store.statements.insertMany(statements);
        for (const e of ends) this.store.sessions.finish(e.id, e.end);
      });
      this.journal.clear();
      for (const e of ends) this.sealSession(e.id);
    } catch (err) {
      // The journal still holds the statements; they are replayed at the next start.
      this.log.error('committing recordings to the store failed; they stay in the journal', { err, statements: statements.length });
      return;
    }
    this.publish(statements, ends);
  }

  /** Chain the digest of a finished session's recording into the audit trail. */
  private sealSession(id: string): void {
    if (!this.audit) return;
    const rec = this.live.get(id) ?? this.store.sessions.get(id);
    const statements = this.store.statements.listBySession(id);
    this.audit.append({
      kind: 'session.recorded',
      actor: 'gatehouse',
      agentName: rec?.agentName ?? null,
      connectionName: rec?.connectionName ?? null,
      sessionId: id,
      clientAddress: rec?.clientAddress ?? null,
      detail: { statements: statements.length, digest: sessionDigest(statements), endReason: rec?.endReason ?? null },
    });
  }

  /** Flush and stop. */
  close(): void {
    this.flush();
    this.closed = true;
    this.journal.close();
  }

  private schedule(): void {
    if (this.closed) return this.flush();
    if (this.uncommitted.length >= FLUSH_BATCH) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref?.();
    }
  }

  private publish(statements: StatementRecord[], ends: { id: string; end: SessionEnd }[]): void {
    if (this.events.hasListeners('statement.recorded')) {
      for (const s of statements) this.events.emit('statement.recorded', statementToDto(s));
    }
    const now = Date.now();
    const touched = new Set<string>();
    for (const s of statements) touched.add(s.sessionId);
    for (const e of ends) {
      touched.delete(e.id);
      const rec = this.live.get(e.id);
      this.live.delete(e.id);
      this.lastUpdate.delete(e.id);
      if (rec) this.events.emit('session.ended', sessionToDto(rec));
    }
    // Live views get at most one update per session per second; the end event always goes out.
    for (const id of touched) {
      const rec = this.live.get(id);
      if (!rec || now - (this.lastUpdate.get(id) ?? 0) < 1000) continue;
      this.lastUpdate.set(id, now);
      this.events.emit('session.updated', sessionToDto(rec));
    }
  }
}
