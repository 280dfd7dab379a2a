import type { ColumnMaskRule, MaskingPlan } from '../policy-types';
import { ColumnMatcher, type ColumnRef, type ColumnSource } from './column-matcher';
import { maskCopyRows, type CopyTextOptions } from './copy-format';
import { newProfile, profileBytes } from './detectors';
import { applyStrategy, redactMarker } from './strategies';
import { bump, ValueMasker, type MaskCounts } from './value-masker';
import { buildNotice, checkHeader, MalformedMessage, MaskedMessage, parseCopyOutResponse, parseNoticeFields, parseRowDescription, type ResultField } from './wire-format';

export type { ColumnRef } from './column-matcher';
export type { CopyTextOptions } from './copy-format';
export { MalformedMessage } from './wire-format';

/** Finds the source column of a result column; undefined when the catalog has no such column (yet). */
export type ResolveColumn = (tableOid: number, attnum: number) => ColumnRef | undefined;

/** The masker was used out of protocol order (a DataRow with no RowDescription while column rules apply). */
export class MaskingStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskingStateError';
  }
}

// Type OIDs (pg_type.dat).
const T = {
  name: 19,
  int8: 20,
  text: 25,
  json: 114,
  xml: 142,
  jsonArray: 199,
  nameArray: 1003,
  bpcharArray: 1014,
  textArray: 1009,
  varcharArray: 1015,
  bpchar: 1042,
  varchar: 1043,
  numeric: 1700,
  record: 2249,
  recordArray: 2287,
  unknown: 705,
  jsonb: 3802,
  jsonbArray: 3807,
} as const;
/**
 * Fixed-size binary formats that can't hold text (bool, int2, int4, oid, float4/8, money, date, time,
 * timestamp(tz), interval, timetz, uuid, pg_lsn): their binary values skip the detectors.
 */
const BINARY_NO_TEXT = new Set<number>([16, 21, 23, 26, 700, 701, 790, 1082, 1083, 1114, 1184, 1186, 1266, 2950, 3220]);
/** OIDs from here on are user-defined (enums, domains, citext...): clients read their text as strings. */
const FIRST_NORMAL_OID = 16384;

/** Types whose binary format is the UTF-8 text (jsonb: a version byte, then the text). */
const BINARY_TEXT = new Set<number>([T.text, T.varchar, T.bpchar, T.name, T.json, T.jsonb, T.unknown]);
/** Types whose text format clients read as a string, so masked text in them still parses. */
const TEXT_STRINGY = new Set<number>([
  ...BINARY_TEXT, T.xml, T.textArray, T.varcharArray, T.bpcharArray, T.nameArray, T.jsonArray, T.jsonbArray, T.record, T.recordArray, 0,
]);
const isJson = (oid: number) => oid === T.json || oid === T.jsonb;

/** What is done to the values of one result column, decided per RowDescription and result formats. */
const Mode = {
  /** Nothing to do (no column rule; no detector can read this format/type). */
  skip: 0,
  /** A column rule on a value that can carry text: the strategy's text (json types: as a JSON string). */
  columnText: 1,
  /** A column rule on a value that can't carry arbitrary text: NULL. */
  columnNull: 2,
  /** Detectors on a text-format value. */
  detectText: 3,
  /** Detectors on a binary value holding UTF-8 text (jsonb after its version byte). */
  detectBinaryText: 4,
  /** Detectors on a binary int8/numeric (card numbers stored as numbers): any hit gives NULL. */
  detectBinaryNumber: 5,
  /**
   * Detectors on the bytes of any other binary value (arrays and records of text, domains, citext, enums,
   * bytea ...): text inside them is stored as-is, so a hit gives NULL (the value can't be rewritten).
   */
  detectBinaryOpaque: 6,
} as const;
type Mode = (typeof Mode)[keyof typeof Mode];

/**
 * What the masker decided for one RowDescription. Keep it with the prepared statement it describes: when
 * that statement is bound again later without a new Describe, hand it back with `useShape`.
 */
