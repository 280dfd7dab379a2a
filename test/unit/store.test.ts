import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/gateway/core/errors';
import { findChainBreak, GENESIS_HASH } from '../../src/gateway/store/audit-chain';
import { migrations } from '../../src/gateway/store/migrations';
import type { AgentRecord, ConnectionRecord, GrantRecord, SessionRecord, StatementRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

const LATEST = migrations[migrations.length - 1].version;
const T0 = 1_700_000_000_000;

const conn = (id: string, name: string, extra: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  id,
  name,
  kind: 'postgres',
  host: 'db.internal',
  port: 5432,
  database: 'app',
  username: 'app_user',
  tlsMode: 'require',
  secretEnc: Buffer.from([1, 2, 3, 0, 255]),
  tags: ['prod', 'eu'],
  createdAt: T0,
  updatedAt: T0,
  ...extra,
});

const agent = (id: string, name: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  id,
  name,
  secretVerifier: `SCRAM-SHA-256$4096:c2FsdA==$${id}:${id}`,
  tags: ['bot'],
  disabled: false,
  createdAt: T0,
  ...extra,
});

const grant = (id: string, agentId: string, connectionId: string, extra: Partial<GrantRecord> = {}): GrantRecord => ({
  id,
  agentId,
  connectionId,
  createdAt: T0,
  expiresAt: null,
  revokedAt: null,
  createdBy: 'admin',
  ...extra,
});

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
  sql: `SELECT ${seq}`,
  paramCount: 0,
  startedAt: T0 + seq,
  durationMs: 1.5,
  commandTag: 'SELECT 1',
  rows: 1,
  errorCode: null,
  ...extra,
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const expectConflict = (fn: () => unknown, name: string) => {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(GatehouseError);
  expect((err as GatehouseError).code).toBe('conflict');
  expect((err as Error).message).toContain(name);
};

let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
});
afterEach(() => store.close());

describe('connections repo', () => {
  it('inserts, reads back every field, lists by name, updates and removes', () => {
    store.connections.insert(conn('c2', 'zeta'));
    store.connections.insert(conn('c1', 'alpha', { secretEnc: null, tlsMode: 'disable', tags: [] }));
    expect(store.connections.list().map((c) => c.name)).toEqual(['alpha', 'zeta']);
    expect(store.connections.getById('c2')).toEqual(conn('c2', 'zeta'));
    expect(store.connections.getByName('alpha')).toEqual(conn('c1', 'alpha', { secretEnc: null, tlsMode: 'disable', tags: [] }));
    expect(store.connections.getById('nope')).toBeUndefined();
    expect(store.connections.getByName('nope')).toBeUndefined();

    const updated = store.connections.update('c2', { host: 'db2', port: 6543, tags: ['x'], updatedAt: T0 + 5, secretEnc: Buffer.from('s') });
    expect(updated).toMatchObject({ id: 'c2', name: 'zeta', host: 'db2', port: 6543, tags: ['x'], updatedAt: T0 + 5, createdAt: T0 });
    expect(updated.secretEnc?.toString()).toBe('s');
    expect(store.connections.update('c2', { name: 'omega' }).name).toBe('omega');
    expect(store.connections.getByName('zeta')).toBeUndefined();

    expect(() => store.connections.update('nope', { host: 'h' })).toThrow(GatehouseError);
    expect(store.connections.remove('c1')).toBe(true);
    expect(store.connections.remove('c1')).toBe(false);
    expect(store.connections.list().map((c) => c.id)).toEqual(['c2']);
  });

  it('throws a conflict on a taken name, on insert and on rename', () => {
    store.connections.insert(conn('c1', 'main'));
    store.connections.insert(conn('c2', 'other'));
    expectConflict(() => store.connections.insert(conn('c3', 'main')), 'main');
    expectConflict(() => store.connections.update('c2', { name: 'main' }), 'main');
    expect(store.connections.getById('c2')?.name).toBe('other');
    expect(store.connections.list()).toHaveLength(2);
  });
});

describe('agents repo', () => {
  it('inserts, reads back every field, lists by name, updates and removes', () => {
    store.agents.insert(agent('a2', 'zed'));
    store.agents.insert(agent('a1', 'amy', { disabled: true, tags: [] }));
    expect(store.agents.list().map((a) => a.name)).toEqual(['amy', 'zed']);
    expect(store.agents.getById('a2')).toEqual(agent('a2', 'zed'));
    expect(store.agents.getByName('amy')).toEqual(agent('a1', 'amy', { disabled: true, tags: [] }));
    expect(store.agents.getByName('nope')).toBeUndefined();
    expect(store.agents.getById('nope')).toBeUndefined();

    expect(store.agents.update('a1', { disabled: false, tags: ['t'], secretVerifier: 'v2' })).toMatchObject({ disabled: false, tags: ['t'], secretVerifier: 'v2', name: 'amy' });
    expect(store.agents.update('a1', { name: 'ann' }).name).toBe('ann');
    // An empty patch changes nothing.
    expect(store.agents.update('a1', {})).toEqual(store.agents.getById('a1'));
    expect(() => store.agents.update('nope', { disabled: true })).toThrow(GatehouseError);

    expect(store.agents.remove('a2')).toBe(true);
    expect(store.agents.remove('a2')).toBe(false);
    expect(store.agents.list().map((a) => a.id)).toEqual(['a1']);
  });

  it('throws a conflict on a taken name, on insert and on rename', () => {
    store.agents.insert(agent('a1', 'alpha'));
    store.agents.insert(agent('a2', 'beta'));
    expectConflict(() => store.agents.insert(agent('a3', 'alpha')), 'alpha');
    expectConflict(() => store.agents.update('a2', { name: 'alpha' }), 'alpha');
    expect(store.agents.getById('a2')?.name).toBe('beta');
  });
});

