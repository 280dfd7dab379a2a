import headless from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { parseAsciicast, type AsciicastEvent } from '../../src/gateway/recording/asciicast-reader';
import { buildSnapshots, playerEvents } from '../../src/gateway/recording/replay-snapshots';
import {
  eventsUpTo,
  formatClock,
  planSeek,
  replaySteps,
  searchRecording,
  snapshotFor,
  terminalText,
  type PlayerEvent,
  type ReplayStep,
} from '../../src/renderer/src/screens/sessions/replay/replay-model';

const { Terminal } = headless;
type Term = InstanceType<typeof Terminal>;

/** A recording that exercises what a seek must restore: colours, cursor moves, clears, the alternate screen, resizes. */
function syntheticRecording(): AsciicastEvent[] {
  const ev: AsciicastEvent[] = [];
  let t = 0;
  const out = (d: string) => ev.push([(t += 0.25), 'o', d]);
  for (let i = 0; i < 400; i++) {
    out(`\x1b[3${i % 8}mline ${i}\x1b[0m ${'x'.repeat(i % 50)}\r\n`);
    if (i % 37 === 0) out(`\x1b[2J\x1b[H\x1b[1mscreen ${i}\x1b[0m\r\n`);
    if (i % 53 === 0) out(`\x1b[5;10H\x1b[7mmoved ${i}\x1b[0m`);
    if (i % 61 === 0) ev.push([(t += 0.1), 'r', `${80 + (i % 3) * 10}x${24 + (i % 2) * 6}`]);
    if (i % 97 === 0) ev.push([(t += 0.1), 'i', 'typed input is not drawn']);
    if (i % 89 === 0) out(`\x1b[?1049h\x1b[Hfull-screen app ${i}\x1b[10;3Hstatus`);
    if (i % 89 === 20) out('\x1b[?1049l');
    if (i === 250) out('café ✓ 日本語\r\n');
  }
  return ev;
}

