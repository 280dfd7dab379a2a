import { createHash, type Hash } from 'node:crypto';
import { closeSync, createWriteStream, openSync, rmSync, write as writeAt, type WriteStream } from 'node:fs';
import { createDeflateRaw, crc32, deflateRawSync, type DeflateRaw } from 'node:zlib';
import { Utf8Chunks } from './utf8-chunks';
import { ZipWriter, type KnownSizes } from './zip-writer';

/** A file written into the pack: its path in the zip, SHA-256 (hex) and size of its content. */
export interface PackedFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface PackWriterOptions {
  level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Modification time of every entry. */
  mtime: Date;
  /** Write every ZIP64 structure even when nothing needs it (tests of the over-4-GiB paths; see ZipWriter). */
  forceZip64?: boolean;
}

/** Text is gathered (as UTF-8) up to this size before it is hashed and handed to the compressor. */
const FLUSH_BYTES = 1 << 20;
/** Compressed output of later entries held in memory while an earlier one finishes, before `drained()` waits. */
const MAX_HELD_BYTES = 16 << 20;

/**
 * Streams a zip (our ZipWriter: ZIP64 wherever needed) to a file, one entry at a time, hashing each
 * entry's content (SHA-256) as it goes. Nothing but the current chunk is held in memory: callers write
 * text pieces and await `drained()` between pages so the file stream's buffer stays bounded.
 *
 * An entry ends before its compressor has given back all its data; the next one may start at once. The
 * zip is written in entry order, so a later entry's compressed data waits (in memory, bounded by
 * `drained()`) until the entries before it are written.
 */
export class PackWriter {
  private readonly zip: ZipWriter;
  private readonly out: WriteStream;
  private readonly files: PackedFile[] = [];
  private failure: Error | null = null;
  private open: PackEntry | null = null;
  private finished: Promise<void> | null = null;
  /** Entries not all written into the zip yet, in zip order; only the first one writes. */
  private readonly pending: EntryOutput[] = [];
  private held = 0;
  /** Streamed entries' CRC-32 and sizes, written into their local headers once the rest is on disk. */
  private readonly patches: { position: number; bytes: Buffer }[] = [];
  private fd: number | null;
  /** Text of the open entry, gathered as UTF-8 (one entry is open at a time). */
  private readonly text = new Utf8Chunks(FLUSH_BYTES, (chunk) => this.open!.chunk(chunk));

  constructor(
    private readonly file: string,
    private readonly opts: PackWriterOptions,
  ) {
    // 'wx': never overwrite a file someone else put there (an existing file throws here, and stays);
    // 0600: a pack is as sensitive as the store. The file descriptor stays open after the stream ends, for the
    // patches. Deep buffers (bounded: a few MiB) let the JavaScript thread build the next rows while zlib
    // and the disk work in the thread pool, instead of waiting for every chunk.
    this.fd = openSync(file, 'wx', 0o600);
    this.out = createWriteStream('', { fd: this.fd, autoClose: false, highWaterMark: 4 << 20 });
    this.out.on('error', (err) => this.fail(err));
    this.zip = new ZipWriter(
      (chunk) => this.out.write(chunk),
      (position, bytes) => this.patches.push({ position, bytes }),
      { forceZip64: opts.forceZip64 },
    );
  }

  /** Every entry written so far, in zip order. */
  get written(): readonly PackedFile[] {
    return this.files;
  }