export interface ResultShape {
  readonly fields: readonly ResultField[];
  /** The column rule per column (null: values go to the detectors). */
  readonly rules: readonly (ColumnMaskRule | null)[];
  /** Per column: whether masked text is acceptable for its type in text format. */
  readonly stringy: readonly boolean[];
}

/**
 * Masks the results of one session on their way to the client: DataRow values (text and binary format),
 * COPY ... TO STDOUT data, and values echoed in NOTICE/ERROR messages. Pure: the relay feeds it whole
 * backend messages in order and forwards what it returns.
 *
 * How the relay drives it:
 * - `active` false (empty plan): don't call anything; results pass untouched.
 * - RowDescription: if `catalogLookups(msg)` is non-empty, hold the message, resolve those columns (the
 *   CatalogResolver), then call `rowDescription(msg)` and keep the returned shape with the statement or
 *   portal it describes.
 * - Extended protocol: the result format codes of each Bind decide whether columns come back as text or
 *   binary; a RowDescription answering Describe(statement) always says text. When the server's
 *   BindComplete for a Bind arrives, call `useShape(shapeOfThatStatement, bindResultFormats)` (or
 *   `setResultFormats(codes)` when the current shape is already the right one). A RowDescription from
 *   Describe(portal) or a simple Query carries the real formats and resets them.
 * - DataRow: forward `dataRow(msg)` (the same Buffer when nothing changed).
 * - CopyOutResponse: `copyOutResponse(msg, options)`; 'refuse' (binary COPY while masking) means the relay
 *   must not forward the data (end the COPY with an error); otherwise forward `copyData(msg)` per CopyData.
 * - NoticeResponse/ErrorResponse: forward `noticeOrError(msg)`.
 * - `takeCounts()` after each statement for the recorder.
 *
 * Types: a column rule on a type that can't hold arbitrary text (int, date, uuid, inet, bytea, any binary
 * non-text value...) yields NULL, since a masked value must still parse as the column's type. A detector
 * hit inside such a value (a card number in a bigint) also yields NULL. json/jsonb values that would no
 * longer parse after masking become NULL. Assumes client_encoding UTF8.
 */
export class ResultMasker {
  private readonly columns: ColumnMatcher;
  private readonly values: ValueMasker;
  private readonly counts: MaskCounts = new Map();
  private readonly profile = newProfile();
  private shape: ResultShape | null = null;
  private modes: Uint8Array = new Uint8Array(0);
  private formats: readonly number[] = [];
  private starts = new Int32Array(0);
  private lens = new Int32Array(0);
  /** The COPY OUT in progress: per-field rules, or one rule for every field; a header row still to come. */
  private copy: { options: CopyTextOptions; rules: (ColumnMaskRule | null)[]; every: ColumnMaskRule | null; header: boolean } | null = null;
  /** Whether `modes` were made for rows without a RowDescription. */
  private shapeless = false;
  /** Scratch: per column, the replacement of the row being masked (undefined: unchanged). */
  private changes: (Replacement | undefined)[] = [];

  constructor(
    plan: MaskingPlan,
    private readonly hashKey: Buffer,
    private readonly resolveColumn?: ResolveColumn,
  ) {
    this.columns = new ColumnMatcher(plan.columns);
    this.values = new ValueMasker(plan.values, hashKey);
  }

  /** False when the plan masks nothing: the relay then doesn't inspect results at all. */
  get active(): boolean {
    return this.columns.enabled || this.values.enabled;
  }

  /**
   * The (table OID, attnum) pairs of a RowDescription the relay should resolve before calling
   * `rowDescription`: every table column, when there are column rules (so aliases can't hide a source
   * column); none otherwise.
   */
  catalogLookups(message: Buffer): { oid: number; attnum: number }[] {
    if (!this.columns.enabled) return [];
    return parseRowDescription(message)
      .filter((f) => f.tableOid !== 0)
      .map((f) => ({ oid: f.tableOid, attnum: f.attnum }));
  }