describe('grants repo', () => {
  beforeEach(() => {
    store.agents.insert(agent('a1', 'alpha'));
    store.agents.insert(agent('a2', 'beta'));
    store.connections.insert(conn('c1', 'main'));
    store.connections.insert(conn('c2', 'replica'));
  });

  it('get and list join names; list filters by agent, connection and activity', () => {
    store.grants.insert(grant('g1', 'a1', 'c1'));
    store.grants.insert(grant('g2', 'a1', 'c2', { expiresAt: T0 + 100 }));
    store.grants.insert(grant('g3', 'a2', 'c1', { revokedAt: T0 + 1 }));
    expect(store.grants.get('g1')).toEqual({ ...grant('g1', 'a1', 'c1'), agentName: 'alpha', connectionName: 'main' });
    expect(store.grants.get('nope')).toBeUndefined();

    const ids = (f: Parameters<typeof store.grants.list>[0]) => store.grants.list(f).map((g) => g.id);
    expect(ids({ includeInactive: true, now: T0 })).toEqual(['g1', 'g2', 'g3']);
    expect(ids({ includeInactive: false, now: T0 })).toEqual(['g1', 'g2']);
    expect(ids({ includeInactive: false, now: T0 + 100 })).toEqual(['g1']);
    expect(ids({ agentId: 'a1', includeInactive: true, now: T0 })).toEqual(['g1', 'g2']);
    expect(ids({ connectionId: 'c1', includeInactive: true, now: T0 })).toEqual(['g1', 'g3']);
    expect(ids({ agentId: 'a2', connectionId: 'c1', includeInactive: false, now: T0 })).toEqual([]);
  });

  it('an unknown agent or connection is refused by the foreign keys', () => {
    expect(() => store.grants.insert(grant('gx', 'nope', 'c1'))).toThrow();
    expect(() => store.grants.insert(grant('gy', 'a1', 'nope'))).toThrow();
  });

  it('findActive honours expiry (exclusive) and revocation', () => {
    expect(store.grants.findActive('a1', 'c1', T0)).toBeUndefined();
    store.grants.insert(grant('g1', 'a1', 'c1', { expiresAt: T0 + 1000 }));
    expect(store.grants.findActive('a1', 'c1', T0)?.id).toBe('g1');
    expect(store.grants.findActive('a1', 'c1', T0 + 999)?.id).toBe('g1');
    expect(store.grants.findActive('a1', 'c1', T0 + 1000)).toBeUndefined();
    expect(store.grants.findActive('a1', 'c2', T0)).toBeUndefined();
    expect(store.grants.findActive('a2', 'c1', T0)).toBeUndefined();

    store.grants.setExpiry('g1', null);
    expect(store.grants.findActive('a1', 'c1', T0 + 10_000_000)?.id).toBe('g1');
    store.grants.setExpiry('g1', T0 + 5);
    expect(store.grants.get('g1')?.expiresAt).toBe(T0 + 5);
    expect(store.grants.findActive('a1', 'c1', T0 + 10)).toBeUndefined();
    store.grants.setExpiry('g1', null);

    expect(store.grants.revoke('g1', T0 + 20)).toBe(true);
    expect(store.grants.get('g1')?.revokedAt).toBe(T0 + 20);
    expect(store.grants.findActive('a1', 'c1', T0)).toBeUndefined();
    // Revoking again (or a grant that does not exist) reports false and keeps the first revocation time.
    expect(store.grants.revoke('g1', T0 + 30)).toBe(false);
    expect(store.grants.get('g1')?.revokedAt).toBe(T0 + 20);
    expect(store.grants.revoke('nope', T0)).toBe(false);
  });

  it('revoke of an already expired grant reports false', () => {
    store.grants.insert(grant('g1', 'a1', 'c1', { expiresAt: T0 + 10 }));
    expect(store.grants.revoke('g1', T0 + 10)).toBe(false);
    expect(store.grants.get('g1')?.revokedAt).toBeNull();
  });

  it('revokeFor revokes every active grant of the pair and only those', () => {
    store.grants.insert(grant('g1', 'a1', 'c1'));
    store.grants.insert(grant('g2', 'a1', 'c1', { expiresAt: T0 + 1000 }));
    store.grants.insert(grant('g3', 'a1', 'c1', { revokedAt: T0 }));
    store.grants.insert(grant('g4', 'a1', 'c1', { expiresAt: T0 + 1 }));
    store.grants.insert(grant('g5', 'a1', 'c2'));
    store.grants.insert(grant('g6', 'a2', 'c1'));
    expect(store.grants.revokeFor('a1', 'c1', T0 + 5)).toBe(2);
    expect(store.grants.get('g1')?.revokedAt).toBe(T0 + 5);
    expect(store.grants.get('g2')?.revokedAt).toBe(T0 + 5);
    expect(store.grants.get('g3')?.revokedAt).toBe(T0);
    expect(store.grants.get('g4')?.revokedAt).toBeNull();
    expect(store.grants.findActive('a1', 'c1', T0 + 5)).toBeUndefined();
    expect(store.grants.findActive('a1', 'c2', T0 + 5)?.id).toBe('g5');
    expect(store.grants.findActive('a2', 'c1', T0 + 5)?.id).toBe('g6');
    expect(store.grants.revokeFor('a1', 'c1', T0 + 6)).toBe(0);
  });

  it('removing an agent or a connection removes its grants', () => {
    store.grants.insert(grant('g1', 'a1', 'c1'));
    store.grants.insert(grant('g2', 'a1', 'c2'));
    store.grants.insert(grant('g3', 'a2', 'c1'));
    store.grants.insert(grant('g4', 'a2', 'c2'));
    expect(store.agents.remove('a1')).toBe(true);
    expect(store.grants.get('g1')).toBeUndefined();
    expect(store.grants.get('g2')).toBeUndefined();
    expect(store.connections.remove('c1')).toBe(true);
    expect(store.grants.get('g3')).toBeUndefined();
    expect(store.grants.list({ includeInactive: true, now: T0 }).map((g) => g.id)).toEqual(['g4']);
    expect((store.db.prepare('SELECT count(*) AS n FROM grants').get() as { n: number }).n).toBe(1);
  });
});

