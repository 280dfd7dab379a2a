import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FromGateway, ToGateway } from '../../src/main/gateway-protocol';

/**
 * The desktop app's gateway entry (src/main/gateway-process.ts) driven through its parent-port protocol,
 * as Electron's main process drives it, but under Node: a stand-in for `process.parentPort` carries the
 * same messages. The gateway behind it is real (store, PostgreSQL listener on 127.0.0.1, API, events).
 */
class FakeParentPort extends EventEmitter {
  readonly received: FromGateway[] = [];
  private waiters: { match: (m: FromGateway) => boolean; resolve: (m: FromGateway) => void }[] = [];

  postMessage(m: FromGateway): void {
    this.received.push(m);
    for (const w of this.waiters.filter((w) => w.match(m))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m);
    }
  }

  send(m: ToGateway): void {
    this.emit('message', { data: m });
  }

  next(match: (m: FromGateway) => boolean): Promise<FromGateway> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

const dirs: string[] = [];
const nodeSqlite = path.join(path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node');

async function loadEntry(): Promise<FakeParentPort> {
  const port = new FakeParentPort();
  (process as unknown as { parentPort: FakeParentPort }).parentPort = port;
  vi.resetModules();
  await import('../../src/main/gateway-process');
  return port;
}

function init(keyHex: string): ToGateway {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-gwproc-'));
  dirs.push(dataDir);
  return { type: 'init', dataDir, keyHex, pgPort: 0, sqliteBinding: nodeSqlite };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('gateway utility process entry', () => {
  it('starts from the init message, answers calls, forwards events and stops cleanly', async () => {
    const port = await loadEntry();
    port.send(init('ab'.repeat(32)));
    const ready = await port.next((m) => m.type === 'ready' || m.type === 'failed');
    expect(ready).toMatchObject({ type: 'ready' });
    expect(ready.type === 'ready' && ready.pgPort).toBeGreaterThan(0);

    port.send({ type: 'call', id: 1, command: 'server.info', input: {} });
    const info = await port.next((m) => m.type === 'result' && m.id === 1);
    expect(info).toMatchObject({ ok: true, value: { listeners: { postgres: { host: '127.0.0.1' }, console: null } } });

    port.send({ type: 'call', id: 2, command: 'agents.add', input: { name: 'report-bot' } });
    expect(await port.next((m) => m.type === 'result' && m.id === 2)).toMatchObject({ ok: true, value: { agent: { name: 'report-bot' } } });
    expect(await port.next((m) => m.type === 'event' && m.event === 'audit.appended')).toMatchObject({ payload: { kind: expect.any(String) } });

    // Errors come back as contract error bodies, never as a thrown stack.
    port.send({ type: 'call', id: 3, command: 'no.such.command', input: {} });
    expect(await port.next((m) => m.type === 'result' && m.id === 3)).toEqual({ type: 'result', id: 3, ok: false, error: { code: 'not_found', message: 'unknown command "no.such.command"' } });
    port.send({ type: 'call', id: 4, command: 'agents.add', input: { name: 'report-bot' } });
    expect(await port.next((m) => m.type === 'result' && m.id === 4)).toMatchObject({ ok: false, error: { code: 'conflict' } });

    port.send({ type: 'stop' });
    expect(await port.next((m) => m.type === 'stopped')).toEqual({ type: 'stopped' });
    port.send({ type: 'call', id: 5, command: 'server.info', input: {} });
    expect(await port.next((m) => m.type === 'result' && m.id === 5)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('refuses a master key that is not 32 bytes', async () => {
    const port = await loadEntry();
    port.send(init('abcd'));
    expect(await port.next((m) => m.type === 'ready' || m.type === 'failed')).toEqual({ type: 'failed', message: 'the master key from the app is not 32 bytes' });
  });
});
