import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../src/gateway/evidence/evidence-pack';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { parseSignatureFile, signatureFile } from '../../src/gateway/evidence/pack-format';
import { csvCell, csvRow } from '../../src/gateway/evidence/csv';
import { loadOrCreateSigningKey } from '../../src/gateway/identity/signing-key';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { sessionDigest } from '../../src/gateway/recording/session-digest';
import { EventBus } from '../../src/gateway/core/event-bus';
import { Store } from '../../src/gateway/store/store';
import { createGatewayApi } from '../../src/gateway/api/gateway-api';
import { silentLogger } from '../../src/gateway/core/logger';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { StatementRecord } from '../../src/gateway/store/records';

const T0 = Date.parse('2026-11-02T10:00:00Z');
const scope = { start: Date.parse('2026-10-01T00:00:00Z'), end: Date.parse('2026-12-31T23:59:59.999Z'), agents: [], connections: [] };

describe('evidence pack (store-level)', () => {
  let dir: string;
  let pack: string;
  let store: Store;
  let signer: ReturnType<typeof loadOrCreateSigningKey>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-evidence-'));
    store = Store.open(path.join(dir, 'gatehouse.db'));
    signer = loadOrCreateSigningKey(dir);
    let clock = T0;
    const audit = new AuditLog(store, new EventBus(), () => clock++, signer);
    store.connections.insert({ id: 'c1', name: 'shop', kind: 'postgres', host: 'h', port: 5432, database: 'd', username: 'u', tlsMode: 'disable', secretEnc: null, tags: [], createdAt: T0 - 1e9, updatedAt: T0 });
    store.agents.insert({ id: 'a1', name: 'report-bot', secretVerifier: 'x', tags: [], disabled: false, createdAt: T0 - 1e9 });
    store.grants.insert({ id: 'g1', agentId: 'a1', connectionId: 'c1', createdAt: T0 - 1e9, expiresAt: null, revokedAt: null, createdBy: 'cli' });
    audit.append({ kind: 'grant.added', actor: 'cli', detail: {} });
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      store.sessions.insert({ id, protocol: 'postgres', agentId: 'a1', agentName: 'report-bot', connectionId: 'c1', connectionName: 'shop', clientAddress: '127.0.0.1', tls: true, startedAt: T0 + i * 86_400_000, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
      const sts: StatementRecord[] = Array.from({ length: 5 }, (_, k) => ({
        sessionId: id, seq: k + 1, protocol: 'simple', sql: k === 2 ? `=HYPERLINK("x","y"), 'quoted'\nnext line` : `SELECT ${k}`, paramCount: 0,
        startedAt: T0 + i * 86_400_000 + k, durationMs: 1.5, commandTag: k === 4 ? null : 'SELECT 1', rows: 1, errorCode: k === 4 ? '42P01' : null,
        ...(k === 1 ? { policyAction: 'block' as const, policyRule: 'no-drop' } : {}), ...(k === 3 ? { maskedValues: 2, resultPreview: '[["a***"]]' } : {}),
      }));
      store.transaction(() => store.statements.insertMany(sts));
      store.sessions.finish(id, { endedAt: T0 + i * 86_400_000 + 10, bytesIn: 1, bytesOut: 2, endReason: 'client_closed', statementCount: 5 });
      audit.append({ kind: 'session.recorded', actor: 'gatehouse', sessionId: id, detail: { digest: sessionDigest(store.statements.listBySession(id)), statements: 5 } });
    }
    audit.checkpoint();
    pack = path.join(dir, 'pack.zip');
    await exportEvidencePack({ evidence: store.evidence, signer, file: pack, scope, exportId: 'e1', version: 'test', storeInstallationId: null, now: () => T0 + 1e9, pageSize: 2 });
  });
  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies', async () => {
    const r = await verifyEvidencePack(pack);
    expect(r.problems).toEqual([]);
    expect(r.summary.recordingsSealed).toBe(3);
    expect(r.summary.counts.statements).toBe(15);
  });

  it('CSV quoting and the formula guard', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('+x')).toBe("'+x");
    expect(csvCell('@x')).toBe("'@x");
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvRow(['x', null, 3])).toBe('x,,3\r\n');
    const files = unzipSync(readFileSync(pack));
    expect(strFromU8(files['statements.csv'])).toContain(`"'=HYPERLINK(""x"",""y""), 'quoted'\nnext line"`);
  });

  it('the signature file is strict', () => {
    const text = signatureFile(signer.publicKey, signer.sign('x'));
    expect(parseSignatureFile(text)).not.toBeNull();
    expect(parseSignatureFile(text.replace('\n', '\r\n'))).toBeNull();
  });

  it('detects every single-byte change in small files and sampled ones in large files', async () => {
    const files = unzipSync(readFileSync(pack));
    const mutated = path.join(dir, 'mutated.zip');
    let checked = 0;
    for (const [name, data] of Object.entries(files)) {
      // Every byte of small files (the signature file among them); a spread of 32 positions, first and
      // last included, of bigger ones.
      const positions = data.length <= 600 ? [...data.keys()] : [...new Set([0, 1, data.length - 2, data.length - 1, ...Array.from({ length: 28 }, (_, i) => Math.floor(((i + 1) * data.length) / 29))])];
      for (const pos of positions) {
        const copy = { ...files, [name]: Uint8Array.from(data) };
        copy[name][pos] ^= 0x01;
        writeFileSync(mutated, zipSync(copy, { level: 0 }));
        const r = await verifyEvidencePack(mutated);
        expect(r.ok, `${name} byte ${pos}`).toBe(false);
        expect(r.problems.some((p) => p.startsWith(`${name}:`) || (name === 'manifest.json' && p.startsWith('manifest.sig: signature does not verify'))), `${name} byte ${pos}: ${r.problems.join('; ')}`).toBe(true);
        checked++;
      }
    }
    console.log(`single-byte changes checked: ${checked}`);
    expect(checked).toBeGreaterThan(500);
  }, 120_000);
});

