/**
 * What policy must remember about one PostgreSQL session to decide its later statements: the statements
 * prepared under each name (so `EXECUTE name` is decided on what it runs) and the schemas unqualified
 * table names may resolve to (SET search_path).
 *
 * The relay keeps one per client session and calls, for every request:
 *   const d = decideSql(compiled, subject, sql, state);        // before forwarding
 *   if (d.action === 'allow' || approved) state.apply(analyzeSql(sql));   // only once it is sent upstream
 * and for the extended protocol: `state.recordPrepared(name, analysis)` after forwarding a named Parse,
 * `state.forget(name)` after a Close of a statement. A blocked or denied statement is never applied.
 *
 * Fail closed by construction: the state only over-approximates. A name prepared twice keeps both
 * statements (the second PREPARE may have failed upstream, leaving the first in force), and the search
 * path only grows (a SET may be rolled back; we never know it did not happen). A DEALLOCATE or Close may
 * fail upstream too (in an aborted transaction, or skipped after an error in a pipeline), leaving the
 * old statement in force while a re-PREPARE of the name fails: so what a name ran before it was
 * deallocated is kept aside and comes back if the name is prepared again. That memory is bounded
 * (MAX_RETIRED names); past it, a re-prepared name whose history was dropped is `uncertain`.
 */
import type { SqlAnalysis, StatementAnalysis } from './sql-parser';

/** The search path PostgreSQL starts with ("$user" aside): unqualified names resolve in public. */
export const DEFAULT_SEARCH_PATH: readonly string[] = ['public'];

/** Deallocated names whose statements are remembered (insertion order = oldest first). */
const MAX_RETIRED = 2000;

export class SqlSessionState {
  private readonly prepared = new Map<string, StatementAnalysis[]>();
  /** Statements of deallocated names: they may still be in force upstream (see above). */
  private readonly retired = new Map<string, StatementAnalysis[]>();
  /** Names whose retired statements had to be dropped (MAX_RETIRED): prepared again, they are uncertain. */
  private readonly droppedNames = new Set<string>();
  private readonly uncertainNames = new Set<string>();
  private schemas: Set<string> | null = new Set(DEFAULT_SEARCH_PATH);

  /**
   * Schemas an unqualified table name may be in, or null when that can't be known (set_config was
   * called): then an unqualified name matches a rule for any schema.
   */
  get searchPath(): readonly string[] | null {
    return this.schemas ? [...this.schemas] : null;
  }

  /** Every statement that may run under a prepared name (empty when the name was never prepared). */
  lookup(name: string): readonly StatementAnalysis[] {
    return this.prepared.get(name) ?? [];
  }

  /**
   * Every statement a name may hold upstream: what it holds now plus what it held before a DEALLOCATE
   * or Close that may have failed. A named Parse is decided on these too: if the Parse fails upstream
   * (the name is still taken), a later Bind runs the old statement.
   */
  history(name: string): readonly StatementAnalysis[] {
    return this.prepared.get(name) ?? this.retired.get(name) ?? [];
  }

  /**
   * Whether `name` may hold a statement the state no longer knows (its history was dropped to bound
   * memory): EXECUTE of it, or a new Parse under it, must be refused.
   */
  uncertain(name: string): boolean {
    return this.uncertainNames.has(name) || this.droppedNames.has(name);
  }

  /** Update from a request that was forwarded upstream (all its statements). */
  apply(analysis: SqlAnalysis): void {
    if (!analysis.ok) return;
    for (const s of analysis.statements) this.applyStatement(s);
  }

  /** A copy to try statements on (decisions follow a PREPARE earlier in the same request). */
  clone(): SqlSessionState {
    const c = new SqlSessionState();
    for (const [name, list] of this.prepared) c.prepared.set(name, [...list]);
    for (const [name, list] of this.retired) c.retired.set(name, [...list]);
    for (const name of this.uncertainNames) c.uncertainNames.add(name);
    for (const name of this.droppedNames) c.droppedNames.add(name);
    c.schemas = this.schemas ? new Set(this.schemas) : null;
    return c;
  }

  /** A named statement prepared through the extended protocol (Parse): same namespace as SQL PREPARE. */
  recordPrepared(name: string, analysis: SqlAnalysis): void {
    if (!name || !analysis.ok) return;
    // A Parse holds at most one statement; PostgreSQL rejects several.
    for (const s of analysis.statements) this.add(name, s);
  }

  /** A prepared statement closed (protocol Close) or deallocated. */
  forget(name: string): void {
    const list = this.prepared.get(name);
    if (!list) return;
    this.prepared.delete(name);
    // Kept aside: the Close may not have happened upstream (see the class comment).
    const old = this.retired.get(name);
    this.retired.delete(name);
    this.retired.set(name, old ? [...old, ...list] : list);
    if (this.retired.size > MAX_RETIRED) {
      // Only the name is kept (a few bytes): clients that reuse names are rare, and those names get refused.
      const oldest = this.retired.keys().next().value as string;
      this.retired.delete(oldest);
      this.droppedNames.add(oldest);
    }
  }

  private add(name: string, s: StatementAnalysis): void {
    let list = this.prepared.get(name);
    if (!list) {
      const old = this.retired.get(name);
      this.retired.delete(name);
      if (this.droppedNames.delete(name)) this.uncertainNames.add(name);
      list = old ? [...old] : [];
      this.prepared.set(name, list);
    }
    list.push(s);
  }

  private forgetAll(): void {
    for (const name of [...this.prepared.keys()]) this.forget(name);
  }

  /** Update from one statement that runs (used by decisions on the statements after it). */
  applyStatement(s: StatementAnalysis): void {
    if (s.prepare) this.add(s.prepare.name, s.prepare.inner);
    if (s.deallocate) {
      if (s.deallocate.name === null) this.forgetAll();
      else this.forget(s.deallocate.name);
    }
    if (s.discard === 'DISCARD_ALL') this.forgetAll();
    if (s.setting?.name === 'search_path' && s.setting.values && this.schemas) {
      for (const v of s.setting.values) for (const schema of v.split(',')) if (schema.trim()) this.schemas.add(schema.trim().replace(/^"|"$/g, ''));
    }
    if (s.functions.some((f) => /(^|\.)set_config$/i.test(f))) this.schemas = null;
  }
}
