import { stat } from 'node:fs/promises';
import { readAsciicast, type AsciicastEvent, type AsciicastFileHeader } from './asciicast-reader';
import { buildSnapshots, playerEvents, type ReplaySnapshot } from './replay-snapshots';

/** A recording ready to play: its player events and the snapshots a seek starts from. */
export interface ReplayIndex {
  header: AsciicastFileHeader;
  events: AsciicastEvent[];
  snapshots: ReplaySnapshot[];
  /** Characters of event data plus snapshots (what the cache counts). */
  size: number;
  /** How long reading and indexing took (ms). */
  buildMs: number;
}

/**
 * Replay indexes of recently opened recordings, keyed by file and its size and modification time (a
 * recording of an open channel grows; the next read rebuilds). Bounded by total size, least recently
 * used first out. Two readers of the same version share one build.
 */
export class ReplayCache {
  private readonly entries = new Map<string, Promise<ReplayIndex>>();
  private readonly sizes = new Map<string, number>();

  /** `maxChars`: characters of events and snapshots kept (JavaScript strings: up to twice that in bytes); about three recordings at the 16 MB per-channel limit. */
  constructor(private readonly maxChars = 64 * 1024 * 1024) {}

  /** The index of `file` (an absolute path the caller has checked), built on first use. */
  async get(file: string, convertEol = false): Promise<ReplayIndex> {
    const st = await stat(file);
    const key = `${file}\0${st.size}\0${st.mtimeMs}\0${convertEol}`;
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    for (const k of this.entries.keys()) if (k.startsWith(`${file}\0`)) this.drop(k);
    entry = build(file, convertEol);
    this.entries.set(key, entry);
    entry.then(
      (idx) => {
        if (!this.entries.has(key)) return;
        this.sizes.set(key, idx.size);
        this.evict();
      },
      () => this.drop(key),
    );
    return entry;
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.sizes.delete(key);
  }

  private evict(): void {
    let total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    for (const k of this.entries.keys()) {
      if (total <= this.maxChars || this.entries.size <= 1) break;
      total -= this.sizes.get(k) ?? 0;
      this.drop(k);
    }
  }
}

async function build(file: string, convertEol: boolean): Promise<ReplayIndex> {
  const started = performance.now();
  const rec = await readAsciicast(file);
  const events = playerEvents(rec.events);
  const snapshots = await buildSnapshots(rec.header, events, undefined, convertEol);
  let size = 0;
  for (const e of events) size += e[2].length;
  for (const s of snapshots) size += s.data.length;
  return { header: rec.header, events, snapshots, size, buildMs: performance.now() - started };
}
