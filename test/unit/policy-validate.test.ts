import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { Store } from '../../src/gateway/store/store';

/** policy.validate (the console's as-you-type check) over the real API on an in-memory store. */
let store: Store;
let api: GatewayApi;
let events: string[];
const call = (command: string, input: unknown) => api.call(command, input, { actor: 'alice' }) as Promise<any>;

beforeEach(() => {
  store = Store.open(':memory:');
  const bus = new EventBus();
  events = [];
  bus.onAny((event) => events.push(event));
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
});

afterEach(() => store.close());

describe('policy.validate', () => {
  it('accepts a valid file without applying it, auditing it or announcing it', async () => {
    const yaml = 'version: 1\nrules:\n  - name: w\n    match: { access: write }\n    action: approve\n    timeout: 2m\n';
    expect(await call('policy.validate', { yaml })).toEqual({ errors: [] });
    expect((await call('policy.get', {})).version).toBe(0);
    expect(store.audit.list({ limit: 10, kind: 'policy.applied' })).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('names the line, column and field of each problem', async () => {
    const yaml = 'version: 1\nrules:\n  - name: w\n    match: { access: write }\n    action: maybe\n';
    const r = await call('policy.validate', { yaml });
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0]).toMatchObject({ line: 5, path: 'rules[0].action' });
    expect(r.errors[0].column).toBeGreaterThan(0);
    expect(typeof r.errors[0].message).toBe('string');
  });

  it('reports YAML syntax errors the same way', async () => {
    const r = await call('policy.validate', { yaml: 'version: 1\nrules: [\n' });
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0].line).toBeGreaterThanOrEqual(2);
  });
});
