import { describe, expect, it } from 'vitest';
import { TerminalMasker } from '../../src/gateway/policy/masking/terminal-masker';
import type { ValueMaskRule } from '../../src/gateway/policy/policy-types';

const KEY = Buffer.alloc(32, 7);
const RULES: ValueMaskRule[] = [
  { rule: 'contacts', detectors: ['email'], custom: [], strategy: { kind: 'redact' } },
  { rule: 'cards', detectors: ['payment_card'], custom: [], strategy: { kind: 'partial', keep: 4 } },
  { rule: 'keys', detectors: ['pem_private_key'], custom: [], strategy: { kind: 'redact' } },
];

const masker = (opts?: { maxUnitBytes?: number; lookbehindBytes?: number }) => new TerminalMasker(RULES, KEY, opts);

/** Feed `input` in the given pieces, then flush; the concatenated output. */
function run(pieces: Buffer[], m = masker()): { out: Buffer; parts: Buffer[] } {
  const parts = pieces.map((p) => m.push(p));
  const last = m.flush();
  return { out: Buffer.concat([...parts, last]), parts };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Output of a shell session: colours, a title (OSC), cursor moves, multi-byte text, values to mask.
const STREAM = Buffer.from(
  [
    '\x1b]0;user@host: ~\x07',
    '\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~\x1b[00m$ ',
    'cat users.txt\r\n',
    'name: Zoë Ångström — contact alice@example.com, card 4111 1111 1111 1111 ✓\r\n',
    '\x1b[1mbob.smith+tag@mail.example.org\x1b[0m\tréservé 日本語 😀\r\n',
    'card: 5500-0000-0000-0004 done\n',
    '\x1bP1$r0m\x1b\\',
    '\x1b(B\x1b[?2004h\x1b[K',
    '-----BEGIN OPENSSH PRIVATE KEY-----\n',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n',
    'QyNTUxOQAAACDkhR0eTtL2iZ6vbmDbcZXqgmRGeAAAAJhZq0Y5WatGOQAAAAtzc2gtZWQy\n',
    '-----END OPENSSH PRIVATE KEY----- after\n',
    'tail without newline carol@example.net',
  ].join(''),
  'utf8',
);

const EXPECTED = [
  '\x1b]0;user@host: ~\x07',
  '\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~\x1b[00m$ ',
  'cat users.txt\r\n',
  'name: Zoë Ångström — contact [email redacted], card **** **** **** 1111 ✓\r\n',
  '\x1b[1m[email redacted]\x1b[0m\tréservé 日本語 😀\r\n',
  'card: ****-****-****-0004 done\n',
  '\x1bP1$r0m\x1b\\',
  '\x1b(B\x1b[?2004h\x1b[K',
  '[pem_private_key redacted]\n',
  '[pem_private_key redacted]\n',
  '[pem_private_key redacted]\n',
  '[pem_private_key redacted] after\n',
  'tail without newline [email redacted]',
].join('');

describe('TerminalMasker', () => {
  it('masks values in text and leaves escape sequences, controls and multi-byte text alone', () => {
    const { out } = run([STREAM]);
    expect(out.toString('utf8')).toBe(EXPECTED);
  });

  it('the stream cut at every offset gives the same output', () => {
    const whole = run([STREAM]).out;
    for (let k = 0; k <= STREAM.length; k++) {
      const { out } = run([STREAM.subarray(0, k), STREAM.subarray(k)]);
      expect(out.equals(whole), `cut at ${k}`).toBe(true);
    }
  });

  it('the stream cut at every pair of offsets, and byte by byte, gives the same output', () => {
    const whole = run([STREAM]).out;
    const small = STREAM.subarray(0, 260);
    const smallWhole = run([small]).out;
    for (let a = 0; a <= small.length; a += 3) {
      for (let b = a; b <= small.length; b += 5) {
        const { out } = run([small.subarray(0, a), small.subarray(a, b), small.subarray(b)]);
        expect(out.equals(smallWhole), `cuts at ${a}, ${b}`).toBe(true);
      }
    }
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    expect(run(bytes).out.equals(whole)).toBe(true);
  });

  it('never writes part of a UTF-8 character or of an escape sequence before the rest arrived', () => {
    const m = masker();
    const text = Buffer.from('é日😀 x\x1b[38;5;196mred\x1b[0m\r\n', 'utf8');
    const written: Buffer[] = [];
    for (const b of text) written.push(m.push(Buffer.from([b])));
    written.push(m.flush());
    for (const w of written.filter((x) => x.length)) {
      expect(() => utf8.decode(w)).not.toThrow();
      const s = w.toString('utf8');
      // An ESC is only ever written with its whole sequence.
      // eslint-disable-next-line no-control-regex -- an ESC is what is being checked
      if (s.includes('\x1b')) expect(s).toMatch(/^(?:[^\x1b]*\x1b\[[0-9;]*[A-Za-z])+[^\x1b]*$/);
    }
    expect(Buffer.concat(written).equals(text)).toBe(true);
  });

  it('an email or a card split across chunks is still masked, and held until its unit ends', () => {
    const m = masker();
    expect(m.push(Buffer.from('mail: ali')).toString()).toBe('');
    expect(m.holding).toBe(9);
    expect(m.push(Buffer.from('ce@exam')).toString()).toBe('');
    expect(m.push(Buffer.from('ple.com\r\ncard 4111 11')).toString()).toBe('mail: [email redacted]\r\n');
    expect(m.push(Buffer.from('11 1111 1111')).toString()).toBe('');
    expect(m.flush().toString()).toBe('card **** **** **** 1111');
    expect(m.holding).toBe(0);
    expect(m.counts).toEqual(new Map([['contacts:email', 1], ['cards:payment_card', 1]]));
    expect(m.maskedCount).toBe(2);
  });

  it('an incomplete escape sequence is held, then written whole; flush writes it as it is', () => {
    const m = masker();
    expect(m.push(Buffer.from('ok\r\n\x1b[3')).toString()).toBe('ok\r\n');
    expect(m.push(Buffer.from('1mred')).toString()).toBe('\x1b[31m');
    expect(m.flush().toString()).toBe('red');
    expect(m.push(Buffer.from('\x1b[')).toString()).toBe('');
    expect(m.flush().toString()).toBe('\x1b[');
  });

  it('an OSC string streams through without being held or masked, ended by BEL or ST', () => {
    const m = masker();
    expect(m.push(Buffer.from('\x1b]52;c;alice@example.com')).toString()).toBe('\x1b]52;c;alice@example.com');
    expect(m.push(Buffer.from('more\x1b')).toString()).toBe('more');
    expect(m.push(Buffer.from('\\bob@example.com\n')).toString()).toBe('\x1b\\[email redacted]\n');
  });

  it('text without a break is cut at a space no value spans, the same way however it is chunked', () => {
    const opts = { maxUnitBytes: 64, lookbehindBytes: 24 };
    const line = Buffer.from(`${'word '.repeat(9)}4111 1111 1111 1111 ${'x'.repeat(30)} dana@example.com ${'y'.repeat(200)}`);
    const whole = run([line], masker(opts)).out;
    expect(whole.toString()).toContain('**** **** **** 1111');
    expect(whole.toString()).toContain('[email redacted]');
    const m = masker(opts);
    // Bounded: never more than maxUnitBytes held.
    for (const b of line) {
      m.push(Buffer.from([b]));
      expect(m.holding).toBeLessThanOrEqual(64);
    }
    for (let k = 0; k <= line.length; k++) {
      expect(run([line.subarray(0, k), line.subarray(k)], masker(opts)).out.equals(whole), `cut at ${k}`).toBe(true);
    }
  });

  it('a long run of multi-byte characters is cut on a character boundary', () => {
    const opts = { maxUnitBytes: 64, lookbehindBytes: 24 };
    const line = Buffer.from('日'.repeat(100));
    const m = masker(opts);
    const first = m.push(line);
    expect(first.length).toBeGreaterThan(0);
    expect(() => utf8.decode(first)).not.toThrow();
    expect(Buffer.concat([first, m.flush()]).equals(line)).toBe(true);
  });

  it('binary output without values passes through byte for byte', () => {
    const bin = Buffer.alloc(70_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) & 0xff;
    const m = masker();
    const pieces = [bin.subarray(0, 12345), bin.subarray(12345, 40000), bin.subarray(40000)];
    expect(run(pieces, m).out.equals(bin)).toBe(true);
  });

  it('a NUL stream is not copied (the masker hands back the chunk)', () => {
    const m = masker();
    const zeros = Buffer.alloc(32768);
    expect(m.push(zeros)).toBe(zeros);
  });
});
