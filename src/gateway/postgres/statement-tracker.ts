import { performance } from 'node:perf_hooks';
import type { StatementRecord } from '../store/records';

/**
 * Pairs what a client asked (Query, or Parse/Bind/Describe/Execute/Close/Sync, pipelined) with what the
 * server answered, so each executed statement can be recorded with its duration, command tag, row count
 * and SQLSTATE. The server answers requests strictly in order, so a FIFO of outstanding requests is
 * enough; after an error in the extended protocol the server skips everything up to the next Sync,
 * and so does the tracker.
 */

/** A finished statement as the tracker sees it; the recorder adds the session and sequence number. */
export type TrackedStatement = Omit<StatementRecord, 'id' | 'sessionId' | 'seq'>;

/** What policy did to a statement, carried from the decision to its record. */
export interface PolicyMark {
  policyAction: 'block' | 'approve';
  policyRule: string;
  approvalId: string | null;
}

interface OpenStatement {
  protocol: 'simple' | 'extended';
  sql: string;
  paramCount: number;
  startedAt: number;
  t0: number;
  tags: string[] | null;
  rows: number | null;
  errorCode: string | null;
  mark: PolicyMark | null;
  /** Replaced by the gateway with a statement raising a policy refusal. */
  refused: boolean;
}

const enum Kind {
  Query,
  Parse,
  Bind,
  Describe,
  Close,
  Execute,
  Sync,
  FunctionCall,
  /** A Parse or Bind the gateway sent on its own (to raise a policy error in order): its reply is dropped. */
  Injected,
}

interface Pending {
  kind: Kind;
  stmt?: OpenStatement;
  /** Bind: the statement bound and the result format codes. Describe of a statement: its name. */
  statement?: string;
  formats?: number[];
  /** Bind (with formats), Describe of a portal, Execute: the portal (result masking keeps a shape per portal). */
  portal?: string;
}

/** What a ParseComplete/BindComplete/CloseComplete answered. */
export interface Acknowledgement {
  /** It answers a request the gateway injected: drop it. */
  injected: boolean;
  /** For a BindComplete: the statement bound, the portal it made and the Bind's result format codes. */
  bound?: { statement: string; portal: string; formats: number[] };
}

const NOT_INJECTED: Acknowledgement = { injected: false };
const INJECTED: Acknowledgement = { injected: true };

export class StatementTracker {
  private readonly queue: Pending[] = [];
  private head = 0;
  /** Prepared statements by name ('' = unnamed): SQL text and what policy did to it. */
  private readonly statements = new Map<string, { sql: string; mark: PolicyMark | null }>();
  /** Portals by name: SQL text, parameter count and policy mark. */
  private readonly portals = new Map<string, { sql: string; params: number; mark: PolicyMark | null }>();
  /** Injected requests whose replies are still to come. */
  private injectedPending = 0;
  /** Refused statements whose error is still to come. */
  private refusalsPending = 0;
  /** Statement names whose Parse was refused: their Bind/Execute are skipped by the server, not recorded. */
  private readonly refusedNames = new Set<string>();

  constructor(private readonly onStatement: (s: TrackedStatement) => void) {}

  // ---- frontend (client -> server), called as each message is forwarded ----

  /** A simple-protocol Query. */
  query(sql: string, mark: PolicyMark | null = null): void {
    this.push({ kind: Kind.Query, stmt: open('simple', sql, 0, mark) });
  }

  /** A simple Query the gateway replaced with a statement raising a policy refusal. */
  refusedQuery(sql: string, mark: PolicyMark): void {
    const stmt = open('simple', sql, 0, mark);
    stmt.refused = true;
    this.refusalsPending++;
    this.push({ kind: Kind.Query, stmt });
  }

  /** Parse: remembers the statement text under its name. */
  parse(name: string, sql: string, mark: PolicyMark | null = null): void {
    this.statements.set(name, { sql, mark });
    this.refusedNames.delete(name);
    this.push({ kind: Kind.Parse });
  }

