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
 * path only grows (a SET may be rolled back; we never know it did not happen).
 */
import type { SqlAnalysis, StatementAnalysis } from './sql-parser';

/** The search path PostgreSQL starts with ("$user" aside): unqualified names resolve in public. */
export const DEFAULT_SEARCH_PATH: readonly string[] = ['public'];

export class SqlSessionState {
  private readonly prepared = new Map<string, StatementAnalysis[]>();
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

  /** Update from a request that was forwarded upstream (all its statements). */
  apply(analysis: SqlAnalysis): void {
    if (!analysis.ok) return;
    for (const s of analysis.statements) this.applyStatement(s);
  }

  /** A copy to try statements on (decisions follow a PREPARE earlier in the same request). */
  clone(): SqlSessionState {
    const c = new SqlSessionState();
    for (const [name, list] of this.prepared) c.prepared.set(name, [...list]);
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
    this.prepared.delete(name);
  }

  private add(name: string, s: StatementAnalysis): void {
    const list = this.prepared.get(name);
    if (list) list.push(s);
    else this.prepared.set(name, [s]);
  }

  /** Update from one statement that runs (used by decisions on the statements after it). */
  applyStatement(s: StatementAnalysis): void {
    if (s.prepare) this.add(s.prepare.name, s.prepare.inner);
    if (s.deallocate) {
      if (s.deallocate.name === null) this.prepared.clear();
      else this.prepared.delete(s.deallocate.name);
    }
    if (s.discard === 'DISCARD_ALL') this.prepared.clear();
    if (s.setting?.name === 'search_path' && s.setting.values && this.schemas) {
      for (const v of s.setting.values) for (const schema of v.split(',')) if (schema.trim()) this.schemas.add(schema.trim().replace(/^"|"$/g, ''));
    }
    if (s.functions.some((f) => /(^|\.)set_config$/i.test(f))) this.schemas = null;
  }
}
