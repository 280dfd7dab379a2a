import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/gateway/store/store';
import { buildCli, gatehouse } from '../helpers/cli';

const DAY = 86_400_000;

/** `gatehouse settings` and `gatehouse recordings purge` as a user runs them (the built CLI, its own store). */
describe('gatehouse settings / recordings purge', () => {
  let dir: string;
  beforeAll(() => {
    buildCli();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-settings-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const gh = (...args: string[]) => gatehouse([...args, '--data-dir', dir]);

  it('sets the retention, counts and removes old recordings, and the audit chain still verifies', async () => {
    expect((await gh('settings', 'show')).stdout).toBe('recording retention: off (recordings are kept forever)\n');
    const off = await gh('recordings', 'purge');
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/^recording retention is off: nothing to remove/);

    // One session 60 days old, one from today, written straight into the store.
    const store = Store.open(path.join(dir, 'gatehouse.db'));
    const ids: string[] = [];
    try {
      for (const age of [60, 0]) {
        const id = randomUUID();
        ids.push(id);
        const at = Date.now() - age * DAY;
        store.sessions.insert({ id, protocol: 'postgres', agentId: 'a', agentName: 'bot', connectionId: 'c', connectionName: 'db', clientAddress: '127.0.0.1', tls: false, startedAt: at - 10, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
        store.transaction(() => store.statements.insertMany([{ sessionId: id, seq: 1, protocol: 'simple', sql: 'SELECT 1', paramCount: 0, startedAt: at - 5, durationMs: 1, commandTag: 'SELECT 1', rows: 1, errorCode: null }]));
        store.sessions.finish(id, { endedAt: at, bytesIn: 1, bytesOut: 1, endReason: 'client_closed', statementCount: 1 });
      }
    } finally {
      store.close();
    }

    expect((await gh('settings', 'set', '--recording-retention', 'never')).code).toBe(2);
    const set = await gh('settings', 'set', '--recording-retention', '30');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^recording retention: 30 day\(s\)\n/);
    expect((await gh('settings', 'show')).stdout).toMatch(/^recording retention: 30 day\(s\) \(set .* by cli\)\n$/);

    const dry = await gh('recordings', 'purge', '--dry-run');
    expect(dry.stdout).toMatch(/^would remove the recordings of 1 session\(s\), 1 statement\(s\) that ended before /);
    const run = await gh('recordings', 'purge', '--json');
    expect(JSON.parse(run.stdout)).toMatchObject({ sessions: 1, statements: 1, dryRun: false, retentionDays: 30 });

    const old = JSON.parse((await gh('sessions', 'show', ids[0], '--json')).stdout);
    expect(old.session.recordingPurgedAt).not.toBeNull();
    expect(old.statements).toEqual([]);
    expect(JSON.parse((await gh('sessions', 'show', ids[1], '--json')).stdout).statements).toHaveLength(1);

    const verify = await gh('audit', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    const events = (await gh('audit', 'export')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['settings.changed', 'recording.purged']));
    expect(events.find((e) => e.kind === 'recording.purged').sessionId).toBe(ids[0]);
  });
});
