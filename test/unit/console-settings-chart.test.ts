import { describe, expect, it } from 'vitest';
import type { ActivityRow } from '../../src/renderer/src/screens/overview/activity';
import { stackedSeries } from '../../src/renderer/src/screens/overview/activity-stack';
import { certificateState } from '../../src/renderer/src/screens/settings/certificate-state';

const HOUR = 3_600_000;

describe('activity chart data', () => {
  it('orders hours oldest first and stacks agents so that series 0 is the whole bar', () => {
    const rows: ActivityRow[] = [
      { hourStart: 2 * HOUR, byAgent: { a: { sessions: 1, statements: 5 }, b: { sessions: 2, statements: 7 } }, sessions: 3, statements: 12 },
      { hourStart: 1 * HOUR, byAgent: { b: { sessions: 1, statements: 1 } }, sessions: 1, statements: 1 },
    ];
    const s = stackedSeries(['a', 'b'], rows, 'statements');
    expect(s.x).toEqual([3600, 7200]);
    expect(s.raw).toEqual([
      [0, 5],
      [1, 7],
    ]);
    expect(s.stacked).toEqual([
      [1, 12],
      [1, 7],
    ]);
    expect(stackedSeries(['a', 'b'], rows, 'sessions').stacked[0]).toEqual([1, 3]);
  });
});

describe('certificate expiry on the settings screen', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads days left, soon, today and expired', () => {
    expect(certificateState('2027-01-01T00:00:00Z', now)).toEqual({ level: 'ok', text: '365 days left' });
    expect(certificateState('2026-01-11T00:00:00Z', now)).toEqual({ level: 'soon', text: 'expires in 10 days' });
    expect(certificateState('2026-01-01T05:00:00Z', now)).toEqual({ level: 'soon', text: 'expires today' });
    expect(certificateState('2025-12-31T00:00:00Z', now)).toEqual({ level: 'expired', text: 'expired' });
  });
});

describe('statements timeline and deep links', () => {
  it('places statements on the session clock and finds the one a position is on', async () => {
    const { statementOffsets, statementAt, statementMarkers, timelineDuration } = await import('../../src/renderer/src/screens/sessions/statement-timeline');
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const session = { startedAt: new Date(t0).toISOString(), endedAt: new Date(t0 + 10_000).toISOString() } as Parameters<typeof statementOffsets>[0];
    const st = (ms: number, durationMs = 5) => ({ startedAt: new Date(t0 + ms).toISOString(), durationMs }) as Parameters<typeof statementOffsets>[1][number];
    const statements = [st(1000), st(2500), st(2500), st(9000)];
    const offsets = statementOffsets(session, statements);
    expect(offsets).toEqual([1, 2.5, 2.5, 9]);
    expect([0, 1, 2, 2.5, 8.9, 50].map((t) => statementAt(offsets, t))).toEqual([0, 0, 0, 2, 2, 3]);
    expect(timelineDuration(session, statements, t0)).toBe(10);
    // Open session: up to now, or the end of the last statement if that is later.
    expect(timelineDuration({ ...session, endedAt: null }, [st(1000, 30_000)], t0 + 5000)).toBe(31);
    // Nearby statements share a marker that shows the notable decision, and the current one is kept.
    const m = statementMarkers(offsets, ['allowed', 'allowed', 'blocked', 'allowed'], 10, 3, 10);
    expect(m.map((x) => [x.t, x.kind, Boolean(x.current)])).toEqual([
      [1, 'allowed', false],
      [2.5, 'blocked', false],
      [9, 'allowed', true],
    ]);
  });

  it('routes carry a query (t, seq) both ways', async () => {
    const { parseRoute, routeHash } = await import('../../src/renderer/src/routes');
    expect(parseRoute('#/sessions/abc?t=12.5')).toEqual({ screen: 'sessions', id: 'abc', query: { t: '12.5' } });
    expect(routeHash({ screen: 'sessions', id: 'abc', query: { seq: '7' } })).toBe('#/sessions/abc?seq=7');
    expect(parseRoute(routeHash({ screen: 'sessions', id: 'a/b', query: { t: '1' } }))).toEqual({ screen: 'sessions', id: 'a/b', query: { t: '1' } });
    expect(parseRoute('#/sessions?')).toEqual({ screen: 'sessions' });
  });
});
