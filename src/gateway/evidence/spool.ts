import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, promises as fs, rmSync, type WriteStream } from 'node:fs';
import { createDeflateRaw, crc32, deflateRawSync, type DeflateRaw } from 'node:zlib';
import { Utf8Chunks } from './utf8-chunks';

/** A zip entry's content spooled already compressed: where it lies in the spool and what the zip needs. */
export interface SpooledEntry {
  /** Offset and length of its raw DEFLATE data in the spool file (set when it has been written there). */
  offset: number;
  compressedBytes: number;
  /** CRC-32, size and SHA-256 (hex) of the uncompressed content. */
  crc: number;
  bytes: number;
  sha256: string;
}

/** Text is gathered (as UTF-8) up to this size before it is hashed and handed to zlib. */
const FLUSH_BYTES = 1 << 20;
/** Entries compressed (in zlib's thread pool) ahead of the spool file; bounds memory. */
const MAX_QUEUED = 64;
/** Reads back from the spool in windows of this size (entries are read in the order they were written). */
const READ_WINDOW = 1 << 20;

type Job = { entry: SpooledEntry; data: Promise<Buffer>; stream?: undefined } | { entry: SpooledEntry; stream: DeflateRaw; data?: undefined };

interface OpenEntry {
  entry: SpooledEntry;
  hash: Hash;
  z: DeflateRaw | null;
}

/**
 * A temp file of zip entries compressed while another entry is being written into the pack: lets the
 * exporter read each statement from the store once and still write statements.csv, statements.jsonl and
 * every recording, each of which must be one contiguous piece of the zip. Entries are hashed (SHA-256,
 * CRC-32) as their text arrives; big ones are DEFLATEd as a stream in zlib's thread pool while the
 * JavaScript thread goes on formatting rows, small ones (most recordings) in one synchronous call; the compressed data is appended to the file
 * in entry order, then copied into the zip as it is (no second compression, no second hash). Created 0600
 * and exclusively; `remove` deletes it.
 */
export class DeflateSpool {
  private readonly out: WriteStream;
  private written = 0;
  private failure: Error | null = null;
  private readonly queue: Job[] = [];
  private pumping: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private cur: OpenEntry | null = null;
  private readonly text = new Utf8Chunks(FLUSH_BYTES, (chunk) => this.chunk(chunk));
  private reader: fs.FileHandle | null = null;
  private window: Buffer | null = null;
  private windowStart = 0;

  constructor(
    readonly file: string,
    private readonly level: number,
  ) {
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: 4 << 20 });
    this.out.on('error', (err) => this.fail(err));
  }

  /** Start the next entry (the previous one must be ended). */
  begin(): void {
    if (this.cur) throw new Error('the previous spooled entry was not ended');
    this.cur = { entry: { offset: -1, compressedBytes: 0, crc: 0, bytes: 0, sha256: '' }, hash: createHash('sha256'), z: null };
  }

  /** Append text (UTF-8) to the current entry. */
  write(text: string): void {
    this.text.write(text);
  }

  /** End the current entry. Its offset and compressed length are filled in once it is in the file (see `close`). */
  end(): SpooledEntry {
    const c = this.cur;
    if (!c) throw new Error('no spooled entry is open');
    if (c.z) {
      this.text.flush();
      c.z.end();
    } else {
      // A small entry (most recordings): one synchronous call. zlib's one-shot asynchronous call costs
      // several times the CPU time for pieces this size.
      const data = this.text.take();
      this.count(c, data);
      this.enqueue({ entry: c.entry, data: Promise.resolve(deflateRawSync(data, { level: this.level })) });
    }
    c.entry.sha256 = c.hash.digest('hex');
    this.cur = null;
    return c.entry;
  }

  private count(c: OpenEntry, data: Buffer): void {
    c.hash.update(data);
    c.entry.crc = crc32(data, c.entry.crc);
    c.entry.bytes += data.length;
  }

  /** A filled buffer of the current entry: hashed, counted and streamed through the entry's DeflateRaw. */
  private chunk(data: Buffer): void {
    const c = this.cur!;
    this.count(c, data);
    if (!c.z) {
      // A big entry: stream it through one DeflateRaw (its place in the file is taken now).
      c.z = createDeflateRaw({ level: this.level, chunkSize: 1 << 18, writableHighWaterMark: 4 << 20 } as Parameters<typeof createDeflateRaw>[0]);
      c.z.on('error', (err: Error) => this.fail(err));
      this.enqueue({ entry: c.entry, stream: c.z });
    }
    c.z.write(data);
  }

  private enqueue(job: Job): void {
    if (job.data) job.data.catch((err: Error) => this.fail(err));
    this.queue.push(job);
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  /** Append queued entries' compressed data to the file, in order. */
  private async pump(): Promise<void> {
    while (this.queue.length && !this.failure) {
      const job = this.queue[0];
      job.entry.offset = this.written;
      try {
        if (job.data) await this.append(await job.data);
        else for await (const chunk of job.stream as AsyncIterable<Buffer>) await this.append(chunk);
      } catch (err) {
        this.fail(err as Error);
        break;
      }
      job.entry.compressedBytes = this.written - job.entry.offset;
      this.queue.shift();
      this.wake();
    }
  }

  private async append(chunk: Buffer): Promise<void> {
    this.written += chunk.length;
    if (!this.out.write(chunk)) await this.whenDrained(this.out);
  }

  private whenDrained(s: WriteStream | DeflateRaw): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        s.off('drain', done).off('error', done).off('close', done);
        resolve();
      };
      s.on('drain', done).on('error', done).on('close', done);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Resolves when the spool can take more (call between pages): bounded queue and stream buffers. */
  async drained(): Promise<void> {
    this.check();
    while (this.queue.length > MAX_QUEUED && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const z = this.cur?.z;
    if (z?.writableNeedDrain) await this.whenDrained(z);
    this.check();
  }

  /** Wait until every ended entry is in the file, and close it for writing. */
  async close(): Promise<void> {
    if (this.cur) throw new Error('a spooled entry was not ended');
    while (this.queue.length && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.check();
    if (!this.out.closed) await new Promise<void>((resolve, reject) => this.out.end(() => resolve()).once('error', reject));
    this.check();
  }

  /** The compressed data of one entry (after `close`), in chunks; cheapest when entries are read in order. */
  async *read(e: SpooledEntry): AsyncGenerator<Buffer> {
    this.reader ??= await fs.open(this.file, 'r');
    const end = e.offset + e.compressedBytes;
    for (let pos = e.offset; pos < end; ) {
      if (!this.window || pos < this.windowStart || pos >= this.windowStart + this.window.length) {
        // A fresh buffer per window: chunks handed out earlier may still be waiting to be written.
        const buf = Buffer.allocUnsafe(Math.min(READ_WINDOW, this.written - pos));
        const { bytesRead } = await this.reader.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new Error(`${this.file} ended early`);
        this.window = buf.subarray(0, bytesRead);
        this.windowStart = pos;
      }
      const from = pos - this.windowStart;
      const n = Math.min(end - pos, this.window.length - from);
      yield this.window.subarray(from, from + n);
      pos += n;
    }
  }

  /** Delete the file (idempotent). */
  async remove(): Promise<void> {
    for (const job of this.queue.splice(0)) job.stream?.destroy();
    this.cur?.z?.destroy();
    this.out.destroy();
    await this.reader?.close().catch(() => {});
    this.reader = null;
    this.window = null;
    rmSync(this.file, { force: true });
  }
}
