/**
 * The few PostgreSQL backend messages the result masker reads and rebuilds, parsed with plain Buffer
 * reads. Every function takes a whole message (type byte and length included) and throws
 * MalformedMessage when the bytes don't add up, which the relay treats as a protocol violation (the
 * session ends; nothing half-masked is forwarded).
 */

/** A backend message the masker could not parse. */
export class MalformedMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessage';
  }
}

/** Message type bytes the masker handles. */
export const MaskedMessage = {
  dataRow: 0x44, // 'D'
  errorResponse: 0x45, // 'E'
  copyOutResponse: 0x48, // 'H'
  noticeResponse: 0x4e, // 'N'
  notificationResponse: 0x41, // 'A'
  parameterStatus: 0x53, // 'S'
  rowDescription: 0x54, // 'T'
  copyData: 0x64, // 'd'
} as const;

/** One field of a RowDescription. */
export interface ResultField {
  name: string;
  /** OID of the source table, 0 when the column is not a plain table column (expression, function...). */
  tableOid: number;
  /** Attribute number of the source column, 0 when tableOid is 0. */
  attnum: number;
  typeOid: number;
  /** 0 text, 1 binary; always 0 in the answer to Describe(statement): Bind decides later. */
  format: number;
}

/** Check the type byte and that the length word matches the buffer; returns the end offset. */
export function checkHeader(msg: Buffer, type: number, what: string): number {
  if (msg.length < 5 || msg[0] !== type) throw new MalformedMessage(`not a ${what} message`);
  const len = msg.readInt32BE(1);
  if (len + 1 !== msg.length) throw new MalformedMessage(`${what}: length word ${len} does not match ${msg.length - 1} bytes`);
  return msg.length;
}

/** RowDescription ('T'): the fields in order. */
export function parseRowDescription(msg: Buffer): ResultField[] {
  const end = checkHeader(msg, MaskedMessage.rowDescription, 'RowDescription');
  if (end < 7) throw new MalformedMessage('RowDescription too short');
  const n = msg.readInt16BE(5);
  if (n < 0) throw new MalformedMessage('RowDescription: negative field count');
  const fields: ResultField[] = new Array(n);
  let pos = 7;
  for (let i = 0; i < n; i++) {
    const nul = msg.indexOf(0, pos);
    if (nul < 0 || nul + 19 > end) throw new MalformedMessage('RowDescription: truncated field');
    const name = msg.toString('utf8', pos, nul);
    pos = nul + 1;
    fields[i] = {
      name,
      tableOid: msg.readUInt32BE(pos),
      attnum: msg.readInt16BE(pos + 4),
      typeOid: msg.readUInt32BE(pos + 6),
      format: msg.readInt16BE(pos + 16),
    };
    pos += 18;
  }
  if (pos !== end) throw new MalformedMessage('RowDescription: trailing bytes');
  return fields;
}

/** CopyOutResponse ('H'): overall format (0 textual, 1 binary) and the column count. */
export function parseCopyOutResponse(msg: Buffer): { format: number; columns: number } {
  checkHeader(msg, MaskedMessage.copyOutResponse, 'CopyOutResponse');
  if (msg.length < 8) throw new MalformedMessage('CopyOutResponse too short');
  const format = msg[5];
  const columns = msg.readInt16BE(6);
  if (columns < 0 || msg.length !== 8 + 2 * columns) throw new MalformedMessage('CopyOutResponse: bad column count');
  return { format, columns };
}

/** The fields of an ErrorResponse/NoticeResponse in wire order: [code byte, UTF-8 text]. */
export function parseNoticeFields(msg: Buffer): [number, string][] {
  const end = msg.length;
  const fields: [number, string][] = [];
  let pos = 5;
  while (pos < end && msg[pos] !== 0) {
    const nul = msg.indexOf(0, pos + 1);
    if (nul < 0) throw new MalformedMessage('ErrorResponse/NoticeResponse: unterminated field');
    fields.push([msg[pos], msg.toString('utf8', pos + 1, nul)]);
    pos = nul + 1;
  }
  if (pos !== end - 1) throw new MalformedMessage('ErrorResponse/NoticeResponse: missing terminator');
  return fields;
}

/** Build an ErrorResponse/NoticeResponse of type `type` from fields in order. */
export function buildNotice(type: number, fields: readonly [number, string][]): Buffer {
  let size = 5 + 1;
  const encoded = fields.map(([code, text]) => {
    const b = Buffer.from(text, 'utf8');
    size += 2 + b.length;
    return [code, b] as const;
  });
  const out = Buffer.allocUnsafe(size);
  out[0] = type;
  out.writeInt32BE(size - 1, 1);
  let pos = 5;
  for (const [code, b] of encoded) {
    out[pos++] = code;
    pos += b.copy(out, pos);
    out[pos++] = 0;
  }
  out[pos] = 0;
  return out;
}
