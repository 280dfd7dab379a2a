import type Database from 'better-sqlite3';
import { conflict } from '../core/errors';

/** Run an insert/update, turning a UNIQUE violation on `name` into a readable conflict error. */
export function withNameConflict<T>(what: string, name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict(`${what} "${name}" already exists`);
    throw err;
  }
}

/** Build `SET a = @a, b = @b` for the given column map, skipping undefined values. */
export function updateSet(columns: Record<string, unknown>): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [col, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    parts.push(`${col} = @${col}`);
    params[col] = value;
  }
  return { sql: parts.join(', '), params };
}

export type Db = Database.Database;
