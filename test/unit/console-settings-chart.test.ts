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
