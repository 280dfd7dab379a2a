import type { SessionDto, StatementDto } from '../../../../shared/contract';
import type { TimelineMarker } from '../../components/timeline-bar';

/** Seconds from the session's start to each statement's start (statements in seq order). */
export function statementOffsets(session: SessionDto, statements: readonly StatementDto[]): number[] {
  const t0 = Date.parse(session.startedAt);
  return statements.map((s) => Math.max(0, (Date.parse(s.startedAt) - t0) / 1000));
}

/** Length of the statements timeline: to the session's end, else to the end of its last statement (or now). */
export function timelineDuration(session: SessionDto, statements: readonly StatementDto[], now: number): number {
  const t0 = Date.parse(session.startedAt);
  const last = statements[statements.length - 1];
  const lastEnd = last ? Date.parse(last.startedAt) + last.durationMs : t0;
  const end = session.endedAt ? Date.parse(session.endedAt) : Math.max(now, lastEnd);
  return Math.max(0.001, (Math.max(end, lastEnd) - t0) / 1000);
}

/** The statement a timeline position is on: the last one started at or before `t` (0 before the first). */
export function statementAt(offsets: readonly number[], t: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

/**
 * Markers for the statements timeline, at most `buckets` of them: statements closer together than one
 * bucket share a marker, which shows the most notable decision among them (anything but "allowed").
 */
export function statementMarkers(offsets: readonly number[], kinds: readonly string[], duration: number, current: number, buckets = 400): TimelineMarker[] {
  const out: TimelineMarker[] = [];
  const width = duration / buckets;
  let bucket = -1;
  for (let i = 0; i < offsets.length; i++) {
    const b = Math.floor(offsets[i] / Math.max(width, 1e-9));
    const marker = { t: offsets[i], kind: kinds[i], label: `#${i + 1} ${kinds[i]}`, current: i === current };
    if (b !== bucket || out.length === 0) {
      out.push(marker);
      bucket = b;
      continue;
    }
    const prev = out[out.length - 1];
    if ((prev.kind === 'allowed' && kinds[i] !== 'allowed') || i === current) out[out.length - 1] = { ...marker, current: prev.current || i === current };
  }
  return out;
}
