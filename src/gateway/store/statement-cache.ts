import type { Statement } from 'better-sqlite3';
import type { Db } from './sql-helpers';

/**
 * Prepared statements for SQL assembled at run time from a few fixed shapes (optional filters, the
 * columns of a patch). Each distinct text is prepared once and reused; the number of shapes is bounded
 * by the code that builds them, never by user input (values always go in as parameters).
 */
export class StatementCache {
  private readonly cache = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  /** The prepared statement for `sql`, preparing it on first use. */
  get<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Statement<P, R> {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt as unknown as Statement<P, R>;
  }
}
