import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, gatehouse, startServe, type ServeProcess } from '../helpers/cli';
import { runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * An agent's life after creation, through the CLI against `gatehouse serve` and a real PostgreSQL with
 * psql: secret rotation (the new secret works, the old one no longer does, open sessions end), disable
 * (refused at login, open sessions end) and enable, tags.
 */
let db: TestPostgres;
let serve: ServeProcess;
let dataDir: string;
/** The agent's secret after the rotation test (the disable test logs in with it). */
let botSecret = '';

const cli = async (args: string[], input?: string) => {
  const r = await gatehouse([...args, '--data-dir', dataDir], { input });
  if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const psql = (secret: string) => runTool('psql', [`host=127.0.0.1 port=${serve.pgPort} dbname=shop user=bot password=${secret} sslmode=disable`, '-X', '-tAc', 'select 40 + 2']);
const auditKinds = async () =>
  (await cli(['audit', 'export']))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; agentName: string | null })
    .filter((e) => e.agentName === 'bot')
    .map((e) => e.kind);

beforeAll(async () => {
  buildCli();
  db = await startPostgres();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-agent-life-'));
  serve = await startServe(dataDir);
  await cli(['connection', 'add', 'shop', '--host', db.host, '--port', String(db.port), '--database', 'app', '--user', db.users.scram.user, '--password-stdin'], db.users.scram.password);
});

afterAll(async () => {
  await serve?.stop();
  await db?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('agent rotate, disable, enable, tags', () => {
  it('rotating the secret: the new one works, the old one is refused, the open session ends', async () => {
    const old = JSON.parse(await cli(['agent', 'add', 'bot', '--json'])).secret as string;
    await cli(['grant', 'add', '--agent', 'bot', '--connection', 'shop']);
    expect((await psql(old)).stdout.trim()).toBe('42');
    const open = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'bot', password: old });
    open.on('error', () => {});
    await open.connect();

    const rotated = JSON.parse(await cli(['agent', 'rotate', 'bot', '--json']));
    expect(rotated.secret).toMatch(/\S{20,}/);
    expect(rotated.secret).not.toBe(old);
    expect(rotated.sessionsClosed).toBe(1);
    await expect(open.query('select 1')).rejects.toThrow();
    const refused = await psql(old);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('FATAL');
    expect((await psql(rotated.secret)).stdout.trim()).toBe('42');
    // The text form prints the secret once, with a warning.
    const text = await cli(['agent', 'rotate', 'bot']);
    expect(text).toContain('new secret (shown once');
    const latest = /^ {2}(\S+)$/m.exec(text)![1];
    expect((await psql(latest)).stdout.trim()).toBe('42');
    expect((await psql(rotated.secret)).code).not.toBe(0);
    botSecret = latest;
    expect(await auditKinds()).toContain('agent.secret_rotated');
  });

  it('a disabled agent is refused at login and its open session ends; enabled again, it logs in', async () => {
    const secret = botSecret;
    const open = new pg.Client({ host: '127.0.0.1', port: serve.pgPort, database: 'shop', user: 'bot', password: secret });
    open.on('error', () => {});
    await open.connect();
    expect(await cli(['agent', 'disable', 'bot'])).toBe('agent "bot" disabled\n');
    await expect(open.query('select 1')).rejects.toThrow();
    expect((await psql(secret)).code).not.toBe(0);
    const listed = JSON.parse(await cli(['agent', 'list', '--json'])) as { name: string; disabled: boolean }[];
    expect(listed.find((a) => a.name === 'bot')?.disabled).toBe(true);
    expect(await cli(['agent', 'enable', 'bot'])).toBe('agent "bot" enabled\n');
    expect((await psql(secret)).stdout.trim()).toBe('42');
    const kinds = await auditKinds();
    expect(kinds).toContain('agent.disabled');
    expect(kinds).toContain('agent.enabled');
  });

  it('tags are replaced, and an unknown agent is an error', async () => {
    expect(await cli(['agent', 'tags', 'bot', 'reporting', 'eu'])).toBe('agent "bot" tags: reporting, eu\n');
    expect((JSON.parse(await cli(['agent', 'list', '--json'])) as { name: string; tags: string[] }[]).find((a) => a.name === 'bot')?.tags).toEqual(['reporting', 'eu']);
    expect(await cli(['agent', 'tags', 'bot'])).toBe('agent "bot" tags: (none)\n');
    const r = await gatehouse(['agent', 'rotate', 'nobody', '--data-dir', dataDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('agent "nobody" does not exist');
  });
});
