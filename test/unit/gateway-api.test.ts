import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ContractError } from '../../src/shared/contract';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { verifyPasswordWithVerifier } from '../../src/gateway/identity/scram';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { Store } from '../../src/gateway/store/store';

/** The one implementation of the contract, on an in-memory store. */
let store: Store;
let box: SecretBox;
let api: GatewayApi;
let closed: { filter: unknown; reason: string }[];
let events: { event: string; payload: unknown }[];
const ctx = { actor: 'test-admin' };
const UPSTREAM_PASSWORD = 'upstream-' + randomBytes(8).toString('hex');

beforeEach(() => {
  store = Store.open(':memory:');
  const bus = new EventBus();
  events = [];
  bus.onAny((event, payload) => events.push({ event, payload }));
  closed = [];
  box = new SecretBox(randomBytes(32));
  api = createGatewayApi(
    {
      store,
      secretBox: box,
      audit: new AuditLog(store, bus),
      events: bus,
      runtime: {
        closeSessions: (filter, reason) => (closed.push({ filter, reason }), 2),
        testConnection: async (t) => ({ ok: t.password === UPSTREAM_PASSWORD, stage: 'ok', message: 'checked', serverVersion: null, elapsedMs: 1 }),
      },
      info: () => ({ version: 't', dataDir: '/x', installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
    },
    silentLogger,
  );
});

const call = (command: string, input: unknown) => api.call(command, input, ctx) as Promise<any>;

async function setup() {
  await call('connections.add', { name: 'app', host: 'db.internal', database: 'app', username: 'owner', password: UPSTREAM_PASSWORD, tags: ['prod'] });
  const agent = await call('agents.add', { name: 'bot' });
  return agent.secret as string;
}

describe('gateway API', () => {
  it('never returns or audits a credential, and stores only sealed secrets and verifiers', async () => {
    const secret = await setup();
    await call('grants.add', { agent: 'bot', connection: 'app', expiresInSeconds: 60 });
    await call('connections.update', { name: 'app', password: UPSTREAM_PASSWORD + '-2' });
    const outputs = [
      await call('connections.list', {}),
      await call('agents.list', {}),
      await call('grants.list', { includeInactive: true }),
      await call('audit.list', { limit: 100 }),
      await call('server.info', {}),
      events,
    ];
    const text = JSON.stringify(outputs);
    expect(text).not.toContain(UPSTREAM_PASSWORD);
    expect(text).not.toContain(secret);
    const row = store.connections.getByName('app')!;
    expect(row.secretEnc!.toString('latin1')).not.toContain(UPSTREAM_PASSWORD);
    const agent = store.agents.getByName('bot')!;
    expect(agent.secretVerifier).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(verifyPasswordWithVerifier(secret, agent.secretVerifier)).toBe(true);
  });

  it('tests a connection with the decrypted stored credential', async () => {
    await setup();
    expect(await call('connections.test', { name: 'app' })).toMatchObject({ ok: true });
  });

  it('validates input and names the failing field', async () => {
    const err = await call('connections.add', { name: 'bad name', host: '', database: 'd', username: 'u' }).catch((e) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err.code).toBe('invalid');
    expect(err.issues.map((i: { path: string }) => i.path).sort()).toEqual(['host', 'name']);
    const extra = await call('agents.add', { name: 'x', isAdmin: true }).catch((e) => e);
    expect(extra.code).toBe('invalid');
    const unknown = await call('agents.delete-everything', {}).catch((e) => e);
    expect(unknown.code).toBe('not_found');
  });

  it('reports conflicts and unknown names with their own codes', async () => {
    await setup();
    expect((await call('agents.add', { name: 'bot' }).catch((e) => e)).code).toBe('conflict');
    expect((await call('grants.add', { agent: 'ghost', connection: 'app' }).catch((e) => e)).message).toBe('agent "ghost" does not exist');
    expect((await call('sessions.get', { id: 'nope' }).catch((e) => e)).code).toBe('not_found');
  });

  it('revoking a grant closes the agent’s sessions on that connection, audits and announces it', async () => {
    await setup();
    const g = await call('grants.add', { agent: 'bot', connection: 'app' });
    const r = await call('grants.revoke', { agent: 'bot', connection: 'app' });
    expect(r).toEqual({ revoked: 1, sessionsClosed: 2 });
    expect(closed).toEqual([{ filter: { agentId: g.agentId, connectionId: g.connectionId }, reason: 'grant_revoked' }]);
    expect((await call('grants.list', {})).length).toBe(0);
    const revoked = (await call('grants.list', { includeInactive: true }))[0];
    expect(revoked.status).toBe('revoked');
    expect((await call('audit.list', { kind: 'grant.revoked', limit: 10 }))[0]).toMatchObject({ actor: 'test-admin', agentName: 'bot', connectionName: 'app' });
    expect(events.filter((e) => e.event === 'grant.changed')).toHaveLength(2);
    expect((await call('grants.revoke', { id: g.id })).revoked).toBe(0);
  });

  it('keeps sessions open while another active grant still covers the agent', async () => {
    await setup();
    const g1 = await call('grants.add', { agent: 'bot', connection: 'app' });
    await call('grants.add', { agent: 'bot', connection: 'app', expiresInSeconds: 3600 });
    const r = await call('grants.revoke', { id: g1.id });
    expect(r).toEqual({ revoked: 1, sessionsClosed: 0 });
    expect(closed).toEqual([]);
  });

  it('lists sessions newest first with keyset paging and a total', async () => {
    for (let i = 0; i < 5; i++) {
      store.sessions.insert({
        id: `s${i}`, protocol: 'postgres', agentId: 'a', agentName: i % 2 ? 'odd' : 'even', connectionId: 'c', connectionName: 'app', clientAddress: '127.0.0.1:1',
        tls: true, startedAt: 1000 + i, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0,
      });
    }
    const first = await call('sessions.list', { limit: 2 });
    expect(first.total).toBe(5);
    expect(first.items.map((s: { id: string }) => s.id)).toEqual(['s4', 's3']);
    const next = await call('sessions.list', { limit: 2, before: 's3' });
    expect(next.items.map((s: { id: string }) => s.id)).toEqual(['s2', 's1']);
    const even = await call('sessions.list', { limit: 10, agent: 'even' });
    expect(even).toMatchObject({ total: 3 });
  });

  it('audits every mutation with the caller as actor, and removals close the sessions they cut off', async () => {
    const secret = await setup();
    await call('connections.update', { name: 'app', port: 6543, password: UPSTREAM_PASSWORD + '-new' });
    const g = await call('grants.add', { agent: 'bot', connection: 'app' });
    await call('grants.revoke', { id: g.id });
    await call('agents.remove', { name: 'bot' });
    await call('connections.remove', { name: 'app' });
    const trail = await call('audit.list', { order: 'asc', limit: 100 });
    expect(trail.map((e: { kind: string }) => e.kind)).toEqual([
      'connection.added',
      'agent.added',
      'connection.updated',
      'grant.added',
      'grant.revoked',
      'agent.removed',
      'connection.removed',
    ]);
    expect(new Set(trail.map((e: { actor: string }) => e.actor))).toEqual(new Set(['test-admin']));
    expect(trail[2].detail).toMatchObject({ before: { port: 5432 }, after: { port: 6543 }, credential: 'replaced' });
    const text = JSON.stringify(trail);
    expect(text).not.toContain(UPSTREAM_PASSWORD);
    expect(text).not.toContain(secret);
    expect(closed.map((c) => c.reason)).toEqual(['grant_revoked', 'agent_removed', 'connection_removed']);
    expect(await call('connections.list', {})).toEqual([]);
    expect(await call('agents.list', {})).toEqual([]);
  });

  it('names nested and numeric fields in validation errors, and rejects unknown fields', async () => {
    const issues = async (command: string, input: unknown) => {
      const err = await call(command, input).catch((e) => e);
      expect(err, command).toBeInstanceOf(ContractError);
      expect(err.code).toBe('invalid');
      return err.issues.map((i: { path: string }) => i.path);
    };
    expect(await issues('connections.add', { name: 'a', host: 'h', database: 'd', username: 'u', port: 70000 })).toEqual(['port']);
    expect(await issues('connections.add', { name: 'a', host: 'h', database: 'd', username: 'u', tags: ['ok', ''] })).toEqual(['tags.1']);
    expect(await issues('connections.add', { name: 'a', host: 'h', database: 'd', username: 'u', tlsMode: 'sometimes' })).toEqual(['tlsMode']);
    expect(await issues('grants.add', { agent: 'a', connection: 'c', expiresInSeconds: -5 })).toEqual(['expiresInSeconds']);
    expect(await issues('sessions.list', { limit: 0 })).toEqual(['limit']);
    expect(await issues('agents.add', {})).toEqual(['name']);
    expect(await issues('agents.add', null)).toEqual(['name']);
    // A rejected value never comes back in the message (it may be a password typed in the wrong field).
    const err = await call('connections.add', { name: 'a', host: 'h', database: 'd', username: 'u', password: 'p'.repeat(2000) }).catch((e) => e);
    expect(err.issues.map((i: { path: string }) => i.path)).toEqual(['password']);
    expect(JSON.stringify(err.toBody())).not.toContain('p'.repeat(50));
  });

  it('returns a session with its statements, times as ISO strings', async () => {
    store.sessions.insert({
      id: 'sess-1', protocol: 'postgres', agentId: 'a', agentName: 'bot', connectionId: 'c', connectionName: 'app', clientAddress: '127.0.0.1:5000',
      tls: true, startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), endedAt: null, bytesIn: 10, bytesOut: 20, endReason: null, statementCount: 0,
    });
    store.statements.insertMany([
      { sessionId: 'sess-1', seq: 1, protocol: 'simple', sql: 'select 1', paramCount: 0, startedAt: Date.UTC(2026, 0, 2, 3, 4, 6), durationMs: 0.5, commandTag: 'SELECT 1', rows: 1, errorCode: null },
      { sessionId: 'sess-1', seq: 2, protocol: 'extended', sql: 'select $1', paramCount: 1, startedAt: Date.UTC(2026, 0, 2, 3, 4, 7), durationMs: 1, commandTag: null, rows: null, errorCode: '42601' },
    ]);
    const r = await call('sessions.get', { id: 'sess-1' });
    expect(r.session).toMatchObject({ id: 'sess-1', startedAt: '2026-01-02T03:04:05.000Z', endedAt: null, tls: true });
    expect(r.statements.map((x: { seq: number; sql: string; startedAt: string }) => [x.seq, x.sql, x.startedAt])).toEqual([
      [1, 'select 1', '2026-01-02T03:04:06.000Z'],
      [2, 'select $1', '2026-01-02T03:04:07.000Z'],
    ]);
    expect(r.statements[1]).toMatchObject({ protocol: 'extended', paramCount: 1, errorCode: '42601' });
  });

  it('pages the statements of a big session: the first ones with the session, the rest after a seq', async () => {
    store.sessions.insert({
      id: 'big', protocol: 'postgres', agentId: 'a', agentName: 'bot', connectionId: 'c', connectionName: 'app', clientAddress: '127.0.0.1:5000',
      tls: false, startedAt: 1, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0,
    });
    store.statements.insertMany(Array.from({ length: 25 }, (_, i) => ({ sessionId: 'big', seq: i + 1, protocol: 'simple' as const, sql: `select ${i + 1}`, paramCount: 0, startedAt: 2 + i, durationMs: 1, commandTag: 'SELECT 1', rows: 1, errorCode: null })));
    const first = await call('sessions.get', { id: 'big', statementLimit: 10 });
    expect(first.statements.map((x: { seq: number }) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.moreStatements).toBe(true);
    const seqs: number[] = [];
    let after = 10;
    for (let more = true; more; ) {
      const p = await call('sessions.statements', { id: 'big', afterSeq: after, limit: 7 });
      seqs.push(...p.statements.map((x: { seq: number }) => x.seq));
      after = seqs[seqs.length - 1];
      more = p.more;
    }
    expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 11));
    expect((await call('sessions.get', { id: 'big', statementLimit: 25 })).moreStatements).toBe(false);
    expect((await call('sessions.get', { id: 'big' })).statements).toHaveLength(25);
    expect((await call('sessions.statements', { id: 'nope' }).catch((e) => e)).code).toBe('not_found');
    expect((await call('sessions.statements', { id: 'big', limit: 0 }).catch((e) => e)).code).toBe('invalid');
  });

  it('scopes a review campaign by agent tag and connection tag', async () => {
    await call('connections.add', { name: 'prod', host: '127.0.0.1', database: 'p', username: 'u', tags: ['production'] });
    await call('connections.add', { name: 'dev', host: '127.0.0.1', database: 'd', username: 'u', tags: [] });
    await call('agents.add', { name: 'etl', tags: ['batch'] });
    await call('agents.add', { name: 'chat', tags: [] });
    for (const agent of ['etl', 'chat']) for (const connection of ['prod', 'dev']) await call('grants.add', { agent, connection });
    const period = { periodStart: new Date(Date.now() - 3600_000).toISOString(), periodEnd: new Date(Date.now() + 3600_000).toISOString() };
    const pairs = async (scope: Record<string, string>) => {
      const r = await call('reviews.start', { name: 'r', ...period, ...scope });
      expect(r.scope).toEqual(scope);
      const got = await call('reviews.get', { id: r.id });
      return got.items.map((i: { agentName: string; connectionName: string }) => `${i.agentName}@${i.connectionName}`).sort();
    };
    expect(await pairs({ agentTag: 'batch' })).toEqual(['etl@dev', 'etl@prod']);
    expect(await pairs({ connectionTag: 'production' })).toEqual(['chat@prod', 'etl@prod']);
    expect(await pairs({ agentTag: 'batch', connectionTag: 'production' })).toEqual(['etl@prod']);
    expect(await pairs({ agentTag: 'nobody-has-this' })).toEqual([]);
  });

  it('announces review changes (start, each decision with its item) and the grant a decision changed', async () => {
    await setup();
    await call('agents.add', { name: 'idle' });
    for (const agent of ['bot', 'idle']) await call('grants.add', { agent, connection: 'app' });
    const period = { periodStart: new Date(Date.now() - 3600_000).toISOString(), periodEnd: new Date(Date.now() + 3600_000).toISOString() };
    events.length = 0;
    const r = await call('reviews.start', { name: 'q', ...period });
    const got = await call('reviews.get', { id: r.id });
    expect(got.items[0].evidence).toMatchObject({ blocks: 0, maskedValues: 0, approvals: [], approvalCount: 0, tablesRead: [], tablesWritten: [], unused: true });
    const idle = got.items.find((i: { agentName: string }) => i.agentName === 'idle');
    await call('reviews.decide', { id: r.id, grantId: idle.grantId, decision: 'revoke', comment: 'unused' });
    const seen = events.filter((e) => e.event === 'review.changed' || e.event === 'grant.changed') as { event: string; payload: any }[];
    expect(seen.map((e) => e.event)).toEqual(['review.changed', 'grant.changed', 'review.changed']);
    expect(seen[0].payload).toMatchObject({ review: { id: r.id, progress: { decided: 0, total: 2 } }, item: null });
    expect(seen[1].payload).toMatchObject({ agentName: 'idle', status: 'revoked' });
    expect(seen[2].payload).toMatchObject({ review: { progress: { decided: 1, total: 2 } }, item: { grantId: idle.grantId, decision: 'revoke', comment: 'unused', decidedBy: 'test-admin' } });
  });

  it('answers server.info, and hides the message of an unexpected failure', async () => {
    expect(await call('server.info', {})).toMatchObject({ version: 't', installationId: 'i' });
    await setup();
    const failing = createGatewayApi(
      {
        store,
        secretBox: box,
        audit: new AuditLog(store, new EventBus()),
        events: new EventBus(),
        runtime: {
          closeSessions: () => 0,
          testConnection: async (t) => {
            throw new Error(`could not reach ${t.host} with password ${t.password}`);
          },
        },
        info: () => ({ version: 't', dataDir: '/x', installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
      },
      silentLogger,
    );
    const err = (await failing.call('connections.test', { name: 'app' }, ctx).catch((e) => e)) as ContractError;
    expect(err).toBeInstanceOf(ContractError);
    expect(err.code).toBe('internal');
    expect(err.message).toBe('internal error (see the gateway log)');
    expect(JSON.stringify(err.toBody())).not.toContain(UPSTREAM_PASSWORD);
  });
});
