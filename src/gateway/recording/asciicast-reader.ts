import { readFile } from 'node:fs/promises';

/** One asciicast v2 event: seconds since the start, "o" output / "i" input / "r" resize, and its data. */
export type AsciicastEvent = [time: number, code: 'o' | 'i' | 'r', data: string];

/** What a recording's header line says (only the fields the player needs). */
export interface AsciicastFileHeader {
  width: number;
  height: number;
  /** Epoch seconds, as the format writes it. */
  timestamp: number;
  command?: string;
}

/** A whole recording in memory. */
export interface AsciicastRecording {
  header: AsciicastFileHeader;
  events: AsciicastEvent[];
}

/**
 * Parse an asciicast v2 text. A last line without its newline (the gateway was killed mid-write, or the
 * channel is still open) is ignored rather than failing the whole recording; any other bad line throws.
 */
export function parseAsciicast(text: string): AsciicastRecording {
  const lines = text.split('\n');
  // Everything after the last newline is a line still being written.
  if (!text.endsWith('\n')) lines.pop();
  const first = lines.shift();
  if (!first) throw new Error('not an asciicast v2 recording: empty');
  const h = JSON.parse(first) as Partial<AsciicastFileHeader> & { version?: number };
  if (h.version !== 2 || typeof h.width !== 'number' || typeof h.height !== 'number') throw new Error('not an asciicast v2 recording: bad header');
  const events: AsciicastEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const e = JSON.parse(line) as unknown;
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'number' || typeof e[2] !== 'string' || (e[1] !== 'o' && e[1] !== 'i' && e[1] !== 'r')) {
      throw new Error(`not an asciicast v2 recording: bad event on line ${i + 2}`);
    }
    events.push(e as AsciicastEvent);
  }
  return { header: { width: h.width, height: h.height, timestamp: h.timestamp ?? 0, ...(h.command !== undefined ? { command: h.command } : {}) }, events };
}

/** Read and parse a recording file (see parseAsciicast). */
export async function readAsciicast(file: string): Promise<AsciicastRecording> {
  return parseAsciicast(await readFile(file, 'utf8'));
}

/** Parse the "r" event's data ("COLSxROWS"); null when malformed. */
export function parseResize(data: string): { cols: number; rows: number } | null {
  const m = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  if (!m) return null;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  return cols > 0 && rows > 0 ? { cols, rows } : null;
}
