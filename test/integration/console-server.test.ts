import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { startConsoleServer, type ConsoleServer } from '../../src/gateway/server/console-server';
import { httpClient } from '../../src/gateway/server/http-client';
import { Store } from '../../src/gateway/store/store';

/** The headless transport of the contract, on a real HTTP server and a real WebSocket. */
const TOKEN = 'gha_' + randomBytes(16).toString('hex');
let server: ConsoleServer;
let store: Store;
let staticDir: string;

beforeAll(async () => {
  store = Store.open(':memory:');
  const events = new EventBus();
  const api = createGatewayApi(
    {
      store,
      secretBox: new SecretBox(randomBytes(32)),
      audit: new AuditLog(store, events),
      events,
      runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: false, stage: 'tcp', message: 'x', serverVersion: null, elapsedMs: 0 }) },
      info: () => ({ version: 't', dataDir: '/x', installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
    },
    silentLogger,
  );
  staticDir = mkdtempSync(path.join(os.tmpdir(), 'gh-static-'));
  mkdirSync(path.join(staticDir, 'assets'));
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Gatehouse</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  server = await startConsoleServer({
    api,
    events,
    host: '127.0.0.1',
    port: 0,
    staticDir,
    log: silentLogger,
    authenticate: (t) => (t === TOKEN ? 'admin' : null),
  });
});

afterAll(async () => {
  await server?.close();
  store?.close();
  rmSync(staticDir, { recursive: true, force: true });
});

const post = (command: string, body: string, token: string | null = TOKEN) =>
  fetch(`${server.url}/api/call/${command}`, { method: 'POST', body, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('console server', () => {
  it('requires the admin token for every call, even on loopback', async () => {
    expect((await post('agents.list', '{}', null)).status).toBe(401);
    expect((await post('agents.list', '{}', 'gha_wrong')).status).toBe(401);
    expect((await post('agents.list', '{}')).status).toBe(200);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it('maps contract errors to HTTP statuses with the error body', async () => {
    const bad = await post('agents.add', '{"name":"no spaces"}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid', issues: [{ path: 'name' }] });
    expect((await post('no.such.command', '{}')).status).toBe(404);
    expect((await post('agents.add', '{"name":"dup"}')).status).toBe(200);
    expect((await post('agents.add', '{"name":"dup"}')).status).toBe(409);
    expect((await post('agents.remove', '{"name":"ghost"}')).status).toBe(404);
    expect((await post('agents.list', 'not json')).status).toBe(400);
    expect((await post('agents.list', 'x'.repeat(2 * 1024 * 1024))).status).toBe(413);
  });

  it('pushes contract events over an authenticated WebSocket only', async () => {
    const refused = new WebSocket(server.url.replace('http', 'ws') + '/api/events');
    refused.on('open', () => refused.send(JSON.stringify({ type: 'auth', token: 'nope' })));
    const code = await new Promise<number>((r) => refused.on('close', (c) => r(c)));
    expect(code).toBe(4401);

    const client = httpClient(server.url, TOKEN);
    const seen: string[] = [];
    client.on('audit.appended', (e) => seen.push(e.kind));
    await new Promise((r) => setTimeout(r, 300));
    await client.call('agents.add', { name: 'evented' });
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toContain('agent.added');
    client.close();
  });

  it('serves the console with a strict CSP and an SPA fallback, and never paths outside it', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const asset = await fetch(`${server.url}/assets/app.js`);
    expect(asset.headers.get('content-type')).toContain('javascript');
    const deep = await fetch(`${server.url}/sessions/123`);
    expect(await deep.text()).toContain('<title>Gatehouse</title>');
    const escape = await fetch(`${server.url}/..%2f..%2f..%2fetc%2fpasswd`);
    expect(await escape.text()).not.toContain('root:');
  });
});
