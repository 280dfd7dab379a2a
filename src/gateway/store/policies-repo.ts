import type { Db } from './sql-helpers';

/** One applied policy file (schema 5). The highest version is the policy in force. */
export interface PolicyRecord {
  version: number;
  /** The YAML text exactly as applied. */
  yaml: string;
  /** Hex SHA-256 of the YAML text (UTF-8). */
  sha256: string;
  appliedAt: number;
  appliedBy: string;
}

interface Row {
  version: number;
  yaml: string;
  sha256: string;
  applied_at: number;
  applied_by: string;
}

const fromRow = (r: Row): PolicyRecord => ({ version: r.version, yaml: r.yaml, sha256: r.sha256, appliedAt: r.applied_at, appliedBy: r.applied_by });

/** Policy files: every `policy apply` adds a version; nothing is updated or deleted. */
export class SqlitePoliciesRepo {
  private readonly latest;
  private readonly ins;
  private readonly page;
  private readonly one;
  private readonly replace;

  constructor(db: Db) {
    this.latest = db.prepare<[], Row>('SELECT * FROM policies ORDER BY version DESC LIMIT 1');
    // The next version is computed inside the INSERT, so two writers can't pick the same one.
    this.ins = db.prepare<[string, string, number, string], Row>(
      'INSERT INTO policies (version, yaml, sha256, applied_at, applied_by) VALUES ((SELECT coalesce(max(version), 0) + 1 FROM policies), ?, ?, ?, ?) RETURNING *',
    );
    this.page = db.prepare<[number], Row>('SELECT * FROM policies ORDER BY version DESC LIMIT ?');
    this.one = db.prepare<[number], Row>('SELECT * FROM policies WHERE version = ?');
    // The version in force and its successor read and written in one write transaction: no other
    // writer can slip a version in between, so `previous` is exactly the one the new version replaced.
    this.replace = db.transaction((rec: Omit<PolicyRecord, 'version'>) => {
      const prev = this.latest.get();
      const next = fromRow(this.ins.get(rec.yaml, rec.sha256, rec.appliedAt, rec.appliedBy)!);
      return { previous: prev ? fromRow(prev) : undefined, record: next };
    });
  }

  /** The policy in force, or undefined when none was ever applied. */
  current(): PolicyRecord | undefined {
    const r = this.latest.get();
    return r && fromRow(r);
  }

  /** Store a new version and return it. */
  add(rec: Omit<PolicyRecord, 'version'>): PolicyRecord {
    return fromRow(this.ins.get(rec.yaml, rec.sha256, rec.appliedAt, rec.appliedBy)!);
  }

  /**
   * Store a new version and return it with the version it replaced (undefined for the first), both read
   * in one write transaction — what the audit event's before/after is made from.
   */
  addReplacing(rec: Omit<PolicyRecord, 'version'>): { previous: PolicyRecord | undefined; record: PolicyRecord } {
    return this.replace.immediate(rec);
  }

  /** One stored version, or undefined. */
  get(version: number): PolicyRecord | undefined {
    const r = this.one.get(version);
    return r && fromRow(r);
  }

  /** The newest `limit` versions, newest first. */
  history(limit: number): PolicyRecord[] {
    return this.page.all(limit).map(fromRow);
  }
}