  /** Read a RowDescription ('T', whole message), decide per column, and make it the current shape. */
  rowDescription(message: Buffer): ResultShape {
    const fields = parseRowDescription(message);
    const rules = fields.map((f) => (this.columns.enabled ? this.columns.match(f.name, this.sourceOf(f)) : null));
    const stringy = fields.map((f) => TEXT_STRINGY.has(f.typeOid) || f.typeOid >= FIRST_NORMAL_OID);
    const shape: ResultShape = { fields, rules, stringy };
    this.useShape(shape, fields.map((f) => f.format));
    return shape;
  }

  /**
   * Make `shape` (from an earlier `rowDescription`) current, with the result format codes of the Bind
   * (Bind's convention: none = all text, one = for all columns, else one per column). Null clears it.
   */
  useShape(shape: ResultShape | null, resultFormats: readonly number[] = []): void {
    this.shape = shape;
    this.shapeless = false;
    const n = shape?.fields.length ?? 0;
    if (this.starts.length < n) {
      this.starts = new Int32Array(n);
      this.lens = new Int32Array(n);
    }
    this.setResultFormats(resultFormats);
  }

  /**
   * Set the result format codes from a Bind for the current shape (call when that Bind's BindComplete
   * arrives). Also used without a shape: then it applies to rows that arrive with no RowDescription.
   */
  setResultFormats(codes: readonly number[]): void {
    this.formats = codes;
    this.shapeless = false;
    const shape = this.shape;
    if (!shape) return;
    const n = shape.fields.length;
    const modes = new Uint8Array(n);
    for (let i = 0; i < n; i++) modes[i] = this.modeFor(shape, i, this.formatOf(i));
    this.modes = modes;
  }

  /**
   * Mask a DataRow ('D', whole message). Returns `message` itself when nothing changed, else a new
   * message with the lengths rebuilt. Throws MalformedMessage for a malformed row or one whose column
   * count doesn't match the current shape, MaskingStateError when column rules apply and no
   * RowDescription was seen.
   */
  dataRow(message: Buffer): Buffer {
    if (message.length < 7 || message[0] !== MaskedMessage.dataRow || message.readInt32BE(1) + 1 !== message.length) {
      throw new MalformedMessage('not a whole DataRow message');
    }
    const n = message.readInt16BE(5);
    let modes = this.modes;
    if (!this.shape) {
      if (this.columns.enabled) throw new MaskingStateError('DataRow without a RowDescription while column masking rules apply');
      if (!this.values.enabled) return message;
      modes = this.shapelessModes(n);
    } else if (n !== modes.length) {
      throw new MalformedMessage(`DataRow has ${n} columns, the RowDescription ${modes.length}`);
    }
    if (this.starts.length < n) {
      this.starts = new Int32Array(n);
      this.lens = new Int32Array(n);
    }
    const starts = this.starts;
    const lens = this.lens;
    const end = message.length;
    let changed = false;
    const changes = this.changes.length >= n ? this.changes : (this.changes = new Array(n));
    let pos = 7;
    for (let i = 0; i < n; i++) {
      if (pos + 4 > end) throw new MalformedMessage('DataRow: truncated');
      const len = message.readInt32BE(pos);
      pos += 4;
      starts[i] = pos;
      lens[i] = len;
      changes[i] = undefined;
      if (len < 0) continue; // NULL stays NULL
      if (pos + len > end) throw new MalformedMessage('DataRow: value runs past the message');
      const mode = modes[i];
      if (mode !== Mode.skip) {
        const result = this.maskValue(mode as Mode, i, message, pos, pos + len);
        if (result !== undefined) {
          changes[i] = result;
          changed = true;
        }
      }
      pos += len;
    }
    if (pos !== end) throw new MalformedMessage('DataRow: trailing bytes');
    if (!changed) return message;
    return rebuildDataRow(message, n, starts, lens, changes);
  }

