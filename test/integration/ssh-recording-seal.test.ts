import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/gateway/core/logger';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { startGatehouse, type Gatehouse } from '../../src/gateway/gatehouse';
import type { AuditRecord } from '../../src/gateway/store/records';
import { runTool } from '../helpers/pg-gateway-harness';
import { makeKeyPair, TestSshd, type KeyPair } from '../helpers/sshd';

const ACTOR = { actor: 'test' };
const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes'];

/**
 * SSH recordings in the audit chain: each channel's .cast file is hashed as it is written and the digest
 * is chained when the channel ends (`ssh.recorded`); `audit verify` re-hashes the file on disk, so an
 * edited, truncated or deleted recording is reported. Real OpenSSH client and sshd.
 */
describe('SSH recordings are sealed into the audit chain', () => {
  let sshd: TestSshd;
  let gh: Gatehouse;
  let dir: string;
  let dataDir: string;
  let agentKey: KeyPair;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-ssh-seal-'));
    dataDir = path.join(dir, 'data');
    sshd = await new TestSshd().start();
    gh = await startGatehouse({ dataDir, pgPort: 0, consolePort: null, sshPort: 0, log: silentLogger });
    agentKey = makeKeyPair(dir, 'agent_key');
    await gh.api.call('connections.add', { name: 'box', kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.userKey.privateKey }, ACTOR);
    await gh.api.call('agents.add', { name: 'bot', sshPublicKey: agentKey.publicKey }, ACTOR);
    await gh.api.call('grants.add', { agent: 'bot', connection: 'box' }, ACTOR);
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = () => gh.api.call('audit.verify', {}, ACTOR) as Promise<{ ok: boolean; problem: string | null; brokenAt: number | null }>;

  it('chains the digest of each recording file; editing, truncating or deleting the file is detected', async () => {
    const port = gh.info().listeners.ssh!.port;
    const r = await runTool('ssh', ['-p', String(port), '-i', agentKey.privateFile, ...CLIENT_OPTS, 'box@127.0.0.1', 'echo sealed-output; echo more'], '');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('sealed-output\nmore\n');

    // The event comes when the channel ends, a moment after the client exits.
    let seal: AuditRecord | undefined;
    for (let i = 0; i < 100 && !seal; i++) {
      seal = gh.store.audit.list({ limit: 5, kind: 'ssh.recorded' })[0];
      if (!seal) await new Promise((res) => setTimeout(res, 50));
    }
    expect(seal).toBeDefined();
    const file = path.join(dataDir, String(seal!.detail.file));
    const original = readFileSync(file);
    expect(original.toString()).toContain('sealed-output');
    expect(seal!.detail).toMatchObject({ kind: 'exec', bytes: original.length, sha256: createHash('sha256').update(original).digest('hex') });
    expect(await verify()).toMatchObject({ ok: true, problem: null });
    // The login itself is audited too.
    expect(gh.store.audit.list({ limit: 20, kind: 'session.started' }).find((e) => e.sessionId === seal!.sessionId)).toMatchObject({
      agentName: 'bot',
      connectionName: 'box',
      detail: { protocol: 'ssh', method: 'publickey' },
    });

    // One byte changed in the middle of the file.
    const edited = Buffer.from(original);
    const at = edited.indexOf('sealed-output');
    edited[at] = 'S'.charCodeAt(0);
    writeFileSync(file, edited);
    let v = await verify();
    expect(v.ok).toBe(false);
    expect(v.brokenAt).toBe(seal!.id);
    expect(v.problem).toBe(`the recording file ${seal!.detail.file} of session ${seal!.sessionId} was changed after it ended (its SHA-256 no longer matches the chained one)`);

    // Appended output (a line added at the end) and truncation.
    writeFileSync(file, original);
    appendFileSync(file, '[9.9, "o", "forged"]\n');
    expect((await verify()).ok).toBe(false);
    writeFileSync(file, original.subarray(0, original.length - 5));
    expect((await verify()).ok).toBe(false);

    // Deleted.
    renameSync(file, `${file}.gone`);
    v = await verify();
    expect(v.ok).toBe(false);
    expect(v.problem).toMatch(/was deleted after it ended$/);

    // Restored exactly: whole again.
    renameSync(`${file}.gone`, file);
    writeFileSync(file, original);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an evidence pack carries the seal: a recording edited on disk before the export fails the pack', async () => {
    const seal = gh.store.audit.list({ limit: 1, kind: 'ssh.recorded' })[0];
    const file = path.join(dataDir, String(seal.detail.file));
    const period = { periodStart: new Date(Date.now() - 3_600_000).toISOString(), periodEnd: new Date(Date.now() + 60_000).toISOString() };
    const good = (await gh.api.call('evidence.export', period, ACTOR)) as { path: string };
    const ok = await verifyEvidencePack(good.path);
    expect(ok.problems).toEqual([]);
    expect(ok.summary.recordingsSealed).toBeGreaterThanOrEqual(1);

    const original = readFileSync(file);
    writeFileSync(file, Buffer.from(original.toString().replace('sealed-output', 'forged-output!')));
    try {
      const bad = (await gh.api.call('evidence.export', period, ACTOR)) as { path: string };
      const v = await verifyEvidencePack(bad.path);
      expect(v.ok).toBe(false);
      expect(v.problems).toContain(`recordings/${seal.sessionId}-${seal.detail.channel}.cast: does not match the digest sealed in audit event ${seal.id} when the channel ended`);
    } finally {
      writeFileSync(file, original);
    }
  });
});