describe('evidence.export (contract)', () => {
  it('writes a verifiable pack into the data dir\'s exports/, with progress events and an audit event', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-evidence-api-'));
    const store = Store.open(path.join(dir, 'gatehouse.db'));
    try {
      const bus = new EventBus();
      const seen: { event: string; payload: any }[] = [];
      bus.onAny((event, payload) => seen.push({ event, payload }));
      const signer = loadOrCreateSigningKey(dir);
      const api = createGatewayApi(
        {
          store,
          secretBox: new SecretBox(randomBytes(32)),
          audit: new AuditLog(store, bus, Date.now, signer),
          events: bus,
          signer,
          runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
          info: () => ({ version: 't', dataDir: dir, installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
        },
        silentLogger,
      );
      const call = (c: string, i: unknown) => api.call(c, i, { actor: 'test' }) as Promise<any>;
      await call('agents.add', { name: 'bot' });
      const r = await call('evidence.export', { periodStart: '2026-01-01T00:00:00Z', periodEnd: '2027-01-01T00:00:00Z', exportId: 'q4-1' });
      expect(r.path).toBe(path.join(dir, 'exports', 'evidence-2026-01-01-2027-01-01-q4-1.zip'));
      expect(statSync(r.path).mode & 0o777).toBe(0o600);
      expect(r.emptySections).toEqual({});
      expect((await verifyEvidencePack(r.path)).problems).toEqual([]);
      const progress = seen.filter((e) => e.event === 'evidence.progress').map((e) => e.payload);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((p) => p.exportId === 'q4-1')).toBe(true);
      expect(progress[progress.length - 1]).toMatchObject({ phase: 'done', done: 1, total: 1 });
      const exported = store.audit.list({ limit: 1, kind: 'evidence.exported' })[0];
      expect(exported.detail).toMatchObject({ exportId: 'q4-1', manifestSha256: r.manifestSha256 });
      // No temp files are left next to the pack.
      expect(existsSync(`${r.path}.statements.tmp`) || existsSync(`${r.path}.recordings.tmp`)).toBe(false);
      await expect(call('evidence.export', { periodStart: '2026-02-01T00:00:00Z', periodEnd: '2026-01-01T00:00:00Z' })).rejects.toThrow('the period must end after it starts');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
