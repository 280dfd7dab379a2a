import type { DetectorName } from '../policy-types';

/**
 * Value detectors: each finds the sensitive substrings (spans) inside one value, so a masked value keeps
 * its surrounding text ("mail alice@example.com today" -> "mail [email redacted] today").
 *
 * Speed: most values contain nothing. A value is first summarised in one pass over its bytes (a
 * `ValueProfile`: counts of digits, letters and a few punctuation marks, the longest token-like run),
 * without decoding it; a detector's `pre` check on that profile is a few comparisons, and only values that
 * pass some check are decoded and searched. Regexes are written so they cannot backtrack badly (anchored
 * at run starts with look-behinds, bounded repetitions) and every candidate is then verified (Luhn,
 * mod-97, octet ranges, JSON header...).
 *
 * Decisions worth knowing:
 * - UUIDs, hex digests and commit ids are NOT api_token: they have one letter case (two character
 *   classes), they are everywhere as keys, and masking them would break joins. Hex-only secrets need a
 *   custom detector.
 * - A 4-part dotted number is an IPv4 address when every part is 0-255 without leading zeros and it is not
 *   part of a longer dotted sequence (1.2.3.4.5) nor preceded by a letter (v1.2.3.4).
 * - Phone numbers: "+" international numbers with 8-15 digits, North-American (555) 123-4567 /
 *   555-123-4567 / 555.123.4567, and trunk-0 national numbers with separators (020 7946 0958,
 *   06-12345678). Bare digit strings, dates and times never match.
 */

/** A half-open range [start, end) of UTF-16 code units inside a value. */
export interface Span {
  start: number;
  end: number;
}

/** One pass summary of a value (ASCII only; multi-byte UTF-8 counts for nothing but `length`). */
export interface ValueProfile {
  length: number;
  digits: number;
  upper: number;
  lower: number;
  at: number;
  colon: number;
  dot: number;
  dash: number;
  /** Longest run of [A-Za-z0-9_+=-]. */
  maxTokenRun: number;
  /** What was profiled, for the rare substring checks (`contains`). */
  source: Buffer | string;
  start: number;
  end: number;
}

/** Whether the profiled value contains `needle` (ASCII); only called after the counts made it plausible. */
export function contains(p: ValueProfile, needle: string): boolean {
  if (typeof p.source === 'string') return p.source.indexOf(needle) >= 0;
  const at = p.source.indexOf(needle, p.start, 'latin1');
  return at >= 0 && at + needle.length <= p.end;
}

export interface Detector {
  readonly name: string;
  /** Cheap check on the profile: false means the value certainly holds nothing for this detector. */
  pre(p: ValueProfile): boolean;
  /** Append the spans found in `value` (any order, may overlap). */
  find(value: string, out: Span[]): void;
}

// ---- profile ------------------------------------------------------------------------------------------

const C_DIGIT = 1;
const C_UPPER = 2;
const C_LOWER = 4;
const C_TOKEN = 8;
const C_SPECIAL = 16;
const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = C_DIGIT | C_TOKEN;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = C_UPPER | C_TOKEN;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = C_LOWER | C_TOKEN;
for (const ch of '_+=') CLASS[ch.charCodeAt(0)] = C_TOKEN;
CLASS[0x2d /* - */] = C_TOKEN | C_SPECIAL;
for (const ch of '@:.') CLASS[ch.charCodeAt(0)] = C_SPECIAL;

/** A fresh, zeroed profile (reuse one per masker: profiling allocates nothing). */
export function newProfile(): ValueProfile {
  return { length: 0, digits: 0, upper: 0, lower: 0, at: 0, colon: 0, dot: 0, dash: 0, maxTokenRun: 0, source: '', start: 0, end: 0 };
}

/** Profile the bytes buf[start, end) (UTF-8) into `p`. */
export function profileBytes(buf: Buffer, start: number, end: number, p: ValueProfile): ValueProfile {
  p.source = buf;
  p.start = start;
  p.end = end;
  p.length = end - start;
  let run = 0;
  let maxRun = 0;
  let digits = 0;
  let upper = 0;
  let lower = 0;
  let at = 0;
  let colon = 0;
  let dot = 0;
  let dash = 0;
  for (let i = start; i < end; i++) {
    const k = CLASS[buf[i]];
    if (k & C_TOKEN) {
      if (++run > maxRun) maxRun = run;
      if (k & C_DIGIT) digits++;
      else if (k & C_UPPER) upper++;
      else if (k & C_LOWER) lower++;
    } else run = 0;
    if (k & C_SPECIAL) {
      const c = buf[i];
      if (c === 0x2d) dash++;
      else if (c === 0x40) at++;
      else if (c === 0x2e) dot++;
      else colon++;
    }
  }
  p.maxTokenRun = maxRun;
  p.digits = digits;
  p.upper = upper;
  p.lower = lower;
  p.at = at;
  p.colon = colon;
  p.dot = dot;
  p.dash = dash;
  return p;
}

