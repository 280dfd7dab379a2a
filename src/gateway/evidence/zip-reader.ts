import { createReadStream, promises as fs } from 'node:fs';
import { createInflateRaw, inflateRawSync } from 'node:zlib';

/** One entry of a zip's central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

/** A zip that can't be read; the message says why. */
export class ZipFormatError extends Error {}

/**
 * Read a zip's central directory (the authoritative list of its files) without loading the archive:
 * the end record is found in the last 64 KiB, then the directory is read in one piece. ZIP64 archives
 * (over 4 GiB or 65,535 files) are refused with a clear error; evidence packs are written without it.
 */
export async function readZipDirectory(file: string): Promise<ZipEntry[]> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) === tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError('not a zip archive (no end of central directory record)');
    const count = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) throw new ZipFormatError('ZIP64 archives are not supported');
    if (dirOffset + dirSize > size) throw new ZipFormatError('the central directory lies outside the file (truncated?)');
    const dir = Buffer.alloc(dirSize);
    await fh.read(dir, 0, dirSize, dirOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipFormatError(`central directory entry ${i + 1} is damaged`);
      const nameLen = dir.readUInt16LE(p + 28);
      const extraLen = dir.readUInt16LE(p + 30);
      const commentLen = dir.readUInt16LE(p + 32);
      const e: ZipEntry = {
        method: dir.readUInt16LE(p + 10),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
        name: dir.toString('utf8', p + 46, p + 46 + nameLen),
      };
      if (e.compressedSize === 0xffffffff || e.size === 0xffffffff || e.localHeaderOffset === 0xffffffff) throw new ZipFormatError('ZIP64 archives are not supported');
      entries.push(e);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Entries up to this compressed size are read in one piece and inflated synchronously. */
const SMALL_ENTRY = 1 << 20;
/** Small entries and local headers are served from windows of the file this big (a pack's entries are read in order). */
const READ_WINDOW = 4 << 20;

/**
 * An open zip: its directory and its entries' contents. Local headers and small entries are read from a
 * window of the file (a pack has an entry per recorded session, thousands of them, read one after
 * another: one read per window instead of three per entry); big ones are streamed through zlib.
 */
export class ZipFile {
  private window: Buffer | null = null;
  private windowStart = 0;

  private constructor(
    private readonly file: string,
    private readonly fh: fs.FileHandle,
    private readonly size: number,
    readonly entries: ZipEntry[],
  ) {}

  static async open(file: string): Promise<ZipFile> {
    const entries = await readZipDirectory(file);
    const fh = await fs.open(file, 'r');
    try {
      return new ZipFile(file, fh, (await fh.stat()).size, entries);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** `length` bytes at `pos` (fewer at the end of the file), from the window when it holds them. */
  private async bytes(pos: number, length: number): Promise<Buffer> {
    const w = this.window;
    if (w && pos >= this.windowStart && pos + length <= this.windowStart + w.length) return w.subarray(pos - this.windowStart, pos - this.windowStart + length);
    if (length > READ_WINDOW / 2) {
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.size - pos)));
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, pos);
      return buf.subarray(0, bytesRead);
    }
    // A fresh buffer per window: what was handed out of the last one may still be in use.
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(READ_WINDOW, this.size - pos)));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, pos);
    this.window = buf.subarray(0, bytesRead);
    this.windowStart = pos;
    return this.window.subarray(0, Math.min(length, bytesRead));
  }

  /** The content of one entry, chunk by chunk. The local header must name the same file as the directory. */
  async *read(entry: ZipEntry): AsyncGenerator<Buffer> {
    if (entry.method !== 0 && entry.method !== 8) throw new ZipFormatError(`${entry.name}: unsupported compression method ${entry.method}`);
    const local = await this.bytes(entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG) throw new ZipFormatError(`${entry.name}: local file header is damaged`);
    const nameLen = local.readUInt16LE(26);
    const extraLen = local.readUInt16LE(28);
    const name = await this.bytes(entry.localHeaderOffset + 30, nameLen);
    if (name.toString('utf8') !== entry.name) throw new ZipFormatError(`${entry.name}: local file header names another file`);
    const start = entry.localHeaderOffset + 30 + nameLen + extraLen;
    if (entry.compressedSize <= SMALL_ENTRY) {
      const raw = await this.bytes(start, entry.compressedSize);
      if (raw.length !== entry.compressedSize) throw new ZipFormatError(`${entry.name}: truncated`);
      yield entry.method === 0 ? raw : inflateRawSync(raw);
      return;
    }
    const raw = createReadStream(this.file, { start, end: start + entry.compressedSize - 1, highWaterMark: 1 << 20 });
    if (entry.method === 0) {
      yield* raw as AsyncIterable<Buffer>;
      return;
    }
    // Big output chunks: fewer hash, line-split and stream callbacks per megabyte.
    const inflate = createInflateRaw({ chunkSize: 1 << 20 });
    raw.on('error', (err: Error) => inflate.destroy(err));
    yield* raw.pipe(inflate) as AsyncIterable<Buffer>;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
