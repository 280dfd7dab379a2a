/**
 * The ZIP container (PKWARE APPNOTE 6.3.x) around entries compressed elsewhere: local headers, the
 * central directory and the end records, with ZIP64 wherever a count, size or offset
 * doesn't fit its classic field. Synchronous and sequential: bytes go to `sink` in archive order, one
 * entry at a time; only the central directory's records (a few dozen bytes per entry) are kept until
 * `finish`.
 *
 * Every entry has its CRC-32 and sizes in its local header, and no data descriptor. An entry whose sizes
 * are known when it starts (compressed in one piece, or ahead of time) gets them there at once, with a
 * ZIP64 extra field only when one is 4 GiB or more. An entry streamed while it is compressed gets a ZIP64
 * extra field in its local header (so it may grow past 4 GiB) with the sizes left blank, and `patch` is
 * called when it ends with the bytes to write over them: the archive is only valid once every patch is
 * applied (the output must be a file). Why not a data descriptor (bit 3): with a ZIP64 extra field its
 * sizes must be 8 bytes long, and streaming readers such as Java's ZipInputStream (before JDK 21) then
 * misread every small entry; without one, an entry can't pass 4 GiB.
 *
 * The central directory carries a ZIP64 extra field for each entry whose size, compressed size or local
 * header offset is 0xFFFFFFFF or more; the ZIP64 end of central directory record and its locator are
 * written when there are 65,535 entries or more, or the directory's size or offset overflows.
 */

/** Sizes of an entry known before its data is written. */
export interface KnownSizes {
  /** CRC-32 of the uncompressed content. */
  crc: number;
  /** Uncompressed size. */
  size: number;
  /** Size of the compressed data that follows the local header. */
  compressedSize: number;
}

export interface ZipWriterOptions {
  /**
   * Write every ZIP64 structure whatever the sizes (a ZIP64 extra field in every local header and central
   * directory entry, the ZIP64 end records): what an archive over 4 GiB or 65,535 entries holds, without
   * writing one. For tests.
   */
  forceZip64?: boolean;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const EOCD_SIG = 0x06054b50;
/** Header id of the ZIP64 extended information extra field. */
const ZIP64_EXTRA = 0x0001;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
/** General purpose flag bit 11: the name is UTF-8. */
const FLAG_UTF8 = 0x0800;
/** Version needed to extract: 2.0 (deflate), 4.5 (ZIP64). Version made by: MS-DOS host, so no Unix modes. */
const VERSION_DEFLATE = 20;
const VERSION_ZIP64 = 45;
/** The central directory is handed to the sink in pieces of about this size. */
const DIRECTORY_CHUNK = 1 << 20;

interface CentralRecord {
  name: Buffer;
  flags: number;
  version: number;
  method: number;
  dosTime: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

interface OpenEntry {
  record: CentralRecord;
  /** Sizes were given up front: the data written must match them. */
  known: boolean;
  written: number;
}

/** Bytes to write at a position of the archive written earlier (a streamed entry's CRC-32 and sizes). */
export type ZipPatch = (position: number, bytes: Buffer) => void;

/** Write a number up to 2^53 as an unsigned 64-bit little-endian integer. */
function writeU64(buf: Buffer, n: number, at: number): void {
  buf.writeUInt32LE(n % 0x1_0000_0000, at);
  buf.writeUInt32LE(Math.floor(n / 0x1_0000_0000), at + 4);
}

/** MS-DOS date and time (local time, 2-second resolution), as zip tools show it; clamped to 1980-2107. */
function dosDateTime(d: Date): number {
  const year = d.getFullYear();
  if (year < 1980) return (1 << 21) | (1 << 16);
  if (year > 2107) return (127 << 25) | (12 << 21) | (31 << 16) | (23 << 11) | (59 << 5) | 29;
  return (((year - 1980) << 25) | ((d.getMonth() + 1) << 21) | (d.getDate() << 16) | (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1)) >>> 0;
}

/** Writes a zip archive to a sink, entry after entry (see the file comment for the format choices). */
export class ZipWriter {
  private pos = 0;
  private readonly records: CentralRecord[] = [];
  private cur: OpenEntry | null = null;
  private finished = false;
  private lastTime: { ms: number; dos: number } = { ms: NaN, dos: 0 };

  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private readonly patch: ZipPatch,
    private readonly opts: ZipWriterOptions = {},
  ) {}

  /** Bytes handed to the sink so far. */
  get bytesWritten(): number {
    return this.pos;
  }

  /** Entries begun so far. */
  get entryCount(): number {
    return this.records.length;
  }