  /**
   * Read a CopyOutResponse ('H') and prepare for the CopyData of COPY ... TO STDOUT. The message can't say
   * text vs CSV (both are "textual"): pass the COPY statement's options (default: text with tabs).
   * Column rules apply to COPY too. With `columns` (the COPY's column list) each field is matched as
   * that column (of `table`, when given). Without it the fields can't be told apart, so every field gets
   * the strictest column rule that may apply to `table`, or to the tables the COPY's query reads
   * (`sources`), or to any table when neither is known (fail closed); `header`: the first row (HEADER)
   * holds column names and only goes through the detectors. Returns 'refuse' for binary COPY
   * while masking is active: binary COPY can't be masked field by field here, so the relay must not
   * forward it.
   */
  copyOutResponse(
    message: Buffer,
    options: CopyTextOptions & { columns?: readonly string[]; table?: string; sources?: readonly string[]; header?: boolean } = { format: 'text' },
  ): 'ok' | 'refuse' {
    const { format } = parseCopyOutResponse(message);
    if (!this.active) return 'ok';
    if (format !== 0) {
      this.copy = null;
      return 'refuse';
    }
    const { columns, table, sources, header, ...textOptions } = options;
    const enabled = this.columns.enabled;
    this.copy = {
      options: textOptions,
      rules: enabled && columns ? columns.map((c) => (table ? this.columns.matchTableColumn(c, table) : this.columns.matchName(c))) : [],
      every: enabled && !columns ? this.columns.strictestFor(table ? [table] : (sources ?? null)) : null,
      header: header === true,
    };
    return 'ok';
  }

  /** Mask one CopyData ('d', whole message) of a textual COPY OUT; returns `message` when unchanged. */
  copyData(message: Buffer): Buffer {
    const end = checkHeader(message, MaskedMessage.copyData, 'CopyData');
    if (!this.active) return message;
    const copy = this.copy;
    if (!copy) throw new MaskingStateError('CopyData without an accepted CopyOutResponse');
    // PostgreSQL sends one row per CopyData: with HEADER (CSV, or text since PostgreSQL 15) the first is the column names.
    const headerRow = copy.header;
    copy.header = false;
    const anyColumnRule = !headerRow && (copy.every !== null || copy.rules.some((r) => r !== null));
    // Whole-line pre-check: every profile count of a field is at most the line's.
    if (!anyColumnRule && !this.values.maybe(profileBytes(message, 5, end, this.profile))) return message;
    const text = message.toString('utf8', 5, end);
    const masked = maskCopyRows(text, copy.options, (column, value) => {
      if (value === null) return undefined;
      const rule = headerRow ? null : (copy.rules[column] ?? copy.every);
      if (rule) {
        bump(this.counts, `${rule.rule}:column`);
        return applyStrategy(rule.strategy, value, this.hashKey);
      }
      return this.values.mask(value, this.counts);
    });
    if (masked === undefined) return message;
    const body = Buffer.from(masked, 'utf8');
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = MaskedMessage.copyData;
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  }

