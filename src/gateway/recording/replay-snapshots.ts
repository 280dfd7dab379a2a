import type headlessModule from '@xterm/headless';
import type serializeModule from '@xterm/addon-serialize';
import { lazyRequire } from '../core/lazy-require';
import { parseResize, type AsciicastEvent, type AsciicastFileHeader } from './asciicast-reader';

// Both packages are CommonJS without statically detectable exports, and only replay needs them: loaded
// on first use (see lazyRequire).
const headless = lazyRequire<typeof headlessModule>('@xterm/headless');
const serialize = lazyRequire<typeof serializeModule>('@xterm/addon-serialize');

/**
 * The terminal as it was after the first `index` player events: what `@xterm/addon-serialize` wrote for
 * it (screen, cursor, attributes, modes, alternate screen, the last `SNAPSHOT_SCROLLBACK` lines of
 * scrollback). Writing `data` into a reset terminal of `cols` x `rows` restores that state.
 */
export interface ReplaySnapshot {
  index: number;
  /** Time of the last event it includes (seconds since the recording started). */
  t: number;
  cols: number;
  rows: number;
  data: string;
}

/** Output bytes between two snapshots (a seek replays at most this much after restoring one). */
export const SNAPSHOT_EVERY_BYTES = 64 * 1024;
/** Scrollback lines kept in a snapshot, so the player can scroll up a little after a seek. */
export const SNAPSHOT_SCROLLBACK = 50;

/** The events a player needs: output and resizes (typed input is recorded for audit, not drawn). */
export function playerEvents(events: AsciicastEvent[]): AsciicastEvent[] {
  return events.filter((e) => e[1] !== 'i');
}

/**
 * Replay `events` (player events, see playerEvents) into a headless xterm.js terminal and serialize it
 * every `everyBytes` of output. Runs once per recording version (the caller caches the result); the cost
 * is one pass of the terminal parser over the output plus one serialization per snapshot.
 */
export async function buildSnapshots(
  header: Pick<AsciicastFileHeader, 'width' | 'height'>,
  events: AsciicastEvent[],
  everyBytes = SNAPSHOT_EVERY_BYTES,
  /** Draw "\n" as a new line at column 0 (output of an exec channel without a terminal); the player does the same. */
  convertEol = false,
): Promise<ReplaySnapshot[]> {
  const term = new (headless().Terminal)({ cols: header.width, rows: header.height, scrollback: SNAPSHOT_SCROLLBACK, allowProposedApi: true, convertEol });
  const ser = new (serialize().SerializeAddon)();
  term.loadAddon(ser);
  const snapshots: ReplaySnapshot[] = [];
  let pending = '';
  let since = 0;
  const flush = async () => {
    if (!pending) return;
    const chunk = pending;
    pending = '';
    await new Promise<void>((resolve) => term.write(chunk, resolve));
  };
  try {
    for (let i = 0; i < events.length; i++) {
      const [t, code, data] = events[i];
      if (code === 'r') {
        const size = parseResize(data);
        if (size) {
          await flush();
          term.resize(size.cols, size.rows);
        }
        continue;
      }
      if (code !== 'o') continue;
      pending += data;
      since += data.length;
      if (since >= everyBytes) {
        await flush();
        snapshots.push({ index: i + 1, t, cols: term.cols, rows: term.rows, data: ser.serialize({ scrollback: SNAPSHOT_SCROLLBACK }) });
        since = 0;
      }
    }
    return snapshots;
  } finally {
    term.dispose();
  }
}
