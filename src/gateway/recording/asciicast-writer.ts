import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** The asciicast v2 header line (https://docs.asciinema.org/manual/asciicast/v2/). */
export interface AsciicastHeader {
  width: number;
  height: number;
  /** Start time, epoch milliseconds (written in seconds, as the format wants). */
  startedAt: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
}

export interface AsciicastWriterOptions {
  /** Output bytes written at most; the rest is counted, not written (`truncated`). Default: no limit. */
  maxOutputBytes?: number;
  /** Clock for event times (ms); tests pass their own. */
  now?: () => number;
}

/**
 * Writes one terminal recording in asciicast v2: a JSON header line, then one `[time, code, data]` line
 * per event ("o" output, "i" input, "r" resize). Every event is one write(2) on a file opened for
 * appending, so what was written survives the gateway being killed (the OS keeps written data); there is
 * no user-space buffer to lose. Output and input each go through their own UTF-8 decoder, so a
 * character split across two chunks is written once, whole. Any write failure throws: the caller ends
 * the channel (fail closed).
 */
export class AsciicastWriter {
  private readonly fd: number;
  private readonly out = new StringDecoder('utf8');
  private readonly inp = new StringDecoder('utf8');
  private readonly now: () => number;
  private readonly maxOutputBytes: number;
  private closed = false;
  /** SHA-256 of every byte written to the file, in order: the digest chained when the channel ends. */
  private readonly hash = createHash('sha256');
  private sealedDigest: string | null = null;
  /** Bytes written to the file. */
  fileBytes = 0;
  /** Output bytes received (written or not). */
  outputBytes = 0;
  /** Input bytes received. */
  inputBytes = 0;
  truncated = false;

  /** Create `file` (and its folder) with mode 0600 and write the header. Throws if it already exists. */
  constructor(
    readonly file: string,
    private readonly header: AsciicastHeader,
    opts: AsciicastWriterOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxOutputBytes = opts.maxOutputBytes ?? Number.POSITIVE_INFINITY;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = openSync(file, 'wx', 0o600);
    const h: Record<string, unknown> = { version: 2, width: header.width, height: header.height, timestamp: Math.floor(header.startedAt / 1000) };
    if (header.command !== undefined) h.command = header.command;
    if (header.title !== undefined) h.title = header.title;
    if (header.env) h.env = header.env;
    this.line(JSON.stringify(h));
  }

  /** Record bytes the terminal showed (stdout and stderr both land on the screen). */
  output(data: Buffer): void {
    this.outputBytes += data.length;
    if (this.truncated) return;
    let chunk = data;
    if (this.outputBytes > this.maxOutputBytes) {
      // Keep what fits, then stop writing output (the index row says the recording was truncated).
      chunk = data.subarray(0, Math.max(0, data.length - (this.outputBytes - this.maxOutputBytes)));
      this.truncated = true;
    }
    const text = this.out.write(chunk) + (this.truncated ? this.out.end() : '');
    if (text) this.event('o', text);
  }

  /** Record bytes the user typed (only when input recording is asked for). */
  input(data: Buffer): void {
    this.inputBytes += data.length;
    const text = this.inp.write(data);
    if (text) this.event('i', text);
  }

  /** Record a terminal size change. */
  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  /** Write what the decoders still hold and close the file (idempotent). */
  close(): void {
    if (this.closed) return;
    try {
      const rest = this.truncated ? '' : this.out.end();
      if (rest) this.event('o', rest);
      const restIn = this.inp.end();
      if (restIn) this.event('i', restIn);
    } finally {
      this.closed = true;
      this.sealedDigest = this.hash.digest('hex');
      closeSync(this.fd);
    }
  }

  /** Hex SHA-256 of the whole file as written, once it is closed (null before). */
  get sha256(): string | null {
    return this.sealedDigest;
  }

  private event(code: 'o' | 'i' | 'r', data: string): void {
    const t = Math.max(0, this.now() - this.header.startedAt) / 1000;
    this.line(`[${t.toFixed(6)}, "${code}", ${JSON.stringify(data)}]`);
  }

  private line(text: string): void {
    if (this.closed) throw new Error('recording is closed');
    const buf = Buffer.from(text + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.hash.update(buf);
    this.fileBytes += buf.length;
  }
}
