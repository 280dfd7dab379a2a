import type { Statement } from 'better-sqlite3';
import type { Db } from './sql-helpers';

/** A setting as stored: JSON value, who changed it last and when. */
export interface SettingRecord<T = unknown> {
  key: string;
  value: T;
  updatedAt: number;
  updatedBy: string;
}

/** A finished session whose recording is old enough to be removed. */
export interface PurgeCandidate {
  id: string;
  protocol: string;
  agentName: string;
  connectionName: string;
  endedAt: number;
}

/** What removing one session's recording took away (files are deleted by the caller after commit). */
export interface PurgedRecording {
  statements: number;
  /** .cast files of the session's SSH channels, relative to the data dir. */
  files: string[];
}

/**
 * Run-time settings (schema 11) and the store side of recording retention: which finished sessions are
 * past the cutoff, and removing one session's recorded statements while the session row, its counts,
 * its SSH channel index and the audit trail stay.
 */
export class SqliteRetentionRepo {
  private readonly getSetting: Statement<[string], { key: string; value: string; updated_at: number; updated_by: string }>;
  private readonly putSetting: Statement<[string, string, number, string]>;
  private readonly due: Statement<[number, number], { id: string; protocol: string; agent_name: string; connection_name: string; ended_at: number }>;
  private readonly dueCount: Statement<[number], { sessions: number; statements: number }>;
  private readonly casts: Statement<[string], { file: string }>;
  private readonly delStatements: Statement<[string]>;
  private readonly mark: Statement<[number, string]>;

  constructor(private readonly db: Db) {
    this.getSetting = db.prepare('SELECT * FROM settings WHERE key = ?');
    this.putSetting = db.prepare(
      'INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
    );
    this.due = db.prepare(
      `SELECT id, protocol, agent_name, connection_name, ended_at FROM sessions
       WHERE ended_at IS NOT NULL AND recording_purged_at IS NULL AND ended_at < ? ORDER BY ended_at LIMIT ?`,
    );
    this.dueCount = db.prepare(
      `SELECT count(*) AS sessions, coalesce(sum(statement_count), 0) AS statements FROM sessions
       WHERE ended_at IS NOT NULL AND recording_purged_at IS NULL AND ended_at < ?`,
    );
    this.casts = db.prepare('SELECT file FROM ssh_recordings WHERE session_id = ? AND file IS NOT NULL ORDER BY channel_id');
    this.delStatements = db.prepare('DELETE FROM statements WHERE session_id = ?');
    this.mark = db.prepare('UPDATE sessions SET recording_purged_at = ? WHERE id = ?');
  }

  /** A setting, or undefined when it was never set (the caller's default applies). */
  setting<T>(key: string): SettingRecord<T> | undefined {
    const r = this.getSetting.get(key);
    return r && { key: r.key, value: JSON.parse(r.value) as T, updatedAt: r.updated_at, updatedBy: r.updated_by };
  }

  /** Store a setting; returns the previous one. Read and write are one transaction. */
  setSetting<T>(key: string, value: T, at: number, by: string): SettingRecord<T> | undefined {
    return this.db.transaction(() => {
      const before = this.setting<T>(key);
      this.putSetting.run(key, JSON.stringify(value), at, by);
      return before;
    })();
  }

  /** Finished sessions that ended before `cutoff` and still have their recording, oldest first. */
  dueBefore(cutoff: number, limit: number): PurgeCandidate[] {
    return this.due.all(cutoff, limit).map((r) => ({ id: r.id, protocol: r.protocol, agentName: r.agent_name, connectionName: r.connection_name, endedAt: r.ended_at }));
  }

  /** How many sessions (and recorded statements) ended before `cutoff` and still have their recording. */
  countDueBefore(cutoff: number): { sessions: number; statements: number } {
    return this.dueCount.get(cutoff)!;
  }

  /**
   * Remove one session's recorded statements and mark it purged at `at`; returns what was removed and
   * the .cast files to delete. Call inside a transaction together with the audit event.
   */
  purge(sessionId: string, at: number): PurgedRecording {
    const files = this.casts.all(sessionId).map((r) => r.file);
    const statements = this.delStatements.run(sessionId).changes;
    this.mark.run(at, sessionId);
    return { statements, files };
  }
}
