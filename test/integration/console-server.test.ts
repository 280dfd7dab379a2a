import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { ContractError, type ErrorCode } from '../../src/shared/contract';
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
let events: EventBus;

beforeAll(async () => {
  store = Store.open(':memory:');
  events = new EventBus();
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
    const ready = new Promise<void>((r) => client.onResync!(r));
    const pushed = new Promise<string>((r) => client.on('audit.appended', (e) => r(e.kind)));
    await ready;
    await client.call('agents.add', { name: 'evented' });
    expect(await pushed).toBe('agent.added');
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

  it('sends security headers on API answers too, and refuses methods and malformed paths', async () => {
    const res = await post('agents.list', '{}');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*connect-src 'self' ws:.*img-src 'self' data:.*style-src 'self' 'unsafe-inline'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`${server.url}/api/call/agents.list`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    expect((await fetch(`${server.url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await fetch(`${server.url}/%E0%A4%A`)).status).toBe(400);
    expect((await post('%E0%A4%A', '{}')).status).toBe(404);
  });

  it('answers a missing asset with 404 instead of the app page', async () => {
    const res = await fetch(`${server.url}/assets/missing.js`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('<title>');
  });

  it('pushes nothing to a WebSocket before it authenticates, and refuses other upgrade paths', async () => {
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/api/events');
    const received: string[] = [];
    ws.on('message', (m) => received.push(String(m)));
    await new Promise((r) => ws.on('open', r));
    await post('agents.add', '{"name":"unseen"}');
    ws.send('not json at all');
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(4401);
    expect(received).toEqual([]);

    const other = new WebSocket(server.url.replace('http', 'ws') + '/api/other');
    const failed = await new Promise<boolean>((r) => {
      other.on('open', () => r(false));
      other.on('error', () => r(true));
    });
    expect(failed).toBe(true);
  });
});

describe('console server status mapping', () => {
  let stub: ConsoleServer;
  /** A stand-in API that fails with the code it is asked for: only the transport is under test here. */
  const failing: GatewayApi = {
    async call(_command, input) {
      const { code } = input as { code: ErrorCode | 'crash' };
      if (code === 'crash') throw new Error(`stack detail with ${TOKEN}`);
      throw new ContractError(code, `failed with ${code}`, code === 'invalid' ? [{ path: 'x', message: 'bad' }] : undefined);
    },
  };

  beforeAll(async () => {
    stub = await startConsoleServer({
      api: failing,
      events: new EventBus(),
      host: '127.0.0.1',
      port: 0,
      staticDir: null,
      log: silentLogger,
      authenticate: (t) => (t === TOKEN ? 'admin' : null),
      wsAuthTimeoutMs: 200,
    });
  });
  afterAll(async () => {
    await stub?.close();
  });

  it('maps every error code to its HTTP status with the contract error body', async () => {
    const expected: [string, number][] = [
      ['invalid', 400],
      ['not_found', 404],
      ['conflict', 409],
      ['unauthorized', 401],
      ['unavailable', 503],
      ['internal', 500],
    ];
    for (const [code, status] of expected) {
      const res = await fetch(`${stub.url}/api/call/agents.list`, { method: 'POST', body: JSON.stringify({ code }), headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, code).toBe(status);
      const body = await res.json();
      expect(body, code).toEqual({ code, message: `failed with ${code}`, ...(code === 'invalid' ? { issues: [{ path: 'x', message: 'bad' }] } : {}) });
    }
    const crash = await fetch(`${stub.url}/api/call/agents.list`, { method: 'POST', body: '{"code":"crash"}', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(crash.status).toBe(500);
    const text = await crash.text();
    expect(JSON.parse(text).code).toBe('internal');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('stack');
  });

  it('says the UI is not built when it has no static dir', async () => {
    const res = await fetch(`${stub.url}/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('not built');
  });

  it('closes a WebSocket that does not authenticate in time with 4401', async () => {
    const ws = new WebSocket(stub.url.replace('http', 'ws') + '/api/events');
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(4401);
  });
});
