/**
 * COPY ... TO STDOUT rows in PostgreSQL's two textual formats, split into fields, a field masked and the
 * row written back in the same format:
 * - text: fields separated by the delimiter (default tab), rows ended by "\n", backslash escapes (\t \n
 *   \r \b \f \v \\, octal \123, hex \x4F, and backslash + any other character for itself), NULL written as
 *   the null string (default \N, compared before escapes are processed);
 * - csv: fields separated by the delimiter (default comma), quoted with the quote character (default ")
 *   when needed, the quote doubled (or preceded by ESCAPE) inside quotes; NULL is the unquoted null string
 *   (default empty), an empty string is "".
 * Only fields that change are re-encoded; everything else is copied as it was.
 */

/** The COPY statement's options as far as they shape the output (defaults as in PostgreSQL). */
export interface CopyTextOptions {
  format: 'text' | 'csv';
  delimiter?: string;
  null?: string;
  quote?: string;
  escape?: string;
}

/** Decide a field's fate: undefined keeps it, null writes NULL, a string replaces it. */
export type FieldMasker = (column: number, value: string | null) => string | null | undefined;

const TEXT_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeText(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\' || i + 1 >= raw.length) {
      out += ch;
      continue;
    }
    const n = raw[++i];
    if (n in TEXT_ESCAPES) out += TEXT_ESCAPES[n];
    else if (n >= '0' && n <= '7') {
      let oct = n;
      while (oct.length < 3 && raw[i + 1] >= '0' && raw[i + 1] <= '7') oct += raw[++i];
      out += String.fromCharCode(parseInt(oct, 8));
    } else if (n === 'x' && /[0-9A-Fa-f]/.test(raw[i + 1] ?? '')) {
      let hex = raw[++i];
      if (/[0-9A-Fa-f]/.test(raw[i + 1] ?? '')) hex += raw[++i];
      out += String.fromCharCode(parseInt(hex, 16));
    } else out += n;
  }
  return out;
}

function escapeText(value: string, delimiter: string): string {
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === delimiter) out += '\\' + ch;
    else out += ch;
  }
  return out;
}

/**
 * Mask the rows in `data` (one or more whole rows; PostgreSQL sends one row per CopyData message).
 * Returns the rewritten data, or undefined when no field changed.
 */
export function maskCopyRows(data: string, options: CopyTextOptions, maskField: FieldMasker): string | undefined {
  return options.format === 'csv' ? maskCsv(data, options, maskField) : maskText(data, options, maskField);
}

function maskText(data: string, options: CopyTextOptions, maskField: FieldMasker): string | undefined {
  const delim = options.delimiter ?? '\t';
  const nullStr = options.null ?? '\\N';
  let out = '';
  let copied = 0;
  let changed = false;
  let pos = 0;
  let column = 0;
  while (pos < data.length) {
    const start = pos;
    while (pos < data.length) {
      const ch = data[pos];
      if (ch === '\\') pos += 2;
      else if (ch === delim || ch === '\n') break;
      else pos++;
    }
    if (pos > data.length) pos = data.length;
    const raw = data.slice(start, pos);
    const value = raw === nullStr ? null : unescapeText(raw);
    const masked = maskField(column, value);
    if (masked !== undefined) {
      out += data.slice(copied, start) + (masked === null ? nullStr : escapeText(masked, delim));
      copied = pos;
      changed = true;
    }
    if (data[pos] === '\n') column = 0;
    else column++;
    pos++;
  }
  return changed ? out + data.slice(copied) : undefined;
}

function maskCsv(data: string, options: CopyTextOptions, maskField: FieldMasker): string | undefined {
  const delim = options.delimiter ?? ',';
  const nullStr = options.null ?? '';
  const quote = options.quote ?? '"';
  const escape = options.escape ?? quote;
  let out = '';
  let copied = 0;
  let changed = false;
  let pos = 0;
  let column = 0;
  while (pos < data.length) {
    const start = pos;
    let value: string | null;
    if (data[pos] === quote) {
      value = '';
      pos++;
      while (pos < data.length) {
        const ch = data[pos];
        if (ch === escape && (data[pos + 1] === quote || (escape !== quote && data[pos + 1] === escape))) {
          value += data[pos + 1];
          pos += 2;
        } else if (ch === quote) {
          pos++;
          break;
        } else {
          value += ch;
          pos++;
        }
      }
      // Anything after the closing quote up to the delimiter is kept verbatim (PostgreSQL never writes it).
      while (pos < data.length && data[pos] !== delim && data[pos] !== '\n' && data[pos] !== '\r') value += data[pos++];
    } else {
      while (pos < data.length && data[pos] !== delim && data[pos] !== '\n' && !(data[pos] === '\r' && data[pos + 1] === '\n')) pos++;
      const raw = data.slice(start, pos);
      value = raw === nullStr ? null : raw;
    }
    const masked = maskField(column, value);
    if (masked !== undefined) {
      out += data.slice(copied, start) + (masked === null ? nullStr : quoteCsv(masked, delim, quote, escape, nullStr));
      copied = pos;
      changed = true;
    }
    if (data[pos] === '\r' && data[pos + 1] === '\n') pos++;
    if (data[pos] === '\n') column = 0;
    else column++;
    pos++;
  }
  return changed ? out + data.slice(copied) : undefined;
}

function quoteCsv(value: string, delim: string, quote: string, escape: string, nullStr: string): string {
  const needs = value === nullStr || value === '' || value.includes(delim) || value.includes(quote) || value.includes('\n') || value.includes('\r') || (escape !== quote && value.includes(escape));
  if (!needs) return value;
  let out = quote;
  for (const ch of value) out += ch === quote || (escape !== quote && ch === escape) ? escape + ch : ch;
  return out + quote;
}
