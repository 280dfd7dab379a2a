import { createHmac } from 'node:crypto';
import type { MaskStrategy } from '../policy-types';

/**
 * How a sensitive text is replaced. Every function returns the replacement text, or null for SQL NULL.
 *
 * - redact: a fixed marker naming what was found, `[email redacted]` for a detector hit (the detector's or
 *   custom detector's name), `[redacted]` for a whole column. The marker tells a reader (human or agent)
 *   that something was removed and what kind, without any of its characters.
 * - partial: `*` for every letter and digit except the last `keep` ones; other characters (separators:
 *   spaces, dashes, dots, @) stay by default so "4111 1111 1111 1111" reads "**** **** **** 1111". Never
 *   reveals more than half of the letters and digits, whatever `keep` says, so short values stay hidden.
 * - hash: `tok_` + the first 16 hex digits of HMAC-SHA256(key, UTF-8 text): the same input gives the same
 *   token under the same key (joins and GROUP BY on masked output line up), another key gives unrelated
 *   tokens, and without the key tokens cannot be reversed by guessing inputs.
 * - null: the whole value becomes SQL NULL (for a detector hit too: the surrounding text goes with it).
 *   Where no NULL exists (text of NOTICE/ERROR messages), `null` renders as the redact marker.
 */

/** The redact marker for what was found (`email`, a custom detector's name) or, without a label, a column. */
export function redactMarker(label?: string): string {
  return label ? `[${label} redacted]` : '[redacted]';
}

const isAlnumCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 0x7f;

/**
 * Keep the last `keep` letters/digits of `text`, `*` for the others; separators are kept unless
 * `keepSeparators` is false (then they become `*` too). At most half of the letters/digits are kept.
 */
export function partialMask(text: string, keep: number, keepSeparators = true): string {
  const chars = Array.from(text); // code points, so a masked emoji is one '*', not two
  let alnum = 0;
  for (const ch of chars) if (isAlnumCode(ch.codePointAt(0)!)) alnum++;
  const visible = Math.max(0, Math.min(Math.floor(keep), Math.floor(alnum / 2)));
  let toHide = alnum - visible;
  let out = '';
  for (const ch of chars) {
    const isAl = isAlnumCode(ch.codePointAt(0)!);
    if (isAl) {
      if (toHide > 0) {
        out += '*';
        toHide--;
      } else out += ch;
    } else out += keepSeparators || toHide === 0 ? ch : '*';
  }
  return out;
}

/** `tok_` + 16 hex digits of HMAC-SHA256(key, text): deterministic per key. */
export function hashToken(text: string, key: Buffer): string {
  return 'tok_' + createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 16);
}

/** Apply `strategy` to `text`; `label` names the detector for redact markers. Returns null for SQL NULL. */
export function applyStrategy(strategy: MaskStrategy, text: string, key: Buffer, label?: string): string | null {
  switch (strategy.kind) {
    case 'redact':
      return redactMarker(label);
    case 'partial':
      return partialMask(text, strategy.keep);
    case 'hash':
      return hashToken(text, key);
    case 'null':
      return null;
  }
}

/** Strictness of a strategy when several rules apply to the same thing: higher wins. */
export function strictness(strategy: MaskStrategy): number {
  switch (strategy.kind) {
    case 'null':
      return 4;
    case 'redact':
      return 3;
    case 'hash':
      return 2;
    case 'partial':
      return 1;
  }
}
