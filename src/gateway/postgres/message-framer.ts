/**
 * Incremental framing of typed protocol messages (1 type byte + int32 length + body) over a byte
 * stream whose chunks can split a message anywhere.
 *
 * Messages of an "inspected" type are delivered whole to `message()`; everything else (DataRow, CopyData,
 * ...) is handed to `passthrough()` as it arrives, header included, possibly in fragments, without being
 * buffered. That keeps large results and COPY streams at constant memory while the gateway still sees
 * every message it must decide on or record.
 */

export interface FrameSink {
  /** A complete inspected message: buf[start, end) is the whole message, header included. */
  message(type: number, buf: Buffer, start: number, end: number): void;
  /** Bytes of non-inspected messages, in stream order; may be a fragment of one. */
  passthrough(buf: Buffer, start: number, end: number): void;
}

/** Thrown on a length field no PostgreSQL peer would send; the session answers 08P01 and closes. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

/** Build the 256-entry lookup of inspected type bytes. */
export function typeSet(types: number[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const t of types) set[t] = 1;
  return set;
}

export class MessageFramer {
  /** Bytes of a message header split across chunks. */
  private readonly header = Buffer.alloc(5);
  private headerLen = 0;
  /** Body bytes of a non-inspected message still to pass through. */
  private skip = 0;
  /** Pieces of an inspected message being collected, and how many bytes are still missing. */
  private parts: Buffer[] | null = null;
  private missing = 0;
  private partType = 0;

  constructor(
    private readonly inspected: Uint8Array,
    /** Largest message accepted (PostgreSQL itself caps messages at 1 GB). */
    private readonly maxLength = 0x3fffffff,
  ) {}

  /** Feed one chunk; calls the sink for everything it completes, in order. */
  push(chunk: Buffer, sink: FrameSink): void {
    let off = 0;
    const len = chunk.length;

    while (off < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - off);
        sink.passthrough(chunk, off, off + n);
        this.skip -= n;
        off += n;
        continue;
      }
      if (this.parts) {
        const n = Math.min(this.missing, len - off);
        this.parts.push(chunk.subarray(off, off + n));
        this.missing -= n;
        off += n;
        if (this.missing === 0) {
          const whole = Buffer.concat(this.parts);
          this.parts = null;
          sink.message(this.partType, whole, 0, whole.length);
        }
        continue;
      }
      if (this.headerLen > 0) {
        // Complete a header that was split at the end of the previous chunk.
        const n = Math.min(5 - this.headerLen, len - off);
        chunk.copy(this.header, this.headerLen, off, off + n);
        this.headerLen += n;
        off += n;
        if (this.headerLen < 5) return;
        this.headerLen = 0;
        this.beginSplit(Buffer.from(this.header), sink);
        continue;
      }
      if (len - off < 5) {
        chunk.copy(this.header, 0, off, len);
        this.headerLen = len - off;
        return;
      }
      // Fast path: the whole header is in this chunk.
      const type = chunk[off];
      const length = chunk.readInt32BE(off + 1);
      this.checkLength(type, length);
      const end = off + 1 + length;
      if (this.inspected[type]) {
        if (end <= len) {
          sink.message(type, chunk, off, end);
          off = end;
        } else {
          this.parts = [chunk.subarray(off)];
          this.missing = end - len;
          this.partType = type;
          return;
        }
      } else {
        // Coalesce consecutive non-inspected messages (e.g. a run of DataRows) into one passthrough call.
        let runEnd = off;
        let e = end;
        for (;;) {
          if (e > len) {
            this.skip = e - len;
            runEnd = len;
            break;
          }
          runEnd = e;
          if (e + 5 > len || this.inspected[chunk[e]]) break;
          const l = chunk.readInt32BE(e + 1);
          this.checkLength(chunk[e], l);
          e = e + 1 + l;
        }
        sink.passthrough(chunk, off, runEnd);
        off = runEnd;
      }
    }
  }

  /** True when no partial message is pending (a clean message boundary). */
  get atBoundary(): boolean {
    return this.skip === 0 && this.parts === null && this.headerLen === 0;
  }

  private beginSplit(header: Buffer, sink: FrameSink): void {
    const type = header[0];
    const length = header.readInt32BE(1);
    this.checkLength(type, length);
    const bodyLen = length - 4;
    if (this.inspected[type]) {
      if (bodyLen === 0) {
        sink.message(type, header, 0, 5);
        return;
      }
      this.parts = [header];
      this.missing = bodyLen;
      this.partType = type;
    } else {
      sink.passthrough(header, 0, 5);
      this.skip = bodyLen;
    }
  }

  private checkLength(type: number, length: number): void {
    if (length < 4 || length > this.maxLength) {
      throw new ProtocolViolation(`invalid length ${length} for message type 0x${type.toString(16)}`);
    }
  }
}
