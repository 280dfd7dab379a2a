/**
 * SASLprep (RFC 4013 on RFC 3454) the way PostgreSQL applies it to SCRAM passwords (src/common/saslprep.c):
 * an ASCII password is used as is; otherwise non-ASCII spaces become U+0020, "commonly mapped to nothing"
 * characters are dropped, the result is NFKC-normalised, and if the mapped string holds a prohibited,
 * unassigned or badly mixed bidirectional character the caller uses the raw password instead. Matching
 * PostgreSQL (and libpq) here is what lets a non-ASCII upstream password or agent secret authenticate.
 *
 * Two approximations, both documented: "unassigned" means unassigned in the Unicode version Node ships
 * (RFC 3454 pins Unicode 3.2), and the bidi classes are approximated by the right-to-left scripts.
 */

type Range = readonly [number, number];

/** RFC 3454 C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE: readonly Range[] = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

/** RFC 3454 B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING: readonly Range[] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

/** RFC 3454 C.1.2, C.2.1, C.2.2, C.3 to C.9: characters SASLprep prohibits. */
const PROHIBITED: readonly Range[] = [
  ...NON_ASCII_SPACE,
  [0x0000, 0x001f], // C.2.1 ASCII controls
  [0x007f, 0x007f],
  [0x0080, 0x009f], // C.2.2 non-ASCII controls
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200c, 0x200d],
  [0x2028, 0x2029],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffc],
  [0x1d173, 0x1d17a],
  [0xe000, 0xf8ff], // C.3 private use
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
  [0xfdd0, 0xfdef], // C.4 non-characters (the xFFFE/xFFFF of each plane are checked separately)
  [0xd800, 0xdfff], // C.5 surrogates
  [0xfff9, 0xfffd], // C.6 inappropriate for plain text
  [0x2ff0, 0x2ffb], // C.7 inappropriate for canonical representation
  [0x0340, 0x0341], // C.8 change display properties or deprecated
  [0x200e, 0x200f],
  [0x202a, 0x202e],
  [0xe0001, 0xe0001], // C.9 tagging characters
  [0xe0020, 0xe007f],
];

const inRanges = (cp: number, ranges: readonly Range[]) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
const UNASSIGNED = /^\p{Cn}$/u;
const RIGHT_TO_LEFT = /^[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]$/u;
const LETTER = /^\p{L}$/u;

/**
 * SASLprep a password for SCRAM. Returns the prepared string, or null when PostgreSQL would reject the
 * preparation (prohibited characters, empty after mapping), in which case the raw password is used.
 */
export function saslprep(input: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(input)) return input;
  const mapped: number[] = [];
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, NON_ASCII_SPACE)) mapped.push(0x20);
    else if (!inRanges(cp, MAPPED_TO_NOTHING)) mapped.push(cp);
  }
  if (mapped.length === 0) return null;
  // PostgreSQL checks the mapped (not yet normalised) characters; so do we, to derive the same key.
  for (const cp of mapped) {
    if (inRanges(cp, PROHIBITED) || (cp & 0xfffe) === 0xfffe) return null;
    if (UNASSIGNED.test(String.fromCodePoint(cp))) return null;
  }
  const chars = mapped.map((cp) => String.fromCodePoint(cp));
  const isRtl = (c: string) => RIGHT_TO_LEFT.test(c);
  if (chars.some(isRtl)) {
    if (chars.some((c) => !isRtl(c) && LETTER.test(c))) return null;
    if (!isRtl(chars[0]) || !isRtl(chars[chars.length - 1])) return null;
  }
  return chars.join('').normalize('NFKC');
}

/** The bytes SCRAM hashes for a password: its SASLprep form when there is one, else the raw UTF-8. */
export function scramPasswordBytes(password: string): Buffer {
  return Buffer.from(saslprep(password) ?? password, 'utf8');
}
