import type { ReplaySnapshotDto } from '../../../../../shared/contract';

/** A player event as the contract sends it: `[seconds, "o" | "r", data]` ("i" is never drawn). */
export type PlayerEvent = [number, 'o' | 'i' | 'r', string];

/** One thing to do to the terminal: write output, or change its size. */
export type ReplayStep = { kind: 'write'; data: string } | { kind: 'resize'; cols: number; rows: number };

/** How to get the terminal to the state after `to` events: restore `snapshot` (or reset), then run `steps`. */
export interface SeekPlan {
  /** Restore this snapshot first; null = start from a reset terminal at the recording's initial size. */
  snapshot: ReplaySnapshotDto | null;
  /** Start from the terminal as it is (only forward moves, when that is cheaper than a snapshot). */
  incremental: boolean;
  from: number;
  to: number;
}

/** How many events happened at or before `t` seconds (events are in time order). */
export function eventsUpTo(events: readonly PlayerEvent[], t: number, limit = events.length): number {
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid][0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The snapshot with the greatest index at or below `count` (snapshots sorted by index); null if none. */
export function snapshotFor(snapshots: readonly ReplaySnapshotDto[], count: number): ReplaySnapshotDto | null {
  let lo = 0;
  let hi = snapshots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (snapshots[mid].index <= count) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : snapshots[lo - 1];
}

/**
 * Plan a move of a terminal that has `applied` events drawn to `target` events. Forward moves continue
 * from the current state unless a snapshot lies past it (then restoring that snapshot is less to replay);
 * backward moves restore the nearest snapshot at or before the target, or start over when there is none.
 * Either way at most the events since one snapshot are replayed.
 */
export function planSeek(snapshots: readonly ReplaySnapshotDto[], applied: number, target: number): SeekPlan {
  const snap = snapshotFor(snapshots, target);
  if (target >= applied && (!snap || snap.index <= applied)) return { snapshot: null, incremental: true, from: applied, to: target };
  return { snapshot: snap, incremental: false, from: snap ? snap.index : 0, to: target };
}

/** Parse "COLSxROWS" (a resize event's data). */
export function parseSize(data: string): { cols: number; rows: number } | null {
  const m = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? { cols: Number(m[1]), rows: Number(m[2]) } : null;
}

/** The events in [from, to) as terminal steps: consecutive output joined into one write. */
export function replaySteps(events: readonly PlayerEvent[], from: number, to: number): ReplayStep[] {
  const steps: ReplayStep[] = [];
  let buf = '';
  for (let i = from; i < to; i++) {
    const [, code, data] = events[i];
    if (code === 'o') buf += data;
    else if (code === 'r') {
      const size = parseSize(data);
      if (!size) continue;
      if (buf) steps.push({ kind: 'write', data: buf });
      buf = '';
      steps.push({ kind: 'resize', ...size });
    }
  }
  if (buf) steps.push({ kind: 'write', data: buf });
  return steps;
}

/** A place where searched text appeared on the terminal. */
export interface SearchHit {
  /** Index of the event whose output completed the match. */
  index: number;
  /** When (seconds): the player seeks just after it to show the text. */
  t: number;
  /** The matched text with some context, on one line. */
  preview: string;
}

// Escape sequences (CSI, OSC, two-byte ESC) and other control characters: not text a user would search for.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]|\x1b[ -/][@-~]|[\x00-\x09\x0b-\x1f\x7f]/g;

/** The printable text of terminal output (escape sequences and control characters removed; newlines kept). */
export function terminalText(data: string): string {
  return data.replace(ESCAPES, '');
}

/**
 * Find `query` (case-insensitive) in what the recording printed, across event boundaries. Returns at
 * most `limit` hits in time order.
 */
export function searchRecording(events: readonly PlayerEvent[], query: string, limit = 200): SearchHit[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const starts: number[] = [];
  const owner: number[] = [];
  let text = '';
  for (let i = 0; i < events.length; i++) {
    if (events[i][1] !== 'o') continue;
    const t = terminalText(events[i][2]);
    if (!t) continue;
    starts.push(text.length);
    owner.push(i);
    text += t;
  }
  const lower = text.toLowerCase();
  const hits: SearchHit[] = [];
  for (let at = lower.indexOf(q); at >= 0 && hits.length < limit; at = lower.indexOf(q, at + q.length)) {
    // The event holding the match's last character.
    const endPos = at + q.length - 1;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= endPos) lo = mid;
      else hi = mid - 1;
    }
    const index = owner[lo];
    const preview = text
      .slice(Math.max(0, at - 30), at + q.length + 30)
      .replace(/\s+/g, ' ')
      .trim();
    hits.push({ index, t: events[index][0], preview });
  }
  return hits;
}

/** "m:ss" (or "h:mm:ss") for a player position in seconds; tenths when `precise`. */
export function formatClock(seconds: number, precise = false): string {
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const secText = precise ? sec.toFixed(1).padStart(4, '0') : String(Math.floor(sec)).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${secText}` : `${m}:${secText}`;
}