/** Profile a JS string into `p` (the same counts as profiling its UTF-8 bytes; `length` in code units). */
export function profileString(s: string, p: ValueProfile): ValueProfile {
  // Non-ASCII code units count for nothing, like their UTF-8 bytes.
  const n = s.length;
  const bytes = n <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    bytes[i] = c < 128 ? c : 128;
  }
  profileBytes(bytes, 0, n, p);
  p.source = s;
  return p;
}
const SCRATCH = Buffer.alloc(4096);

// ---- helpers ------------------------------------------------------------------------------------------

/** Run a global regex over `value`, calling `accept` for each match (spans pushed when it returns a span). */
function scan(re: RegExp, value: string, out: Span[], accept: (m: RegExpExecArray) => Span | null): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const span = accept(m);
    if (span) out.push(span);
  }
}

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });

/** Luhn checksum over the digits of `s` (other characters ignored). */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let double = false;
  let count = 0;
  let nonZero = false;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    count++;
    if (c !== 0) nonZero = true;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return nonZero && count >= 13 && count <= 19 && sum % 10 === 0;
}

/** IBAN lengths per country (ISO 13616 registry). */
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24,
  ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
  PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23,
  ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 13616 check: move the first four characters to the end, letters to 10..35, mod 97 must be 1. */
export function ibanValid(compact: string): boolean {
  const len = IBAN_LENGTH[compact.slice(0, 2)];
  if (len === undefined || compact.length !== len) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;

// ---- email: manual scan around each '@' (linear, no regex backtracking) -------------------------------

function isLocalChar(c: number): boolean {
  // RFC 5322 atext minus the rarely used ones, plus dots; non-ASCII letters allowed (SMTPUTF8).
  return isAlnum(c) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d || c > 0x7f;
}
function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 0x2d || c === 0x2e || c > 0x7f;
}
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 0x7f;

function findEmails(value: string, out: Span[]): void {
  let at = value.indexOf('@');
  while (at >= 0) {
    let s = at;
    while (s > 0 && isLocalChar(value.charCodeAt(s - 1))) s--;
    while (s < at && value.charCodeAt(s) === 0x2e) s++; // local part can't start with a dot
    let e = at + 1;
    while (e < value.length && isDomainChar(value.charCodeAt(e))) e++;
    // Trailing dots/hyphens are punctuation of the sentence, not the domain.
    while (e > at + 1 && (value.charCodeAt(e - 1) === 0x2e || value.charCodeAt(e - 1) === 0x2d)) e--;
    const lastDot = value.lastIndexOf('.', e - 1);
    if (s < at && lastDot > at + 1 && e - lastDot - 1 >= 2) {
      let tldOk = true;
      for (let i = lastDot + 1; i < e; i++) if (!isLetter(value.charCodeAt(i))) tldOk = false;
      if (tldOk && value.charCodeAt(at + 1) !== 0x2e) out.push({ start: s, end: e });
    }
    at = value.indexOf('@', Math.max(at + 1, e));
  }
}

// ---- the detectors ------------------------------------------------------------------------------------

const CARD_RE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![ -]?\d)/g;
const IBAN_START_RE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ ]?[A-Z0-9])/g;
const SSN_RE = /(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-]|\.\d)/g;
const IPV4_RE = /(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)/g;
const JWT_RE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const AWS_RE = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const PEM_RE = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----/g;
// Known vendor prefixes (GitHub, Stripe, Slack, GitLab; npm, OpenAI and Google keys need their full length).
const TOKEN_PREFIX_RE =
  /(?<![A-Za-z0-9_])(?:(?:gh[pousr]_|github_pat_|sk_live_|sk_test_|rk_live_|rk_test_|xox[bpars]-|glpat-)[A-Za-z0-9_-]{10,}|(?:sk-(?:proj-)?|npm_|AIza)[A-Za-z0-9_-]{30,})/g;
const TOKEN_RUN_RE = /[A-Za-z0-9_+=-]{20,}/g;
const PHONE_RES = [
  // +CC ... (8-15 digits): +1 (555) 123-4567, +44 20 7946 0958, +4915112345678
  // Groups of at most 5 digits need a separator between them, so a failed match can't re-split digits
  // (bounded backtracking), and "+3.14159265" is not a phone number.
  /(?<![\w+])\+(?:\d{8,15}|\d{1,4}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{1,5}){1,6})(?![\w]|[.-]\d)/g,
  // North American: (555) 123-4567, 555-123-4567, 555.123.4567
  /(?<![\w.+-])(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w]|[.-]\d)/g,
  // Trunk-0 national with separators: 020 7946 0958, 030-1234567, 06 12345678
  /(?<![\w.+-])0\d{1,4}[ -]\d{3,8}(?:[ -]\d{3,4})?(?![\w]|[.-]\d)/g,
];

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) n++;
  return n;
}