  private emit(chunk: Buffer): void {
    this.pos += chunk.length;
    this.sink(chunk);
  }

  private dos(mtime: Date): number {
    const ms = mtime.getTime();
    if (ms !== this.lastTime.ms) this.lastTime = { ms, dos: dosDateTime(mtime) };
    return this.lastTime.dos;
  }

  /**
   * Start an entry: its local header. With `known` sizes they go into the header; without, the entry is
   * streamed, `end` gets its CRC-32 and size and they are patched into the header.
   * `method` is 8 (DEFLATE, the default) or 0 (stored).
   */
  begin(name: string, mtime: Date, known?: KnownSizes, method: 0 | 8 = 8): void {
    if (this.finished) throw new Error('the zip is finished');
    if (this.cur) throw new Error(`${this.cur.record.name.toString('utf8')} is still being written`);
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length > MAX16) throw new Error(`zip entry name too long: ${name.slice(0, 80)}…`);
    const force = this.opts.forceZip64 === true;
    // A streamed entry always gets the ZIP64 extra field: its sizes are not known until its end, and the
    // local header can't grow afterwards.
    const zip64 = !known || force || known.size >= MAX32 || known.compressedSize >= MAX32;
    const flags = nameBytes.length !== name.length ? FLAG_UTF8 : 0;
    const record: CentralRecord = {
      name: nameBytes,
      flags,
      version: zip64 ? VERSION_ZIP64 : VERSION_DEFLATE,
      method,
      dosTime: this.dos(mtime),
      crc: known ? known.crc >>> 0 : 0,
      compressedSize: known?.compressedSize ?? 0,
      size: known?.size ?? 0,
      offset: this.pos,
    };
    const h = Buffer.alloc(30 + nameBytes.length + (zip64 ? 20 : 0));
    h.writeUInt32LE(LOCAL_SIG, 0);
    h.writeUInt16LE(record.version, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt32LE(record.dosTime, 10);
    h.writeUInt32LE(record.crc, 14);
    h.writeUInt32LE(zip64 ? MAX32 : record.compressedSize, 18);
    h.writeUInt32LE(zip64 ? MAX32 : record.size, 22);
    h.writeUInt16LE(nameBytes.length, 26);
    h.writeUInt16LE(zip64 ? 20 : 0, 28);
    nameBytes.copy(h, 30);
    if (zip64) {
      // In a local header the ZIP64 extra field holds both sizes, in this order (APPNOTE 4.5.3).
      const x = 30 + nameBytes.length;
      h.writeUInt16LE(ZIP64_EXTRA, x);
      h.writeUInt16LE(16, x + 2);
      writeU64(h, record.size, x + 4);
      writeU64(h, record.compressedSize, x + 12);
    }
    this.records.push(record);
    this.cur = { record, known: known !== undefined, written: 0 };
    this.emit(h);
  }

  /** Compressed (or stored) data of the current entry. */
  data(chunk: Buffer): void {
    if (!this.cur) throw new Error('no zip entry is open');
    this.cur.written += chunk.length;
    if (chunk.length) this.emit(chunk);
  }

  /** End the current entry; a streamed one needs its CRC-32 and uncompressed size (patched into its local header). */
  end(result?: { crc: number; size: number }): void {
    const c = this.cur;
    if (!c) throw new Error('no zip entry is open');
    const r = c.record;
    this.cur = null;
    if (c.known) {
      if (c.written !== r.compressedSize) throw new Error(`${r.name.toString('utf8')}: ${c.written} bytes written, ${r.compressedSize} announced`);
      return;
    }
    if (!result) throw new Error(`${r.name.toString('utf8')}: a streamed entry ends with its CRC-32 and size`);
    r.crc = result.crc >>> 0;
    r.size = result.size;
    r.compressedSize = c.written;
    // The local header from its CRC-32 field to the end of its ZIP64 extra field: CRC-32, both 32-bit size
    // fields at 0xFFFFFFFF (the sizes are in the extra field), name length, extra length, name, extra.
    const p = Buffer.alloc(16 + r.name.length + 20);
    p.writeUInt32LE(r.crc, 0);
    p.writeUInt32LE(MAX32, 4);
    p.writeUInt32LE(MAX32, 8);
    p.writeUInt16LE(r.name.length, 12);
    p.writeUInt16LE(20, 14);
    r.name.copy(p, 16);
    const x = 16 + r.name.length;
    p.writeUInt16LE(ZIP64_EXTRA, x);
    p.writeUInt16LE(16, x + 2);
    writeU64(p, r.size, x + 4);
    writeU64(p, r.compressedSize, x + 12);
    this.patch(r.offset + 14, p);
  }

