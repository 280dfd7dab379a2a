/**
 * Gathers text as UTF-8 straight into fixed-size buffers, one write per piece of text, and hands each
 * filled buffer on. Much cheaper than gathering strings and joining them before encoding: an export
 * encodes close to a gigabyte of CSV and JSON Lines, and `Array.join` + `Buffer.from` of each megabyte
 * cost several times the formatting itself.
 */
export class Utf8Chunks {
  private buf: Buffer;
  private pos = 0;

  constructor(
    private readonly size: number,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Bytes gathered and not handed on yet. */
  get pending(): number {
    return this.pos;
  }

  /** Append text; a filled buffer is handed on first. */
  write(text: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    if (this.pos + text.length * 3 > this.size) {
      this.flush();
      if (text.length * 3 > this.size) {
        if (text.length) this.onChunk(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** Hand on what is gathered (the receiver may keep it: the next text goes into a new buffer). */
  flush(): void {
    if (!this.pos) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    this.onChunk(chunk);
  }

  /**
   * What is gathered, as a view of the buffer that the next write overwrites: for a receiver that is done
   * with it at once (hashing, one-shot compression), so the buffer is reused.
   */
  take(): Buffer {
    const view = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return view;
  }
}