describe('sessions repo', () => {
  it('inserts, gets and finishes a session', () => {
    store.sessions.insert(session('s1', T0, { tls: false }));
    expect(store.sessions.get('s1')).toEqual(session('s1', T0, { tls: false }));
    expect(store.sessions.get('nope')).toBeUndefined();
    store.sessions.finish('s1', { endedAt: T0 + 10, bytesIn: 100, bytesOut: 2000, endReason: 'client_closed', statementCount: 3 });
    expect(store.sessions.get('s1')).toMatchObject({ endedAt: T0 + 10, bytesIn: 100, bytesOut: 2000, endReason: 'client_closed', statementCount: 3 });
  });

  it('lists newest first with keyset paging (before) and a total over the whole filter', () => {
    // Two sessions share a start time, so the id breaks the tie.
    const all = [
      session('s1', T0 + 1),
      session('s2', T0 + 2),
      session('s3a', T0 + 3),
      session('s3b', T0 + 3),
      session('s4', T0 + 4),
    ];
    for (const s of [...all].reverse()) store.sessions.insert(s);
    const order = ['s4', 's3b', 's3a', 's2', 's1'];

    const p1 = store.sessions.list({ limit: 2 });
    expect(p1.items.map((s) => s.id)).toEqual(order.slice(0, 2));
    expect(p1.total).toBe(5);
    const p2 = store.sessions.list({ limit: 2, before: p1.items.at(-1)!.id });
    expect(p2.items.map((s) => s.id)).toEqual(order.slice(2, 4));
    expect(p2.total).toBe(5);
    const p3 = store.sessions.list({ limit: 2, before: p2.items.at(-1)!.id });
    expect(p3.items.map((s) => s.id)).toEqual(['s1']);
    expect(store.sessions.list({ limit: 2, before: 's1' }).items).toEqual([]);
    expect(store.sessions.list({ limit: 10 }).items.map((s) => s.id)).toEqual(order);
    // Page boundary inside a tie.
    expect(store.sessions.list({ limit: 10, before: 's3b' }).items.map((s) => s.id)).toEqual(['s3a', 's2', 's1']);
  });

  it('filters by agent, connection and active sessions, with matching totals and paging', () => {
    store.sessions.insert(session('s1', T0 + 1, { agentName: 'alpha', connectionName: 'main' }));
    store.sessions.insert(session('s2', T0 + 2, { agentName: 'beta', connectionName: 'main' }));
    store.sessions.insert(session('s3', T0 + 3, { agentName: 'alpha', connectionName: 'replica', endedAt: T0 + 4, endReason: 'client_closed' }));
    store.sessions.insert(session('s4', T0 + 5, { agentName: 'alpha', connectionName: 'main' }));

    const q = (x: Omit<Parameters<typeof store.sessions.list>[0], 'limit'>, limit = 10) => {
      const r = store.sessions.list({ limit, ...x });
      return { ids: r.items.map((s) => s.id), total: r.total };
    };
    expect(q({ agentName: 'alpha' })).toEqual({ ids: ['s4', 's3', 's1'], total: 3 });
    expect(q({ connectionName: 'main' })).toEqual({ ids: ['s4', 's2', 's1'], total: 3 });
    expect(q({ agentName: 'alpha', connectionName: 'main' })).toEqual({ ids: ['s4', 's1'], total: 2 });
    expect(q({ activeOnly: true })).toEqual({ ids: ['s4', 's2', 's1'], total: 3 });
    expect(q({ agentName: 'alpha', activeOnly: true })).toEqual({ ids: ['s4', 's1'], total: 2 });
    expect(q({ agentName: 'nobody' })).toEqual({ ids: [], total: 0 });
    expect(q({ agentName: 'alpha', before: 's4' }, 1)).toEqual({ ids: ['s3'], total: 3 });
    expect(q({ agentName: 'alpha', before: 's3' }, 1)).toEqual({ ids: ['s1'], total: 3 });
  });

  it('closeOrphans ends open sessions as gateway_crashed with their statement count', () => {
    store.sessions.insert(session('open1', T0));
    store.sessions.insert(session('open2', T0 + 1));
    store.sessions.insert(session('done', T0 + 2, { endedAt: T0 + 3, endReason: 'client_closed', statementCount: 7 }));
    store.statements.insertMany([stmt('open1', 1), stmt('open1', 2), stmt('done', 1)]);
    expect(store.sessions.closeOrphans(T0 + 100)).toBe(2);
    expect(store.sessions.get('open1')).toMatchObject({ endedAt: T0 + 100, endReason: 'gateway_crashed', statementCount: 2 });
    expect(store.sessions.get('open2')).toMatchObject({ endedAt: T0 + 100, endReason: 'gateway_crashed', statementCount: 0 });
    expect(store.sessions.get('done')).toMatchObject({ endedAt: T0 + 3, endReason: 'client_closed', statementCount: 7 });
    expect(store.sessions.closeOrphans(T0 + 200)).toBe(0);
    expect(store.sessions.list({ limit: 10, activeOnly: true }).total).toBe(0);
  });
});

