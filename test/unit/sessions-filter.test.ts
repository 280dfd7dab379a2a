import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, StatementRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

/** sessions.list's decision and text filters (the console's Sessions screen) on a real store. */
let store: Store;
const T0 = Date.UTC(2026, 0, 1);

const session = (id: string, startedAt: number, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  protocol: 'postgres',
  agentId: 'a1',
  agentName: 'alpha',
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
  ...extra,
});
const stmt = (sessionId: string, seq: number, extra: Partial<StatementRecord> = {}): StatementRecord => ({
  sessionId,
  seq,
  protocol: 'simple',
  sql: 'select 1',
  paramCount: 0,
  startedAt: T0 + seq,
  durationMs: 1,
  commandTag: 'SELECT 1',
  rows: 1,
  errorCode: null,
  ...extra,
});

beforeEach(() => {
  store = Store.open(':memory:');
  store.agents.insert({ id: 'a1', name: 'alpha', secretVerifier: 'x', tags: [], disabled: false, createdAt: T0 });
  store.sessions.insert(session('plain', T0 + 1));
  store.sessions.insert(session('blocked', T0 + 2, { agentName: 'beta', endedAt: T0 + 9, endReason: 'client_closed' }));
  store.sessions.insert(session('held', T0 + 3, { clientAddress: '10.9.8.7:4000' }));
  store.sessions.insert(session('masked', T0 + 4));
  store.sessions.insert(session('errored', T0 + 5));
  store.transaction(() =>
    store.statements.insertMany([
      stmt('plain', 1, { sql: 'SELECT * FROM Orders' }),
      stmt('blocked', 1, { sql: 'DROP TABLE users', policyAction: 'block', policyRule: 'no-drop', commandTag: null }),
      stmt('held', 1, { sql: 'insert into audit_log values (1)', policyAction: 'approve', policyRule: 'writes', approvalId: 'ap1' }),
      stmt('masked', 1, { sql: 'select email from users', maskedValues: 3 }),
      stmt('masked', 2, { sql: 'select 2', maskedValues: 0 }),
      stmt('errored', 1, { sql: 'select nope', errorCode: '42703', commandTag: null }),
    ]),
  );
});

afterEach(() => store.close());

const ids = (q: Parameters<Store['sessions']['list']>[0]) => {
  const r = store.sessions.list(q);
  return { ids: r.items.map((s) => s.id), total: r.total };
};

describe('sessions list filters', () => {
  it('finds sessions by what policy and the database did to their statements', () => {
    expect(ids({ limit: 10, decision: 'blocked' })).toEqual({ ids: ['blocked'], total: 1 });
    expect(ids({ limit: 10, decision: 'held' })).toEqual({ ids: ['held'], total: 1 });
    expect(ids({ limit: 10, decision: 'masked' })).toEqual({ ids: ['masked'], total: 1 });
    expect(ids({ limit: 10, decision: 'errored' })).toEqual({ ids: ['errored'], total: 1 });
  });

  it('finds sessions by text in a statement or the client address, case-insensitively', () => {
    expect(ids({ limit: 10, text: 'orders' })).toEqual({ ids: ['plain'], total: 1 });
    expect(ids({ limit: 10, text: 'USERS' })).toEqual({ ids: ['masked', 'blocked'], total: 2 });
    expect(ids({ limit: 10, text: '10.9.8' })).toEqual({ ids: ['held'], total: 1 });
    expect(ids({ limit: 10, text: "'; drop" })).toEqual({ ids: [], total: 0 });
  });

  it('combines with the agent, open-only and paging filters', () => {
    expect(ids({ limit: 10, text: 'users', agentName: 'beta' })).toEqual({ ids: ['blocked'], total: 1 });
    expect(ids({ limit: 10, text: 'users', activeOnly: true })).toEqual({ ids: ['masked'], total: 1 });
    expect(ids({ limit: 1, text: 'select' })).toEqual({ ids: ['errored'], total: 3 });
    expect(ids({ limit: 10, text: 'select', before: 'errored' })).toEqual({ ids: ['masked', 'plain'], total: 3 });
  });

  it('without them, totals still come from the maintained counts', () => {
    expect(ids({ limit: 2 })).toEqual({ ids: ['errored', 'masked'], total: 5 });
  });
});
