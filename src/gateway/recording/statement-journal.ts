import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { StatementRecord } from '../store/records';
import type { StoreApi } from '../store/store-api';

/**
 * An append-only journal of finished statements, written with one write(2) before the client sees the
 * statement acknowledged. Once write() returns the bytes are in the kernel, so they survive a kill of
 * the process (like SQLite's WAL with synchronous=NORMAL), at a fraction of the cost of a SQLite commit
 * per statement. The recorder moves journaled records into the store in large batches and then empties
 * the journal; at start-up whatever is left is replayed.
 */
export class StatementJournal {
  private fd: number;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Append records as JSON lines in one write; throws if the write fails (the caller fails closed). */
  append(records: StatementRecord[]): void {
    let text = '';
    for (const r of records) text += JSON.stringify(r) + '\n';
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
  }

  /** Empty the journal (after its records were committed to the store). */
  clear(): void {
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Move records left in a journal (by a crash) into the store, then empty it. Records already in the store
   * are skipped. A torn last line (killed mid-write) is ignored: its statement was never acknowledged.
   */
  static replay(file: string, store: StoreApi): number {
    if (!existsSync(file)) return 0;
    const text = readFileSync(file, 'utf8');
    const records: StatementRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as StatementRecord);
      } catch {
        // torn final line
      }
    }
    if (records.length) store.transaction(() => store.statements.insertMany(records, { ignoreExisting: true }));
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, 0);
    } finally {
      closeSync(fd);
    }
    return records.length;
  }
}