  /**
   * Mask the message, detail, hint, context and internal query of a NoticeResponse ('N') or ErrorResponse
   * ('E') with the value detectors, and the values of `Key (col)=(value)` details when `col` matches a
   * column rule; a "Failing row contains (...)" detail loses its row when there are column rules (its
   * columns are not named). Returns `message` when unchanged.
   */
  noticeOrError(message: Buffer): Buffer {
    const type = message[0];
    if (type !== MaskedMessage.noticeResponse && type !== MaskedMessage.errorResponse) throw new MalformedMessage('not a NoticeResponse/ErrorResponse');
    checkHeader(message, type, 'ErrorResponse/NoticeResponse');
    if (!this.active) return message;
    const fields = parseNoticeFields(message);
    // Data exceptions (class 22: invalid input syntax, value out of range ...) quote the offending value
    // ("invalid input syntax for type integer: \"Ada\""), and so do name lookups (class 42: a value cast
    // to regclass gives relation "Ada" does not exist); it may be a column masked only by a rule.
    const quotesValue = this.columns.enabled && fields.some(([c, t]) => c === 0x43 /* C */ && (t.startsWith('22') || t.startsWith('42')));
    let changed = false;
    for (const field of fields) {
      const code = String.fromCharCode(field[0]);
      if (!'MDHWq'.includes(code)) continue;
      let text = field[1];
      if (code === 'D' && this.columns.enabled) text = this.maskDetailColumns(text);
      if (quotesValue && (code === 'M' || code === 'D')) text = text.replace(/"[\s\S]*"/, () => `"${redactMarker()}"`); // first to last quote: the value may hold quotes
      const masked = this.values.enabled ? this.values.mask(text, this.counts, undefined, true) : undefined;
      if (masked !== undefined && masked !== null) text = masked;
      if (text !== field[1]) {
        field[1] = text;
        changed = true;
      }
    }
    return changed ? buildNotice(type, fields) : message;
  }

  /**
   * Mask the payload of a NotificationResponse ('A': NOTIFY / pg_notify from any session) with the value
   * detectors. The channel name is left alone (a listener must already know it to receive anything).
   * Returns `message` when unchanged.
   */
  notification(message: Buffer): Buffer {
    const end = checkHeader(message, MaskedMessage.notificationResponse, 'NotificationResponse');
    if (!this.values.enabled) return message;
    const channelEnd = message.indexOf(0, 9);
    const payloadEnd = channelEnd < 0 ? -1 : message.indexOf(0, channelEnd + 1);
    if (end < 11 || channelEnd < 0 || payloadEnd !== end - 1) throw new MalformedMessage('NotificationResponse: malformed');
    const payload = message.toString('utf8', channelEnd + 1, payloadEnd);
    const masked = this.values.mask(payload, this.counts, undefined, true);
    if (masked === undefined || masked === null) return message;
    return withLastString(message, channelEnd + 1, masked);
  }

  /**
   * Mask the value of a ParameterStatus ('S': a reported setting such as application_name, which
   * `set_config('application_name', email, false)` fills from data) with the value detectors. Returns
   * `message` when unchanged.
   */
  parameterStatus(message: Buffer): Buffer {
    const end = checkHeader(message, MaskedMessage.parameterStatus, 'ParameterStatus');
    if (!this.values.enabled) return message;
    const nameEnd = message.indexOf(0, 5);
    const valueEnd = nameEnd < 0 ? -1 : message.indexOf(0, nameEnd + 1);
    if (nameEnd < 0 || valueEnd !== end - 1) throw new MalformedMessage('ParameterStatus: malformed');
    const masked = this.values.mask(message.toString('utf8', nameEnd + 1, valueEnd), this.counts, undefined, true);
    if (masked === undefined || masked === null) return message;
    return withLastString(message, nameEnd + 1, masked);
  }

