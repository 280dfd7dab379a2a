import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ReplaySnapshotDto, SshChannelDto, SshRecordingDto } from '../../../../../shared/contract';
import { TimelineBar } from '../../../components/timeline-bar';
import { useClient } from '../../../contract-client/client-context';
import { formatBytes } from '../../../format';
import { eventsUpTo, formatClock, planSeek, replaySteps, searchRecording, type PlayerEvent, type SearchHit } from './replay-model';

const SPEEDS = [0.5, 1, 2, 4, 8] as const;

const THEME = { background: '#0b1015', foreground: '#e6edf3', cursor: '#e6edf3', selectionBackground: '#2a3440' };

interface Loaded {
  channels: SshChannelDto[];
  channel: number | null;
  header: NonNullable<SshRecordingDto['header']>;
  duration: number;
  eventCount: number;
}

const write = (term: Terminal, data: string) => new Promise<void>((resolve) => term.write(data, resolve));
const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

/**
 * The SSH session player: the channel's asciicast in xterm.js with play/pause, speed, a timeline to scrub
 * and text search. Seeking restores the nearest terminal snapshot the gateway built (ssh.recording.get)
 * and replays only the output after it, so any moment of a long recording is a short write away.
 */
export function SshReplay({ sessionId, initialT, onPosition }: { sessionId: string; initialT?: number; onPosition?: (t: number) => void }) {
  const client = useClient();
  const [channel, setChannel] = useState<number | undefined>(undefined);
  const [info, setInfo] = useState<Loaded | null>(null);
  const [status, setStatus] = useState<'loading' | 'ready' | 'empty' | 'error'>('loading');
  const [error, setError] = useState('');
  const [loadedCount, setLoadedCount] = useState(0);
  const [t, setT] = useState(initialT ?? 0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [seekMs, setSeekMs] = useState<number | null>(null);
  const [seeks, setSeeks] = useState(0);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHit[]>([]);

  const events = useRef<PlayerEvent[]>([]);
  const snapshots = useRef<ReplaySnapshotDto[]>([]);
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const applied = useRef(0);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const generation = useRef(0);
  const tRef = useRef(t);
  tRef.current = t;

  // Load the recording page by page; the first page is enough to start.
  useEffect(() => {
    let cancelled = false;
    events.current = [];
    snapshots.current = [];
    applied.current = 0;
    setStatus('loading');
    setLoadedCount(0);
    (async () => {
      let from: number | null = 0;
      while (from !== null && !cancelled) {
        const page: SshRecordingDto = await client.call('ssh.recording.get', { sessionId, ...(channel !== undefined ? { channel } : {}), fromIndex: from });
        if (cancelled) return;
        if (!page.header || page.channel === null) {
          setInfo(null);
          setStatus('empty');
          return;
        }
        events.current.push(...(page.events as PlayerEvent[]));
        snapshots.current.push(...page.snapshots);
        if (from === 0) {
          setInfo({ channels: page.channels, channel: page.channel, header: page.header, duration: page.duration, eventCount: page.eventCount });
          setStatus('ready');
        }
        setLoadedCount(events.current.length);
        from = page.nextIndex;
      }
    })().catch((err: Error) => {
      if (cancelled) return;
      setError(err.message);
      setStatus('error');
    });
    return () => {
      cancelled = true;
    };
  }, [client, sessionId, channel]);

  // One terminal per loaded recording.
  const header = info?.header;
  // An exec channel without a terminal sends bare "\n" line ends; a terminal would draw them as stairs.
  const bareNewlines = info?.channels.find((c) => c.channelId === info.channel)?.kind === 'exec';
  useEffect(() => {
    if (!header || !host.current) return;
    const tm = new Terminal({
      cols: header.width,
      rows: header.height,
      disableStdin: true,
      cursorBlink: false,
      scrollback: 1000,
      fontSize: 13,
      theme: THEME,
      allowProposedApi: true,
      convertEol: bareNewlines,
    });
    tm.open(host.current);
    term.current = tm;
    applied.current = 0;
    chain.current = Promise.resolve();
    return () => {
      generation.current++;
      term.current = null;
      tm.dispose();
    };
  }, [header, bareNewlines]);

  /** Bring the terminal to time `to` (queued after any draw in progress; superseded requests are skipped). */
  const show = useCallback(
    (to: number, measure: boolean) => {
      const gen = ++generation.current;
      const started = performance.now();
      chain.current = chain.current.then(async () => {
        const tm = term.current;
        if (!tm || !header || gen !== generation.current) return;
        const target = eventsUpTo(events.current, to);
        const plan = planSeek(snapshots.current, applied.current, target);
        const t0 = performance.now();
        const steps = replaySteps(events.current, plan.from, plan.to);
        let chars = 0;
        if (!plan.incremental) {
          tm.reset();
          tm.resize(plan.snapshot?.cols ?? header.width, plan.snapshot?.rows ?? header.height);
          // The snapshot and the output after it in one write: each write waits for a turn of the event loop.
          const restore = plan.snapshot?.data ?? '';
          const first = steps[0]?.kind === 'write' ? (steps.shift() as { data: string }).data : '';
          chars += first.length;
          if (restore || first) await write(tm, restore + first);
        }
        for (const step of steps) {
          if (step.kind === 'write') {
            chars += step.data.length;
            await write(tm, step.data);
          } else tm.resize(step.cols, step.rows);
        }
        applied.current = target;
        if (measure) {
          const t2 = performance.now();
          await nextFrame();
          const t3 = performance.now();
          setSeekMs(t3 - started);
          setSeeks((n) => n + 1);
          // For benchmarks and curious readers: where a seek's time went.
          host.current?.setAttribute(
            'data-seek-detail',
            `wait ${(t0 - started).toFixed(1)} restore+replay ${(t2 - t0).toFixed(1)} (snapshot ${plan.snapshot?.data.length ?? 0} + output ${chars} chars) frame ${(t3 - t2).toFixed(1)}`,
          );
        }
      });
    },
    [header],
  );

  const seek = useCallback(
    (to: number) => {
      setT(to);
      show(to, true);
      onPosition?.(to);
    },
    [show, onPosition],
  );

  // The first view (a deep link's time), and again when more of the recording arrives and covers it.
  useEffect(() => {
    if (status === 'ready' && !playing) show(tRef.current, true);
  }, [status, loadedCount, show, playing]);

  // Playback: advance the clock every frame and draw what happened since.
  useEffect(() => {
    if (!playing || !info) return;
    let raf = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const next = Math.min(info.duration, tRef.current + ((now - last) / 1000) * speed);
      last = now;
      setT(next);
      tRef.current = next;
      show(next, false);
      if (next >= info.duration) {
        setPlaying(false);
        onPosition?.(next);
        return;
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, info, speed, show, onPosition]);

  const togglePlay = () => {
    if (!info) return;
    if (playing) {
      setPlaying(false);
      onPosition?.(tRef.current);
    } else {
      if (tRef.current >= info.duration) seek(0);
      setPlaying(true);
    }
  };

  // Search what the recording printed (after a pause in typing).
  useEffect(() => {
    const timer = setTimeout(() => setHits(searchRecording(events.current, query)), 200);
    return () => clearTimeout(timer);
  }, [query, loadedCount]);

  const markers = useMemo(() => hits.map((h) => ({ t: h.t, kind: 'hit', label: h.preview })), [hits]);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = e.target as HTMLElement;
    if (el.closest('input, select, button, textarea')) return;
    if (e.key === ' ' || e.key === 'k') {
      e.preventDefault();
      togglePlay();
    }
  };

  if (status === 'empty') return <p className="muted">This session has no terminal recording (no shell or exec channel, or only file transfers).</p>;
  if (status === 'error')
    return (
      <p className="error" role="alert">
        Could not load the recording: {error}
      </p>
    );
  const playable = info?.channels.filter((c) => c.playable) ?? [];
  return (
    <section className="player" aria-label="Terminal replay" onKeyDown={onKeyDown} data-seek-ms={seekMs === null ? undefined : seekMs.toFixed(1)} data-seeks={seeks} data-t={t} data-state={status === 'ready' ? (playing ? 'playing' : 'paused') : 'loading'}>
      {status === 'loading' && <p className="muted">Loading the recording…</p>}
      {info && (
        <div className="player-bar">
          <button className="primary slim" onClick={togglePlay} aria-label={playing ? 'Pause' : 'Play'}>
            {playing ? '❚❚ Pause' : '▶ Play'}
          </button>
          <label className="muted small">
            Speed{' '}
            <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Speed">
              {SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}x
                </option>
              ))}
            </select>
          </label>
          {playable.length > 1 && (
            <label className="muted small">
              Channel{' '}
              <select value={info.channel ?? ''} onChange={(e) => setChannel(Number(e.target.value))} aria-label="Channel">
                {playable.map((c) => (
                  <option key={c.channelId} value={c.channelId}>
                    #{c.channelId} {c.kind}
                    {c.command ? `: ${c.command.slice(0, 40)}` : ''}
                  </option>
                ))}
              </select>
            </label>
          )}
          <input type="search" className="player-search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Search the output…" aria-label="Search the recording" />
          <span className="muted small">
            {info.header.width}×{info.header.height}
            {info.header.command ? ` · ${info.header.command}` : ' · shell'}
            {loadedCount < info.eventCount ? ` · loading ${Math.round((loadedCount / Math.max(1, info.eventCount)) * 100)}%` : ''}
            {seekMs !== null ? ` · seek ${seekMs.toFixed(0)} ms` : ''}
          </span>
        </div>
      )}
      {info && (
        <TimelineBar
          duration={info.duration}
          value={Math.min(t, info.duration)}
          onSeek={(to) => {
            setPlaying(false);
            seek(to);
          }}
          markers={markers}
          loaded={info.eventCount ? loadedCount / info.eventCount : 1}
          label="Recording position"
        />
      )}
      <div className="terminal-host" ref={host} />
      {query.trim() && (
        <div className="search-hits">
          <p className="muted small">
            {hits.length === 0 ? 'Not found in the output.' : `${hits.length}${hits.length === 200 ? '+' : ''} place${hits.length === 1 ? '' : 's'}:`}
          </p>
          <ol>
            {hits.slice(0, 50).map((h, i) => (
              <li key={i}>
                <button
                  className="link"
                  onClick={() => {
                    setPlaying(false);
                    seek(h.t);
                  }}
                >
                  <span className="mono">{formatClock(h.t, true)}</span> {h.preview}
                </button>
              </li>
            ))}
          </ol>
        </div>
      )}
      {info && playable.length > 0 && (
        <p className="muted small">
          Space plays or pauses; on the timeline, ←/→ move 5 s (Shift: 50 s), Page Up/Down a tenth, Home/End the ends.
          {info.channels.some((c) => c.truncated) ? ' Part of this output was not recorded (over the per-channel limit).' : ''}
          {' '}
          {playable.length > 0 && `${formatBytes(info.channels.reduce((n, c) => n + c.bytesOut, 0))} of output.`}
        </p>
      )}
    </section>
  );
}
