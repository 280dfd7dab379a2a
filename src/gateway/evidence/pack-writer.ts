import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { createDeflateRaw, crc32, deflateRawSync, type DeflateRaw } from 'node:zlib';
import { Zip, type ZipInputFile } from 'fflate';
import { Utf8Chunks } from './utf8-chunks';

/** A file written into the pack: its path in the zip, SHA-256 (hex) and size of its content. */
export interface PackedFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** Text is gathered (as UTF-8) up to this size before it is hashed and handed to the compressor. */
const FLUSH_BYTES = 1 << 20;

/**
 * Streams a zip to a file with fflate's streaming Zip + ZipDeflate, one entry at a time, hashing each
 * entry's content (SHA-256) as it goes. Nothing but the current chunk is held in memory: callers write
 * text pieces and await `drained()` between pages so the file stream's buffer stays bounded.
 */
export class PackWriter {
  private readonly zip: Zip;
  private readonly out: WriteStream;
  private readonly files: PackedFile[] = [];
  private failure: Error | null = null;
  private open: PackEntry | null = null;
  private finished: Promise<void> | null = null;
  private lastInput: { finished: Promise<void> } | null = null;
  /** Text of the open entry, gathered as UTF-8 (one entry is open at a time). */
  private readonly text = new Utf8Chunks(FLUSH_BYTES, (chunk) => this.open!.chunk(chunk));