  /** Write the central directory and the end records. */
  finish(): void {
    if (this.cur) throw new Error(`${this.cur.record.name.toString('utf8')} was not ended`);
    if (this.finished) return;
    this.finished = true;
    const force = this.opts.forceZip64 === true;
    const dirOffset = this.pos;
    let chunk = Buffer.allocUnsafe(DIRECTORY_CHUNK);
    let used = 0;
    for (const r of this.records) {
      const bigSize = force || r.size >= MAX32;
      const bigCompressed = force || r.compressedSize >= MAX32;
      const bigOffset = force || r.offset >= MAX32;
      // In the central directory the extra field holds only the fields that overflowed, in this order.
      const extraData = 8 * (+bigSize + +bigCompressed + +bigOffset);
      const extraLen = extraData ? 4 + extraData : 0;
      const len = 46 + r.name.length + extraLen;
      if (used + len > chunk.length) {
        if (used) this.emit(chunk.subarray(0, used));
        chunk = Buffer.allocUnsafe(Math.max(DIRECTORY_CHUNK, len));
        used = 0;
      }
      const h = chunk.subarray(used, used + len).fill(0);
      h.writeUInt32LE(CENTRAL_SIG, 0);
      h.writeUInt16LE(extraData ? VERSION_ZIP64 : r.version, 4);
      h.writeUInt16LE(extraData ? VERSION_ZIP64 : r.version, 6);
      h.writeUInt16LE(r.flags, 8);
      h.writeUInt16LE(r.method, 10);
      h.writeUInt32LE(r.dosTime, 12);
      h.writeUInt32LE(r.crc, 16);
      h.writeUInt32LE(bigCompressed ? MAX32 : r.compressedSize, 20);
      h.writeUInt32LE(bigSize ? MAX32 : r.size, 24);
      h.writeUInt16LE(r.name.length, 28);
      h.writeUInt16LE(extraLen, 30);
      // comment length, disk number start, internal and external attributes: 0
      h.writeUInt32LE(bigOffset ? MAX32 : r.offset, 42);
      r.name.copy(h, 46);
      if (extraData) {
        let x = 46 + r.name.length;
        h.writeUInt16LE(ZIP64_EXTRA, x);
        h.writeUInt16LE(extraData, x + 2);
        x += 4;
        if (bigSize) writeU64(h, r.size, (x += 8) - 8);
        if (bigCompressed) writeU64(h, r.compressedSize, (x += 8) - 8);
        if (bigOffset) writeU64(h, r.offset, x);
      }
      used += len;
    }
    const count = this.records.length;
    const dirSize = this.pos + used - dirOffset;
    const zip64 = force || count >= MAX16 || dirSize >= MAX32 || dirOffset >= MAX32;
    const endLen = (zip64 ? 56 + 20 : 0) + 22;
    if (used + endLen > chunk.length) {
      this.emit(chunk.subarray(0, used));
      chunk = Buffer.allocUnsafe(endLen);
      used = 0;
    }
    const end = chunk.subarray(used, used + endLen).fill(0);
    let e = 0;
    if (zip64) {
      const recordOffset = dirOffset + dirSize;
      end.writeUInt32LE(ZIP64_EOCD_SIG, 0);
      writeU64(end, 44, 4); // size of the rest of this record
      end.writeUInt16LE(VERSION_ZIP64, 12);
      end.writeUInt16LE(VERSION_ZIP64, 14);
      // number of this disk, of the disk with the directory: 0
      writeU64(end, count, 24);
      writeU64(end, count, 32);
      writeU64(end, dirSize, 40);
      writeU64(end, dirOffset, 48);
      end.writeUInt32LE(ZIP64_LOCATOR_SIG, 56);
      // disk with the ZIP64 end record: 0
      writeU64(end, recordOffset, 64);
      end.writeUInt32LE(1, 72); // total number of disks
      e = 76;
    }
    end.writeUInt32LE(EOCD_SIG, e);
    const n16 = force || count >= MAX16 ? MAX16 : count;
    end.writeUInt16LE(n16, e + 8);
    end.writeUInt16LE(n16, e + 10);
    end.writeUInt32LE(force || dirSize >= MAX32 ? MAX32 : dirSize, e + 12);
    end.writeUInt32LE(force || dirOffset >= MAX32 ? MAX32 : dirOffset, e + 16);
    this.emit(chunk.subarray(0, used + endLen));
    this.records.length = 0;
  }
}
