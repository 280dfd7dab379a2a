import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * The whole loop from the outside: `gatehouse serve`, a policy applied with the CLI, psql held by it,
 * and `gatehouse approvals list|approve|deny` answering from another process; a restart denies what was
 * pending.
 */

const POLICY = `version: 1
presets: [destructive]
rules:
  - name: prod-writes
    match: { kinds: [insert, update, delete] }
    action: approve
    timeout: 2m
`;

let db: TestPostgres;
let dir: string;
let serve: ServeProcess;
let dsn: string;

const g = (args: string[]) => gatehouse([...args, '--data-dir', dir]);

async function waitPending(): Promise<{ id: string; statement: string; rule: string }[]> {
  for (let i = 0; i < 100; i++) {
    const r = await g(['approvals', 'list', '--json']);
    const list = JSON.parse(r.stdout);
    if (list.length) return list;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('no pending approval');
}

beforeAll(async () => {
  buildCli();
  db = await startPostgres();
  await db.query(`CREATE TABLE public.t (v int); ALTER TABLE public.t OWNER TO ${db.users.scram.user}`, 'app');
  dir = mkdtempSync(path.join(os.tmpdir(), 'gh-approvals-'));
  serve = await startServe(dir);
  await gatehouse(['connection', 'add', 'app', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin', '--data-dir', dir], {
    input: db.users.scram.password,
  });
  const secret = JSON.parse((await g(['agent', 'add', 'bot', '--json'])).stdout).secret;
  await g(['grant', 'add', '--agent', 'bot', '--connection', 'app']);
  const file = path.join(dir, 'policy.yaml');
  writeFileSync(file, POLICY);
  const applied = await g(['policy', 'apply', file]);
  expect(applied.code, applied.stderr).toBe(0);
  dsn = `host=127.0.0.1 port=${serve.pgPort} dbname=app user=bot password=${secret}`;
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('approvals from the CLI', () => {
  it('psql waits on a held INSERT until `approvals approve` lets it run', async () => {
    const psql = runTool('psql', [dsn, '-X', '-At', '-c', 'INSERT INTO t VALUES (1)']);
    const [req] = await waitPending();
    expect(req).toMatchObject({ statement: 'INSERT INTO t VALUES (1)', rule: 'prod-writes' });
    const table = await g(['approvals', 'list']);
    expect(table.stdout).toContain(req.id);
    expect(table.stdout).toContain('prod-writes');
    expect(await db.query('SELECT count(*) FROM public.t', 'app')).toBe('0\n');
    const ok = await g(['approvals', 'approve', req.id, '--reason', 'ticket 42']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`approved ${req.id}`);
    const r = await psql;
    expect(r.stdout.trim()).toBe('INSERT 0 1');
    expect(await db.query('SELECT count(*) FROM public.t', 'app')).toBe('1\n');
    // Deciding twice is an error with one line.
    const again = await g(['approvals', 'deny', req.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^gatehouse: .*already approved\n$/);
  });

  it('`approvals deny --reason` answers psql with 42501 and the reason', async () => {
    const psql = runTool('psql', [dsn, '-X', '-At', '-c', 'DELETE FROM t WHERE v = 1']);
    const [req] = await waitPending();
    await g(['approvals', 'deny', req.id, '--reason', 'not during the freeze']);
    const r = await psql;
    expect(r.stderr).toContain('denied by cli: not during the freeze');
    const all = JSON.parse((await g(['approvals', 'list', '--all', '--json'])).stdout);
    expect(all.map((a: { status: string }) => a.status).sort()).toEqual(['approved', 'denied']);
    const audit = (await g(['audit', 'export'])).stdout;
    expect(audit).toContain('"kind":"approval.requested"');
    expect(audit).toContain('"kind":"approval.denied"');
  });

  it('a restart denies what was pending; nothing held comes back approved', async () => {
    const psql = runTool('psql', [dsn, '-X', '-At', '-c', 'INSERT INTO t VALUES (2)']);
    const [req] = await waitPending();
    await serve.stop();
    const r = await psql;
    expect(r.stderr).toMatch(/gateway stopped|shutting down/);
    serve = await startServe(dir);
    const list = JSON.parse((await g(['approvals', 'list', '--all', '--json'])).stdout) as { id: string; status: string }[];
    expect(list.find((a) => a.id === req.id)!.status).toBe('gateway_stopped');
    const late = await g(['approvals', 'approve', req.id]);
    expect(late.code).toBe(1);
    expect(await db.query('SELECT count(*) FROM public.t WHERE v = 2', 'app')).toBe('0\n');
  });

  it('policy check says what would happen without touching the database', async () => {
    const r = await g(['policy', 'check', '--connection', 'app', '--agent', 'bot', 'DROP TABLE t']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/block/);
    expect(r.stdout).toMatch(/destructive/);
  });
});
