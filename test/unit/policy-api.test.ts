import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContractError } from '../../src/shared/contract';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { loadCompiledPolicy, policySha256 } from '../../src/gateway/api/policy-loader';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { decideSql, maskingPlanFor } from '../../src/gateway/policy/policy-engine';
import { loadSqlParser } from '../../src/gateway/policy/sql-parser';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { Store } from '../../src/gateway/store/store';

/** policy.* over the real API on an in-memory store. */
let store: Store;
let api: GatewayApi;
let events: { event: string; payload: any }[];
const call = (command: string, input: unknown) => api.call(command, input, { actor: 'alice' }) as Promise<any>;
const BOT = { connection: { name: 'app', tags: ['prod'] }, agent: { name: 'bot', tags: ['ai'] } };

beforeEach(async () => {
  await loadSqlParser();
  store = Store.open(':memory:');
  const bus = new EventBus();
  events = [];
  bus.onAny((event, payload) => events.push({ event, payload }));
  api = createGatewayApi(
    {
      store,
      secretBox: new SecretBox(randomBytes(32)),
      audit: new AuditLog(store, bus),
      events: bus,
      runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
      info: () => ({ version: 't', dataDir: '/x', installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
    },
    silentLogger,
  );
  await call('connections.add', { name: 'app', host: 'db.internal', database: 'app', username: 'owner', tags: ['prod'] });
  await call('agents.add', { name: 'bot', tags: ['ai'] });
});

afterEach(() => store.close());

const POLICY = 'version: 1\nrules:\n  - name: no-drop\n    scope: { agentTags: [ai] }\n    match: { kinds: [drop table] }\n    action: block\nmasking:\n  - { name: m, columns: [email] }\n';

describe('policy API', () => {
  it('get before any apply: version 0, the empty policy', async () => {
    const r = await call('policy.get', {});
    expect(r).toMatchObject({ version: 0, appliedAt: null, appliedBy: null });
    expect(r.yaml).toContain('version: 1');
    expect(decideSql(loadCompiledPolicy(store), BOT, 'DROP TABLE t').action).toBe('allow');
  });

  it('apply stores a version, audits it with its hash, emits policy.changed; the loader compiles it', async () => {
    const r = await call('policy.apply', { yaml: POLICY });
    expect(r).toMatchObject({ version: 1, sha256: policySha256(POLICY), appliedBy: 'alice' });
    expect(await call('policy.get', {})).toMatchObject({ version: 1, yaml: POLICY });
    const audit = store.audit.list({ limit: 10, kind: 'policy.applied' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'alice', detail: { version: 1, sha256: policySha256(POLICY), rules: 1 } });
    expect(events.filter((e) => e.event === 'policy.changed').map((e) => e.payload)).toEqual([r]);
    const compiled = loadCompiledPolicy(store);
    expect(decideSql(compiled, BOT, 'DROP TABLE t')).toMatchObject({ action: 'block', rule: 'no-drop' });
    expect(maskingPlanFor(compiled, BOT).columns).toEqual([{ rule: 'm', columns: ['email'], strategy: { kind: 'redact' } }]);
    expect((await call('policy.apply', { yaml: 'version: 1\n' })).version).toBe(2);
    expect(decideSql(loadCompiledPolicy(store), BOT, 'DROP TABLE t').action).toBe('allow');
  });

  it('every change is audited with before/after: the version replaced, its hash and the diff', async () => {
    await call('policy.apply', { yaml: POLICY });
    const next = POLICY.replace('action: block', 'action: approve');
    await call('policy.apply', { yaml: next });
    const [second, first] = store.audit.list({ limit: 10, kind: 'policy.applied' });
    expect(first.detail).toMatchObject({ version: 1, previousVersion: 0, previousSha256: null, linesAdded: POLICY.split('\n').length - 1, linesRemoved: 0 });
    expect(second.detail).toMatchObject({ version: 2, previousVersion: 1, previousSha256: policySha256(POLICY), sha256: policySha256(next), linesAdded: 1, linesRemoved: 1 });
    expect(second.detail.diff).toContain('\n-    action: block\n+    action: approve\n');
    expect(second.detail.diff).toContain('version 1');

    const history = await call('policy.history', {});
    expect(history.map((h: any) => [h.version, h.linesAdded, h.linesRemoved])).toEqual([
      [2, 1, 1],
      [1, POLICY.split('\n').length - 1, 0],
    ]);
    const d = await call('policy.diff', {});
    expect(d).toMatchObject({ from: 1, to: 2, linesAdded: 1, linesRemoved: 1, truncated: false });
    expect(d.patch).toBe(second.detail.diff);
    expect((await call('policy.diff', { from: 0, to: 1 })).patch).toContain('+    action: block');
    await expect(call('policy.diff', { from: 1, to: 9 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('an invalid file is refused with line-precise issues and changes nothing', async () => {
    const err = await call('policy.apply', { yaml: 'version: 1\nrules:\n  - name: a\n    action: nope\n' }).catch((e) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/line 4, column 13: rules\[0\]\.action/);
    expect(err.issues[0]).toMatchObject({ path: 'rules[0].action' });
    expect(err.issues[0].message).toMatch(/^line 4, column 13: /);
    expect((await call('policy.get', {})).version).toBe(0);
    expect(events.some((e) => e.event === 'policy.changed')).toBe(false);
  });

  it('a stored policy that no longer parses fails closed', async () => {
    store.policies.add({ yaml: 'version: 1\nrules: [{ name: a, action: explode }]\n', sha256: 'x', appliedAt: 1, appliedBy: 'future' });
    const compiled = loadCompiledPolicy(store);
    const d = decideSql(compiled, BOT, 'SELECT 1');
    expect(d.action).toBe('block');
    expect(d.message).toMatch(/stored policy version 1 is invalid: line 2/);
  });

  it('check decides without a database and reports the analysis; unknown names are errors', async () => {
    await call('policy.apply', { yaml: POLICY });
    const r = await call('policy.check', { connection: 'app', agent: 'bot', sql: 'SELECT * FROM a; DROP TABLE s.b' });
    expect(r).toMatchObject({ action: 'block', rule: 'no-drop', parseError: null, policyVersion: 1 });
    expect(r.statements).toEqual([
      { kind: 'select', summary: 'SELECT', kinds: ['select'], tablesRead: ['a'], tablesWritten: [], functions: [], conditions: [] },
      { kind: 'drop table', summary: 'DROP TABLE s.b', kinds: ['drop table'], tablesRead: [], tablesWritten: ['s.b'], functions: [], conditions: [] },
    ]);
    const bad = await call('policy.check', { connection: 'app', agent: 'bot', sql: 'SELEC' });
    expect(bad).toMatchObject({ action: 'block', statements: [] });
    expect(bad.parseError).toMatch(/syntax error/);
    await expect(call('policy.check', { connection: 'nope', agent: 'bot', sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('policy.check', { connection: 'app', agent: 'nope', sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
