import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { exportEvidencePack } from '../../src/gateway/evidence/evidence-pack';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { loadOrCreateSigningKey } from '../../src/gateway/identity/signing-key';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { verifyAuditChain } from '../../src/gateway/recording/audit-verify';
import { RecordingRetention } from '../../src/gateway/recording/retention';
import { sessionDigest } from '../../src/gateway/recording/session-digest';
import type { StatementRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');

/**
 * Recording retention on a real store and data dir: old sessions lose their statements and .cast files,
 * keep their rows and counts, get a chained recording.purged event, and the audit chain still verifies;
 * tampering that is not a purge is still caught.
 */
describe('recording retention', () => {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  let api: GatewayApi;
  let events: string[];
  const call = (command: string, input: unknown) => api.call(command, input, { actor: 'alice' }) as Promise<any>;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-retention-'));
    store = Store.open(path.join(dir, 'gatehouse.db'));
    const bus = new EventBus();
    events = [];
    bus.onAny((e) => events.push(e));
    audit = new AuditLog(store, bus, () => NOW);
    api = createGatewayApi(
      {
        store,
        secretBox: new SecretBox(Buffer.alloc(32, 1)),
        audit,
        events: bus,
        runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
        info: () => ({ version: 't', dataDir: dir, installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
        now: () => NOW,
      },
      silentLogger,
    );
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A finished PostgreSQL session `ageDays` old with `n` statements, sealed like the recorder does. */
  function pgSession(ageDays: number, n: number, endedAt: number | null = NOW - ageDays * DAY): string {
    const id = randomUUID();
    const start = NOW - ageDays * DAY - 1000;
    store.sessions.insert({ id, protocol: 'postgres', agentId: 'a', agentName: 'bot', connectionId: 'c', connectionName: 'db', clientAddress: '127.0.0.1', tls: false, startedAt: start, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
    const sts: StatementRecord[] = Array.from({ length: n }, (_, k) => ({ sessionId: id, seq: k + 1, protocol: 'simple', sql: `SELECT ${k}`, paramCount: 0, startedAt: start + k, durationMs: 1, commandTag: 'SELECT 1', rows: 1, errorCode: null }));
    store.transaction(() => store.statements.insertMany(sts));
    if (endedAt !== null) {
      store.sessions.finish(id, { endedAt, bytesIn: 1, bytesOut: 2, endReason: 'client_closed', statementCount: n });
      audit.append({ kind: 'session.recorded', actor: 'gatehouse', sessionId: id, detail: { statements: n, digest: sessionDigest(store.statements.listBySession(id)) } });
    }
    return id;
  }

  /** A finished SSH session with one exec channel whose .cast file is sealed like the gateway does. */
  function sshSession(ageDays: number): { id: string; file: string } {
    const id = randomUUID();
    const endedAt = NOW - ageDays * DAY;
    store.sessions.insert({ id, protocol: 'ssh', agentId: 'a', agentName: 'bot', connectionId: 'c2', connectionName: 'box', clientAddress: '127.0.0.1', tls: false, startedAt: endedAt - 1000, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
    const rel = path.join('recordings', id, '1.cast');
    mkdirSync(path.join(dir, 'recordings', id), { recursive: true });
    const body = '{"version":2,"width":80,"height":24,"timestamp":1}\n[0.1, "o", "hi\\r\\n"]\n';
    writeFileSync(path.join(dir, rel), body);
    store.ssh.startRecording({ sessionId: id, channelId: 1, kind: 'exec', command: 'echo hi', file: rel, startedAt: endedAt - 1000, endedAt: null, exitStatus: null, exitSignal: null, bytesIn: 0, bytesOut: 0, endReason: null, truncated: false });
    audit.append({ kind: 'ssh.recorded', actor: 'gatehouse', sessionId: id, detail: { channel: 1, kind: 'exec', file: rel, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length } });
    store.sessions.finish(id, { endedAt, bytesIn: 1, bytesOut: 2, endReason: 'client_closed', statementCount: 0 });
    return { id, file: path.join(dir, rel) };
  }

  it('is off by default: nothing is removed', async () => {
    const old = pgSession(400, 3);
    expect(await call('settings.get', {})).toEqual({ recordingRetentionDays: null, updatedAt: null, updatedBy: null });
    expect(await call('recordings.purge', {})).toMatchObject({ retentionDays: null, cutoff: null, sessions: 0 });
    expect(store.statements.listBySession(old)).toHaveLength(3);
  });

  it('removes the recordings of sessions past the retention, keeps the rest, and the chain still verifies', async () => {
    const old = pgSession(40, 3);
    const recent = pgSession(10, 2);
    const live = pgSession(90, 4, null);
    const ssh = sshSession(31);

    const set = await call('settings.update', { recordingRetentionDays: 30 });
    expect(set).toMatchObject({ recordingRetentionDays: 30, updatedBy: 'alice' });
    expect(events).toContain('settings.changed');
    const changed = store.audit.list({ limit: 5, kind: 'settings.changed' });
    expect(changed[0].detail).toEqual({ setting: 'recordingRetentionDays', before: null, after: 30 });

    expect(await call('recordings.purge', { dryRun: true })).toMatchObject({ dryRun: true, sessions: 2, statements: 3, retentionDays: 30, cutoff: new Date(NOW - 30 * DAY).toISOString() });
    expect(store.statements.listBySession(old)).toHaveLength(3);

    const r = await call('recordings.purge', {});
    expect(r).toMatchObject({ dryRun: false, sessions: 2, statements: 3, files: 1 });
    expect(store.statements.listBySession(old)).toHaveLength(0);
    expect(store.statements.listBySession(recent)).toHaveLength(2);
    expect(store.statements.listBySession(live)).toHaveLength(4);
    expect(existsSync(ssh.file)).toBe(false);
    expect(existsSync(path.dirname(ssh.file))).toBe(false);
    // The session rows and their counts stay; they say when the recording was removed.
    expect(store.sessions.get(old)).toMatchObject({ statementCount: 3, recordingPurgedAt: NOW });
    expect(store.sessions.get(recent)?.recordingPurgedAt).toBeUndefined();
    expect((await call('sessions.get', { id: old })).session.recordingPurgedAt).toBe(new Date(NOW).toISOString());
    const purged = store.audit.list({ limit: 10, kind: 'recording.purged', order: 'asc' });
    expect(purged.map((e) => e.sessionId).sort()).toEqual([old, ssh.id].sort());
    expect(purged.find((e) => e.sessionId === old)!.detail).toMatchObject({ protocol: 'postgres', retentionDays: 30, statements: 3, files: [] });
    expect(verifyAuditChain(store, null, dir)).toMatchObject({ ok: true });

    // A second run finds nothing new.
    expect(await call('recordings.purge', {})).toMatchObject({ sessions: 0 });
  });

  it('tampering is still caught: statements deleted without a purge break verification', async () => {
    const s = pgSession(5, 3);
    const ssh = sshSession(5);
    await call('settings.update', { recordingRetentionDays: 30 });
    await call('recordings.purge', {});
    expect(verifyAuditChain(store, null, dir).ok).toBe(true);
    // The SSH recording is within the retention: deleting it by hand is tampering.
    rmSync(ssh.file);
    expect(verifyAuditChain(store, null, dir)).toMatchObject({ ok: false, problem: expect.stringMatching(/was deleted after it ended$/) });
    writeFileSync(ssh.file, '{"version":2,"width":80,"height":24,"timestamp":1}\n[0.1, "o", "hi\\r\\n"]\n');
    expect(verifyAuditChain(store, null, dir).ok).toBe(true);
    store.db.prepare('DELETE FROM statements WHERE session_id = ? AND seq = 2').run(s);
    expect(verifyAuditChain(store, null, dir)).toMatchObject({ ok: false, problem: expect.stringMatching(/recording of session .* was changed/) });
  });

  it('an evidence pack over purged sessions verifies: their removal is in the chain, their rows say when', async () => {
    const old = pgSession(40, 3);
    const kept = pgSession(3, 2);
    const ssh = sshSession(45);
    const keptSsh = sshSession(2);
    await call('settings.update', { recordingRetentionDays: 30 });
    await call('recordings.purge', {});
    audit.checkpoint();
    const file = path.join(dir, 'pack.zip');
    const signer = loadOrCreateSigningKey(dir);
    const scope = { start: NOW - 100 * DAY, end: NOW + DAY, agents: [], connections: [] };
    const r = await exportEvidencePack({ evidence: store.evidence, signer, file, scope, exportId: 'e1', version: 'test', storeInstallationId: null, dataDir: dir, now: () => NOW });
    const v = await verifyEvidencePack(file);
    expect(v.problems).toEqual([]);
    // The kept PostgreSQL timeline and the kept SSH channel are checked against their seals; the purged ones are not in the pack.
    expect(v.summary.recordingsSealed).toBe(2);
    expect(r.manifest.files.map((f) => f.path)).toContain(`recordings/${kept}.jsonl`);
    expect(r.manifest.files.map((f) => f.path)).toContain(`recordings/${keptSsh.id}-1.cast`);
    expect(r.manifest.files.map((f) => f.path)).not.toContain(`recordings/${old}.jsonl`);
    expect(r.manifest.files.map((f) => f.path)).not.toContain(`recordings/${ssh.id}-1.cast`);
  });

  it('the setting is validated, and an unchanged value is not audited again', async () => {
    await expect(call('settings.update', { recordingRetentionDays: 0 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(call('settings.update', { recordingRetentionDays: 1.5 })).rejects.toMatchObject({ code: 'invalid' });
    await call('settings.update', { recordingRetentionDays: 7 });
    await call('settings.update', { recordingRetentionDays: 7 });
    await call('settings.update', { recordingRetentionDays: null });
    const changes = store.audit.list({ limit: 10, kind: 'settings.changed', order: 'asc' }).map((e) => e.detail);
    expect(changes).toEqual([
      { setting: 'recordingRetentionDays', before: null, after: 7 },
      { setting: 'recordingRetentionDays', before: 7, after: null },
    ]);
    expect(await call('settings.get', {})).toMatchObject({ recordingRetentionDays: null, updatedBy: 'alice' });
  });

  it('the gateway-side sweeper deletes in batches and leaves live sessions alone', async () => {
    for (let i = 0; i < 450; i++) pgSession(100 + (i % 5), 1);
    const live = pgSession(200, 1, null);
    store.retention.setSetting('recording_retention_days', 90, NOW, 'test');
    const sweeper = new RecordingRetention({ store, audit, dataDir: dir, log: silentLogger, now: () => NOW });
    // Two runs asked for at once (the hourly timer and a settings change): the second waits, finds nothing.
    const [r, again] = await Promise.all([sweeper.run(), sweeper.run()]);
    expect(r.sessions).toBe(450);
    expect(again.sessions).toBe(0);
    expect(store.audit.list({ limit: 1000, kind: 'recording.purged' })).toHaveLength(450);
    expect(store.statements.listBySession(live)).toHaveLength(1);
    expect(verifyAuditChain(store, null, dir).ok).toBe(true);
  });
});

