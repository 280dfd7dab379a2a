import { sessionToDto, statementToDto } from '../core/dto';
import type { EventBus } from '../core/event-bus';
import type { Logger } from '../core/logger';
import type { SessionEnd, SessionRecord, StatementRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';

/**
 * Records sessions and statements with group commit.
 *
 * Statements are queued in memory and written in ONE transaction per event-loop turn (setImmediate runs
 * after all I/O callbacks of the turn, so every session that completed a statement in that turn shares
 * the commit). A session holds back the bytes that acknowledge a statement to its client (ReadyForQuery)
 * until `afterCommit` fires, so anything a client has seen acknowledged is in the WAL and survives a kill
 * of the process. If a commit fails, the waiting sessions are told so and must fail closed.
 */
export class Recorder {
  private statements: StatementRecord[] = [];
  private ends: { id: string; end: SessionEnd }[] = [];
  private waiters: ((err: Error | null) => void)[] = [];
  private scheduled = false;
  private closed = false;
  /** Live sessions, so events can carry their current counters. */
  private readonly live = new Map<string, SessionRecord>();
  private readonly lastUpdate = new Map<string, number>();

  constructor(
    private readonly store: StoreApi,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {}

  /** Insert the session row now (once per connection) and announce it. */
  startSession(rec: SessionRecord): void {
    this.store.sessions.insert(rec);
    this.live.set(rec.id, rec);
    this.events.emit('session.started', sessionToDto(rec));
  }

  /** Queue one finished statement of a live session; numbering and counters are kept here. */
  statement(session: SessionRecord, rec: Omit<StatementRecord, 'sessionId' | 'seq'>): void {
    session.statementCount++;
    const full: StatementRecord = { ...rec, sessionId: session.id, seq: session.statementCount };
    this.statements.push(full);
    this.schedule();
  }

  /** Queue the end of a session; it is committed with the next batch. */
  endSession(session: SessionRecord, end: Omit<SessionEnd, 'statementCount'>): void {
    session.endedAt = end.endedAt;
    session.bytesIn = end.bytesIn;
    session.bytesOut = end.bytesOut;
    session.endReason = end.endReason;
    this.ends.push({ id: session.id, end: { ...end, statementCount: session.statementCount } });
    this.schedule();
  }

  /** Whether anything is queued and not yet committed. */
  get dirty(): boolean {
    return this.statements.length > 0 || this.ends.length > 0;
  }

  /** Call fn once everything queued so far is committed (at once if nothing is queued). */
  afterCommit(fn: (err: Error | null) => void): void {
    if (!this.dirty) {
      fn(null);
      return;
    }
    this.waiters.push(fn);
  }

  /** Commit everything queued now (used at shutdown and by tests). */
  flush(): void {
    const statements = this.statements;
    const ends = this.ends;
    const waiters = this.waiters;
    this.statements = [];
    this.ends = [];
    this.waiters = [];
    this.scheduled = false;
    if (statements.length === 0 && ends.length === 0) {
      for (const w of waiters) w(null);
      return;
    }
    let failure: Error | null = null;
    try {
      this.store.transaction(() => {
        if (statements.length) this.store.statements.insertMany(statements);
        for (const e of ends) this.store.sessions.finish(e.id, e.end);
      });
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      this.log.error('recording failed; sessions waiting on it are ended', { err: failure, statements: statements.length });
    }
    for (const w of waiters) w(failure);
    if (failure) return;
    this.publish(statements, ends);
  }

  /** Flush and stop accepting work. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) {
      if (this.closed) this.flush();
      return;
    }
    this.scheduled = true;
    setImmediate(() => this.flush());
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
