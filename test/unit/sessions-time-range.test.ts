import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const session = (id: string, startedAt: number, agentName = 'alpha'): SessionRecord => ({
  id,
  protocol: 'postgres',
  agentId: 'a1',
  agentName,
  connectionId: 'c1',
  connectionName: 'main',
  clientAddress: '127.0.0.1:5555',
  tls: true,
  startedAt,
  endedAt: null,
  bytesIn: 0,
  bytesOut: 0,
  endReason: null,
  statementCount: 0,
});

let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
  for (let i = 0; i < 10; i++) store.sessions.insert(session(`s${i}`, T0 + i * HOUR, i % 2 ? 'beta' : 'alpha'));
});
afterEach(() => store.close());

describe('sessions list by time range', () => {
  it('keeps sessions started in [from, to), newest first, with the total of the range and keyset paging', () => {
    const ids = (q: Parameters<typeof store.sessions.list>[0]) => store.sessions.list(q).items.map((s) => s.id);
    expect(ids({ limit: 100, from: T0 + 3 * HOUR, to: T0 + 6 * HOUR })).toEqual(['s5', 's4', 's3']);
    expect(store.sessions.list({ limit: 2, from: T0 + 3 * HOUR, to: T0 + 6 * HOUR }).total).toBe(3);
    expect(ids({ limit: 2, from: T0 + 3 * HOUR, to: T0 + 6 * HOUR, before: 's4' })).toEqual(['s3']);
    expect(ids({ limit: 100, from: T0 + 8 * HOUR })).toEqual(['s9', 's8']);
    expect(ids({ limit: 100, to: T0 + HOUR })).toEqual(['s0']);
    expect(store.sessions.list({ limit: 100, from: T0 + 2 * HOUR, to: T0 + 7 * HOUR, agentName: 'beta' })).toMatchObject({ total: 2, items: [{ id: 's5' }, { id: 's3' }] });
    expect(store.sessions.list({ limit: 100, from: T0 + 20 * HOUR })).toEqual({ items: [], total: 0 });
  });
});

describe('sessions screen time filter', () => {
  it('turns datetime-local values into ISO bounds and decides live sessions by their start', async () => {
    const { NO_FILTER, filterInput, localToIso, sessionMatches } = await import('../../src/renderer/src/screens/sessions/session-filter');
    const from = '2026-03-01T10:00';
    const to = '2026-03-01T12:00';
    expect(filterInput({ ...NO_FILTER, from, to })).toEqual({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(filterInput({ ...NO_FILTER, from: 'not a date' })).toEqual({});
    expect(localToIso('')).toBeUndefined();
    const dto = (startedAt: string) => ({ ...session('x', 0), startedAt, endedAt: null, tls: true }) as unknown as Parameters<typeof sessionMatches>[1];
    expect(sessionMatches({ ...NO_FILTER, from, to }, dto(new Date('2026-03-01T11:00').toISOString()))).toBe('yes');
    expect(sessionMatches({ ...NO_FILTER, from, to }, dto(new Date('2026-03-01T12:00').toISOString()))).toBe('no');
    expect(sessionMatches({ ...NO_FILTER, from }, dto(new Date('2026-03-01T09:59').toISOString()))).toBe('no');
  });
});
