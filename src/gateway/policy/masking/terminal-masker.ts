import type { MaskStrategy, ValueMaskRule } from '../policy-types';
import { newProfile, profileBytes } from './detectors';
import { redactMarker } from './strategies';
import { ValueMasker, bump, type MaskCounts } from './value-masker';

/**
 * Value masking for a terminal byte stream (SSH exec and shell output), in chunks as they arrive.
 *
 * The stream is cut into *units*: runs of text between a line break, another C0 control character (tab,
 * CR, BEL, backspace ...) or an escape sequence. Each complete unit goes through the same value detectors
 * as PostgreSQL results (ValueMasker); escape sequences (CSI, OSC/DCS/APC/PM/SOS strings, two- and
 * three-byte ESC sequences) and control characters pass through verbatim and are never split or masked.
 * The unit still being written at the end of a chunk is held back (with any incomplete UTF-8 character or
 * escape sequence), so an email or card number cut across chunks is still found whole.
 *
 * Where a unit is cut depends only on the bytes, never on how they were chunked: pushing a stream in any
 * pieces and then calling flush() gives the same output. A unit longer than `maxUnitBytes` is cut at a
 * space that no detector would span (not between two digit/upper-case groups like "4111 1111" or
 * "DE89 3704"), at least `lookbehindBytes` before the limit; only a single token longer than that can be
 * split.
 *
 * flush() (the relay calls it when no data came for a few milliseconds, and at the end) emits the held
 * unit as it is, masked. A value written slower than that idle time, one piece at a time, is therefore
 * masked only if it arrives whole: terminal masking keeps sensitive values off the screen and out of the
 * recording in ordinary output, it is no barrier against an agent that transforms data on purpose.
 *
 * Private keys span lines: after a `-----BEGIN ... PRIVATE KEY-----` line (with pem_private_key among the
 * detectors), every following line is masked whole up to the matching END line.
 *
 * Pure: no I/O, no timers, no clock.
 */
export class TerminalMasker {
  /** Values masked so far, by `rule:detector`. */
  readonly counts: MaskCounts = new Map();
  private readonly values: ValueMasker;
  private readonly pem: { rule: string; strategy: MaskStrategy } | null;
  private readonly maxUnit: number;
  private readonly lookbehind: number;
  private readonly profile = newProfile();
  /** Bytes not emitted yet: a text unit (state text) or an unfinished escape sequence. */
  private held: Buffer = EMPTY;
  /** Inside an OSC/DCS/APC/PM/SOS string (passed through until BEL or ST). */
  private inString = false;
  /** Inside a PEM private key block (lines redacted until the END line). */
  private inPem = false;
  private total = 0;

  constructor(rules: readonly ValueMaskRule[], key: Buffer, opts: { maxUnitBytes?: number; lookbehindBytes?: number } = {}) {
    this.values = new ValueMasker(rules, key);
    const pemRule = rules.find((r) => r.detectors.includes('pem_private_key'));
    this.pem = pemRule ? { rule: pemRule.rule, strategy: pemRule.strategy } : null;
    this.maxUnit = opts.maxUnitBytes ?? 8192;
    this.lookbehind = Math.min(opts.lookbehindBytes ?? 1024, Math.floor(this.maxUnit / 2));
  }

  /** Whether any detector is configured (otherwise callers should not use a masker at all). */
  get enabled(): boolean {
    return this.values.enabled;
  }

  /** Bytes held back, waiting for the rest of a unit or escape sequence. */
  get holding(): number {
    return this.held.length;
  }

  /** Values masked so far, all rules together. */
  get maskedCount(): number {
    return this.total;
  }

  /** Take the next chunk; returns what can be written now (possibly empty). */
  push(chunk: Buffer): Buffer {
    const buf = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = EMPTY;
    return this.scan(buf, false);
  }

  /** Write out whatever is held (masked): on an idle pause and at the end of the stream. */
  flush(): Buffer {
    if (!this.held.length) return EMPTY;
    const buf = this.held;
    this.held = EMPTY;
    return this.scan(buf, true);
  }

  /**
   * Walk `buf` and return what is finished; the unfinished end is kept in `held` unless `final` (then it
   * is written out too: an incomplete escape sequence verbatim, a text unit masked). Unmasked bytes are
   * not copied: the output is slices of `buf` with replacements in between.
   */
  private scan(buf: Buffer, final: boolean): Buffer {
    const n = buf.length;
    const out: Out = { parts: [], from: 0 };
    let i = 0;
    let textStart = 0;
    let stop = n;
    while (i < n) {
      if (this.inString) {
        // Pass an OSC/DCS... string through up to its terminator (BEL, or ST = ESC \).
        let j = i;
        while (j < n && buf[j] !== BEL && buf[j] !== ESC) j++;
        if (j === n) break;
        if (buf[j] === BEL) {
          this.inString = false;
          i = textStart = j + 1;
          continue;
        }
        // ESC: ST ends the string; any other ESC aborts it (as terminals do) and starts a sequence.
        if (j + 1 === n && !final) {
          stop = j;
          break;
        }
        this.inString = false;
        i = textStart = buf[j + 1] === 0x5c ? j + 2 : j;
        continue;
      }
      const b = buf[i];
      if (b === ESC) {
        this.emitText(buf, textStart, i, out);
        const end = escapeEnd(buf, i);
        if (end === INCOMPLETE) {
          if (!final) stop = i;
          break;
        }
        if (end < 0) {
          // The introducer of a string sequence (ESC ] / P / _ / ^ / X): its body streams through.
          this.inString = true;
          i = textStart = -end;
          continue;
        }
        i = textStart = end;
        continue;
      }
      if (b < 0x20 || b === 0x7f) {
        this.emitText(buf, textStart, i, out);
        i = textStart = i + 1;
        continue;
      }
      i++;
      if (i - textStart > this.maxUnit) {
        // No break within maxUnit bytes: cut the unit where no value can straddle the cut.
        const cut = this.longUnitCut(buf, textStart);
        this.emitText(buf, textStart, cut, out);
        textStart = cut;
      }
    }
    if (i >= n && textStart < n && !this.inString) {
      // The unit still being written.
      if (final) this.emitText(buf, textStart, n, out);
      else stop = textStart;
    }
    if (stop < n) this.held = Buffer.from(buf.subarray(stop));
    if (out.from === 0 && out.parts.length === 0) return stop === n ? buf : buf.subarray(0, stop);
    if (out.from < stop) out.parts.push(buf.subarray(out.from, stop));
    return Buffer.concat(out.parts);
  }