  constructor(
    private readonly file: string,
    private readonly opts: { level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9; mtime: Date },
  ) {
    // 'wx': never overwrite a file someone else put there; 0600: a pack is as sensitive as the store.
    // Deep buffers (bounded: a few MiB) let the JavaScript thread build the next rows while zlib and the
    // disk work in the thread pool, instead of waiting for every chunk.
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: 4 << 20 });
    this.out.on('error', (err) => (this.failure ??= err));
    this.zip = new Zip((err, data, final) => {
      if (err) {
        this.failure ??= err;
        return;
      }
      this.out.write(data);
      if (final) this.out.end();
    });
  }

  /** Every entry written so far, in zip order. */
  get written(): readonly PackedFile[] {
    return this.files;
  }

  /** Start the next entry; the previous one must be ended first. */
  entry(path: string): PackEntry {
    this.check();
    if (this.open) throw new Error(`${this.open.path} is still being written`);
    const input = new NativeDeflateInput(path, this.opts.level ?? 6, this.opts.mtime, (err) => (this.failure ??= err));
    this.zip.add(input);
    this.lastInput = input;
    const entry = new PackEntry(path, input, this.text, (f) => {
      this.files.push(f);
      this.open = null;
    });
    this.open = entry;
    return entry;
  }

  /** Write a whole small entry at once. */
  async add(path: string, content: string | Uint8Array): Promise<PackedFile> {
    const e = this.entry(path);
    e.write(content);
    const f = e.end();
    await this.drained();
    return f;
  }

  /**
   * Copy an entry compressed ahead of time (raw DEFLATE, with its CRC-32, size and SHA-256 known) into
   * the zip as it is: no second compression, no second hash.
   */
  async addCompressed(path: string, e: { crc: number; bytes: number; sha256: string }, data: AsyncIterable<Uint8Array>): Promise<PackedFile> {
    this.check();
    if (this.open) throw new Error(`${this.open.path} is still being written`);
    const input = new CompressedInput(path, this.opts.mtime, e.crc, e.bytes);
    this.zip.add(input);
    this.lastInput = input;
    for await (const chunk of data) {
      input.push(chunk);
      if (this.out.writableNeedDrain) await this.drained();
    }
    input.end();
    this.check();
    const f = { path, sha256: e.sha256, bytes: e.bytes };
    this.files.push(f);
    return f;
  }

  /** Resolves when the compressor and the output stream can take more (call between pages). */
  async drained(): Promise<void> {
    this.check();
    const input = this.open?.input;
    if (input?.needsDrain) await input.drained();
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()).once('error', () => resolve()));
    this.check();
  }

  /** End the archive (central directory) and wait until the file is on disk. */
  finish(): Promise<void> {
    this.finished ??= (async () => {
      this.check();
      if (this.open) throw new Error(`${this.open.path} was not ended`);
      await this.lastInput?.finished;
      this.check();
      this.zip.end();
      await new Promise<void>((resolve, reject) => {
        if (this.out.closed) return resolve();
        this.out.once('close', resolve).once('error', reject);
      });
      this.check();
    })();
    return this.finished;
  }

  /** Stop and remove the partial file (after a failure). */
  abort(): void {
    this.zip.terminate();
    this.out.destroy();
    rmSync(this.file, { force: true });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

/** One entry being written: text or bytes in, hashed and compressed in chunks. */
export class PackEntry {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  constructor(
    readonly path: string,
    readonly input: NativeDeflateInput,
    private readonly text: Utf8Chunks,
    private readonly onEnd: (f: PackedFile) => void,
  ) {}

  /** Append content (UTF-8 for text). */
  write(content: string | Uint8Array): void {
    if (typeof content === 'string') return this.text.write(content);
    this.text.flush();
    this.chunk(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  }

  /** A filled buffer of this entry (from the writer's shared text buffer, or bytes written): hashed, counted, compressed. */
  chunk(data: Buffer): void {
    this.hash.update(data);
    this.bytes += data.length;
    this.input.push(data);
  }

  /** Finish the entry; returns its hash and size. */
  end(): PackedFile {
    let last: Buffer | null = null;
    if (this.input.streaming) this.text.flush();
    else {
      // Compressed synchronously below: the shared buffer can be reused afterwards.
      last = this.text.take();
      this.hash.update(last);
      this.bytes += last.length;
    }
    this.input.end(last);
    const f = { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes };
    this.onEnd(f);
    return f;
  }
}

/**
 * A zip entry for fflate's streaming Zip whose DEFLATE runs in Node's zlib instead of fflate's JavaScript
 * deflater. An entry that ends before its first 1 MiB (most files) is compressed
 * in one synchronous call, with no stream and no zlib state left for the garbage collector; a bigger one
 * streams through a zlib DeflateRaw, which works in libuv's thread pool while the export builds the next
 * chunk on the JavaScript thread. fflate's Zip writes the headers, data descriptor (CRC-32 and sizes
 * computed here) and central directory as for its own ZipDeflate.
 */
class NativeDeflateInput implements ZipInputFile {
  readonly compression = 8;
  readonly flag = 0;
  crc = 0;
  size = 0;
  ondata!: ZipInputFile['ondata'];
  /** Resolves when the compressed data has all been handed to the zip. */
  finished: Promise<void> = Promise.resolve();
  private z: DeflateRaw | null = null;

  constructor(
    readonly filename: string,
    private readonly level: number,
    readonly mtime: Date,
    private readonly onError: (err: Error) => void,
  ) {}

  // Set by Zip.add before any data can arrive.
  private emit(data: Uint8Array, final: boolean): void {
    (this.ondata as (err: null, data: Uint8Array, final: boolean) => void)(null, data, final);
  }

  private stream(): DeflateRaw {
    if (this.z) return this.z;
    const z = (this.z = createDeflateRaw({ level: this.level, writableHighWaterMark: 4 << 20 } as Parameters<typeof createDeflateRaw>[0]));
    this.finished = new Promise<void>((resolve) => {
      z.on('data', (chunk: Buffer) => this.emit(chunk, false));
      z.on('end', () => {
        this.emit(new Uint8Array(0), true);
        resolve();
      });
      z.on('error', (err: Error) => {
        this.onError(err);
        resolve();
      });
    });
    return z;
  }

  push(chunk: Buffer): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    this.stream().write(chunk);
  }

  /** Whether the entry is being streamed through zlib (its chunks must not be reused). */
  get streaming(): boolean {
    return this.z !== null;
  }

  /** The last chunk (or null), then the end of the entry. */
  end(last: Buffer | null): void {
    if (last?.length) {
      this.crc = crc32(last, this.crc);
      this.size += last.length;
    } else last = null;
    if (this.z) {
      this.z.end(last ?? undefined);
      return;
    }
    this.emit(deflateRawSync(last ?? Buffer.alloc(0), { level: this.level }), true);
  }

  get needsDrain(): boolean {
    return this.z?.writableNeedDrain ?? false;
  }

  drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.z?.writableNeedDrain) return resolve();
      this.z.once('drain', () => resolve());
    });
  }

  terminate(): void {
    this.z?.destroy();
  }
}

/** A zip entry whose raw DEFLATE data was made elsewhere (a spool): handed to fflate's Zip as it is. */
class CompressedInput implements ZipInputFile {
  readonly compression = 8;
  readonly flag = 0;
  ondata!: ZipInputFile['ondata'];
  readonly finished: Promise<void> = Promise.resolve();

  constructor(
    readonly filename: string,
    readonly mtime: Date,
    readonly crc: number,
    readonly size: number,
  ) {}

  push(chunk: Uint8Array): void {
    (this.ondata as (err: null, data: Uint8Array, final: boolean) => void)(null, chunk, false);
  }

  end(): void {
    (this.ondata as (err: null, data: Uint8Array, final: boolean) => void)(null, new Uint8Array(0), true);
  }
}
