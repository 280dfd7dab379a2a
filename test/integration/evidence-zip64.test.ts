import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/gateway/core/event-bus';
import { exportEvidencePack } from '../../src/gateway/evidence/evidence-pack';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { loadOrCreateSigningKey } from '../../src/gateway/identity/signing-key';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { sessionDigest } from '../../src/gateway/recording/session-digest';
import type { StatementRecord } from '../../src/gateway/store/records';
import { Store } from '../../src/gateway/store/store';
import { buildCli, gatehouse } from '../helpers/cli';

/**
 * Evidence packs past the classic zip limits: a period with more than 65,535 PostgreSQL sessions (one
 * recordings/<session>.jsonl each) exported by `gatehouse export evidence` and checked by `gatehouse
 * verify`, Python's zipfile and unzip; and a pack with every ZIP64 structure forced, verified and
 * tampered with.
 */
const START = Date.parse('2026-10-01T00:00:00Z');
const SPAN = Date.parse('2026-12-31T00:00:00Z') - START;
let work: string;

beforeAll(() => {
  buildCli();
  work = mkdtempSync(path.join(os.tmpdir(), 'gh-evidence-zip64-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A data dir with `sessions` PostgreSQL sessions of one statement each in Q4, sealed into the audit chain as the gateway does. */
function seed(dataDir: string, sessions: number): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = Store.open(path.join(dataDir, 'gatehouse.db'));
  try {
    const signer = loadOrCreateSigningKey(dataDir);
    let clock = START;
    const audit = new AuditLog(store, new EventBus(), () => clock, signer);
    const agent = { id: randomUUID(), name: 'report-bot' };
    const conn = { id: randomUUID(), name: 'shop' };
    store.transaction(() => {
      store.connections.insert({ id: conn.id, name: conn.name, kind: 'postgres', host: 'db.internal', port: 5432, database: 'shop', username: 'owner', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: START - 86_400_000, updatedAt: START });
      store.agents.insert({ id: agent.id, name: agent.name, secretVerifier: 'x', tags: [], disabled: false, createdAt: START - 86_400_000 });
      store.grants.insert({ id: randomUUID(), agentId: agent.id, connectionId: conn.id, createdAt: START - 86_400_000, expiresAt: null, revokedAt: null, createdBy: 'test' });
    });
    const batch = 1000;
    for (let s0 = 0; s0 < sessions; s0 += batch) {
      const sealed: { id: string; at: number; digest: string }[] = [];
      store.transaction(() => {
        for (let s = s0; s < Math.min(sessions, s0 + batch); s++) {
          const id = randomUUID();
          const t0 = START + Math.floor((SPAN * s) / sessions);
          store.sessions.insert({ id, protocol: 'postgres', agentId: agent.id, agentName: agent.name, connectionId: conn.id, connectionName: conn.name, clientAddress: '10.0.0.5', tls: true, startedAt: t0, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
          const recs: StatementRecord[] = [{ sessionId: id, seq: 1, protocol: 'simple', sql: `SELECT ${s}`, paramCount: 0, startedAt: t0 + 1, durationMs: 0.5, commandTag: 'SELECT 1', rows: 1, errorCode: null }];
          store.statements.insertMany(recs);
          store.sessions.finish(id, { endedAt: t0 + 5, bytesIn: 10, bytesOut: 20, endReason: 'client_closed', statementCount: 1 });
          sealed.push({ id, at: t0 + 5, digest: sessionDigest(recs) });
        }
      });
      for (const x of sealed) {
        clock = x.at;
        audit.append({ kind: 'session.recorded', actor: 'gatehouse', agentName: agent.name, connectionName: conn.name, sessionId: x.id, detail: { digest: x.digest, statements: 1 } });
      }
    }
    audit.checkpoint();
  } finally {
    store.close();
  }
}

/** `python3 -m zipfile -t` and `unzip -tq` (both ZIP64-capable) accept the archive. */
function independentTest(file: string): void {
  const py = spawnSync('python3', ['-m', 'zipfile', '-t', file], { encoding: 'utf8' });
  expect(py.status, `python3 zipfile: ${py.stdout}${py.stderr}`).toBe(0);
  expect(py.stdout).toContain('Done testing');
  expect(py.stdout + py.stderr).not.toMatch(/error|bad|Traceback/i);
  const uz = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
  expect(uz.status, `unzip -tq: ${uz.stdout}${uz.stderr}`).toBe(0);
  expect(uz.stdout).toContain('No errors detected');
}

describe('evidence packs over 65,535 files (ZIP64)', () => {
  it('`gatehouse export evidence` of 65,600 sessions, then `gatehouse verify`, python3 zipfile and unzip accept the pack', async () => {
    const dataDir = path.join(work, 'big');
    const sessions = 65_600;
    seed(dataDir, sessions);
    const pack = path.join(work, 'big.zip');
    const exp = await gatehouse(['export', 'evidence', '--period', '2026-10-01..2026-12-31', '--out', pack, '--data-dir', dataDir, '--json'], { timeoutMs: 300_000 });
    expect(exp.code, exp.stderr).toBe(0);
    const result = JSON.parse(exp.stdout);
    expect(result.counts.sessions).toBe(sessions);
    expect(result.files).toBeGreaterThan(65_535);

    // The classic end record can't count the files: ZIP64 end records say how many.
    const buf = readFileSync(pack);
    expect(buf.readUInt16LE(buf.length - 22 + 10)).toBe(0xffff);
    expect(buf.readUInt32LE(buf.length - 22 - 20)).toBe(0x07064b50);

    const ver = await gatehouse(['verify', pack], { timeoutMs: 300_000 });
    expect(ver.code, ver.stdout + ver.stderr).toBe(0);
    expect(ver.stdout).toMatch(/^ok: /);
    const r = await verifyEvidencePack(pack);
    expect(r.problems).toEqual([]);
    expect(r.summary.recordingsSealed).toBe(sessions);
    independentTest(pack);
  }, 600_000);

  it('a pack with every ZIP64 structure forced verifies, passes python3 zipfile and unzip, and a changed byte is still found', async () => {
    const dataDir = path.join(work, 'small');
    seed(dataDir, 40);
    const store = Store.open(path.join(dataDir, 'gatehouse.db'));
    const pack = path.join(work, 'forced.zip');
    try {
      const signer = loadOrCreateSigningKey(dataDir);
      const scope = { start: START, end: Date.parse('2026-12-31T23:59:59.999Z'), agents: [], connections: [] };
      await exportEvidencePack({ evidence: store.evidence, signer, file: pack, scope, exportId: 'e1', version: 'test', storeInstallationId: null, now: () => START + SPAN + 86_400_000, forceZip64: true });
    } finally {
      store.close();
    }
    const buf = readFileSync(pack);
    // Classic end record fields all at their maximum: a reader must take them from the ZIP64 record.
    expect([buf.readUInt16LE(buf.length - 22 + 10), buf.readUInt32LE(buf.length - 22 + 12), buf.readUInt32LE(buf.length - 22 + 16)]).toEqual([0xffff, 0xffffffff, 0xffffffff]);
    const r = await verifyEvidencePack(pack);
    expect(r.problems).toEqual([]);
    expect(r.summary.recordingsSealed).toBe(40);
    independentTest(pack);

    // Flip one byte of statements.csv's compressed data (it is stored after its local header): the
    // verifier reports the file (a CRC or inflate error or a hash mismatch), never ok.
    const at = buf.indexOf(Buffer.from('statements.csv')) + 'statements.csv'.length + 20 + 10;
    const bad = Buffer.from(buf);
    bad[at] ^= 0x01;
    const mutated = path.join(work, 'forced-mutated.zip');
    writeFileSync(mutated, bad);
    const m = await verifyEvidencePack(mutated);
    expect(m.ok).toBe(false);
    expect(m.problems.some((p) => p.startsWith('statements.csv:'))).toBe(true);
  }, 120_000);
});
