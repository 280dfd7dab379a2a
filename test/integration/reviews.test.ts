import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/** An access review from start to signed completion, with decisions enforced on the running gateway. */
let db: TestPostgres;
let serve: ServeProcess;
let dir: string;
const secrets: Record<string, string> = {};
const gh = (args: string[], input?: string) => gatehouse([...args, '--data-dir', dir], { input });
const dsn = (agent: string) => `host=127.0.0.1 port=${serve.pgPort} dbname=app user=${agent} password=${secrets[agent]}`;

beforeAll(async () => {
  buildCli();
  db = await startPostgres();
  dir = mkdtempSync(path.join(os.tmpdir(), 'gh-review-'));
  serve = await startServe(dir);
  await gh(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin'], db.users.scram.password);
  for (const a of ['keeper', 'leaver', 'temp', 'idle']) {
    secrets[a] = JSON.parse((await gh(['agent', 'add', a, '--json'])).stdout).secret;
    await gh(['grant', 'add', '--agent', a, '--connection', 'app']);
  }
  await runTool('psql', [dsn('keeper'), '-X', '-c', 'create table if not exists notes (id int)', '-c', 'insert into notes values (1)', '-c', 'select * from notes', '-c', 'select nope']);
  await runTool('psql', [dsn('leaver'), '-X', '-c', 'select 1']);
  await runTool('psql', [`host=127.0.0.1 port=${serve.pgPort} dbname=app user=keeper password=wrong sslmode=disable`, '-X', '-c', 'select 1']);
});

afterAll(async () => {
  await serve?.stop();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('access review campaign', () => {
  it('shows evidence per entitlement, enforces decisions at once, and signs the completed review', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const started = JSON.parse((await gh(['review', 'start', '--name', 'Q4 agents', '--period', `${today}..${today}`, '--json'])).stdout);
    expect(started.progress).toEqual({ decided: 0, total: 4 });

    const shown = JSON.parse((await gh(['review', 'show', started.id, '--json'])).stdout);
    const by = Object.fromEntries(shown.items.map((i: any) => [i.agentName, i]));
    expect(by.keeper.evidence).toMatchObject({ sessions: 1, statements: 4, statementsByCommand: { CREATE: 1, INSERT: 1, SELECT: 1, ERROR: 1 }, denials: 1, unused: false });
    expect(by.leaver.evidence).toMatchObject({ sessions: 1, statements: 1, unused: false });
    expect(by.idle.evidence).toMatchObject({ sessions: 0, statements: 0, unused: true, lastUsedAt: null });
    const human = (await gh(['review', 'show', started.id])).stdout;
    expect(human).toMatch(/idle\s+app\s+unused/);

    const early = await gh(['review', 'complete', started.id]);
    expect(early.code).toBe(1);
    expect(early.stderr).toBe('gatehouse: 4 entitlement(s) still need a decision\n');

    // The leaver has a session open while the reviewer revokes.
    const open = new pg.Client({ connectionString: `postgres://leaver:${encodeURIComponent(secrets.leaver)}@127.0.0.1:${serve.pgPort}/app` });
    const errors: any[] = [];
    open.on('error', (e) => errors.push(e));
    await open.connect();
    await gh(['review', 'decide', started.id, '--agent', 'leaver', '--connection', 'app', '--revoke', '--comment', 'no longer needed']);
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]?.code).toBe('57P01');
    const refused = await runTool('psql', [dsn('leaver'), '-X', '-c', 'select 1']);
    expect(refused.stderr).toContain('no active grant');

    await gh(['review', 'decide', started.id, '--agent', 'keeper', '--connection', 'app', '--keep']);
    await gh(['review', 'decide', started.id, '--agent', 'temp', '--connection', 'app', '--expires', '30d']);
    await gh(['review', 'decide', started.id, '--agent', 'idle', '--connection', 'app', '--revoke', '--comment', 'unused']);
    const grants = JSON.parse((await gh(['grant', 'list', '--all', '--json'])).stdout);
    const status = Object.fromEntries(grants.map((g: any) => [g.agentName, g]));
    expect(status.keeper.status).toBe('active');
    expect(status.leaver.status).toBe('revoked');
    expect(status.idle.status).toBe('revoked');
    expect(Date.parse(status.temp.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect((await runTool('psql', [dsn('keeper'), '-X', '-At', '-c', 'select 1'])).stdout.trim()).toBe('1');

    const done = JSON.parse((await gh(['review', 'complete', started.id, '--json'])).stdout);
    expect(done.progress).toEqual({ decided: 4, total: 4 });
    const key = createPublicKey({ key: Buffer.from(done.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(done.digest), key, Buffer.from(done.signature, 'base64'))).toBe(true);
    expect(verify(null, Buffer.from(done.digest.replace(/.$/, (c: string) => (c === '0' ? '1' : '0'))), key, Buffer.from(done.signature, 'base64'))).toBe(false);

    const late = await gh(['review', 'decide', started.id, '--agent', 'keeper', '--connection', 'app', '--revoke']);
    expect(late.stderr).toContain('this review is complete');

    const kinds = (await gh(['audit', 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds.filter((k: string) => k === 'review.decided')).toHaveLength(4);
    expect(kinds).toContain('review.started');
    expect(kinds).toContain('review.completed');
    expect((await gh(['audit', 'verify'])).code).toBe(0);
    await open.end().catch(() => {});
  });

  it('rejects a bad period and unknown scope names with one line', async () => {
    const bad = await gh(['review', 'start', '--name', 'x', '--period', 'last-quarter']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('use START..END');
    const unknown = await gh(['review', 'start', '--name', 'x', '--period', '2026-01-01..2026-02-01', '--agent', 'ghost']);
    expect(unknown.stderr).toBe('gatehouse: agent "ghost" does not exist\n');
  });
});
