import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { createDeflateRaw, crc32, deflateRawSync, type DeflateRaw } from 'node:zlib';
import { Zip, type ZipInputFile } from 'fflate';

/** A file written into the pack: its path in the zip, SHA-256 (hex) and size of its content. */
export interface PackedFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** Text is gathered up to this size before it is hashed and handed to the compressor. */
const FLUSH_BYTES = 256 * 1024;

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
  private lastInput: NativeDeflateInput | null = null;

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
    const entry = new PackEntry(path, input, (f) => {
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
  private parts: (string | Uint8Array)[] = [];
  private pending = 0;
  private bytes = 0;

  constructor(
    readonly path: string,
    readonly input: NativeDeflateInput,
    private readonly onEnd: (f: PackedFile) => void,
  ) {}

  /** Append content (UTF-8 for text). */
  write(content: string | Uint8Array): void {
    this.parts.push(content);
    this.pending += content.length;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }

  /** Finish the entry; returns its hash and size. */
  end(): PackedFile {
    this.input.end(this.flush(true));
    const f = { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes };
    this.onEnd(f);
    return f;
  }

  /** Hash the gathered content and hand it on; at the end, return it instead (the input ends with it). */
  private flush(final = false): Buffer | null {
    if (!this.parts.length) return null;
    const chunk = this.parts.every((p) => typeof p === 'string')
      ? Buffer.from(this.parts.join(''), 'utf8')
      : Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    this.parts = [];
    this.pending = 0;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (final) return chunk;
    this.input.push(chunk);
    return null;
  }
}

/**
 * A zip entry for fflate's streaming Zip whose DEFLATE runs in Node's zlib instead of fflate's JavaScript
 * deflater. An entry that ends before its first 256 KiB (a session's recording, most files) is compressed
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

  /** The last chunk (or null), then the end of the entry. */
  end(last: Buffer | null): void {
    if (last) {
      this.crc = crc32(last, this.crc);
      this.size += last.length;
    }
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
