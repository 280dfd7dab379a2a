import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { strToU8, Zip, ZipDeflate } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PackWriter } from '../../src/gateway/evidence/pack-writer';
import { DeflateSpool } from '../../src/gateway/evidence/spool';
import { readZipDirectory, ZipFile, ZipFormatError } from '../../src/gateway/evidence/zip-reader';
import { ZipWriter } from '../../src/gateway/evidence/zip-writer';

/**
 * ZIP64 in evidence packs: more than 65,535 entries, entries and offsets past 4 GiB (a sparse file), and
 * every ZIP64 structure forced on a small archive; each archive read back by our reader and by two
 * independent tools (Python's zipfile and Info-ZIP's unzip, both ZIP64-capable); damaged ZIP64 records
 * refused with a message saying what is wrong.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gh-zip64-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAX32 = 0xffffffff;

/** `python3 -m zipfile -t` (reads every entry, checks its CRC) and `unzip -tq`: both must pass. */
function independentTest(file: string): void {
  const py = spawnSync('python3', ['-m', 'zipfile', '-t', file], { encoding: 'utf8' });
  expect(py.status, `python3 zipfile: ${py.stdout}${py.stderr}`).toBe(0);
  expect(py.stdout).toContain('Done testing');
  expect(py.stdout + py.stderr).not.toMatch(/error|bad|Traceback/i);
  const uz = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
  expect(uz.status, `unzip -tq: ${uz.stdout}${uz.stderr}`).toBe(0);
  expect(uz.stdout).toContain('No errors detected');
}

