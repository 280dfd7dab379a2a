import { canonicalJson } from '../store/audit-chain';
import { csvCell } from './csv';

/**
 * Where each value sits in a statement row read for an evidence pack (`SqliteEvidenceRepo.statementRows`):
 * one array per statement, every column present (NULL where this store's schema lacks it).
 */
export const STATEMENT_ROW = {
  seq: 0,
  protocol: 1,
  sql: 2,
  paramCount: 3,
  startedAt: 4,
  durationMs: 5,
  commandTag: 6,
  rows: 7,
  errorCode: 8,
  policyAction: 9,
  policyRule: 10,
  approvalId: 11,
  maskedValues: 12,
  resultPreview: 13,
  maskedBy: 14,
} as const;

/** The store columns of a statement row, in `STATEMENT_ROW` order. */
export const STATEMENT_ROW_COLUMNS = [
  'seq', 'protocol', 'sql', 'param_count', 'started_at', 'duration_ms', 'command_tag', 'rows', 'error_code',
  'policy_action', 'policy_rule', 'approval_id', 'masked_values', 'result_preview', 'masked_by',
] as const;

/** Policy and masking columns of statements that CSV and JSON Lines carry when this store has them (camelCase in JSON). */
export const OPTIONAL_STATEMENT_COLUMNS: readonly (readonly [column: string, json: string, index: number])[] = [
  ['policy_action', 'policyAction', STATEMENT_ROW.policyAction],
  ['policy_rule', 'policyRule', STATEMENT_ROW.policyRule],
  ['approval_id', 'approvalId', STATEMENT_ROW.approvalId],
  ['masked_values', 'maskedValues', STATEMENT_ROW.maskedValues],
];

/** A value as JSON.stringify writes it inside an object (primitives by hand: the common case, and the fast one). */
function jsonValue(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? '' + v : 'null';
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v) ?? 'null';
}

/** A value as the session digest's canonical JSON writes it. */
function canonicalValue(v: unknown): string {
  return typeof v === 'object' && v !== null ? canonicalJson(v) : jsonValue(v);
}

/** What a short, often repeated text (protocol, command tag, SQLSTATE) turns into, computed once. */
interface TextForms {
  csv: string;
  json: string;
  /** For command tags: the command counted in the report (SELECT, INSERT, ..., OTHER). */
  command: string;
}

/** Cached forms of repeated short texts; cleared when it grows (command tags carry row counts). */
class FormCache {
  private readonly map = new Map<unknown, TextForms>();
  get(v: unknown): TextForms {
    let f = this.map.get(v);
    if (f === undefined) {
      if (this.map.size >= 4096) this.map.clear();
      const json = jsonValue(v);
      const command = typeof v === 'string' && v ? v.split(' ')[0].toUpperCase() : 'OTHER';
      this.map.set(v, (f = { csv: csvCell(v as string | number | null), json, command }));
    }
    return f;
  }
}

/**
 * Builds, for each statement of a session, its line in statements.csv, in statements.jsonl and in the
 * session's recording (exactly the line `sessionDigestLine` hashes, so the recording's SHA-256 is the
 * digest sealed in the audit chain), without an intermediate object per statement: the session's own
 * fields are formatted once per session, repeated short texts once per value, the SQL's JSON form once
 * for both JSON files, and ISO times once per second. The output equals the straightforward formatting
 * (csvRow, JSON.stringify of the record, sessionDigestLine); a unit test holds it to that.
 */
export class StatementLines {
  /** The statement's statements.csv line (CRLF). */
  csv = '';
  /** The statement's statements.jsonl line. */
  json = '';
  /** The statement's recording line (canonical JSON). */
  digest = '';
  /** Its command for the report (ERROR for failed statements). */
  command = '';
  /** Its day (YYYY-MM-DD, UTC) for the report. */
  day = '';
  /** Its masked-value counts by `<rule>:<detector>`, or null when nothing was masked. */
  maskedBy: Record<string, number> | null = null;

  private readonly optional: readonly (readonly [column: string, json: string, index: number])[];
  private readonly hasPreview: boolean;
  private readonly hasMaskedBy: boolean;
  private readonly forms = new FormCache();
  private csvHead = '';
  private csvMid = '';
  private jsonHead = '';
  private jsonMid = '';
  private second = NaN;
  private isoPrefix = '';
  private isoCsvSafe = true;

  /**
   * @param columns the columns of this store's statements table (optional ones are written only when present)
   */
  constructor(columns: ReadonlySet<string>) {
    this.optional = OPTIONAL_STATEMENT_COLUMNS.filter(([c]) => columns.has(c));
    this.hasPreview = columns.has('result_preview');
    this.hasMaskedBy = columns.has('masked_by');
  }

  /** statements.csv's header line. */
  csvHeader(): string {
    const cols = [
      'session_id', 'seq', 'agent_name', 'connection_name', 'protocol', 'started_at', 'duration_ms', 'command_tag', 'rows', 'error_code', 'param_count',
      ...this.optional.map(([c]) => c), ...(this.hasMaskedBy ? ['masked_by'] : []), 'sql',
    ];
    return cols.map((c) => csvCell(c)).join(',') + '\r\n';
  }

  /** Set the session whose statements follow. */
  session(id: string, agentName: string, connectionName: string): void {
    this.csvHead = csvCell(id) + ',';
    this.csvMid = ',' + csvCell(agentName) + ',' + csvCell(connectionName) + ',';
    this.jsonHead = '{"sessionId":' + jsonValue(id) + ',"seq":';
    this.jsonMid = ',"agentName":' + jsonValue(agentName) + ',"connectionName":' + jsonValue(connectionName) + ',"protocol":';
  }

