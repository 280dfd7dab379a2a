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
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Header id of the ZIP64 extended information extra field. */
const ZIP64_EXTRA = 0x0001;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

/** A zip that can't be read; the message says why. */
export class ZipFormatError extends Error {}

/** The central directory's place and size, from the end record(s). */
interface DirectoryBounds {
  count: number;
  dirOffset: number;
  dirSize: number;
  /** Where the end records begin: the directory must end at or before it. */
  endOffset: number;
}

/** An unsigned 64-bit little-endian integer; refused past 2^53 (no file that big). */
function readU64(buf: Buffer, at: number, what: string): number {
  const n = buf.readBigUInt64LE(at);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${what} is impossibly large (${n})`);
  return Number(n);
}

/**
 * Find the end of central directory record in the last 64 KiB and, when it points to them (a field at
 * its maximum, or a locator right before it), the ZIP64 end record and its locator. Every count, size and
 * offset must agree with the others and lie inside the file.
 */
async function readDirectoryBounds(fh: fs.FileHandle, size: number): Promise<DirectoryBounds> {
  const tailLen = Math.min(size, 22 + 20 + 0xffff);
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
  const eocdOffset = size - tailLen + eocd;
  const disk = tail.readUInt16LE(eocd + 4);
  const dirDisk = tail.readUInt16LE(eocd + 6);
  const diskCount = tail.readUInt16LE(eocd + 8);
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  const hasLocator = eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIG;
  const wantsZip64 = count === MAX16 || diskCount === MAX16 || dirSize === MAX32 || dirOffset === MAX32 || disk === MAX16 || dirDisk === MAX16;
  if (!hasLocator) {
    if (wantsZip64) throw new ZipFormatError('the end of central directory record points to ZIP64 records, but there is no ZIP64 end of central directory locator before it');
    if (disk !== 0 || dirDisk !== 0 || diskCount !== count) throw new ZipFormatError('multi-disk (split) archives are not supported');
    if (dirOffset + dirSize > eocdOffset) throw new ZipFormatError('the central directory lies outside the file (truncated?)');
    return { count, dirOffset, dirSize, endOffset: eocdOffset };
  }

  // ZIP64: the locator (20 bytes) right before the end record names the ZIP64 end record, which must end
  // where the locator begins.
  const loc = eocd - 20;
  const locatorOffset = eocdOffset - 20;
  const recordDisk = tail.readUInt32LE(loc + 4);
  const recordOffset = readU64(tail, loc + 8, 'the ZIP64 end of central directory locator\'s offset');
  const totalDisks = tail.readUInt32LE(loc + 16);
  if (recordDisk !== 0 || totalDisks !== 1) throw new ZipFormatError('the ZIP64 end of central directory locator is damaged or names several disks (split archives are not supported)');
  if (recordOffset + 56 > locatorOffset) throw new ZipFormatError(`the ZIP64 end of central directory locator points past the end of the archive (offset ${recordOffset})`);
  const rec = Buffer.alloc(56);
  await fh.read(rec, 0, 56, recordOffset);
  if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw new ZipFormatError(`no ZIP64 end of central directory record where the locator points (offset ${recordOffset})`);
  const recordSize = readU64(rec, 4, 'the ZIP64 end of central directory record\'s size');
  if (recordSize < 44 || recordOffset + 12 + recordSize !== locatorOffset) throw new ZipFormatError('the ZIP64 end of central directory record is damaged (its size does not reach its locator)');
  const count64 = readU64(rec, 32, 'the ZIP64 entry count');
  const dirSize64 = readU64(rec, 40, 'the ZIP64 central directory size');
  const dirOffset64 = readU64(rec, 48, 'the ZIP64 central directory offset');
  if (rec.readUInt32LE(16) !== 0 || rec.readUInt32LE(20) !== 0 || readU64(rec, 24, 'the ZIP64 entry count on this disk') !== count64) {
    throw new ZipFormatError('the ZIP64 end of central directory record is damaged or names several disks (split archives are not supported)');
  }
  // Fields of the classic record that are not at their maximum must say the same as the ZIP64 record.
  const disagree = (classic: number, max: number, real: number) => classic !== max && classic !== real;
  if (disagree(count, MAX16, count64) || disagree(diskCount, MAX16, count64)) throw new ZipFormatError(`the end records disagree on the number of entries (${count} and ${count64})`);
  if (disagree(dirSize, MAX32, dirSize64) || disagree(dirOffset, MAX32, dirOffset64)) throw new ZipFormatError('the end records disagree on where the central directory is');
  if (disagree(disk, MAX16, 0) || disagree(dirDisk, MAX16, 0)) throw new ZipFormatError('multi-disk (split) archives are not supported');
  if (dirOffset64 + dirSize64 > recordOffset) throw new ZipFormatError('the central directory lies outside the file (truncated?)');
  return { count: count64, dirOffset: dirOffset64, dirSize: dirSize64, endOffset: recordOffset };
}

/**
 * Read a zip's central directory (the authoritative list of its files) without loading the archive:
 * the end record is found in the last 64 KiB, then the directory is read in one piece. ZIP64 (archives
 * over 4 GiB or 65,535 entries, entries over 4 GiB) is read: the ZIP64 end record and locator, and the
 * ZIP64 extra field of each entry. A damaged or inconsistent archive (end records that disagree, a
 * directory with more or fewer entries than counted, data said to lie past the directory) is refused
 * with a ZipFormatError saying what is wrong.
 */
export async function readZipDirectory(file: string): Promise<ZipEntry[]> {
  const fh = await fs.open(file, 'r');
  try {
    return (await readDirectory(fh)).entries;
  } finally {
    await fh.close();
  }
}

async function readDirectory(fh: fs.FileHandle): Promise<{ entries: ZipEntry[]; dirOffset: number }> {
  const { size } = await fh.stat();
  const { count, dirOffset, dirSize } = await readDirectoryBounds(fh, size);
  const dir = Buffer.alloc(dirSize);
  await fh.read(dir, 0, dirSize, dirOffset);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipFormatError(`central directory entry ${i + 1} is damaged`);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > dir.length) throw new ZipFormatError(`central directory entry ${i + 1} is damaged (it runs past the directory)`);
    const e: ZipEntry = {
      method: dir.readUInt16LE(p + 10),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
      name: dir.toString('utf8', p + 46, p + 46 + nameLen),
    };
    if (e.size === MAX32 || e.compressedSize === MAX32 || e.localHeaderOffset === MAX32) readZip64Extra(dir, p + 46 + nameLen, extraLen, e);
    if (e.localHeaderOffset + 30 + nameLen + e.compressedSize > dirOffset) throw new ZipFormatError(`${e.name}: its data is said to lie past the central directory (damaged directory entry)`);
    entries.push(e);
    p = next;
  }
  if (p !== dir.length) throw new ZipFormatError(`the central directory holds more than the ${count} entries its end record counts`);
  return { entries, dirOffset };
}

/** Replace an entry's fields that are at their maximum with the 8-byte values of its ZIP64 extra field. */
function readZip64Extra(dir: Buffer, start: number, length: number, e: ZipEntry): void {
  for (let x = start; x < start + length; ) {
    if (x + 4 > start + length) break;
    const id = dir.readUInt16LE(x);
    const len = dir.readUInt16LE(x + 2);
    if (x + 4 + len > start + length) break;
    if (id === ZIP64_EXTRA) {
      // Only the fields at their maximum are there, in this order (APPNOTE 4.5.3).
      const need = +(e.size === MAX32) + +(e.compressedSize === MAX32) + +(e.localHeaderOffset === MAX32);
      if (len < 8 * need) throw new ZipFormatError(`${e.name}: its ZIP64 extra field is too short`);
      let at = x + 4;
      const next = (what: string) => readU64(dir, (at += 8) - 8, `${e.name}: ZIP64 ${what}`);
      if (e.size === MAX32) e.size = next('size');
      if (e.compressedSize === MAX32) e.compressedSize = next('compressed size');
      if (e.localHeaderOffset === MAX32) e.localHeaderOffset = next('local header offset');
      return;
    }
    x += 4 + len;
  }
  throw new ZipFormatError(`${e.name}: its sizes or offset are ZIP64, but it has no valid ZIP64 extra field`);
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
    /** Where the central directory begins: every entry's data lies before it. */
    private readonly dirOffset: number,
  ) {}

  static async open(file: string): Promise<ZipFile> {
    const fh = await fs.open(file, 'r');
    try {
      const { entries, dirOffset } = await readDirectory(fh);
      return new ZipFile(file, fh, (await fh.stat()).size, entries, dirOffset);
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
    if (start + entry.compressedSize > this.dirOffset) throw new ZipFormatError(`${entry.name}: its data runs into the central directory (damaged local header or sizes)`);
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
