/**
 * CSV for spreadsheets (RFC 4180): every cell quoted when it holds a comma, quote, CR or LF; quotes doubled;
 * CRLF line ends. Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * CR) get a leading apostrophe, so a recorded `=HYPERLINK(...)` reaches the auditor as text, not as a
 * live formula (CSV injection). Numbers are written as they are.
 */
export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell, escaped and guarded. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, with its CRLF line end. */
export function csvRow(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