  /** Start the next entry; the previous one must be ended first. */
  entry(path: string): PackEntry {
    this.check();
    if (this.open) throw new Error(`${this.open.path} is still being written`);
    const input = new NativeDeflateInput(path, this.opts.level ?? 6, this);
    this.pending.push(input);
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
   * Copy an entry compressed ahead of time (raw DEFLATE, with its CRC-32, size, compressed size and
   * SHA-256 known) into the zip as it is: no second compression, no second hash.
   */
  async addCompressed(path: string, e: { crc: number; bytes: number; compressedBytes: number; sha256: string }, data: AsyncIterable<Uint8Array>): Promise<PackedFile> {
    this.check();
    if (this.open) throw new Error(`${this.open.path} is still being written`);
    const output = new EntryOutput(path);
    output.known = { crc: e.crc, size: e.bytes, compressedSize: e.compressedBytes };
    this.pending.push(output);
    for await (const chunk of data) {
      this.data(output, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (this.out.writableNeedDrain || this.held > MAX_HELD_BYTES) await this.drained();
    }
    this.ended(output);
    this.check();
    const f = { path, sha256: e.sha256, bytes: e.bytes };
    this.files.push(f);
    return f;
  }

  /** Compressed data of an entry: written now when the entries before it are, held until then otherwise. */
  data(output: EntryOutput, chunk: Buffer): void {
    output.chunks.push(chunk);
    if (output !== this.pending[0]) this.held += chunk.length;
    else this.pump();
  }

  /** All of an entry's compressed data has been given (and, for a streamed one, its CRC-32 and size are final). */
  ended(output: EntryOutput): void {
    output.ended = true;
    this.pump();
  }

  /** Write what can be written, in zip order. */
  private pump(): void {
    if (this.failure) return;
    try {
      while (this.pending.length) {
        const o = this.pending[0];
        if (!o.begun) {
          // Sizes known up front (one-piece compression, a spool) go into the local header at once; those
          // of an entry that streams through zlib are patched in by `finish`. An entry that is neither yet
          // has given no data.
          if (!o.known && !o.streaming) return;
          this.zip.begin(o.path, this.opts.mtime, o.known ?? undefined);
          o.begun = true;
        }
        for (const c of o.chunks) this.zip.data(c);
        o.chunks.length = 0;
        if (!o.ended) return;
        this.zip.end(o.known ? undefined : { crc: o.crc, size: o.size });
        this.pending.shift();
        const next = this.pending[0];
        if (next) for (const c of next.chunks) this.held -= c.length;
        o.done();
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Record the first failure; nothing more is written and no one waits for an entry any more. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const o of this.pending) o.done();
  }

  /** Resolves when the compressor and the output stream can take more (call between pages). */
  async drained(): Promise<void> {
    this.check();
    const input = this.open?.input;
    if (input?.needsDrain) await input.drained();
    // Later entries' data piles up in memory while an earlier one's compressor finishes: bound it.
    while (this.held > MAX_HELD_BYTES && this.pending.length && !this.failure) await this.pending[0].finished;
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()).once('error', () => resolve()));
    this.check();
  }

  /** End the archive (central directory, end records) and wait until the file is on disk. */
  finish(): Promise<void> {
    this.finished ??= (async () => {
      this.check();
      if (this.open) throw new Error(`${this.open.path} was not ended`);
      await this.pending[this.pending.length - 1]?.finished;
      this.check();
      this.zip.finish();
      await new Promise<void>((resolve, reject) => {
        this.out.once('error', reject);
        this.out.end(() => resolve());
      });
      this.check();
      for (const p of this.patches) {
        await new Promise<void>((resolve, reject) => writeAt(this.fd!, p.bytes, 0, p.bytes.length, p.position, (err) => (err ? reject(err) : resolve())));
      }
      const fd = this.fd!;
      this.fd = null;
      closeSync(fd);
    })();
    return this.finished;
  }

  /** Stop and remove the partial file (after a failure). */
  abort(): void {
    for (const o of this.pending.splice(0)) {
      o.terminate();
      o.done();
    }
    this.out.destroy();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
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

/** The compressed data of one entry on its way into the zip, and what its headers need. */
class EntryOutput {
  /** CRC-32 and uncompressed size (of a streamed entry, final once it has ended). */
  crc = 0;
  size = 0;
  /** Sizes known before the data is written (else they are patched into the local header at the end). */
  known: KnownSizes | null = null;
  /** Compressed chunks not written into the zip yet. */
  readonly chunks: Buffer[] = [];
  begun = false;
  ended = false;
  /** Resolves when the whole entry is in the zip (or the export was aborted). */
  readonly finished: Promise<void>;
  done!: () => void;

  constructor(readonly path: string) {
    this.finished = new Promise<void>((resolve) => (this.done = resolve));
  }

  /** Whether the entry streams through zlib (its sizes are known only at its end). */
  get streaming(): boolean {
    return false;
  }

  terminate(): void {}
}

/**
 * An entry DEFLATEd by Node's zlib. An entry that ends before its first 1 MiB (most files) is compressed
 * in one synchronous call, with no stream and no zlib state left for the garbage collector, and gets its
 * sizes in its local header at once; a bigger one streams through a zlib DeflateRaw, which works in
 * libuv's thread pool while the export builds the next chunk on the JavaScript thread, and gets its
 * CRC-32 and sizes (computed here) patched into its local header at the end.
 */
class NativeDeflateInput extends EntryOutput {
  private z: DeflateRaw | null = null;

  constructor(
    path: string,
    private readonly level: number,
    private readonly writer: PackWriter,
  ) {
    super(path);
  }

  private stream(): DeflateRaw {
    if (this.z) return this.z;
    const z = (this.z = createDeflateRaw({ level: this.level, writableHighWaterMark: 4 << 20 } as Parameters<typeof createDeflateRaw>[0]));
    z.on('data', (chunk: Buffer) => this.writer.data(this, chunk));
    z.on('end', () => this.writer.ended(this));
    z.on('error', (err: Error) => this.writer.fail(err));
    return z;
  }

  push(chunk: Buffer): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    this.stream().write(chunk);
  }

  /** Whether the entry is being streamed through zlib (its chunks must not be reused). */
  override get streaming(): boolean {
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
    const data = deflateRawSync(last ?? Buffer.alloc(0), { level: this.level });
    this.known = { crc: this.crc, size: this.size, compressedSize: data.length };
    this.writer.data(this, data);
    this.writer.ended(this);
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

  override terminate(): void {
    this.z?.destroy();
  }
}