  /**
   * A Parse that policy blocked: the gateway sent Parse + Bind + Execute of a statement that raises the
   * policy error instead. The Parse and Bind replies are dropped; the Execute carries the blocked SQL so
   * it is recorded with the error the client sees.
   */
  refusedParse(name: string, sql: string, mark: PolicyMark): void {
    this.pushRefused(sql, mark);
    this.statements.delete(name);
    this.refusedNames.add(name);
  }

  /**
   * A Bind that policy refused (a statement approved once, bound again): like refusedParse, the gateway
   * sent Parse + Bind + Execute of a raising statement in its place; the statement keeps its name.
   */
  refusedBind(sql: string, mark: PolicyMark): void {
    this.pushRefused(sql, mark);
  }

  /** The injected Parse and Bind (their replies dropped) and the Execute recording the refused SQL. */
  private pushRefused(sql: string, mark: PolicyMark): void {
    this.push({ kind: Kind.Injected });
    this.push({ kind: Kind.Injected });
    this.injectedPending += 2;
    const stmt = open('extended', sql, 0, mark);
    stmt.refused = true;
    this.refusalsPending++;
    this.push({ kind: Kind.Execute, stmt });
  }

  /** Whether server output must be rebuilt message by message (replies to drop or errors to tidy). */
  get rewritePending(): boolean {
    return this.injectedPending > 0 || this.refusalsPending > 0;
  }

  /** The SQL of the statement the server is answering now (null between statements). */
  get currentSql(): string | null {
    return this.peek()?.stmt?.sql ?? null;
  }

  /** Whether the next ErrorResponse answers a refused statement (the gateway's own error). */
  get errorIsRefusal(): boolean {
    return this.peek()?.stmt?.refused === true;
  }

  /** Bind: creates a portal from a prepared statement. */
  bind(portal: string, statement: string, params: number, formats?: number[]): void {
    const s = this.statements.get(statement);
    if (this.refusedNames.has(statement)) this.portals.delete(portal);
    else this.portals.set(portal, { sql: s?.sql ?? '', params, mark: s?.mark ?? null });
    this.push(formats ? { kind: Kind.Bind, statement, formats, portal } : { kind: Kind.Bind });
  }

  /** Describe of a statement ('S', with its name) or portal. */
  describe(kind?: 'S' | 'P', name?: string): void {
    this.push(kind === 'S' ? { kind: Kind.Describe, statement: name } : { kind: Kind.Describe, portal: name ?? '' });
  }

  /** Close of a statement or portal. */
  close(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') this.statements.delete(name);
    else this.portals.delete(name);
    this.push({ kind: Kind.Close });
  }

  /** Execute of a portal: this is where an extended-protocol statement starts. */
  execute(portal: string): void {
    const p = this.portals.get(portal);
    // A portal of a refused statement: the server skips it (or fails it); the refusal is already recorded.
    this.push({ kind: Kind.Execute, stmt: p ? open('extended', p.sql, p.params, p.mark) : undefined, portal });
  }

  /** Sync: ends a pipeline batch. */
  sync(): void {
    this.push({ kind: Kind.Sync });
  }

  /** FunctionCall (legacy fast-path), answered with ReadyForQuery; `sql` describes it when it was blocked. */
  functionCall(blocked: { sql: string; mark: PolicyMark } | null = null): void {
    this.push({ kind: Kind.FunctionCall, stmt: blocked ? open('simple', blocked.sql, 0, blocked.mark) : undefined });
  }

  // ---- backend (server -> client) ----

  /** ParseComplete, BindComplete, CloseComplete. Returns true when the reply answers an injected request (drop it). */
  acknowledged(): Acknowledgement {
    const p = this.shift();
    if (p?.kind === Kind.Injected) {
      this.injectedPending--;
      return INJECTED;
    }
    if (p?.kind === Kind.Bind && p.formats) return { injected: false, bound: { statement: p.statement!, portal: p.portal ?? '', formats: p.formats } };
    return NOT_INJECTED;
  }

  /**
   * RowDescription or NoData: ends a Describe (ignored inside a simple Query). Returns the statement name
   * when it answers a Describe of a prepared statement, else null.
   */
  described(): string | null {
    const p = this.peek();
    if (p && p.kind === Kind.Describe) {
      this.shift();
      return p.statement ?? null;
    }
    return null;
  }