  /** Where to cut a unit of more than maxUnit bytes starting at `start`: decided by its first maxUnit bytes only. */
  private longUnitCut(buf: Buffer, start: number): number {
    const limit = start + this.maxUnit - this.lookbehind;
    for (let p = limit; p > start + 1; p--) {
      if (buf[p] !== SPACE) continue;
      // "4111 1111", "DE89 3704", "+44 20": groups a detector joins across a space.
      if (isGroupChar(buf[p - 1]) && isGroupChar(buf[p + 1])) continue;
      return p + 1;
    }
    // One long token: cut on a character boundary (never inside a UTF-8 sequence).
    let p = limit;
    while (p > start + 1 && (buf[p] & 0xc0) === 0x80) p--;
    return p;
  }

  /** Mask the text unit buf[start, end): when it changes, the replacement goes into `out`. */
  private emitText(buf: Buffer, start: number, end: number, out: Out): void {
    if (end <= start) return;
    if (this.inPem) {
      const endAt = PEM_END.exec(buf.toString('latin1', start, end));
      // The END line closes the block; what follows it on the line is ordinary text.
      const stop = endAt ? start + endAt.index + endAt[0].length : end;
      replace(buf, start, stop, this.pemReplacement(), out);
      if (endAt) {
        this.inPem = false;
        this.emitText(buf, stop, end, out);
      }
      return;
    }
    const p = profileBytes(buf, start, end, this.profile);
    if (!this.values.maybe(p)) return;
    const text = buf.toString('utf8', start, end);
    const before = this.countTotal();
    // The byte profile stands in for the string's: the same counts (non-ASCII counts for nothing in both),
    // a byte length never below the string's, so no pre-check turns false that would have been true.
    const masked = this.values.mask(text, this.counts, p, true);
    this.total += this.countTotal() - before;
    if (this.pem && PEM_BEGIN.test(text) && !PEM_END.test(text)) this.inPem = true;
    if (typeof masked === 'string') replace(buf, start, end, masked, out);
  }

  private pemReplacement(): string {
    const pem = this.pem!;
    bump(this.counts, `${pem.rule}:pem_private_key`);
    this.total++;
    return pem.strategy.kind === 'partial' ? '***' : redactMarker('pem_private_key');
  }

  private countTotal(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

interface Out {
  parts: Buffer[];
  /** buf[from...] is not in parts yet. */
  from: number;
}

function replace(buf: Buffer, start: number, end: number, text: string, out: Out): void {
  if (out.from < start) out.parts.push(buf.subarray(out.from, start));
  out.parts.push(Buffer.from(text, 'utf8'));
  out.from = end;
}

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const PEM_END = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;
const EMPTY = Buffer.alloc(0);
const ESC = 0x1b;
const BEL = 0x07;
const SPACE = 0x20;
/** escapeEnd: the sequence is cut off by the end of the buffer. */
const INCOMPLETE = Number.MAX_SAFE_INTEGER;
/** CSI and plain ESC sequences longer than this are passed on as they are (no terminal sends them). */
const MAX_SEQUENCE = 256;

const isGroupChar = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x28 || c === 0x29 || c === 0x2b || c === 0x2d);

/**
 * End (exclusive) of the escape sequence starting at buf[i] === ESC; INCOMPLETE when the buffer ends
 * first; the negated end of the introducer for string sequences (OSC, DCS, APC, PM, SOS), whose body
 * follows. ECMA-48: CSI = ESC [ params(0x30-0x3F)* intermediates(0x20-0x2F)* final(0x40-0x7E);
 * other sequences = ESC intermediates(0x20-0x2F)* final(0x30-0x7E).
 */
function escapeEnd(buf: Buffer, i: number): number {
  const n = buf.length;
  if (i + 1 >= n) return INCOMPLETE;
  const c = buf[i + 1];
  if (c === 0x5b /* [ */) {
    let j = i + 2;
    for (; j < n && j - i < MAX_SEQUENCE; j++) {
      const b = buf[j];
      if (b >= 0x40 && b <= 0x7e) return j + 1;
      // A control character or anything else aborts the sequence (it is then processed on its own).
      if (b < 0x20 || b > 0x3f) return j;
    }
    return j - i >= MAX_SEQUENCE ? j : INCOMPLETE;
  }
  if (c === 0x5d /* ] OSC */ || c === 0x50 /* P DCS */ || c === 0x5f /* _ APC */ || c === 0x5e /* ^ PM */ || c === 0x58 /* X SOS */) return -(i + 2);
  let j = i + 1;
  for (; j < n && j - i < MAX_SEQUENCE; j++) {
    const b = buf[j];
    if (b >= 0x30 && b <= 0x7e) return j + 1;
    if (b < 0x20 || b > 0x7e) return j; // ESC followed by a control (or ESC ESC): the ESC alone.
  }
  return j - i >= MAX_SEQUENCE ? j : INCOMPLETE;
}
