import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { formatClock } from '../screens/sessions/replay/replay-model';

/** A point of interest on the timeline: a statement, a search hit ... */
export interface TimelineMarker {
  t: number;
  kind: string;
  label: string;
  /** Marked as the current one (the statement the position is on). */
  current?: boolean;
}

export interface TimelineBarProps {
  /** Length of the axis, seconds. */
  duration: number;
  /** The position, seconds. */
  value: number;
  onSeek: (t: number) => void;
  /** Arrow keys: move by this many seconds (Shift: ten times); ignored when `onStep` is given. */
  step?: number;
  /** Arrow keys call this instead of moving by `step` (the statements timeline moves between statements). */
  onStep?: (direction: -1 | 1) => void;
  markers?: TimelineMarker[];
  /** How much of the axis is loaded (0..1), drawn behind the position. */
  loaded?: number;
  label: string;
}

/**
 * The session timeline shared by the SSH player and the statements view: a slider (ARIA role slider)
 * scrubbed with the mouse (press and drag) or the keyboard (arrows, Page Up/Down, Home/End).
 */
export function TimelineBar({ duration, value, onSeek, step = 5, onStep, markers = [], loaded = 1, label }: TimelineBarProps) {
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const span = Math.max(duration, 0.001);
  const clamp = (t: number) => Math.min(duration, Math.max(0, t));
  const at = (clientX: number) => {
    const r = ref.current!.getBoundingClientRect();
    return clamp(((clientX - r.left) / Math.max(1, r.width)) * duration);
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    dragging.current = true;
    e.currentTarget.setPointerCapture(e.pointerId);
    e.currentTarget.focus();
    onSeek(at(e.clientX));
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => dragging.current && onSeek(at(e.clientX));
  const onPointerUp = () => {
    dragging.current = false;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const big = e.shiftKey ? 10 : 1;
    let next: number | null = null;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowDown' || e.key === 'ArrowRight' || e.key === 'ArrowUp') {
      const dir = e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? -1 : 1;
      e.preventDefault();
      if (onStep) return onStep(dir);
      next = value + dir * step * big;
    } else if (e.key === 'PageUp') next = value - duration / 10;
    else if (e.key === 'PageDown') next = value + duration / 10;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = duration;
    if (next === null) return;
    e.preventDefault();
    onSeek(clamp(next));
  };
  const pct = (t: number) => `${(Math.min(duration, Math.max(0, t)) / span) * 100}%`;
  return (
    <div className="timeline">
      <div
        ref={ref}
        className="timeline-track"
        role="slider"
        tabIndex={0}
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={Number(duration.toFixed(3))}
        aria-valuenow={Number(value.toFixed(3))}
        aria-valuetext={`${formatClock(value, true)} of ${formatClock(duration)}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      >
        <div className="timeline-loaded" style={{ width: `${Math.min(1, Math.max(0, loaded)) * 100}%` }} />
        <div className="timeline-played" style={{ width: pct(value) }} />
        {markers.map((m, i) => (
          <span key={i} className={`timeline-marker ${m.kind}${m.current ? ' current' : ''}`} style={{ left: pct(m.t) }} title={m.label} />
        ))}
        <div className="timeline-thumb" style={{ left: pct(value) }} />
      </div>
      <span className="timeline-time mono" aria-hidden="true">
        {formatClock(value, true)} / {formatClock(duration)}
      </span>
    </div>
  );
}
