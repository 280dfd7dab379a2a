import { analyzeSql } from '../policy/sql-parser';

/**
 * The tables a set of SQL texts read and wrote, as the policy's parser sees them (sorted, each once).
 * A table both read and written is listed in both. Texts that do not parse are skipped: this is evidence
 * for a reviewer, not a decision. Call after `loadSqlParser()` has resolved.
 */
export function tablesTouched(sqls: Iterable<string>): { tablesRead: string[]; tablesWritten: string[] } {
  const read = new Set<string>();
  const written = new Set<string>();
  for (const sql of sqls) {
    const a = analyzeSql(sql);
    if (!a.ok) continue;
    for (const s of a.statements) {
      for (const t of s.tablesRead) read.add(t);
      for (const t of s.tablesWritten) written.add(t);
    }
  }
  return { tablesRead: [...read].sort(), tablesWritten: [...written].sort() };
}
