import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../src/gateway/api/gateway-api';
import { EventBus } from '../../src/gateway/core/event-bus';
import { silentLogger } from '../../src/gateway/core/logger';
import { verifyEvidencePack } from '../../src/gateway/evidence/pack-verify';
import { SecretBox } from '../../src/gateway/identity/secret-box';
import { loadOrCreateSigningKey } from '../../src/gateway/identity/signing-key';
import { AuditLog } from '../../src/gateway/recording/audit-log';
import { Store } from '../../src/gateway/store/store';

const DAY = 86_400_000;

/**
 * A completed review keeps the exact body it signed: its SHA-256 is the digest, the signature verifies
 * over it, and what the review shows afterwards is that body, not evidence recomputed from a store that
 * has since changed (late statements, recordings removed by retention).
 */
describe('a completed review shows and keeps what was signed', () => {
  let dir: string;
  let store: Store;
  let api: GatewayApi;
  const call = (command: string, input: unknown) => api.call(command, input, { actor: 'alice' }) as Promise<any>;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gh-review-body-'));
    store = Store.open(path.join(dir, 'gatehouse.db'));
    const bus = new EventBus();
    const signer = loadOrCreateSigningKey(dir);
    api = createGatewayApi(
      {
        store,
        secretBox: new SecretBox(Buffer.alloc(32, 3)),
        audit: new AuditLog(store, bus, Date.now, signer),
        events: bus,
        signer,
        runtime: { closeSessions: () => 0, testConnection: async () => ({ ok: true, stage: 'ok', message: '', serverVersion: null, elapsedMs: 0 }) },
        info: () => ({ version: 't', dataDir: dir, installationId: 'i', listeners: { postgres: null, console: null }, tlsFingerprint: null }),
      },
      silentLogger,
    );
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Agent "bot" granted connection "shop"; `addSession` records a finished session of its SQL at `at`. */
  async function grantedBot() {
    await call('connections.add', { name: 'shop', host: '127.0.0.1', database: 'd', username: 'u' });
    await call('agents.add', { name: 'bot' });
    await call('grants.add', { agent: 'bot', connection: 'shop' });
    const agent = store.agents.getByName('bot')!;
    const conn = store.connections.getByName('shop')!;
    const addSession = (sqls: string[], at: number) => {
      const id = randomUUID();
      store.sessions.insert({ id, protocol: 'postgres', agentId: agent.id, agentName: 'bot', connectionId: conn.id, connectionName: 'shop', clientAddress: '127.0.0.1', tls: false, startedAt: at, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null, statementCount: 0 });
      store.transaction(() => store.statements.insertMany(sqls.map((sql, k) => ({ sessionId: id, seq: k + 1, protocol: 'simple' as const, sql, paramCount: 0, startedAt: at + k, durationMs: 1, commandTag: 'SELECT 1', rows: 1, errorCode: null }))));
      store.sessions.finish(id, { endedAt: at + 100, bytesIn: 1, bytesOut: 1, endReason: 'client_closed', statementCount: sqls.length });
    };
    const period = { periodStart: new Date(Date.now() - 10 * DAY).toISOString(), periodEnd: new Date(Date.now() + DAY).toISOString() };
    return { addSession, period };
  }

  it('signs the body it stores; later activity and retention do not change the completed review', async () => {
    const { addSession, period } = await grantedBot();
    addSession(['select * from orders', 'select * from customers'], Date.now() - 2 * DAY);
    const r = await call('reviews.start', { name: 'q4', ...period });
    const before = await call('reviews.get', { id: r.id });
    expect(before.review.evidenceAsSigned).toBe(false);
    expect(before.items[0].evidence).toMatchObject({ statements: 2, tablesRead: ['customers', 'orders'] });
    await call('reviews.decide', { id: r.id, grantId: before.items[0].grantId, decision: 'keep', comment: 'needed for reports' });
    const done = await call('reviews.complete', { id: r.id });

    // The stored body is exactly what was hashed and signed.
    const body = store.reviews.get(r.id)!.signedBody!;
    expect(createHash('sha256').update(body).digest('hex')).toBe(done.digest);
    const key = createPublicKey({ key: Buffer.from(done.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(done.digest), key, Buffer.from(done.signature, 'base64'))).toBe(true);
    expect(JSON.parse(body).items[0]).toMatchObject({ decision: 'keep', comment: 'needed for reports', evidence: { statements: 2, tablesRead: ['customers', 'orders'] } });

    // Later: more activity in the period, and the old recording removed by retention.
    addSession(['delete from orders where id = 1'], Date.now() - DAY);
    await call('settings.update', { recordingRetentionDays: 1 });
    expect((await call('recordings.purge', {})).sessions).toBe(1);
    const after = await call('reviews.get', { id: r.id });
    expect(after.review.evidenceAsSigned).toBe(true);
    expect(after.items[0].evidence).toEqual(before.items[0].evidence);
    expect(after.items[0]).toMatchObject({ decision: 'keep', grantStatus: 'active' });

    // An evidence pack carries the signed body; the verifier checks it against the digest.
    const pack = (await call('evidence.export', period)) as { path: string };
    const v = await verifyEvidencePack(pack.path);
    expect(v.problems).toEqual([]);
    expect(v.summary.reviewsSigned).toBe(1);
    const line = JSON.parse(strFromU8(unzipSync(readFileSync(pack.path))['reviews.jsonl']).trim());
    expect(line.signedBody).toBe(body);
  });

  it('says when the tables come from only the most used statements', async () => {
    const { addSession, period } = await grantedBot();
    addSession(Array.from({ length: 501 }, (_, k) => `select ${k} from t${k % 3}`), Date.now() - DAY);
    const r = await call('reviews.start', { name: 'busy', ...period });
    const got = await call('reviews.get', { id: r.id });
    expect(got.items[0].evidence).toMatchObject({ statements: 501, tablesRead: ['t0', 't1', 't2'], tablesPartial: true });
  });
});
