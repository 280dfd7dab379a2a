import { createWriteStream, promises as fs, rmSync, type WriteStream } from 'node:fs';

/**
 * A temp file that content is appended to while another zip entry is being written, then read back by
 * byte range: lets the exporter read each statement from the store once and still write three files.
 * Created 0600 and exclusively; `remove` deletes it.
 */
export class Spool {
  /** Bytes written so far (the offset of the next write). */
  size = 0;
  private readonly out: WriteStream;
  private failure: Error | null = null;
  private reader: fs.FileHandle | null = null;

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: 4 << 20 });
    this.out.on('error', (err) => (this.failure ??= err));
  }

  /** Append text (UTF-8); returns its length in bytes. */
  write(text: string): number {
    if (!text) return 0;
    const buf = Buffer.from(text, 'utf8');
    this.out.write(buf);
    this.size += buf.length;
    return buf.length;
  }

  /** Resolves when the file stream can take more. */
  async drained(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()).once('error', () => resolve()));
    if (this.failure) throw this.failure;
  }

  /** Finish writing (everything is on disk when this resolves). */
  async close(): Promise<void> {
    if (!this.out.closed) await new Promise<void>((resolve, reject) => this.out.end(() => resolve()).once('error', reject));
    if (this.failure) throw this.failure;
  }

  /** Read `length` bytes from `offset`, in chunks of up to 1 MiB. */
  async *read(offset: number, length: number): AsyncGenerator<Buffer> {
    if (length === 0) return;
    // One handle for every range: a pack reads one range per recorded session.
    this.reader ??= await fs.open(this.file, 'r');
    for (let done = 0; done < length; ) {
      const buf = Buffer.alloc(Math.min(1 << 20, length - done));
      const { bytesRead } = await this.reader.read(buf, 0, buf.length, offset + done);
      if (bytesRead === 0) throw new Error(`${this.file} ended early`);
      done += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  }

  /** Delete the file (idempotent). */
  async remove(): Promise<void> {
    this.out.destroy();
    await this.reader?.close().catch(() => {});
    this.reader = null;
    rmSync(this.file, { force: true });
  }
}
