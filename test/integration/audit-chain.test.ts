import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointMessage } from '../../src/gateway/recording/audit-verify';
import { buildCli, gatehouse } from '../helpers/cli';

/**
 * The audit trail is a hash chain with signed checkpoints: `gatehouse audit verify` must catch an edited,
 * a deleted and a reordered event, a forged checkpoint and a checkpoint signed by another key.
 */
const dirs: string[] = [];
let pristine: string;

function copyOfPristine(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-'));
  dirs.push(d);
  cpSync(pristine, d, { recursive: true });
  return d;
}

function tamper(dir: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path.join(dir, 'gatehouse.db'));
  if (params.length) db.prepare(sql).run(...params);
  else db.exec(sql);
  db.close();
}

beforeAll(async () => {
  buildCli();
  pristine = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-src-'));
  dirs.push(pristine);
  const run = (args: string[]) => gatehouse([...args, '--data-dir', pristine]);
  await run(['agent', 'add', 'a1']);
  await run(['agent', 'add', 'a2']);
  await run(['connection', 'add', 'db', '--host', '127.0.0.1', '--database', 'd', '--user', 'u']);
  await run(['grant', 'add', '--agent', 'a1', '--connection', 'db']);
  await run(['grant', 'revoke', '--agent', 'a1', '--connection', 'db']);
  await run(['agent', 'remove', 'a2']);
  // Each CLI command that changed the store signed a checkpoint of the chain's head (6 commands, 6 checkpoints).
});

afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const verify = async (dir: string) => {
  const r = await gatehouse(['audit', 'verify', '--data-dir', dir]);
  return { code: r.code, out: r.stdout + r.stderr };
};

describe('tamper-evident audit trail', () => {
  it('verifies an untouched chain and its checkpoint', async () => {
    const r = await verify(pristine);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: 6 events chained, 6 signed checkpoint\(s\) valid/);
  });

  it('catches an edited event', async () => {
    const d = copyOfPristine();
    tamper(d, `UPDATE audit_events SET detail = '{"tags":["evil"]}' WHERE id = 2`);
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(r.out).toBe('gatehouse: audit chain broken at event 2: event 2 was changed after it was recorded\n');
  });

  it('catches a deleted event', async () => {
    const d = copyOfPristine();
    tamper(d, 'DELETE FROM audit_events WHERE id = 3');
    expect((await verify(d)).out).toContain('broken at event 3: event 3 is missing');
  });

  it('catches reordered events', async () => {
    const d = copyOfPristine();
    tamper(d, 'UPDATE audit_events SET id = -1 WHERE id = 4');
    tamper(d, 'UPDATE audit_events SET id = 4 WHERE id = 5');
    tamper(d, 'UPDATE audit_events SET id = 5 WHERE id = -1');
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(r.out).toContain('broken at event 4');
  });

  it('catches a truncated tail (which leaves a valid chain) through the signed checkpoint', async () => {
    const d = copyOfPristine();
    tamper(d, 'DELETE FROM audit_events WHERE id = 6');
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(r.out).toContain('checkpoint 6 signs event 6, which is no longer in the chain as signed');
  });

  it('catches a forged checkpoint signature and a checkpoint signed by another key', async () => {
    const forged = copyOfPristine();
    tamper(forged, "UPDATE audit_checkpoints SET signature = ? WHERE id = 1", Buffer.alloc(64, 7).toString('base64'));
    expect((await verify(forged)).out).toContain('checkpoint 1 has an invalid signature');

    const swapped = copyOfPristine();
    const other = generateKeyPairSync('ed25519');
    const db = new Database(path.join(swapped, 'gatehouse.db'));
    const c = db.prepare('SELECT * FROM audit_checkpoints WHERE id = 1').get() as { event_id: number; event_hash: string; at: number };
    db.close();
    tamper(
      swapped,
      'UPDATE audit_checkpoints SET public_key = ?, signature = ? WHERE id = 1',
      other.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      sign(null, Buffer.from(checkpointMessage(c.event_id, c.event_hash, c.at)), other.privateKey).toString('base64'),
    );
    expect((await verify(swapped)).out).toContain('checkpoint 1 was signed by a different key');
  });

  it('exports JSON Lines with stable field names, oldest first, filtered by time', async () => {
    const all = (await gatehouse(['audit', 'export', '--format', 'jsonl', '--data-dir', pristine])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(all.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Object.keys(all[0]).sort()).toEqual(['actor', 'agentName', 'at', 'clientAddress', 'connectionName', 'detail', 'id', 'kind', 'sessionId']);
    expect(all.map((e) => e.kind)).toEqual(['agent.added', 'agent.added', 'connection.added', 'grant.added', 'grant.revoked', 'agent.removed']);
    const future = await gatehouse(['audit', 'export', '--since', '2999-01-01T00:00:00Z', '--data-dir', pristine]);
    expect(future.stdout).toBe('');
    const bad = await gatehouse(['audit', 'export', '--since', 'yesterday', '--data-dir', pristine]);
    expect(bad.code).toBe(2);
  });
});

describe('recordings sealed into the audit chain', () => {
  it('chains a digest of each finished session; editing, deleting or reordering its statements is caught', async () => {
    const { startPostgres } = await import('../helpers/postgres');
    const { startServe } = await import('../helpers/cli');
    const { runTool } = await import('../helpers/pg-gateway-harness');
    const db = await startPostgres();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-seal-'));
    dirs.push(dir);
    try {
      const serve = await startServe(dir);
      await gatehouse(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--data-dir', dir], {
        input: db.users.scram.password,
      });
      const secret = JSON.parse((await gatehouse(['agent', 'add', 'bot', '--json', '--data-dir', dir])).stdout).secret;
      await gatehouse(['grant', 'add', '--agent', 'bot', '--connection', 'app', '--data-dir', dir]);
      const dsn = `host=127.0.0.1 port=${serve.pgPort} dbname=app user=bot password=${secret}`;
      const r = await runTool('psql', [dsn, '-X', '-At', '-c', 'select 1', '-c', 'select 2', '-c', 'select 3']);
      expect(r.stdout.trim()).toBe('1\n2\n3');
      await serve.stop();

      const events = (await gatehouse(['audit', 'export', '--data-dir', dir])).stdout.trim().split('\n').map((l) => JSON.parse(l));
      const seal = events.find((e) => e.kind === 'session.recorded');
      expect(seal.detail).toMatchObject({ statements: 3, endReason: 'client_terminated' });
      expect(seal.detail.digest).toMatch(/^[0-9a-f]{64}$/);
      expect((await verify(dir)).code).toBe(0);

      const cases: [string, string][] = [
        ['edit', "UPDATE statements SET sql = 'select 42' WHERE seq = 2"],
        ['delete', 'DELETE FROM statements WHERE seq = 3'],
        ['reorder', 'UPDATE statements SET seq = -1 WHERE seq = 1; UPDATE statements SET seq = 1 WHERE seq = 2; UPDATE statements SET seq = 2 WHERE seq = -1'],
      ];
      for (const [what, sql] of cases) {
        const copy = mkdtempSync(path.join(os.tmpdir(), 'gh-seal-copy-'));
        dirs.push(copy);
        cpSync(dir, copy, { recursive: true });
        tamper(copy, sql);
        const v = await verify(copy);
        expect(v.code, what).toBe(1);
        expect(v.out, what).toContain('was changed after it ended');
      }
    } finally {
      await db.stop();
    }
  });
});
