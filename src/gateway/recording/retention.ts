import { rmdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logger';
import type { StoreApi } from '../store/store-api';
import type { AuditLog } from './audit-log';

/** The setting key of the recording retention (JSON: days, or null to keep recordings forever). */
export const RETENTION_SETTING = 'recording_retention_days';

const DAY_MS = 86_400_000;
/** Sessions purged per transaction: short write locks, so recording never waits long. */
const BATCH = 200;

export interface PurgeResult {
  /** Sessions ended before this time (ms) are due; null when retention is off. */
  cutoff: number | null;
  retentionDays: number | null;
  sessions: number;
  statements: number;
  files: number;
  dryRun: boolean;
}

/** The retention in force: whole days, or null (keep forever, the default). */
export function retentionDays(store: StoreApi): number | null {
  const v = store.retention.setting<number | null>(RETENTION_SETTING)?.value;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

/**
 * Recording retention: removes the recordings of sessions that ended more than the configured number of
 * days ago — their recorded statements and SSH .cast files — and keeps everything an access review or an
 * audit needs about them: the session row (who, where, when, bytes, statement count), the SSH channel
 * index and file operations, approvals, and the audit trail. Each purged session gets a chained
 * `recording.purged` audit event in the same transaction as the deletion, so `gatehouse audit verify`
 * tells a purge from tampering. Live sessions are never touched. Files are deleted after the commit; one
 * that cannot be deleted is logged and left (nothing in the store points at it any more).
 */
export class RecordingRetention {
  /** The run in progress: a second request while one runs waits for it instead of racing it. */
  private running: Promise<PurgeResult> | null = null;

  constructor(
    private readonly deps: { store: StoreApi; audit: AuditLog; dataDir: string; log: Logger; now?: () => number },
  ) {}

  /**
   * Purge what is due now (or, with dryRun, count it). Batches are separate transactions with a turn of
   * the event loop between them, so a big first purge never stalls the sessions this process relays.
   */
  async run(opts: { dryRun?: boolean } = {}): Promise<PurgeResult> {
    if (opts.dryRun) return this.plan(true).result;
    while (this.running) await this.running.catch(() => undefined);
    const p = this.purge().finally(() => (this.running = null));
    this.running = p;
    return p;
  }

  /** The cutoff in force now, and the result to fill in (counted already for a dry run). */
  private plan(dryRun: boolean): { result: PurgeResult; now: number } {
    const now = (this.deps.now ?? Date.now)();
    const days = retentionDays(this.deps.store);
    const result: PurgeResult = { cutoff: null, retentionDays: days, sessions: 0, statements: 0, files: 0, dryRun };
    if (days === null) return { result, now };
    result.cutoff = now - days * DAY_MS;
    if (dryRun) Object.assign(result, this.deps.store.retention.countDueBefore(result.cutoff));
    return { result, now };
  }

  private async purge(): Promise<PurgeResult> {
    const { result, now } = this.plan(false);
    const { cutoff, retentionDays: days } = result;
    if (cutoff === null) return result;
    const { store, audit, log } = this.deps;
    for (;;) {
      const due = store.retention.dueBefore(cutoff, BATCH);
      if (!due.length) break;
      const files: string[] = [];
      store.transaction(() => {
        for (const s of due) {
          const purged = store.retention.purge(s.id, now);
          audit.append({
            kind: 'recording.purged',
            actor: 'gatehouse',
            agentName: s.agentName,
            connectionName: s.connectionName,
            sessionId: s.id,
            detail: { protocol: s.protocol, endedAt: new Date(s.endedAt).toISOString(), retentionDays: days, statements: purged.statements, files: purged.files },
          });
          result.sessions++;
          result.statements += purged.statements;
          files.push(...purged.files);
        }
      });
      for (const f of files) if (this.unlink(f)) result.files++;
      if (due.length < BATCH) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (result.sessions) log.info('recording retention: purged old recordings', { ...result });
    return result;
  }

  private unlink(rel: string): boolean {
    const root = path.resolve(this.deps.dataDir);
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) return false;
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log.warn('recording retention: could not delete a recording file', { file: rel, err });
      return false;
    }
    try {
      // The session's folder (recordings/<session>/), once its last channel file is gone.
      rmdirSync(path.dirname(file));
    } catch {
      // Not empty, or already gone.
    }
    return true;
  }
}