  /** The portal whose Describe the next RowDescription/NoData answers (null: not a Describe of a portal). Call before `described()`. */
  describedPortal(): string | null {
    const p = this.peek();
    return p?.kind === Kind.Describe && p.portal !== undefined ? p.portal : null;
  }

  /** The portal whose Execute the server is answering now (null in a simple Query or between statements). */
  executingPortal(): string | null {
    const p = this.peek();
    return p?.kind === Kind.Execute ? (p.portal ?? null) : null;
  }

  /** CommandComplete. */
  commandComplete(tag: string, rows: number | null): void {
    const p = this.peek();
    if (!p?.stmt) return;
    const s = p.stmt;
    (s.tags ??= []).push(tag);
    if (rows !== null) s.rows = (s.rows ?? 0) + rows;
    if (p.kind === Kind.Execute) this.finish(this.shift()!);
  }

  /** EmptyQueryResponse or PortalSuspended. */
  executeEnded(): void {
    const p = this.peek();
    if (p?.kind === Kind.Execute) this.finish(this.shift()!);
  }

  /** ErrorResponse with its SQLSTATE. */
  error(code: string | null): void {
    const p = this.peek();
    if (!p) return;
    if (p.kind === Kind.Query || p.kind === Kind.FunctionCall) {
      if (p.stmt) p.stmt.errorCode = code;
      return;
    }
    // Extended protocol: the server discards messages up to the next Sync. The first statement in the
    // discarded run carries the error (it failed at its Parse, Bind or Execute); later ones were skipped.
    let assigned = false;
    for (let q = this.peek(); q && q.kind !== Kind.Sync && q.kind !== Kind.Query; q = this.peek()) {
      const item = this.shift()!;
      if (item.kind === Kind.Injected) this.injectedPending--;
      if (!item.stmt) continue;
      item.stmt.errorCode = assigned ? 'skipped' : code;
      assigned = true;
      this.finish(item);
    }
  }

  /** ReadyForQuery: ends a Query, a Sync batch or a FunctionCall. */
  readyForQuery(): void {
    while (this.peek()) {
      const item = this.shift()!;
      if (item.kind === Kind.Injected) this.injectedPending--;
      if (item.stmt) this.finish(item);
      if (item.kind === Kind.Query || item.kind === Kind.Sync || item.kind === Kind.FunctionCall) return;
    }
  }

  /** The session is ending: record whatever is still outstanding with the given SQLSTATE. */
  abort(code: string): void {
    while (this.peek()) {
      const item = this.shift()!;
      if (item.kind === Kind.Injected) this.injectedPending--;
      if (item.stmt) {
        item.stmt.errorCode ??= code;
        this.finish(item);
      }
    }
  }

  /** Outstanding requests (for tests and diagnostics). */
  get outstanding(): number {
    return this.queue.length - this.head;
  }

  private push(p: Pending): void {
    this.queue.push(p);
  }

  private peek(): Pending | undefined {
    return this.queue[this.head];
  }

  private shift(): Pending | undefined {
    const p = this.queue[this.head];
    if (p === undefined) return undefined;
    this.head++;
    // Compact now and then instead of Array.shift() on every response.
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return p;
  }

  private finish(item: Pending): void {
    const s = item.stmt!;
    item.stmt = undefined;
    if (s.refused) this.refusalsPending--;
    this.onStatement({
      protocol: s.protocol,
      sql: s.sql,
      paramCount: s.paramCount,
      startedAt: s.startedAt,
      durationMs: Math.round((performance.now() - s.t0) * 1000) / 1000,
      commandTag: s.tags ? s.tags.join('; ') : null,
      rows: s.rows,
      errorCode: s.errorCode,
      ...(s.mark ?? {}),
    });
  }
}

function open(protocol: 'simple' | 'extended', sql: string, paramCount: number, mark: PolicyMark | null = null): OpenStatement {
  return { protocol, sql, paramCount, startedAt: Date.now(), t0: performance.now(), tags: null, rows: null, errorCode: null, mark, refused: false };
}