describe('statements repo', () => {
  it('keeps what policy and masking did to a statement', () => {
    const rec = stmt('p1', 1, { policyAction: 'approve', policyRule: 'writes', approvalId: 'a-1', maskedValues: 3, resultPreview: '{"columns":["e"],"rows":[["tok_1"]]}' });
    store.statements.insertMany([rec]);
    expect(store.statements.listBySession('p1')[0]).toMatchObject({ policyAction: 'approve', policyRule: 'writes', approvalId: 'a-1', maskedValues: 3, resultPreview: rec.resultPreview });
    store.statements.insertMany([stmt('p1', 2, { maskedValues: 3, maskedBy: { 'pii:email': 2, 'pii:payment_card': 1 } })]);
    expect(store.statements.listBySession('p1')[1].maskedBy).toEqual({ 'pii:email': 2, 'pii:payment_card': 1 });
  });

  it('inserts with ids, lists by session in seq order with paging, and counts', () => {
    const recs = [stmt('s1', 2), stmt('s1', 1, { protocol: 'extended', paramCount: 2, commandTag: null, rows: null, errorCode: '42P01' }), stmt('s1', 3), stmt('s2', 1)];
    store.statements.insertMany(recs);
    expect(recs.every((r) => typeof r.id === 'number' && r.id > 0)).toBe(true);
    expect(new Set(recs.map((r) => r.id)).size).toBe(4);
    const list = store.statements.listBySession('s1');
    expect(list.map((s) => s.seq)).toEqual([1, 2, 3]);
    // Policy and masking fields read back as null when the statement had none.
    expect(list[0]).toEqual({ ...recs[1], policyAction: null, policyRule: null, approvalId: null, maskedValues: null, resultPreview: null });
    expect(store.statements.listBySession('s1', { limit: 1 }).map((s) => s.seq)).toEqual([1]);
    expect(store.statements.listBySession('s1', { afterSeq: 1, limit: 1 }).map((s) => s.seq)).toEqual([2]);
    expect(store.statements.listBySession('s1', { afterSeq: 3 })).toEqual([]);
    expect(store.statements.countBySession('s1')).toBe(3);
    expect(store.statements.countBySession('none')).toBe(0);
  });

  it('refuses a duplicate (session, seq) unless ignoreExisting, which skips it', () => {
    store.statements.insertMany([stmt('s1', 1)]);
    expect(() => store.statements.insertMany([stmt('s1', 1, { sql: 'changed' })])).toThrow();
    store.statements.insertMany([stmt('s1', 1, { sql: 'changed' }), stmt('s1', 2)], { ignoreExisting: true });
    expect(store.statements.listBySession('s1').map((s) => s.sql)).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('a failing batch inside a transaction leaves nothing behind', () => {
    expect(() => store.transaction(() => store.statements.insertMany([stmt('s1', 1), stmt('s1', 2), stmt('s1', 1)]))).toThrow();
    expect(store.statements.countBySession('s1')).toBe(0);
    // Nested transactions join the outer one.
    store.transaction(() => {
      store.statements.insertMany([stmt('s1', 1)]);
      store.transaction(() => store.statements.insertMany([stmt('s1', 2)]));
    });
    expect(store.statements.countBySession('s1')).toBe(2);
  });
});

describe('audit repo', () => {
  const ev = (i: number, extra: Record<string, unknown> = {}) => ({
    at: T0 + i,
    kind: i % 2 ? 'auth.failed' : 'session.start',
    actor: 'gateway',
    agentName: i % 3 ? 'alpha' : 'beta',
    connectionName: 'main',
    sessionId: null,
    clientAddress: '127.0.0.1',
    detail: { i, nested: { b: 2, a: 1 } },
    ...extra,
  });

  it('appends a hash chain and lists with filters and order', () => {
    expect(store.audit.head()).toBeUndefined();
    for (let i = 1; i <= 6; i++) expect(store.audit.append(ev(i))).toBe(i);
    const events = [...store.audit.chain()];
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    expect(events[1].prevHash).toBe(events[0].hash);
    expect(findChainBreak(events)).toBeNull();
    expect(store.audit.head()).toEqual({ id: 6, hash: events[5].hash });
    expect(events[2]).toMatchObject({ ...ev(3), id: 3 });

    expect(store.audit.list({ limit: 10 }).map((e) => e.id)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(store.audit.list({ limit: 2, order: 'asc' }).map((e) => e.id)).toEqual([1, 2]);
    expect(store.audit.list({ limit: 10, kind: 'auth.failed' }).map((e) => e.id)).toEqual([5, 3, 1]);
    expect(store.audit.list({ limit: 10, agentName: 'beta' }).map((e) => e.id)).toEqual([6, 3]);
    expect(store.audit.list({ limit: 10, afterId: 4, order: 'asc' }).map((e) => e.id)).toEqual([5, 6]);
    expect(store.audit.list({ limit: 10, since: T0 + 5 }).map((e) => e.id)).toEqual([6, 5]);
  });

  it('an edited event breaks the chain', () => {
    for (let i = 1; i <= 3; i++) store.audit.append(ev(i));
    store.db.prepare("UPDATE audit_events SET actor = 'mallory' WHERE id = 2").run();
    expect(findChainBreak(store.audit.chain())).toMatchObject({ id: 2, problem: 'content' });
  });

  it('stores and lists checkpoints', () => {
    store.audit.append(ev(1));
    const head = store.audit.head()!;
    expect(store.audit.checkpoints()).toEqual([]);
    store.audit.addCheckpoint({ eventId: head.id, eventHash: head.hash, at: T0 + 9, publicKey: 'pk', signature: 'sig' });
    expect(store.audit.checkpoints()).toEqual([{ id: 1, eventId: 1, eventHash: head.hash, at: T0 + 9, publicKey: 'pk', signature: 'sig' }]);
  });
});

describe('meta repo', () => {
  it('gets, sets and overwrites', () => {
    expect(store.meta.get('k')).toBeUndefined();
    store.meta.set('k', 'v1');
    expect(store.meta.get('k')).toBe('v1');
    store.meta.set('k', 'v2');
    expect(store.meta.get('k')).toBe('v2');
  });
});

describe('reviews repo', () => {
  it('creates a campaign over grants in force during the period, records decisions, completes, and gathers evidence', () => {
    store.agents.insert(agent('a1', 'alpha'));
    store.agents.insert(agent('a2', 'beta'));
    store.connections.insert(conn('c1', 'main'));
    store.grants.insert(grant('g1', 'a1', 'c1'));
    store.grants.insert(grant('g2', 'a2', 'c1', { revokedAt: T0 + 5 })); // revoked before the period
    store.grants.insert(grant('g3', 'a2', 'c1', { createdAt: T0 + 500 })); // created after the period
    const period = { periodStart: T0 + 10, periodEnd: T0 + 100 };
    const n = store.reviews.create(
      { id: 'r1', name: 'Q1', ...period, scope: {}, createdAt: T0 + 200, createdBy: 'admin', completedAt: null, completedBy: null, digest: null, signature: null, publicKey: null },
      {},
    );
    expect(n).toBe(1);
    expect(store.reviews.get('r1')).toMatchObject({ id: 'r1', name: 'Q1', scope: {}, completedAt: null });
    expect(store.reviews.get('nope')).toBeUndefined();
    expect(store.reviews.list().map((c) => c.id)).toEqual(['r1']);
    expect(store.reviews.items('r1')).toEqual([
      { campaignId: 'r1', grantId: 'g1', agentId: 'a1', agentName: 'alpha', connectionId: 'c1', connectionName: 'main', decision: null, newExpiresAt: null, comment: null, decidedBy: null, decidedAt: null },
    ]);

    store.reviews.decide({ campaignId: 'r1', grantId: 'g1', decision: 'keep', newExpiresAt: null, comment: 'ok', decidedBy: 'admin', decidedAt: T0 + 300 });
    expect(store.reviews.items('r1')[0]).toMatchObject({ decision: 'keep', comment: 'ok', decidedBy: 'admin', decidedAt: T0 + 300 });
    store.reviews.complete('r1', { completedAt: T0 + 400, completedBy: 'admin', digest: 'd', signature: 's', publicKey: 'p' });
    expect(store.reviews.get('r1')).toMatchObject({ completedAt: T0 + 400, completedBy: 'admin', digest: 'd', signature: 's', publicKey: 'p' });

    store.sessions.insert(session('s1', T0 + 20, { agentId: 'a1', agentName: 'alpha', connectionId: 'c1', connectionName: 'main' }));
    store.sessions.insert(session('s2', T0 + 50, { agentId: 'a1', agentName: 'alpha', connectionId: 'c1', connectionName: 'main' }));
    store.sessions.insert(session('s3', T0 + 500, { agentId: 'a1', agentName: 'alpha', connectionId: 'c1', connectionName: 'main' }));
    store.statements.insertMany([
      stmt('s1', 1, { commandTag: 'SELECT 3', maskedValues: 2, maskedBy: { 'pii:email': 1, 'cards:column': 1 } }),
      stmt('s1', 2, { commandTag: 'INSERT 0 1', approvalId: 'ap1' }),
      stmt('s2', 1, { commandTag: null, errorCode: '42P01', policyAction: 'block', policyRule: 'no-drop' }),
      stmt('s3', 1, { commandTag: 'DELETE 1', policyAction: 'block', maskedValues: 5, maskedBy: { 'pii:email': 5 } }),
    ]);
    store.audit.append({ at: T0 + 30, kind: 'access.denied', actor: 'gateway', agentName: 'alpha', connectionName: 'main', sessionId: null, clientAddress: null, detail: {} });
    store.audit.append({ at: T0 + 31, kind: 'command.blocked', actor: 'gateway', agentName: 'alpha', connectionName: 'main', sessionId: 's1', clientAddress: null, detail: { rule: 'no-rm' } });
    store.audit.append({ at: T0 + 600, kind: 'command.blocked', actor: 'gateway', agentName: 'alpha', connectionName: 'main', sessionId: 's3', clientAddress: null, detail: { rule: 'no-rm' } });
    const approval = { sessionId: 's1', agentName: 'alpha', connectionName: 'main', protocol: 'postgres', statement: 'insert into t values (1)', rule: 'writes', message: 'm', expiresAt: T0 + 1000 };
    store.approvals.insert({ ...approval, id: 'ap1', requestedAt: T0 + 25 });
    store.approvals.settle('ap1', { status: 'approved', decidedBy: 'admin', decidedAt: T0 + 26, reason: null });
    store.approvals.insert({ ...approval, id: 'ap2', requestedAt: T0 + 600 });
    expect(store.reviews.evidence('a1', 'c1', 'alpha', 'main', period.periodStart, period.periodEnd)).toEqual({
      sessions: 2,
      statements: 3,
      statementsByCommand: { ERROR: 1, INSERT: 1, SELECT: 1 },
      denials: 1,
      lastUsedAt: T0 + 50,
      blocks: 2,
      maskedValues: 2,
      // By detector; column rules by name. s3 started after the period.
      maskedByDetector: { email: 1, 'column:cards': 1 },
      channelsByKind: {},
      approvals: [{ id: 'ap1', statement: 'insert into t values (1)', rule: 'writes', status: 'approved', decidedBy: 'admin', decidedAt: T0 + 26, reason: null }],
      approvalCount: 1,
    });
    expect(store.reviews.statementTexts('a1', 'c1', period.periodStart, period.periodEnd, 10)).toEqual(['SELECT 1', 'SELECT 2']);
  });
});

describe('store file', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempFile = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'gh-store-'));
    dirs.push(d);
    return path.join(d, 'gatehouse.db');
  };

  it('is in WAL mode with foreign keys on, at the latest schema version', () => {
    const file = tempFile();
    const s = Store.open(file);
    try {
      expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(s.db.pragma('user_version', { simple: true })).toBe(LATEST);
    } finally {
      s.close();
    }
  });

  it('keeps data across reopen and does not re-run migrations', () => {
    const file = tempFile();
    const s1 = Store.open(file);
    s1.agents.insert(agent('a1', 'alpha'));
    s1.connections.insert(conn('c1', 'main'));
    s1.grants.insert(grant('g1', 'a1', 'c1'));
    s1.audit.append({ at: T0, kind: 'k', actor: 'x', agentName: null, connectionName: null, sessionId: null, clientAddress: null, detail: {} });
    s1.meta.set('marker', 'kept');
    const head = s1.audit.head();
    s1.close();
    s1.close(); // idempotent

    // Reopening must not replay a migration: re-running version 1 would fail on CREATE TABLE.
    const s2 = Store.open(file);
    try {
      expect(s2.db.pragma('user_version', { simple: true })).toBe(LATEST);
      expect(s2.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(s2.agents.getByName('alpha')?.id).toBe('a1');
      expect(s2.connections.getByName('main')?.secretEnc).toEqual(Buffer.from([1, 2, 3, 0, 255]));
      expect(s2.grants.findActive('a1', 'c1', T0)?.id).toBe('g1');
      expect(s2.meta.get('marker')).toBe('kept');
      expect(s2.audit.head()).toEqual(head);
      expect(findChainBreak(s2.audit.chain())).toBeNull();
    } finally {
      s2.close();
    }
    const s3 = Store.open(file);
    expect(s3.db.pragma('user_version', { simple: true })).toBe(LATEST);
    s3.close();
  });

  it('creates the database, its WAL and shared-memory files readable by the owner only', () => {
    const file = tempFile();
    const s = Store.open(file);
    try {
      s.meta.set('k', 'v');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    } finally {
      s.close();
    }
  });

  it('refuses a store written by a newer schema', () => {
    const file = tempFile();
    const s = Store.open(file);
    s.db.pragma(`user_version = ${LATEST + 1}`);
    s.close();
    expect(() => Store.open(file)).toThrow(/newer Gatehouse/);
  });
});

