/**
 * Collects pieces of outgoing bytes, merging pieces that are adjacent in the same buffer back into one
 * range. When the relay rebuilds server output message by message (masking, dropped replies) and most
 * messages pass unchanged, a chunk goes out as one slice of itself instead of thousands of pieces to
 * concatenate.
 */
export class OutputBuilder {
  private readonly parts: Buffer[] = [];
  private buf: Buffer | null = null;
  private start = 0;
  private end = 0;

  /** Append buf[start, end). */
  push(buf: Buffer, start: number, end: number): void {
    if (buf === this.buf && start === this.end) {
      this.end = end;
      return;
    }
    this.close();
    this.buf = buf;
    this.start = start;
    this.end = end;
  }

  /** Append a whole buffer (a rewritten message). */
  pushBuffer(b: Buffer): void {
    this.push(b, 0, b.length);
  }

  /** Everything appended, as one buffer (no copy when it is a single range), or null when empty. */
  take(): Buffer | null {
    this.close();
    const parts = this.parts;
    if (parts.length === 0) return null;
    const out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    parts.length = 0;
    return out;
  }

  private close(): void {
    if (this.buf && this.end > this.start) this.parts.push(this.buf.subarray(this.start, this.end));
    this.buf = null;
  }
}
