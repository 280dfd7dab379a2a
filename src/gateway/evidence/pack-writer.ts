import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { Zip, ZipDeflate } from 'fflate';

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

  constructor(
    private readonly file: string,
    private readonly opts: { level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9; mtime: Date },
  ) {
    // 'wx': never overwrite a file someone else put there; 0600: a pack is as sensitive as the store.
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
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
    const deflate = new ZipDeflate(path, { level: this.opts.level ?? 6 });
    deflate.mtime = this.opts.mtime;
    this.zip.add(deflate);
    const entry = new PackEntry(path, deflate, (f) => {
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

  /** Resolves when the output stream can take more (call between pages). */
  async drained(): Promise<void> {
    this.check();
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()).once('error', () => resolve()));
    this.check();
  }

  /** End the archive (central directory) and wait until the file is on disk. */
  finish(): Promise<void> {
    this.finished ??= (async () => {
      this.check();
      if (this.open) throw new Error(`${this.open.path} was not ended`);
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

/** One entry being written: text or bytes in, hashed and deflated in chunks. */
export class PackEntry {
  private readonly hash: Hash = createHash('sha256');
  private parts: (string | Uint8Array)[] = [];
  private pending = 0;
  private bytes = 0;

  constructor(
    readonly path: string,
    private readonly deflate: ZipDeflate,
    private readonly onEnd: (f: PackedFile) => void,
  ) {}

  /** Append content (UTF-8 for text). */
  write(content: string | Uint8Array): void {
    this.parts.push(content);
    this.pending += content.length;
    if (this.pending >= FLUSH_BYTES) this.flush(false);
  }

  /** Finish the entry; returns its hash and size. */
  end(): PackedFile {
    this.flush(true);
    const f = { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes };
    this.onEnd(f);
    return f;
  }

  private flush(final: boolean): void {
    const chunk = this.parts.every((p) => typeof p === 'string')
      ? Buffer.from(this.parts.join(''), 'utf8')
      : Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    this.parts = [];
    this.pending = 0;
    if (chunk.length) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
    }
    if (chunk.length || final) this.deflate.push(chunk, final);
  }
}