/** What Python's zipfile sees: entry count, and name -> [size, compressed size, local header offset] of some. */
function pythonList(file: string, names: string[]): { count: number; entries: Record<string, [number, number, number]> } {
  const script = `import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
want = set(json.loads(sys.argv[2]))
print(json.dumps({"count": len(z.infolist()), "entries": {i.filename: [i.file_size, i.compress_size, i.header_offset] for i in z.infolist() if i.filename in want}}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file, JSON.stringify(names)], { encoding: 'utf8' }));
}

/** Java (JDK 17 here), when installed: reads the zip with ZipInputStream (streaming: local headers only) and ZipFile. */
const JAVA = spawnSync('java', ['-version']).status === 0;
const JAVA_READER = `import java.io.*; import java.util.zip.*;
public class ZipRead { public static void main(String[] a) throws Exception {
  int n = 0; long bytes = 0; byte[] buf = new byte[1 << 16];
  try (ZipInputStream z = new ZipInputStream(new BufferedInputStream(new FileInputStream(a[0])))) {
    ZipEntry e; while ((e = z.getNextEntry()) != null) { int r; while ((r = z.read(buf)) > 0) bytes += r; n++; }
  }
  try (ZipFile f = new ZipFile(a[0])) { System.out.println(n + " " + bytes + " " + f.size()); }
}}`;
function javaRead(file: string): { entries: number; bytes: number; directory: number } {
  const src = path.join(dir, 'ZipRead.java');
  writeFileSync(src, JAVA_READER);
  const r = spawnSync('java', [src, file], { encoding: 'utf8' });
  expect(r.status, `java: ${r.stdout}${r.stderr}`).toBe(0);
  const [entries, bytes, directory] = r.stdout.trim().split(' ').map(Number);
  return { entries, bytes, directory };
}

async function readAll(zip: ZipFile, name: string): Promise<Buffer> {
  const e = zip.entries.find((x) => x.name === name);
  if (!e) throw new Error(`${name} not in the zip`);
  const parts: Buffer[] = [];
  for await (const c of zip.read(e)) parts.push(c);
  return Buffer.concat(parts);
}

/** Offsets of the end records of a zip without a comment. */
function endRecords(buf: Buffer): { eocd: number; locator: number; record: number } {
  const eocd = buf.length - 22;
  expect(buf.readUInt32LE(eocd)).toBe(0x06054b50);
  const locator = eocd - 20;
  const record = locator - 56;
  return { eocd, locator, record };
}

/** A text of `n` bytes that compresses poorly enough to stream through zlib in several chunks. */
function bigText(n: number): string {
  let seed = 7;
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    seed = (seed * 48271) % 2147483647;
    const p = `${seed.toString(36)},${len}\n`;
    parts.push(p);
    len += p.length;
  }
  return parts.join('');
}

describe('ZIP64 in evidence packs', () => {
  it('writes more than 65,535 entries (ZIP64 end records), read back whole by our reader, python3 zipfile and unzip', async () => {
    const file = path.join(dir, 'many.zip');
    const n = 65_540;
    const w = new PackWriter(file, { level: 3, mtime: new Date('2026-11-02T10:00:00Z') });
    for (let i = 0; i < n; i++) await w.add(`recordings/${String(i).padStart(6, '0')}.jsonl`, `{"seq":${i}}\n`);
    await w.add('last.txt', 'the last one');
    await w.finish();

    // The classic end record can't count them: it says 0xFFFF and the ZIP64 end record has the count.
    const buf = readFileSync(file);
    const { eocd, locator, record } = endRecords(buf);
    expect(buf.readUInt16LE(eocd + 10)).toBe(0xffff);
    expect(buf.readUInt32LE(locator)).toBe(0x07064b50);
    expect(buf.readUInt32LE(record)).toBe(0x06064b50);
    expect(Number(buf.readBigUInt64LE(record + 32))).toBe(n + 1);

    const zip = await ZipFile.open(file);
    try {
      expect(zip.entries).toHaveLength(n + 1);
      const names = new Set(zip.entries.map((e) => e.name));
      expect(names.size).toBe(n + 1);
      let i = 0;
      for (const e of zip.entries.slice(0, n)) {
        expect(e.name).toBe(`recordings/${String(i).padStart(6, '0')}.jsonl`);
        const parts: Buffer[] = [];
        for await (const c of zip.read(e)) parts.push(c);
        expect(Buffer.concat(parts).toString()).toBe(`{"seq":${i}}\n`);
        i++;
      }
      expect((await readAll(zip, 'last.txt')).toString()).toBe('the last one');
    } finally {
      await zip.close();
    }
    expect(pythonList(file, []).count).toBe(n + 1);
    independentTest(file);
  }, 180_000);

  it('forced ZIP64 on a small archive: streamed, one-piece and spooled entries all carry ZIP64 fields, read by our reader, python3 zipfile and unzip', async () => {
    const file = path.join(dir, 'forced.zip');
    const big = bigText(3_000_000); // > 1 MiB: streamed through zlib, with a data descriptor
    const spooled = bigText(200_000);
    const spool = new DeflateSpool(path.join(dir, 'forced.spool'), 3);
    try {
      spool.begin();
      spool.write(spooled);
      const se = spool.end();
      await spool.close();
      const w = new PackWriter(file, { level: 3, mtime: new Date('2026-11-02T10:00:00Z'), forceZip64: true });
      await w.add('small.txt', 'small ü✓');
      const e = w.entry('big.csv');
      for (let i = 0; i < big.length; i += 100_000) e.write(big.slice(i, i + 100_000));
      e.end();
      await w.add('empty.txt', '');
      await w.addCompressed('recordings/x.jsonl', se, spool.read(se));
      await w.add('last.txt', 'last');
      await w.finish();
    } finally {
      await spool.remove();
    }

    // Every central directory entry has its three fields at 0xFFFFFFFF and a ZIP64 extra field; the end
    // records are ZIP64 with the classic one's fields at their maximum.
    const buf = readFileSync(file);
    const { eocd, record } = endRecords(buf);
    expect([buf.readUInt16LE(eocd + 10), buf.readUInt32LE(eocd + 12), buf.readUInt32LE(eocd + 16)]).toEqual([0xffff, MAX32, MAX32]);
    expect(buf.readUInt32LE(record)).toBe(0x06064b50);
    const dirOffset = Number(buf.readBigUInt64LE(record + 48));
    let p = dirOffset;
    for (let i = 0; i < 5; i++) {
      expect(buf.readUInt32LE(p)).toBe(0x02014b50);
      expect([buf.readUInt32LE(p + 20), buf.readUInt32LE(p + 24), buf.readUInt32LE(p + 42)]).toEqual([MAX32, MAX32, MAX32]);
      const nameLen = buf.readUInt16LE(p + 28);
      expect(buf.readUInt16LE(p + 46 + nameLen)).toBe(0x0001);
      expect(buf.readUInt16LE(p + 46 + nameLen + 2)).toBe(24);
      p += 46 + nameLen + buf.readUInt16LE(p + 30);
    }
    // The streamed entry's local header: no data descriptor (bit 3 clear), its CRC-32 and sizes patched
    // in (the sizes in its ZIP64 extra field), and the next entry's header right after its data.
    const dirEntries = await readZipDirectory(file);
    const bigEntry = dirEntries.find((x) => x.name === 'big.csv')!;
    const lh = bigEntry.localHeaderOffset;
    expect(buf.readUInt16LE(lh + 6) & 0x0008).toBe(0);
    expect(buf.readUInt32LE(lh + 14)).toBe(crc32(Buffer.from(big)));
    expect([buf.readUInt32LE(lh + 18), buf.readUInt32LE(lh + 22), buf.readUInt16LE(lh + 28)]).toEqual([MAX32, MAX32, 20]);
    const extra = lh + 30 + 'big.csv'.length;
    expect(buf.readUInt16LE(extra)).toBe(0x0001);
    expect(Number(buf.readBigUInt64LE(extra + 4))).toBe(Buffer.byteLength(big));
    expect(Number(buf.readBigUInt64LE(extra + 12))).toBe(bigEntry.compressedSize);
    expect(buf.readUInt32LE(extra + 20 + bigEntry.compressedSize)).toBe(0x04034b50);

    const zip = await ZipFile.open(file);
    try {
      expect(zip.entries.map((x) => x.name)).toEqual(['small.txt', 'big.csv', 'empty.txt', 'recordings/x.jsonl', 'last.txt']);
      expect((await readAll(zip, 'small.txt')).toString()).toBe('small ü✓');
      expect((await readAll(zip, 'big.csv')).toString()).toBe(big);
      expect((await readAll(zip, 'empty.txt')).length).toBe(0);
      expect((await readAll(zip, 'recordings/x.jsonl')).toString()).toBe(spooled);
      expect((await readAll(zip, 'last.txt')).toString()).toBe('last');
    } finally {
      await zip.close();
    }
    const py = pythonList(file, ['big.csv', 'last.txt']);
    expect(py.count).toBe(5);
    expect(py.entries['big.csv'][0]).toBe(Buffer.byteLength(big));
    independentTest(file);
  }, 60_000);

  it('an entry over 4 GiB and entries after it at offsets over 4 GiB (a sparse file): ZIP64 sizes, offsets and end records', async () => {
    // The 4 GiB entry is stored zeros, left as a hole in a sparse file: the archive is real, the disk
    // holds a few KiB. Headers go where the writer's offset says; data chunks of zeros are skipped.
    const file = path.join(dir, 'huge.zip');
    const fd = openSync(file, 'w');
    const zeros = Buffer.alloc(64 << 20);
    const hugeSize = 2 ** 32 + 12_345;
    try {
      let pos = 0;
      const zw = new ZipWriter(
        (chunk) => {
          if (chunk.buffer !== zeros.buffer) writeSync(fd, chunk, 0, chunk.length, pos);
          pos += chunk.length;
        },
        (position, bytes) => writeSync(fd, bytes, 0, bytes.length, position),
      );
      const put = (name: string, text: string) => {
        const raw = Buffer.from(text);
        const data = deflateRawSync(raw);
        zw.begin(name, new Date('2026-11-02T10:00:00Z'), { crc: crc32(raw), size: raw.length, compressedSize: data.length });
        zw.data(data);
        zw.end();
      };
      put('first.txt', 'before the big one');
      // Streamed (its sizes patched into its local header at its end), stored.
      zw.begin('huge.bin', new Date('2026-11-02T10:00:00Z'), undefined, 0);
      let crc = 0;
      for (let left = hugeSize; left > 0; left -= zeros.length) {
        const chunk = left >= zeros.length ? zeros : zeros.subarray(0, left);
        crc = crc32(chunk, crc);
        zw.data(chunk);
      }
      zw.end({ crc, size: hugeSize });
      put('after.txt', 'after the big one');
      put('after2.txt', 'and one more');
      zw.finish();
      // The file ends where the writer stopped (the last header was written there).
      expect(pos).toBe(zw.bytesWritten);
    } finally {
      closeSync(fd);
    }

    const entries = await readZipDirectory(file);
    expect(entries.map((e) => e.name)).toEqual(['first.txt', 'huge.bin', 'after.txt', 'after2.txt']);
    const huge = entries[1];
    expect([huge.size, huge.compressedSize]).toEqual([hugeSize, hugeSize]);
    expect(entries[2].localHeaderOffset).toBeGreaterThan(2 ** 32);
    const buf = Buffer.alloc(98);
    const local = Buffer.alloc(30 + 'huge.bin'.length + 20);
    const tail = openSync(file, 'r');
    try {
      readSync(tail, buf, 0, 98, fstatSync(tail).size - 98);
      readSync(tail, local, 0, local.length, huge.localHeaderOffset);
    } finally {
      closeSync(tail);
    }
    // The streamed entry's CRC-32 and sizes were patched into its local header (sizes in its ZIP64 extra field).
    expect(local.readUInt32LE(14)).not.toBe(0);
    expect(Number(local.readBigUInt64LE(30 + 'huge.bin'.length + 4))).toBe(hugeSize);
    expect(Number(local.readBigUInt64LE(30 + 'huge.bin'.length + 12))).toBe(hugeSize);
    // Classic end record: 4 entries, but the directory's offset overflows (0xFFFFFFFF), so ZIP64 end records.
    expect(buf.readUInt16LE(76 + 10)).toBe(4);
    expect(buf.readUInt32LE(76 + 16)).toBe(MAX32);
    expect(buf.readUInt32LE(0)).toBe(0x06064b50);

    const zip = await ZipFile.open(file);
    try {
      expect((await readAll(zip, 'first.txt')).toString()).toBe('before the big one');
      expect((await readAll(zip, 'after.txt')).toString()).toBe('after the big one');
      expect((await readAll(zip, 'after2.txt')).toString()).toBe('and one more');
      // The start of the big entry (reading all 4 GiB is left to unzip below).
      for await (const c of zip.read(huge)) {
        expect(c.length).toBeGreaterThan(0);
        expect(c.every((b) => b === 0)).toBe(true);
        break;
      }
    } finally {
      await zip.close();
    }
    const py = pythonList(file, ['huge.bin', 'after.txt']);
    expect(py.count).toBe(4);
    expect(py.entries['huge.bin'].slice(0, 2)).toEqual([hugeSize, hugeSize]);
    expect(py.entries['after.txt'][2]).toBe(entries[2].localHeaderOffset);
    expect(execFileSync('python3', ['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("after2.txt").decode())', file], { encoding: 'utf8' }).trim()).toBe('and one more');
    // unzip finds and checks the entries around it (all of it would be half a minute of reading a hole).
    const uz = spawnSync('unzip', ['-tq', file, 'first.txt', 'after.txt', 'after2.txt'], { encoding: 'utf8' });
    expect(uz.status, `unzip -tq: ${uz.stdout}${uz.stderr}`).toBe(0);
    expect(uz.stdout).toContain('No errors detected');
  }, 180_000);

  it.skipIf(!JAVA)("Java's ZipInputStream (a streaming reader) and ZipFile read a pack with a streamed entry, and a forced-ZIP64 one", async () => {
    const big = bigText(2_500_000);
    for (const forceZip64 of [false, true]) {
      const file = path.join(dir, `java-${forceZip64}.zip`);
      const w = new PackWriter(file, { level: 3, mtime: new Date('2026-11-02T10:00:00Z'), forceZip64 });
      await w.add('small.txt', 'small');
      const e = w.entry('big.csv');
      for (let i = 0; i < big.length; i += 200_000) e.write(big.slice(i, i + 200_000));
      e.end();
      await w.add('last.txt', 'last');
      await w.finish();
      expect(javaRead(file), `forceZip64 ${forceZip64}`).toEqual({ entries: 3, bytes: 5 + Buffer.byteLength(big) + 4, directory: 3 });
    }
  }, 60_000);
});

describe('packs made before ZIP64', () => {
  it("still read: fflate's streaming Zip (data descriptors after every entry, a classic end record)", async () => {
    const file = path.join(dir, 'fflate.zip');
    const big = bigText(1_500_000);
    const chunks: Uint8Array[] = [];
    await new Promise<void>((resolve, reject) => {
      const zip = new Zip((err, data, final) => {
        if (err) return reject(err);
        chunks.push(data);
        if (final) resolve();
      });
      for (const [name, text] of [['a.txt', 'first'], ['big.csv', big], ['c.txt', 'third']]) {
        const f = new ZipDeflate(name, { level: 3 });
        zip.add(f);
        f.push(strToU8(text), true);
      }
      zip.end();
    });
    writeFileSync(file, Buffer.concat(chunks));
    const zip = await ZipFile.open(file);
    try {
      expect(zip.entries.map((e) => e.name)).toEqual(['a.txt', 'big.csv', 'c.txt']);
      expect((await readAll(zip, 'big.csv')).toString()).toBe(big);
      expect((await readAll(zip, 'c.txt')).toString()).toBe('third');
    } finally {
      await zip.close();
    }
  });
});

describe('damaged ZIP64 records are refused', () => {
  let good: Buffer;
  let classic: Buffer;
  const mutated = () => path.join(dir, 'mutated.zip');

  beforeAll(async () => {
    for (const [name, forceZip64] of [['forced-small.zip', true], ['classic-small.zip', false]] as const) {
      const file = path.join(dir, name);
      const w = new PackWriter(file, { level: 3, mtime: new Date('2026-11-02T10:00:00Z'), forceZip64 });
      for (const n of ['a.txt', 'b.txt', 'c.txt']) await w.add(n, `content of ${n}`);
      await w.finish();
    }
    good = readFileSync(path.join(dir, 'forced-small.zip'));
    classic = readFileSync(path.join(dir, 'classic-small.zip'));
  });

  async function refused(buf: Buffer, message: RegExp): Promise<void> {
    writeFileSync(mutated(), buf);
    const err = await readZipDirectory(mutated()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ZipFormatError);
    expect((err as Error).message).toMatch(message);
  }

  it('the undamaged archives read (the mutations below are what breaks them)', async () => {
    writeFileSync(mutated(), good);
    expect((await readZipDirectory(mutated())).map((e) => e.name)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    writeFileSync(mutated(), classic);
    expect((await readZipDirectory(mutated())).map((e) => e.name)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    independentTest(path.join(dir, 'forced-small.zip'));
  });

  it('a garbled or missing locator', async () => {
    const { locator } = endRecords(good);
    const b = Buffer.from(good);
    b[locator] ^= 0xff;
    await refused(b, /no ZIP64 end of central directory locator/);
    // The locator and the record cut away (truncated to the classic end record alone).
    const { record, eocd } = endRecords(good);
    await refused(Buffer.concat([good.subarray(0, record), good.subarray(eocd)]), /no ZIP64 end of central directory locator/);
  });

  it('a locator pointing elsewhere, past the end, or naming several disks', async () => {
    const { locator } = endRecords(good);
    let b = Buffer.from(good);
    b.writeBigUInt64LE(b.readBigUInt64LE(locator + 8) - 4n, locator + 8);
    await refused(b, /no ZIP64 end of central directory record where the locator points/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(BigInt(good.length + 100), locator + 8);
    await refused(b, /locator points past the end of the archive/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(2n ** 62n, locator + 8);
    await refused(b, /impossibly large/);
    b = Buffer.from(good);
    b.writeUInt32LE(2, locator + 16);
    await refused(b, /several disks/);
  });

  it('a ZIP64 end record with a wrong size, counts that disagree, or a directory outside the file', async () => {
    const { record, eocd } = endRecords(good);
    let b = Buffer.from(good);
    b.writeBigUInt64LE(40n, record + 4);
    await refused(b, /ZIP64 end of central directory record is damaged/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(4n, record + 24);
    await refused(b, /ZIP64 end of central directory record is damaged/);
    // Both counts one more than there are entries.
    b = Buffer.from(good);
    b.writeBigUInt64LE(4n, record + 24);
    b.writeBigUInt64LE(4n, record + 32);
    await refused(b, /central directory entry 4 is damaged/);
    // One fewer: the directory holds more than counted.
    b = Buffer.from(good);
    b.writeBigUInt64LE(2n, record + 24);
    b.writeBigUInt64LE(2n, record + 32);
    await refused(b, /holds more than the 2 entries/);
    // The classic record says another count than the ZIP64 one.
    b = Buffer.from(good);
    b.writeUInt16LE(2, eocd + 10);
    await refused(b, /end records disagree on the number of entries \(2 and 3\)/);
    b = Buffer.from(good);
    b.writeUInt32LE(5, eocd + 16);
    await refused(b, /end records disagree on where the central directory is/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(b.readBigUInt64LE(record + 48) + 1000n, record + 48);
    await refused(b, /central directory lies outside the file/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(b.readBigUInt64LE(record + 40) + 1n, record + 40);
    await refused(b, /central directory lies outside the file/);
  });

  it("an entry's ZIP64 extra field missing, too short, or with an offset past the directory", async () => {
    const { record } = endRecords(good);
    const dirOffset = Number(good.readBigUInt64LE(record + 48));
    const extraAt = dirOffset + 46 + 'a.txt'.length;
    let b = Buffer.from(good);
    b.writeUInt16LE(0x000a, extraAt);
    await refused(b, /a\.txt: its sizes or offset are ZIP64, but it has no valid ZIP64 extra field/);
    b = Buffer.from(good);
    b.writeUInt16LE(16, extraAt + 2);
    await refused(b, /a\.txt: its ZIP64 extra field is too short/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(BigInt(good.length), extraAt + 4 + 16);
    await refused(b, /a\.txt: its data is said to lie past the central directory/);
    b = Buffer.from(good);
    b.writeBigUInt64LE(BigInt(good.length), extraAt + 4 + 8);
    await refused(b, /a\.txt: its data is said to lie past the central directory/);
  });

  it('a classic end record pointing to ZIP64 records that are not there, or counting fewer entries than the directory holds', async () => {
    const eocd = classic.length - 22;
    let b = Buffer.from(classic);
    b.writeUInt16LE(0xffff, eocd + 10);
    b.writeUInt16LE(0xffff, eocd + 8);
    await refused(b, /points to ZIP64 records, but there is no ZIP64 end of central directory locator/);
    b = Buffer.from(classic);
    b.writeUInt32LE(MAX32, eocd + 16);
    await refused(b, /no ZIP64 end of central directory locator/);
    // What fflate's Zip wrote for 70,000 entries: the count wrapped at 65,536. It used to read as 4,464.
    b = Buffer.from(classic);
    b.writeUInt16LE(2, eocd + 10);
    b.writeUInt16LE(2, eocd + 8);
    await refused(b, /holds more than the 2 entries/);
  });
});
