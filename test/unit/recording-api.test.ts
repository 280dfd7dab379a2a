import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import type { SessionRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';
import { ContractError, type SshRecordingDto } from '../../src/shared/contract';

/** ssh.recording.get through the contract's one implementation, on a real store and real files. */
let store: Store;
let api: GatewayApi;
let dataDir: string;
const T0 = Date.parse('2026-05-01T10:00:00Z');

const session = (id: string, protocol: 'ssh' | 'postgres'): SessionRecord => ({
  id, protocol, agentId: 'a1', agentName: 'bot', connectionId: 'c1', connectionName: 'box', clientAddress: '127.0.0.1:1', tls: false,
  startedAt: T0, endedAt: T0 + 60_000, bytesIn: 0, bytesOut: 0, endReason: 'client_closed', statementCount: 0,
});

function addRecording(sessionId: string, channelId: number, file: string | null, kind: 'shell' | 'exec' | 'sftp' = 'shell') {
  store.ssh.startRecording({ sessionId, channelId, kind, command: kind === 'exec' ? 'uptime' : null, file, startedAt: T0, endedAt: null, exitStatus: null, exitSignal: null, bytesIn: 0, bytesOut: 0, endReason: null, truncated: false });
}

function writeCast(rel: string, events: [number, string, string][]) {
  const abs = path.join(dataDir, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, [JSON.stringify({ version: 2, width: 100, height: 30, timestamp: T0 / 1000 }), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n');
}

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-rec-api-'));
  store = Store.open(':memory:');
  const bus = new EventBus();
  api = createGatewayApi(
    {
      store,
      secretBox: new SecretBox(randomBytes(32)),
      audit: new AuditLog(store, bus),
      events: bus,
      runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
      info: () => ({ version: 't', dataDir, installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
    },
    silentLogger,
  );
});
afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const get = (input: unknown) => api.call('ssh.recording.get', input, { actor: 'test' }) as Promise<SshRecordingDto>;
const failure = async (input: unknown) => {
  const err = await get(input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ContractError);
  return { code: (err as ContractError).code, message: (err as Error).message };
};

describe('ssh.recording.get', () => {
  it("returns the first playable channel's output and resizes (not typed input), with snapshots, in pages", async () => {
    store.sessions.insert(session('s1', 'ssh'));
    addRecording('s1', 1, null, 'sftp');
    addRecording('s1', 2, 'recordings/s1/2.cast');
    addRecording('s1', 3, 'recordings/s1/3.cast', 'exec');
    const big = 'x'.repeat(70 * 1024);
    writeCast('recordings/s1/2.cast', [
      [0.5, 'o', '$ '],
      [0.6, 'i', 'secret typed input'],
      [1.0, 'r', '120x40'],
      [2.0, 'o', big],
      [3.25, 'o', 'done\r\n'],
    ]);
    writeCast('recordings/s1/3.cast', [[0.1, 'o', 'up 3 days\n']]);
    const r = await get({ sessionId: 's1' });
    expect(r.channel).toBe(2);
    expect(r.channels.map((c) => [c.channelId, c.kind, c.playable])).toEqual([
      [1, 'sftp', false],
      [2, 'shell', true],
      [3, 'exec', true],
    ]);
    expect(r.header).toEqual({ width: 100, height: 30, startedAt: new Date(T0).toISOString(), command: null });
    expect(r.duration).toBe(3.25);
    expect(r.eventCount).toBe(4);
    expect(JSON.stringify(r)).not.toContain('secret typed input');
    expect(JSON.stringify(r)).not.toContain('.cast');
    expect(r.events.map((e) => e[1])).toEqual(['o', 'r', 'o', 'o']);
    // 70 KB of output passed a snapshot point (every 64 KB): one snapshot, after the big event.
    expect(r.snapshots.map((s) => [s.index, s.t, s.cols, s.rows])).toEqual([[3, 2, 120, 40]]);
    expect(r.nextIndex).toBeNull();
    // Paging from an index.
    const tail = await get({ sessionId: 's1', fromIndex: 3 });
    expect(tail).toMatchObject({ fromIndex: 3, nextIndex: null, eventCount: 4, snapshots: [] });
    expect(tail.events).toEqual([[3.25, 'o', 'done\r\n']]);
    // Another channel by number.
    expect((await get({ sessionId: 's1', channel: 3 })).events).toEqual([[0.1, 'o', 'up 3 days\n']]);
  });

  it('splits a long recording into pages whose events add up to the whole', async () => {
    store.sessions.insert(session('s2', 'ssh'));
    addRecording('s2', 1, 'recordings/s2/1.cast');
    const chunk = 'y'.repeat(100 * 1024);
    writeCast('recordings/s2/1.cast', Array.from({ length: 60 }, (_, i) => [i, 'o', chunk] as [number, string, string]));
    const pages: SshRecordingDto[] = [];
    for (let from: number | null = 0; from !== null; ) {
      const p = await get({ sessionId: 's2', fromIndex: from });
      pages.push(p);
      from = p.nextIndex;
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flatMap((p) => p.events)).toHaveLength(60);
    expect(pages.flatMap((p) => p.snapshots.map((s) => s.index))).toEqual([...Array(60).keys()].map((i) => i + 1));
  });

  it('refuses bad ids, other protocols, unknown channels, channels without a terminal, and paths outside recordings/', async () => {
    store.sessions.insert(session('pg1', 'postgres'));
    store.sessions.insert(session('s3', 'ssh'));
    addRecording('s3', 1, null, 'sftp');
    addRecording('s3', 2, '../../etc/passwd');
    expect(await failure({ sessionId: '../etc/passwd' })).toMatchObject({ code: 'invalid' });
    expect(await failure({ sessionId: 's3', channel: 0 })).toMatchObject({ code: 'invalid' });
    expect(await failure({ sessionId: 'nope' })).toMatchObject({ code: 'not_found' });
    expect(await failure({ sessionId: 'pg1' })).toMatchObject({ code: 'invalid', message: expect.stringContaining('not an SSH session') });
    expect(await failure({ sessionId: 's3', channel: 9 })).toMatchObject({ code: 'not_found' });
    expect(await failure({ sessionId: 's3', channel: 1 })).toMatchObject({ code: 'invalid', message: expect.stringContaining('no terminal recording') });
    expect(await failure({ sessionId: 's3', channel: 2 })).toMatchObject({ code: 'internal' });
    // A session with no playable channel is not an error: nothing to play.
    store.sessions.insert(session('s4', 'ssh'));
    addRecording('s4', 1, null, 'sftp');
    expect(await get({ sessionId: 's4' })).toMatchObject({ channel: null, header: null, events: [] });
    // A recording file gone from the data dir.
    addRecording('s4', 2, 'recordings/s4/2.cast');
    expect(await failure({ sessionId: 's4', channel: 2 })).toMatchObject({ code: 'not_found', message: expect.stringContaining('missing') });
  });
});