  /** ISO 8601 time of epoch ms, as Date.toISOString (the part up to the second computed once per second). */
  private iso(ms: unknown): string | null {
    if (typeof ms !== 'number') return null;
    if (!Number.isSafeInteger(ms)) {
      const s = new Date(ms).toISOString();
      this.day = s.slice(0, 10);
      this.isoCsvSafe = false;
      this.second = NaN;
      return s;
    }
    const millis = ((ms % 1000) + 1000) % 1000;
    const second = ms - millis;
    if (second !== this.second) {
      const s = new Date(second).toISOString();
      this.isoPrefix = s.slice(0, s.length - 4);
      this.day = s.slice(0, 10);
      const c = s.charCodeAt(0);
      this.isoCsvSafe = c >= 48 && c <= 57;
      this.second = second;
    }
    return this.isoPrefix + (millis < 10 ? '00' : millis < 100 ? '0' : '') + millis + 'Z';
  }

  /** Format one statement row (`STATEMENT_ROW` layout) of the current session into `csv`, `json`, `digest`, `command` and `day`. */
  format(r: readonly unknown[]): void {
    const seq = r[STATEMENT_ROW.seq];
    const startedAt = r[STATEMENT_ROW.startedAt];
    const durationMs = r[STATEMENT_ROW.durationMs];
    const rows = r[STATEMENT_ROW.rows];
    const paramCount = r[STATEMENT_ROW.paramCount];
    const sql = r[STATEMENT_ROW.sql];
    const errorCode = r[STATEMENT_ROW.errorCode];
    const protocol = this.forms.get(r[STATEMENT_ROW.protocol]);
    const tag = this.forms.get(r[STATEMENT_ROW.commandTag]);
    const error = this.forms.get(errorCode);
    const iso = this.iso(startedAt);
    const seqJ = jsonValue(seq);
    const durationJ = jsonValue(durationMs);
    const rowsJ = jsonValue(rows);
    const paramJ = jsonValue(paramCount);
    const sqlJ = jsonValue(sql);

    let csvOptional = '';
    let jsonOptional = '';
    for (const [, json, i] of this.optional) {
      csvOptional += csvCell(r[i] as string | number | null) + ',';
      jsonOptional += ',"' + json + '":' + jsonValue(r[i]);
    }
    // masked_by is stored as a JSON object's text: a CSV cell as it is, an object in JSON Lines.
    const maskedBy = r[STATEMENT_ROW.maskedBy];
    const maskedByObject = typeof maskedBy === 'string' ? (JSON.parse(maskedBy) as Record<string, number>) : null;
    this.maskedBy = maskedByObject;
    if (this.hasMaskedBy) {
      csvOptional += csvCell(typeof maskedBy === 'string' ? maskedBy : null) + ',';
      jsonOptional += ',"maskedBy":' + (maskedByObject ? JSON.stringify(maskedByObject) : 'null');
    }
    if (this.hasPreview) jsonOptional += ',"resultPreview":' + jsonValue(r[STATEMENT_ROW.resultPreview]);

    const num = (v: unknown, j: string) => (typeof v === 'number' || v === null || v === undefined ? (j === 'null' ? '' : j) : csvCell(v as string));
    this.csv =
      this.csvHead + num(seq, seqJ) + this.csvMid + protocol.csv + ',' + (iso === null ? '' : this.isoCsvSafe ? iso : csvCell(iso)) + ',' + num(durationMs, durationJ) + ',' + tag.csv + ',' +
      num(rows, rowsJ) + ',' + error.csv + ',' + num(paramCount, paramJ) + ',' + csvOptional + csvCell(sql as string) + '\r\n';

    this.json =
      this.jsonHead + seqJ + this.jsonMid + protocol.json + ',"startedAt":' + (iso === null ? 'null' : '"' + iso + '"') + ',"durationMs":' + durationJ + ',"commandTag":' + tag.json +
      ',"rows":' + rowsJ + ',"errorCode":' + error.json + ',"paramCount":' + paramJ + ',"sql":' + sqlJ + jsonOptional + '}\n';

    // Canonical JSON: keys sorted; the policy and masking keys only when set (as sessionDigestLine).
    const policyAction = r[STATEMENT_ROW.policyAction];
    const maskedValues = r[STATEMENT_ROW.maskedValues];
    const preview = r[STATEMENT_ROW.resultPreview];
    const plain = (v: unknown, j: string) => (typeof v === 'object' && v !== null ? canonicalJson(v) : j);
    this.digest =
      '{' + (policyAction ? '"approvalId":' + canonicalValue(r[STATEMENT_ROW.approvalId]) + ',' : '') + '"commandTag":' + plain(r[STATEMENT_ROW.commandTag], tag.json) +
      ',"durationMs":' + plain(durationMs, durationJ) + ',"errorCode":' + plain(errorCode, error.json) + ',' + (maskedByObject ? '"maskedBy":' + canonicalJson(maskedByObject) + ',' : '') + (maskedValues ? '"maskedValues":' + canonicalValue(maskedValues) + ',' : '') +
      '"paramCount":' + plain(paramCount, paramJ) + ',' + (policyAction ? '"policyAction":' + canonicalValue(policyAction) + ',"policyRule":' + canonicalValue(r[STATEMENT_ROW.policyRule]) + ',' : '') +
      '"protocol":' + plain(r[STATEMENT_ROW.protocol], protocol.json) + ',' + (preview != null ? '"resultPreview":' + canonicalValue(preview) + ',' : '') + '"rows":' + plain(rows, rowsJ) +
      ',"seq":' + plain(seq, seqJ) + ',"sql":' + plain(sql, sqlJ) + ',"startedAt":' + canonicalValue(startedAt) + '}\n';

    this.command = errorCode !== null ? 'ERROR' : tag.command;
  }
}