function write(term: Term, data: string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

async function run(term: Term, steps: ReplayStep[]): Promise<void> {
  for (const s of steps) {
    if (s.kind === 'write') await write(term, s.data);
    else term.resize(s.cols, s.rows);
  }
}

/** What a viewer sees: every visible row, the cursor, the size and which screen is shown. */
function screen(term: Term) {
  const b = term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < term.rows; y++) rows.push(b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
  return { rows, cursor: [b.cursorX, b.cursorY], size: [term.cols, term.rows], alt: b.type };
}

describe('replay snapshots and seeking', () => {
  const header = { width: 80, height: 24 };
  const events = playerEvents(syntheticRecording()) as PlayerEvent[];

  it('restoring the nearest snapshot and replaying the rest gives the same screen as replaying everything', async () => {
    const snapshots = await buildSnapshots(header, events as AsciicastEvent[], 2048);
    expect(snapshots.length).toBeGreaterThan(5);
    expect(snapshots.map((s) => s.index)).toEqual([...snapshots.map((s) => s.index)].sort((a, b) => a - b));
    const duration = events[events.length - 1][0];
    const times = [0, 0.3, 7.2, duration / 3, duration / 2, duration * 0.77, duration - 0.01, duration, ...snapshots.slice(0, 4).map((s) => s.t)];
    let checkedFromSnapshot = 0;
    for (const t of times) {
      const target = eventsUpTo(events, t);
      const full = new Terminal({ cols: 80, rows: 24, allowProposedApi: true });
      await run(full, replaySteps(events, 0, target));
      // As if the terminal showed a later state: a seek must start from a snapshot (or from nothing).
      const plan = planSeek(snapshots, Number.POSITIVE_INFINITY, target);
      expect(plan.incremental).toBe(false);
      const seek = new Terminal({ cols: 80, rows: 24, allowProposedApi: true });
      if (plan.snapshot) {
        checkedFromSnapshot++;
        expect(target - plan.snapshot.index).toBeLessThan(events.length);
        seek.resize(plan.snapshot.cols, plan.snapshot.rows);
        await write(seek, plan.snapshot.data);
      }
      await run(seek, replaySteps(events, plan.from, plan.to));
      expect({ t, ...screen(seek) }).toEqual({ t, ...screen(full) });
      full.dispose();
      seek.dispose();
    }
    expect(checkedFromSnapshot).toBeGreaterThan(5);
  });

  it('a snapshot is taken after every N bytes of output, at an event boundary', async () => {
    const snapshots = await buildSnapshots(header, events as AsciicastEvent[], 4096);
    let bytes = 0;
    let last = 0;
    for (const s of snapshots) {
      for (let i = last; i < s.index; i++) if (events[i][1] === 'o') bytes += events[i][2].length;
      expect(bytes).toBeGreaterThanOrEqual(4096);
      bytes = 0;
      last = s.index;
      expect(s.t).toBe(events[s.index - 1][0]);
    }
    expect(await buildSnapshots(header, events.slice(0, 3) as AsciicastEvent[], 4096)).toEqual([]);
  });

  it('planSeek goes forward from the current state unless a snapshot is closer, and backward from a snapshot', () => {
    const snaps = [10, 20, 30].map((index) => ({ index, t: index, cols: 80, rows: 24, data: '' }));
    expect(planSeek(snaps, 12, 15)).toEqual({ snapshot: null, incremental: true, from: 12, to: 15 });
    expect(planSeek(snaps, 12, 25)).toMatchObject({ snapshot: { index: 20 }, incremental: false, from: 20, to: 25 });
    expect(planSeek(snaps, 25, 12)).toMatchObject({ snapshot: { index: 10 }, from: 10, to: 12 });
    expect(planSeek(snaps, 25, 5)).toEqual({ snapshot: null, incremental: false, from: 0, to: 5 });
    expect(planSeek([], 25, 30)).toEqual({ snapshot: null, incremental: true, from: 25, to: 30 });
    expect(snapshotFor(snaps, 30)?.index).toBe(30);
    expect(snapshotFor(snaps, 9)).toBeNull();
  });

  it('eventsUpTo counts events at or before a time', () => {
    const ev: PlayerEvent[] = [
      [0, 'o', 'a'],
      [1, 'o', 'b'],
      [1, 'o', 'c'],
      [2.5, 'o', 'd'],
    ];
    expect([-1, 0, 0.5, 1, 2, 2.5, 9].map((t) => eventsUpTo(ev, t))).toEqual([0, 1, 1, 3, 3, 4, 4]);
  });

  it('replaySteps joins output and keeps resizes in order', () => {
    const ev: PlayerEvent[] = [
      [0, 'o', 'a'],
      [0, 'o', 'b'],
      [0, 'r', '100x30'],
      [0, 'r', 'junk'],
      [0, 'i', 'typed'],
      [0, 'o', 'c'],
    ];
    expect(replaySteps(ev, 0, 6)).toEqual([
      { kind: 'write', data: 'ab' },
      { kind: 'resize', cols: 100, rows: 30 },
      { kind: 'write', data: 'c' },
    ]);
  });
});

describe('searching a recording', () => {
  it('finds text split across events and behind escape sequences, case-insensitively, with the time it completed', () => {
    const ev: PlayerEvent[] = [
      [0.5, 'o', '$ ls\r\n'],
      [1.0, 'o', '\x1b[01;34mSecr'],
      [1.5, 'o', 'ets\x1b[0m  notes.txt\r\n'],
      [3.0, 'o', '$ cat secrets/x\r\n'],
      [3.2, 'r', '100x30'],
    ];
    const hits = searchRecording(ev, 'secrets');
    expect(hits.map((h) => [h.index, h.t])).toEqual([
      [2, 1.5],
      [3, 3.0],
    ]);
    expect(hits[0].preview).toContain('Secrets notes.txt');
    expect(searchRecording(ev, '01;34')).toEqual([]);
    expect(searchRecording(ev, '   ')).toEqual([]);
    expect(searchRecording(ev, 'ls', 1)).toHaveLength(1);
  });

  it('terminalText drops escapes and control characters but keeps newlines', () => {
    expect(terminalText('\x1b]0;title\x07a\x1b[1;31mb\x1b[0m\r\n\x1b(Bc\x07')).toBe('ab\nc');
  });

  it('formatClock', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(75.25, true)).toBe('1:15.3');
    expect(formatClock(3725)).toBe('1:02:05');
  });
});

describe('asciicast reader', () => {
  it('parses a recording and ignores a last line still being written', () => {
    const text = '{"version":2,"width":100,"height":30,"timestamp":1700000000,"command":"top"}\n[0.1, "o", "hi"]\n[0.2, "r", "90x20"]\n[0.3, "o", "cut';
    const r = parseAsciicast(text);
    expect(r.header).toEqual({ width: 100, height: 30, timestamp: 1700000000, command: 'top' });
    expect(r.events).toEqual([
      [0.1, 'o', 'hi'],
      [0.2, 'r', '90x20'],
    ]);
  });

  it('rejects what is not asciicast v2', () => {
    expect(() => parseAsciicast('{"version":1,"width":80,"height":24}\n')).toThrow(/bad header/);
    expect(() => parseAsciicast('{"version":2,"width":80,"height":24}\n[0.1, "x", "?"]\n')).toThrow(/line 2/);
    expect(() => parseAsciicast('')).toThrow(/empty/);
  });
});