  /** The masked-value tallies since the last call (`rule:detector` or `rule:column`), then reset. */
  takeCounts(): Record<string, number> {
    const out = Object.fromEntries(this.counts);
    this.counts.clear();
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------------------

  /** Without a resolver, or when it doesn't know the column, a table column is 'unresolved'. */
  private sourceOf(f: ResultField): ColumnSource {
    if (f.tableOid === 0) return undefined;
    return this.resolveColumn?.(f.tableOid, f.attnum) ?? 'unresolved';
  }

  private formatOf(i: number): number {
    const f = this.formats;
    return f.length === 0 ? 0 : f.length === 1 ? f[0] : (f[i] ?? 0);
  }

  private modeFor(shape: ResultShape, i: number, format: number): Mode {
    const typeOid = shape.fields[i].typeOid;
    const canCarryText = format === 0 ? shape.stringy[i] : BINARY_TEXT.has(typeOid);
    if (shape.rules[i]) return canCarryText ? Mode.columnText : Mode.columnNull;
    if (!this.values.enabled) return Mode.skip;
    if (format === 0) return Mode.detectText;
    if (BINARY_TEXT.has(typeOid)) return Mode.detectBinaryText;
    if (typeOid === T.int8 || typeOid === T.numeric) return Mode.detectBinaryNumber;
    return BINARY_NO_TEXT.has(typeOid) ? Mode.skip : Mode.detectBinaryOpaque;
  }

  /** Rows with no RowDescription (detectors only): text or binary per the last formats; hits give NULL. */
  private shapelessModes(n: number): Uint8Array {
    if (this.modes.length === n && this.shapeless) return this.modes;
    const modes = new Uint8Array(n);
    // Binary values of unknown type can't be rewritten, but a detector hit in their bytes gives NULL.
    for (let i = 0; i < n; i++) modes[i] = this.formatOf(i) === 0 ? Mode.detectText : Mode.detectBinaryOpaque;
    this.modes = modes;
    this.shapeless = true;
    return modes;
  }

  /** undefined: unchanged; null: NULL; a string: the new value's text; a Buffer: its bytes. */
  private maskValue(mode: Mode, i: number, buf: Buffer, start: number, end: number): Replacement | undefined {
    const shape = this.shape;
    const typeOid = shape ? shape.fields[i].typeOid : 0;
    switch (mode) {
      case Mode.columnNull: {
        bump(this.counts, `${shape!.rules[i]!.rule}:column`);
        return null;
      }
      case Mode.columnText: {
        const rule = shape!.rules[i]!;
        bump(this.counts, `${rule.rule}:column`);
        const binaryJsonb = typeOid === T.jsonb && this.formatOf(i) === 1;
        const text = buf.toString('utf8', binaryJsonb ? start + 1 : start, end);
        let out = applyStrategy(rule.strategy, text, this.hashKey);
        if (out === null) return null;
        // A partial mask leaves text: let the detectors look at what is left.
        if (rule.strategy.kind === 'partial' && this.values.enabled) {
          const again = this.values.mask(out, this.counts);
          if (again === null) return null;
          if (again !== undefined) out = again;
        }
        if (isJson(typeOid)) out = JSON.stringify(out);
        return encodeText(out, binaryJsonb);
      }
      case Mode.detectText:
      case Mode.detectBinaryText: {
        const binaryJsonb = mode === Mode.detectBinaryText && typeOid === T.jsonb;
        const from = binaryJsonb ? start + 1 : start;
        if (!this.values.maybe(profileBytes(buf, from, end, this.profile))) return undefined;
        const text = buf.toString('utf8', from, end);
        const masked = this.values.mask(text, this.counts, this.profile);
        if (masked === undefined) return undefined;
        if (masked === null) return null;
        // Masked text must still be acceptable as the column's type; where it can't be, NULL.
        if (mode === Mode.detectText && !(shape ? shape.stringy[i] : false)) return null;
        if (isJson(typeOid) && !parsesAsJson(masked)) return null;
        return encodeText(masked, binaryJsonb);
      }
      case Mode.detectBinaryOpaque: {
        if (!this.values.maybe(profileBytes(buf, start, end, this.profile))) return undefined;
        return this.values.mask(buf.toString('utf8', start, end), this.counts, this.profile) === undefined ? undefined : null;
      }
      case Mode.detectBinaryNumber: {
        const digits = typeOid === T.int8 ? (end - start === 8 ? buf.readBigInt64BE(start).toString() : '') : numericIntegerDigits(buf, start, end);
        if (digits.length < 7) return undefined;
        return this.values.mask(digits, this.counts) === undefined ? undefined : null;
      }
      default:
        return undefined;
    }
  }

  /** In "Key (a, b)=(x, y) ..." details, mask the value lists whose columns match a column rule. */
  private maskDetailColumns(detail: string): string {
    if (/^Failing row contains \(/.test(detail)) {
      bump(this.counts, `${this.columns.strictest!.rule}:column`);
      return `Failing row contains (${redactMarker()}).`;
    }
    let out = '';
    let pos = 0;
    const re = /\(([^()]*)\)=\(/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(detail)) !== null) {
      const cols = m[1].split(',').map((c) => c.trim());
      const rule = cols
        .flatMap((c) => [c, ...(c.match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? [])])
        .map((c) => this.columns.matchName(c.replace(/^"|"$/g, '')))
        .find((r) => r !== null);
      const valueStart = m.index + m[0].length;
      // The value list ends at the matching parenthesis; unbalanced text is masked to the end (fail closed).
      let depth = 1;
      let valueEnd = valueStart;
      while (valueEnd < detail.length && depth > 0) {
        const ch = detail[valueEnd];
        if (ch === '(') depth++;
        else if (ch === ')') depth--;
        if (depth > 0) valueEnd++;
      }
      if (rule) {
        bump(this.counts, `${rule.rule}:column`);
        const value = detail.slice(valueStart, valueEnd);
        const replacement = cols.length === 1 ? (applyStrategy(rule.strategy, value, this.hashKey) ?? redactMarker()) : redactMarker();
        out += detail.slice(pos, valueStart) + replacement;
        pos = valueEnd;
      }
      re.lastIndex = Math.max(valueEnd, re.lastIndex);
    }
    return pos === 0 ? detail : out + detail.slice(pos);
  }
}

/** A new value: NULL, text (written as UTF-8 straight into the rebuilt row) or bytes. */
type Replacement = string | Buffer | null;

function encodeText(text: string, jsonbVersionByte: boolean): string | Buffer {
  if (!jsonbVersionByte) return text;
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = 1;
  body.copy(out, 1);
  return out;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The integer part of a binary numeric as decimal digits ('' for NaN/infinity/garbage). */
function numericIntegerDigits(buf: Buffer, start: number, end: number): string {
  if (end - start < 8) return '';
  const ndigits = buf.readInt16BE(start);
  const weight = buf.readInt16BE(start + 2);
  const sign = buf.readUInt16BE(start + 4);
  if (sign !== 0 && sign !== 0x4000) return '';
  if (end - start !== 8 + 2 * ndigits || weight < 0) return '';
  let out = '';
  for (let g = 0; g <= weight; g++) {
    const d = g < ndigits ? buf.readInt16BE(start + 8 + 2 * g) : 0;
    out += g === 0 ? String(d) : String(d).padStart(4, '0');
  }
  return out;
}

function rebuildDataRow(message: Buffer, n: number, starts: Int32Array, lens: Int32Array, changes: (Replacement | undefined)[]): Buffer {
  let size = 7;
  const sizes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    size += 4;
    const c = changes[i];
    if (c === undefined) size += Math.max(0, lens[i]);
    else if (c !== null) size += sizes[i] = typeof c === 'string' ? Buffer.byteLength(c, 'utf8') : c.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = MaskedMessage.dataRow;
  out.writeInt32BE(size - 1, 1);
  out.writeInt16BE(n, 5);
  let pos = 7;
  for (let i = 0; i < n; i++) {
    const c = changes[i];
    if (c === undefined) {
      out.writeInt32BE(lens[i], pos);
      pos += 4;
      if (lens[i] > 0) pos += message.copy(out, pos, starts[i], starts[i] + lens[i]);
    } else if (c === null) {
      out.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      out.writeInt32BE(sizes[i], pos);
      pos += 4;
      pos += typeof c === 'string' ? out.write(c, pos, 'utf8') : c.copy(out, pos);
    }
  }
  return out;
}

/**
 * A copy of a backend message whose last field (a NUL-terminated string starting at `at`) is `text`, with
 * the message length rewritten (NotificationResponse payload, ParameterStatus value).
 */
function withLastString(message: Buffer, at: number, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(at + body.length + 1);
  message.copy(out, 0, 0, at);
  body.copy(out, at);
  out[out.length - 1] = 0;
  out.writeInt32BE(out.length - 1, 1);
  return out;
}
