import { ProtocolViolation } from './message-framer';

/**
 * Readers for the few fields of frontend messages the gateway needs. Each takes the whole message
 * (buf[start, end), header included) and validates what it reads; malformed input throws
 * ProtocolViolation, which ends the session with 08P01.
 */

/** Read a NUL-terminated UTF-8 string at `pos`; returns the string and the position after the NUL. */
export function readCString(buf: Buffer, pos: number, end: number): [string, number] {
  const nul = buf.indexOf(0, pos);
  if (nul < 0 || nul >= end) throw new ProtocolViolation('unterminated string in message');
  return [buf.toString('utf8', pos, nul), nul + 1];
}

function readInt16(buf: Buffer, pos: number, end: number): number {
  if (pos + 2 > end) throw new ProtocolViolation('message too short');
  return buf.readInt16BE(pos);
}

/** Query ('Q'): the SQL text. */
export function readQuery(buf: Buffer, start: number, end: number): string {
  return readCString(buf, start + 5, end)[0];
}

/** Parse ('P'): statement name, SQL text and the number of parameter types given. */
export function readParse(buf: Buffer, start: number, end: number): { name: string; sql: string; paramTypes: number } {
  const [name, p1] = readCString(buf, start + 5, end);
  const [sql, p2] = readCString(buf, p1, end);
  return { name, sql, paramTypes: readInt16(buf, p2, end) };
}

/** The result format codes at the end of a Bind ('B') message (none = all text, one = for every column). */
export function readBindResultFormats(buf: Buffer, start: number, end: number): number[] {
  const [, p1] = readCString(buf, start + 5, end);
  const [, p2] = readCString(buf, p1, end);
  let pos = p2 + 2 + readInt16(buf, p2, end) * 2;
  const params = readInt16(buf, pos, end);
  pos += 2;
  for (let i = 0; i < params; i++) {
    if (pos + 4 > end) throw new ProtocolViolation('Bind parameter runs past the message');
    const len = buf.readInt32BE(pos);
    pos += 4 + Math.max(0, len);
  }
  const n = readInt16(buf, pos, end);
  if (n < 0 || pos + 2 + n * 2 > end) throw new ProtocolViolation('invalid result format codes in Bind');
  const codes: number[] = new Array(n);
  for (let i = 0; i < n; i++) codes[i] = buf.readInt16BE(pos + 2 + i * 2);
  return codes;
}

/** Bind ('B'): portal name, statement name and the number of parameter values. */
export function readBind(buf: Buffer, start: number, end: number): { portal: string; statement: string; params: number } {
  const [portal, p1] = readCString(buf, start + 5, end);
  const [statement, p2] = readCString(buf, p1, end);
  const formats = readInt16(buf, p2, end);
  if (formats < 0) throw new ProtocolViolation('negative format count in Bind');
  const params = readInt16(buf, p2 + 2 + formats * 2, end);
  if (params < 0) throw new ProtocolViolation('negative parameter count in Bind');
  return { portal, statement, params };
}

/** Execute ('E'): portal name. */
export function readExecute(buf: Buffer, start: number, end: number): string {
  return readCString(buf, start + 5, end)[0];
}

/** Close ('C') and Describe ('D'): target kind ('S' statement or 'P' portal) and name. */
export function readTarget(buf: Buffer, start: number, end: number): { kind: 'S' | 'P'; name: string } {
  if (start + 6 > end) throw new ProtocolViolation('message too short');
  const k = buf[start + 5];
  if (k !== 0x53 && k !== 0x50) throw new ProtocolViolation('invalid Close/Describe target');
  return { kind: k === 0x53 ? 'S' : 'P', name: readCString(buf, start + 6, end)[0] };
}

/** The SQLSTATE ('C' field) of an ErrorResponse/NoticeResponse, or null if absent. */
export function readErrorCode(buf: Buffer, start: number, end: number): string | null {
  let pos = start + 5;
  while (pos < end && buf[pos] !== 0) {
    const field = buf[pos];
    const nul = buf.indexOf(0, pos + 1);
    if (nul < 0 || nul >= end) return null;
    if (field === 0x43 /* 'C' */) return buf.toString('latin1', pos + 1, nul);
    pos = nul + 1;
  }
  return null;
}

/** All fields of an ErrorResponse/NoticeResponse body (after the 5-byte header), keyed by field code. */
export function readNoticeFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const nul = body.indexOf(0, pos + 1);
    if (nul < 0) break;
    out[String.fromCharCode(body[pos])] = body.toString('utf8', pos + 1, nul);
    pos = nul + 1;
  }
  return out;
}

/** The tag of a CommandComplete, e.g. "SELECT 3" or "INSERT 0 1". */
export function readCommandTag(buf: Buffer, start: number, end: number): string {
  return readCString(buf, start + 5, end)[0];
}

/** Rows processed according to a command tag (last number of "SELECT 3", "INSERT 0 1", "COPY 10"), or null. */
export function rowsFromTag(tag: string): number | null {
  const space = tag.lastIndexOf(' ');
  if (space < 0) return null;
  const n = Number(tag.slice(space + 1));
  return Number.isInteger(n) ? n : null;
}