describe('store edge cases', () => {
  it('refuses to page from an unknown session instead of restarting at the top', () => {
    const store = Store.open(':memory:');
    expect(() => store.sessions.list({ limit: 10, before: 'no-such-session' })).toThrow(/unknown session "no-such-session"/);
    store.close();
  });
});

describe('session totals (trigger-kept counters)', () => {
  /** A small deterministic PRNG, so a failure replays. */
  const prng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

  it('match a count over the rows for every filter after random inserts, finishes, renames and deletes', () => {
    const rnd = prng(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const agents = ['alpha', 'beta', 'gamma'];
    const connections = ['main', 'replica'];
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) {
      const op = rnd();
      if (op < 0.5 || ids.length === 0) {
        const id = `s${i}`;
        ids.push(id);
        const ended = rnd() < 0.3;
        store.sessions.insert(session(id, T0 + i, { agentName: pick(agents), connectionName: pick(connections), endedAt: ended ? T0 + i + 1 : null }));
      } else if (op < 0.75) {
        store.sessions.finish(pick(ids), { endedAt: T0 + i, bytesIn: 1, bytesOut: 1, endReason: 'client_closed', statementCount: 0 });
      } else if (op < 0.85) {
        // Not something the gateway does, but the counters must follow any UPDATE of these columns.
        store.db.prepare('UPDATE sessions SET agent_name = ?, connection_name = ?, ended_at = NULL WHERE id = ?').run(pick(agents), pick(connections), pick(ids));
      } else {
        const id = ids.splice(Math.floor(rnd() * ids.length), 1)[0];
        store.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
      }
    }
    store.sessions.closeOrphans(T0 + 1000);
    store.sessions.insert(session('late-open', T0 + 2000, { agentName: 'beta', connectionName: 'replica' }));

    const count = (where: string, params: unknown[]) => (store.db.prepare(`SELECT count(*) AS n FROM sessions WHERE ${where}`).get(...params) as { n: number }).n;
    for (const agentName of [undefined, ...agents, 'nobody']) {
      for (const connectionName of [undefined, ...connections]) {
        for (const activeOnly of [false, true]) {
          const conds = ['1'];
          const params: unknown[] = [];
          if (agentName) conds.push('agent_name = ?'), params.push(agentName);
          if (connectionName) conds.push('connection_name = ?'), params.push(connectionName);
          if (activeOnly) conds.push('ended_at IS NULL');
          const expected = count(conds.join(' AND '), params);
          const got = store.sessions.list({ limit: 1, agentName, connectionName, activeOnly });
          expect(got.total, JSON.stringify({ agentName, connectionName, activeOnly })).toBe(expected);
          expect(got.items.length).toBe(Math.min(1, expected));
        }
      }
    }
    expect(store.sessions.list({ limit: 5, activeOnly: true }).items.map((s) => s.id)).toEqual(['late-open']);
  });

  it('are backfilled when a store written before the counters is upgraded', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-store-'));
    const file = path.join(dir, 'old.db');
    try {
      // A store at schema 3, as the previous build left it.
      const old = new Database(file);
      for (const m of migrations.filter((x) => x.version <= 3)) m.up(old);
      old.pragma('user_version = 3');
      const ins = old.prepare(
        `INSERT INTO sessions (id, protocol, agent_id, agent_name, connection_id, connection_name, client_addr, tls, started_at, ended_at)
         VALUES (?, 'postgres', 'a', ?, 'c', ?, '127.0.0.1:1', 0, ?, ?)`,
      );
      ins.run('o1', 'alpha', 'main', T0, null);
      ins.run('o2', 'alpha', 'replica', T0 + 1, T0 + 2);
      ins.run('o3', 'beta', 'main', T0 + 2, null);
      old.close();

      const s = Store.open(file);
      try {
        expect(s.db.pragma('user_version', { simple: true })).toBe(LATEST);
        expect(s.sessions.list({ limit: 10 }).total).toBe(3);
        expect(s.sessions.list({ limit: 10, agentName: 'alpha' }).total).toBe(2);
        expect(s.sessions.list({ limit: 10, connectionName: 'main', activeOnly: true })).toMatchObject({ total: 2 });
        expect(s.sessions.list({ limit: 10, activeOnly: true }).items.map((x) => x.id)).toEqual(['o3', 'o1']);
        // And kept up to date from there on.
        s.sessions.finish('o1', { endedAt: T0 + 9, bytesIn: 0, bytesOut: 0, endReason: 'client_closed', statementCount: 0 });
        expect(s.sessions.list({ limit: 10, activeOnly: true }).total).toBe(1);
      } finally {
        s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('query plans (indexes, not scans)', () => {
  const plan = (sql: string, params: Record<string, unknown> = {}) =>
    (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);

  it('findActive is one search of grants_agent_connection, touching no other table', () => {
    const sql = 'SELECT g.* FROM grants g WHERE g.agent_id = @agent AND g.connection_id = @connection AND g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > @now) LIMIT 1';
    const p = plan(sql, { agent: 'a', connection: 'c', now: 0 });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^SEARCH g USING INDEX grants_agent_connection \(agent_id=\? AND connection_id=\? AND revoked_at=\?/);
    // And that is the statement the repo prepared.
    expect((store.grants as unknown as { active: { source: string } }).active.source).toBe(sql);
  });

  it('every session list shape is an index search in list order, with no sort and no full scan', () => {
    const shapes: Parameters<typeof store.sessions.list>[0][] = [];
    for (const agentName of [undefined, 'alpha']) for (const connectionName of [undefined, 'main']) for (const activeOnly of [false, true]) for (const before of [undefined, 's1']) shapes.push({ limit: 10, agentName, connectionName, activeOnly, before });
    store.sessions.insert(session('s1', T0));
    const cache = (store.sessions as unknown as { shapes: { cache: Map<string, unknown> } }).shapes.cache;
    for (const q of shapes) {
      cache.clear();
      store.sessions.list(q);
      const pageSql = [...cache.keys()].find((k) => k.startsWith('SELECT * FROM sessions'))!;
      const params = { agent: 'alpha', connection: 'main', bStart: T0, bId: 's1', limit: 10 };
      const p = plan(pageSql, params).join(' | ');
      expect(p, JSON.stringify(q)).toMatch(/USING (COVERING )?INDEX sessions_/);
      expect(p, JSON.stringify(q)).not.toMatch(/TEMP B-TREE/);
      if (!q.activeOnly) expect(p, JSON.stringify(q)).toMatch(/^SEARCH|SCAN sessions USING INDEX sessions_started$/);
      const totalSql = [...cache.keys()].find((k) => k.includes('session_counts'))!;
      expect(plan(totalSql, params).join(' | ')).not.toMatch(/\bsessions\b/);
    }
  });
});

describe('store API details', () => {
  it('ignoreExisting assigns ids only to the rows it inserted', () => {
    const first = [stmt('s1', 1)];
    store.statements.insertMany(first);
    const replay = [stmt('s1', 1), stmt('s1', 2), stmt('s1', 3)];
    store.statements.insertMany(replay, { ignoreExisting: true });
    expect(replay[0].id).toBeUndefined();
    const stored = store.statements.listBySession('s1');
    expect(stored.map((s) => s.id)).toEqual([first[0].id, replay[1].id, replay[2].id]);
  });

  it('a nested transaction that throws rolls back only itself when the outer one catches', () => {
    store.transaction(() => {
      store.statements.insertMany([stmt('s1', 1)]);
      expect(() =>
        store.transaction(() => {
          store.statements.insertMany([stmt('s1', 2)]);
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
      store.statements.insertMany([stmt('s1', 3)]);
    });
    expect(store.statements.listBySession('s1').map((s) => s.seq)).toEqual([1, 3]);
    // An outer throw after a successful inner one drops both.
    expect(() =>
      store.transaction(() => {
        store.transaction(() => store.statements.insertMany([stmt('s1', 4)]));
        throw new Error('outer fails');
      }),
    ).toThrow('outer fails');
    expect(store.statements.countBySession('s1')).toBe(2);
    expect(store.transaction(() => 42)).toBe(42);
  });

  it('updates with different column sets reuse one prepared statement per shape', () => {
    store.connections.insert(conn('c1', 'main'));
    store.connections.update('c1', { host: 'a' });
    store.connections.update('c1', { host: 'b' });
    store.connections.update('c1', { port: 1 });
    const cache = (store.connections as unknown as { shapes: { cache: Map<string, unknown> } }).shapes.cache;
    expect(cache.size).toBe(2);
    expect(store.connections.getById('c1')).toMatchObject({ host: 'b', port: 1 });
  });
});

describe('read-only store', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempFile = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'gh-store-'));
    dirs.push(d);
    return path.join(d, 'gatehouse.db');
  };

  it('reads what a writer committed and refuses writes', () => {
    const file = tempFile();
    const writer = Store.open(file);
    writer.agents.insert(agent('a1', 'alpha'));
    const reader = Store.open(file, { readonly: true });
    try {
      expect(reader.agents.getByName('alpha')?.id).toBe('a1');
      writer.agents.insert(agent('a2', 'beta'));
      expect(reader.agents.list().map((a) => a.name)).toEqual(['alpha', 'beta']);
      expect(() => reader.agents.insert(agent('a3', 'gamma'))).toThrow(/readonly/);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('does not create a missing file, and does not migrate an old one', () => {
    const file = tempFile();
    expect(() => Store.open(file, { readonly: true })).toThrow();
    const old = new Database(file);
    migrations[0].up(old);
    old.pragma('user_version = 1');
    old.close();
    expect(() => Store.open(file, { readonly: true })).toThrow(/schema 1 .*open it once read-write/);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(1);
    check.close();
  });
});
