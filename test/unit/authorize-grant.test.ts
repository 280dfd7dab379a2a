import { beforeEach, describe, expect, it } from 'vitest';
import { authorizeGrant } from '../../src/gateway/core/authorize-grant';
import type { ConnectionRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

/** The protocol-neutral access check shared by the PostgreSQL and SSH gateways, on a real store. */
let store: Store;
const T0 = Date.UTC(2026, 0, 1);
const AGENT = { id: 'a1', name: 'alpha' };

const connection = (id: string, name: string, kind: ConnectionRecord['kind']): ConnectionRecord => ({
  id,
  name,
  kind,
  host: '127.0.0.1',
  port: kind === 'ssh' ? 22 : 5432,
  database: kind === 'ssh' ? '' : 'app',
  username: 'u',
  tlsMode: 'disable',
  secretEnc: null,
  tags: [],
  createdAt: T0,
  updatedAt: T0,
});
const grant = (id: string, connectionId: string, extra: { expiresAt?: number | null; revokedAt?: number | null } = {}) =>
  store.grants.insert({ id, agentId: 'a1', connectionId, createdAt: T0, expiresAt: extra.expiresAt ?? null, revokedAt: extra.revokedAt ?? null, createdBy: 'test' });

beforeEach(() => {
  store = Store.open(':memory:');
  store.agents.insert({ id: 'a1', name: 'alpha', secretVerifier: 'x', tags: [], disabled: false, createdAt: T0 });
  for (const c of [connection('c1', 'db', 'postgres'), connection('c2', 'web', 'ssh'), connection('c3', 'old', 'ssh'), connection('c4', 'gone', 'ssh'), connection('c5', 'never', 'ssh')]) store.connections.insert(c);
  grant('g1', 'c1');
  grant('g2', 'c2', { expiresAt: T0 + 1000 });
  grant('g3', 'c3', { expiresAt: T0 + 10 });
  grant('g4', 'c4', { revokedAt: T0 + 5 });
});

describe('authorizeGrant', () => {
  it('an active grant on a connection of the right kind is allowed', () => {
    const r = authorizeGrant(store, AGENT, 'db', 'postgres', T0 + 1);
    expect(r).toMatchObject({ ok: true, connection: { id: 'c1' } });
    expect(authorizeGrant(store, AGENT, 'web', 'ssh', T0 + 999).ok).toBe(true);
  });

  it('names each refusal: unknown connection, wrong protocol, no grant, expired, revoked', () => {
    expect(authorizeGrant(store, AGENT, 'nope', 'ssh', T0)).toEqual({ ok: false, reason: 'unknown_connection', connection: null, message: 'connection "nope" does not exist' });
    expect(authorizeGrant(store, AGENT, 'web', 'postgres', T0)).toMatchObject({ ok: false, reason: 'wrong_kind', connection: { id: 'c2' }, message: 'connection "web" is not a postgres connection' });
    expect(authorizeGrant(store, AGENT, 'db', 'ssh', T0)).toMatchObject({ reason: 'wrong_kind', message: 'connection "db" is not an ssh connection' });
    expect(authorizeGrant(store, AGENT, 'never', 'ssh', T0)).toEqual({
      ok: false,
      reason: 'no_grant',
      connection: expect.objectContaining({ id: 'c5' }),
      message: 'agent "alpha" has no active grant for connection "never"',
    });
    expect(authorizeGrant(store, AGENT, 'old', 'ssh', T0 + 10)).toMatchObject({ reason: 'grant_expired', detail: 'the grant has expired' });
    expect(authorizeGrant(store, AGENT, 'web', 'ssh', T0 + 1000)).toMatchObject({ reason: 'grant_expired' });
    expect(authorizeGrant(store, AGENT, 'gone', 'ssh', T0 + 6)).toMatchObject({ reason: 'grant_revoked', detail: 'the grant was revoked' });
  });

  it('another agent\'s grant does not count', () => {
    expect(authorizeGrant(store, { id: 'a2', name: 'beta' }, 'db', 'postgres', T0)).toMatchObject({ ok: false, reason: 'no_grant', message: 'agent "beta" has no active grant for connection "db"' });
  });
});