function validOctet(s: string): boolean {
  if (s.length > 1 && s.charCodeAt(0) === 48) return false;
  return Number(s) <= 255;
}

/** True when `s` is a valid IPv6 address (RFC 4291 text forms, optional embedded IPv4, no zone). */
export function ipv6Valid(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return false;
  const parseGroups = (part: string, allowV4: boolean): number => {
    if (part === '') return 0;
    const groups = part.split(':');
    let count = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const o = g.split('.');
        if (o.length !== 4 || !o.every((x) => /^\d{1,3}$/.test(x) && validOctet(x))) return -1;
        count += 2;
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return -1;
        count++;
      }
    }
    return count;
  };
  if (dbl < 0) return parseGroups(s, true) === 8;
  const head = parseGroups(s.slice(0, dbl), false);
  const tail = parseGroups(s.slice(dbl + 2), true);
  if (head < 0 || tail < 0) return false;
  // "::" alone is the unspecified address; require some hex digit so C++'s "::" never counts.
  return head + tail <= 7 && /[0-9A-Fa-f]/.test(s);
}

const isV6Char = (c: number) => (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 0x2e;

/** Each maximal run of hex digits, colons and dots around a colon, once (linear; no regex backtracking). */
function findIpv6(value: string, out: Span[]): void {
  let colon = value.indexOf(':');
  while (colon >= 0) {
    let s = colon;
    while (s > 0 && isV6Char(value.charCodeAt(s - 1))) s--;
    let e = colon + 1;
    while (e < value.length && isV6Char(value.charCodeAt(e))) e++;
    // Sentence punctuation after an address ("reach ::1.") is not part of it.
    while (e > s && value.charCodeAt(e - 1) === 0x2e) e--;
    while (s < e && value.charCodeAt(s) === 0x2e) s++;
    const before = s > 0 ? value.charCodeAt(s - 1) : 0;
    const after = e < value.length ? value.charCodeAt(e) : 0;
    // Inside a word (std::cout, 12:34:56abc) it is not an address.
    const inWord = isAlnum(before) || before === 0x5f || isAlnum(after) || after === 0x5f;
    if (!inWord && e - s <= 45 && ipv6Valid(value.slice(s, e))) out.push({ start: s, end: e });
    colon = value.indexOf(':', Math.max(e, colon + 1));
  }
}

function findIbans(value: string, out: Span[]): void {
  IBAN_START_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IBAN_START_RE.exec(value)) !== null) {
    const len = IBAN_LENGTH[m[0].slice(0, 2)];
    if (len === undefined) continue;
    // Collect exactly `len` alphanumerics, allowing single spaces between them (printed form: groups of 4).
    let compact = '';
    let i = m.index;
    let last = i;
    while (i < value.length && compact.length < len) {
      const c = value.charCodeAt(i);
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90)) {
        compact += value[i];
        last = i;
        i++;
      } else if (c === 0x20 && compact.length >= 4 && i + 1 < value.length && isAlnum(value.charCodeAt(i + 1))) i++;
      else break;
    }
    if (compact.length !== len) continue;
    const next = last + 1 < value.length ? value.charCodeAt(last + 1) : 0;
    if (isAlnum(next)) continue;
    if (ibanValid(compact)) {
      out.push({ start: m.index, end: last + 1 });
      IBAN_START_RE.lastIndex = last + 1;
    }
  }
}

function jwtHeaderOk(token: string): boolean {
  const dot = token.indexOf('.');
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return header !== null && typeof header === 'object' && typeof header.alg === 'string';
  } catch {
    return false;
  }
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The generic high-entropy test for a token-like run of at least 20 characters. */
export function looksLikeSecretToken(run: string): boolean {
  let upper = 0;
  let lower = 0;
  let digits = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
    else if (c >= 48 && c <= 57) digits++;
  }
  // All three classes (rules out words, snake_case names, UUIDs and hex digests), a few digits, and
  // close to random: base62 runs of 20+ characters score above 4 bits/char, prose-like identifiers below.
  if (upper < 2 || lower < 2 || digits < 2) return false;
  return shannonEntropy(run) >= (run.length >= 32 ? 4.0 : 3.6);
}

function findTokens(value: string, out: Span[]): void {
  scan(TOKEN_PREFIX_RE, value, out, whole);
  scan(TOKEN_RUN_RE, value, out, (m) => {
    // Trim base64 padding; a run glued to an email/host part is left to the other detectors.
    const run = m[0].replace(/=+$/, '');
    return run.length >= 20 && looksLikeSecretToken(run) ? { start: m.index, end: m.index + m[0].length } : null;
  });
}

/** The built-in detectors, by name. */
export const BUILTIN_DETECTORS: Readonly<Record<DetectorName, Detector>> = {
  email: {
    name: 'email',
    pre: (p) => p.at > 0 && p.dot > 0,
    find: findEmails,
  },
  phone: {
    name: 'phone',
    pre: (p) => p.digits >= 7,
    find(value, out) {
      const accept = (m: RegExpExecArray) => {
        const n = countDigits(m[0]);
        const min = m[0].charCodeAt(0) === 0x2b ? 8 : 7;
        return n >= min && n <= 15 ? whole(m) : null;
      };
      // Each form needs a character the others don't; skip the regexes that can't match.
      if (value.includes('+')) scan(PHONE_RES[0], value, out, accept);
      scan(PHONE_RES[1], value, out, accept);
      if (value.includes('0')) scan(PHONE_RES[2], value, out, accept);
    },
  },
  payment_card: {
    name: 'payment_card',
    pre: (p) => p.digits >= 13,
    find: (value, out) => scan(CARD_RE, value, out, (m) => (luhnValid(m[0]) ? whole(m) : null)),
  },
  iban: {
    name: 'iban',
    pre: (p) => p.upper >= 2 && p.digits >= 4 && p.length >= 15,
    find: findIbans,
  },
  us_ssn: {
    name: 'us_ssn',
    pre: (p) => p.digits >= 9 && p.dash >= 2,
    find: (value, out) =>
      scan(SSN_RE, value, out, (m) => {
        const area = Number(m[1]);
        if (area === 0 || area === 666 || area >= 900) return null;
        if (m[2] === '00' || m[3] === '0000') return null;
        return whole(m);
      }),
  },
  ipv4: {
    name: 'ipv4',
    pre: (p) => p.dot >= 3 && p.digits >= 4,
    find: (value, out) => scan(IPV4_RE, value, out, (m) => (validOctet(m[1]) && validOctet(m[2]) && validOctet(m[3]) && validOctet(m[4]) ? whole(m) : null)),
  },
  ipv6: {
    name: 'ipv6',
    pre: (p) => p.colon >= 2,
    find: findIpv6,
  },
  jwt: {
    name: 'jwt',
    pre: (p) => p.dot >= 2 && p.upper >= 1 && p.length >= 16 && contains(p, 'eyJ'),
    find: (value, out) => scan(JWT_RE, value, out, (m) => (jwtHeaderOk(m[0]) ? whole(m) : null)),
  },
  aws_access_key: {
    name: 'aws_access_key',
    pre: (p) => p.upper >= 4 && p.maxTokenRun >= 20,
    find: (value, out) => scan(AWS_RE, value, out, whole),
  },
  pem_private_key: {
    name: 'pem_private_key',
    pre: (p) => p.dash >= 10 && contains(p, '-----BEGIN'),
    find(value, out) {
      scan(PEM_RE, value, out, (m) => {
        const endMarker = `-----END ${m[1]}PRIVATE KEY-----`;
        const end = value.indexOf(endMarker, m.index + m[0].length);
        // A block cut short (truncated value) is masked to the end: fail closed.
        const stop = end < 0 ? value.length : end + endMarker.length;
        PEM_RE.lastIndex = stop;
        return { start: m.index, end: stop };
      });
    },
  },
  api_token: {
    name: 'api_token',
    pre: (p) => p.maxTokenRun >= 14,
    find: findTokens,
  },
};

/** Every built-in detector name, in a stable order. */
export const DETECTOR_NAMES = Object.keys(BUILTIN_DETECTORS) as DetectorName[];

/**
 * A custom detector from a policy regex (JavaScript syntax with the u flag, as the policy file validates
 * it). Throws SyntaxError for an invalid pattern; the policy loader validates patterns first, so this only
 * fails on a plan built by hand. Zero-length matches are ignored. Custom patterns run on every non-empty value (there is no pre-check to derive from
 * an arbitrary regex), so keep them anchored to something specific.
 */
export function customDetector(name: string, pattern: string): Detector {
  const re = new RegExp(pattern, 'gu');
  return { name, pre: (p) => p.length > 0, find: (value, out) => scan(re, value, out, whole) };
}

/** Sort spans and merge overlapping or touching ones; returns a new array. */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length <= 1) return spans;
  const sorted = spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [{ ...sorted[0] }];
  for (let i = 1; i < sorted.length; i++) {
    const last = merged[merged.length - 1];
    const s = sorted[i];
    if (s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}
