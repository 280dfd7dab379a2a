import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalBroker } from '../../src/gateway/approvals/approval-broker';
import { silentLogger } from '../../src/gateway/core/logger';
import { compilePolicy, type CompiledPolicy } from '../../src/gateway/policy/policy-engine';
import { parsePolicy } from '../../src/gateway/policy/policy-file';
import { loadSqlParser } from '../../src/gateway/policy/sql-parser';
import { createSqlPolicy } from '../../src/gateway/postgres/sql-policy';
import { GatewayHarness, runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * Issue 3 against a real PostgreSQL: guardrails that block, approvals that hold, driven by psql and
 * node-postgres through the gateway with the real policy engine (libpg-query) and policy file parser.
 */

const POLICY = `
version: 1
presets:
  - destructive
rules:
  - name: payments-read-only
    match: { tables: [public.payments], access: write }
    action: block
    message: payments are read-only for agents
  - name: audit-table-needs-approval
    match: { tables: [audit_log], access: write }
    action: approve
    timeout: 3s
  - name: no-secrets-schema
    scope: { agents: [bot] }
    match: { tables: ["secrets.*"] }
    action: block
`;

let db: TestPostgres;
let h: GatewayHarness;
let broker: ApprovalBroker;
let policy: CompiledPolicy;
let dsn: string;
let url: string;
let pgOnly: string;

function compile(yaml: string): CompiledPolicy {
  const parsed = parsePolicy(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return compilePolicy(parsed.policy);
}

const psql = (sql: string) => runTool('psql', [dsn, '-X', '-At', '-c', sql]);
/** A psql script on stdin (statements sent one by one, as typed). */
const psqlScript = (script: string) => runTool('psql', [dsn, '-X', '-At'], script);
const superQuery = async (sql: string) => (await db.query(sql, 'app')).trim();
const statements = () =>
  h.store.db.prepare('SELECT sql, error_code AS code, policy_action AS action, policy_rule AS rule, approval_id AS approval FROM statements ORDER BY id').all() as {
    sql: string;
    code: string | null;
    action: string | null;
    rule: string | null;
    approval: string | null;
  }[];
const lastStatement = (sql: string) => statements().filter((s) => s.sql === sql).pop();
async function settle() {
  await new Promise((r) => setTimeout(r, 150));
  h.recorder.flush();
}

beforeAll(async () => {
  await loadSqlParser();
  db = await startPostgres({ auth: 'scram-sha-256' });
  const owner = db.users.scram.user;
  await superQuery(`
    CREATE TABLE public.payments (id int primary key, amount int);
    CREATE TABLE public.orders (id int primary key, note text);
    CREATE TABLE public.audit_log (id serial primary key, msg text);
    CREATE TABLE public."Drop" ("drop" text);
    CREATE SCHEMA secrets; CREATE TABLE secrets.keys (k text);
    INSERT INTO public.payments VALUES (1, 10), (2, 20);
    INSERT INTO public.orders VALUES (1, 'a'), (2, 'b');
    ALTER TABLE public.payments OWNER TO ${owner}; ALTER TABLE public.orders OWNER TO ${owner};
    ALTER TABLE public.audit_log OWNER TO ${owner}; ALTER TABLE public."Drop" OWNER TO ${owner};
    ALTER SCHEMA secrets OWNER TO ${owner}; ALTER TABLE secrets.keys OWNER TO ${owner};`);
  h = new GatewayHarness();
  broker = new ApprovalBroker(h.store, h.audit, h.events, silentLogger);
  policy = compile(POLICY);
  await h.start({ policy: { engine: createSqlPolicy(() => policy), approvals: broker, maskingKey: Buffer.alloc(32, 7) } });
  const conn = h.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: owner, password: db.users.scram.password });
  const a = h.addAgent('bot');
  h.grant(a.id, conn.id);
  dsn = h.dsn('app', 'bot', a.secret);
  url = `postgresql://bot:${encodeURIComponent(a.secret)}@127.0.0.1:${h.port}/app`;
  const other = h.addAgent('other');
  h.grant(other.id, conn.id);
  pgOnly = `postgresql://other:${encodeURIComponent(other.secret)}@127.0.0.1:${h.port}/app`;
}, 120_000);

afterAll(async () => {
  broker?.close();
  await h?.stop();
  await db?.stop();
});

describe('guardrails block what the parser sees', () => {
  const blockedByPreset: [string, string][] = [
    ['DROP TABLE public.orders', 'drop'],
    ['TRUNCATE orders', 'truncate'],
    ['DELETE FROM orders', 'delete without where'],
    ['UPDATE orders SET note = null', 'update without where'],
    ['ALTER TABLE orders DROP COLUMN note', 'alter drop'],
    ['GRANT SELECT ON orders TO PUBLIC', 'grant'],
    ['REVOKE SELECT ON orders FROM PUBLIC', 'revoke'],
    ['CREATE ROLE intruder', 'create role'],
    ['ALTER ROLE CURRENT_USER WITH PASSWORD NULL', 'alter role'],
    ["COPY orders TO PROGRAM 'cat > /tmp/x'", 'copy program'],
    ["COPY orders FROM '/etc/passwd'", 'copy from a server file'],
  ];
  it.each(blockedByPreset)('%s (%s) gets 42501 naming the rule, reaches nothing, and is recorded', async (sql) => {
    const r = await psql(sql);
    expect(r.stderr).toMatch(/ERROR: {2}blocked by policy preset "destructive"/);
    expect(r.stderr).not.toContain('PL/pgSQL');
    await settle();
    const rec = lastStatement(sql)!;
    expect(rec).toMatchObject({ code: '42501', action: 'block' });
    expect(rec.rule).toMatch(/^destructive/);
    // Nothing reached the database.
    expect(await superQuery('SELECT count(*) FROM public.orders')).toBe('2');
    expect(await superQuery("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'")).toBe('0');
  });

  it('blocks writes to a table named in a rule and allows reading it', async () => {
    const w = await psql('UPDATE payments SET amount = 0 WHERE id = 1');
    expect(w.stderr).toContain('blocked by policy rule "payments-read-only"');
    expect(w.stderr).toContain('payments are read-only for agents');
    const r = await psql('SELECT sum(amount) FROM payments');
    expect(r.stdout.trim()).toBe('30');
    expect(r.stderr).toBe('');
  });

  const hidden: [string, string][] = [
    ['comments', '/* harmless */ UPDATE -- really\n payments SET amount = 0 WHERE id = 1'],
    ['odd casing and quoting', 'UpDaTe "public"."payments" SET amount = 0 WHERE id = 1'],
    ['a multi-statement string', 'SELECT 1; UPDATE payments SET amount = 0 WHERE id = 1; SELECT 2'],
    ['a data-modifying CTE', 'WITH d AS (DELETE FROM payments WHERE id = 1 RETURNING *) SELECT count(*) FROM d'],
    ['INSERT ... SELECT', 'INSERT INTO payments SELECT id + 10, amount FROM payments'],
    ['EXPLAIN ANALYZE', 'EXPLAIN ANALYZE DELETE FROM payments WHERE id = 1'],
    ['a schema the agent may not touch', 'SELECT * FROM secrets.keys'],
  ];
  it.each(hidden)('hiding in %s does not help', async (_what, sql) => {
    const r = await psql(sql);
    expect(r.stderr).toMatch(/blocked by policy rule "(payments-read-only|no-secrets-schema)"/);
    expect(await superQuery('SELECT sum(amount) FROM public.payments')).toBe('30');
  });

  it('PREPARE of a blocked statement is blocked, and EXECUTE runs only what was allowed', async () => {
    const r = await psqlScript('PREPARE p AS DELETE FROM payments WHERE id = $1;\nEXECUTE p(1);\nPREPARE q AS SELECT amount FROM payments WHERE id = $1;\nEXECUTE q(2);\n');
    expect(r.stderr).toContain('blocked by policy rule "payments-read-only"');
    expect(r.stdout).toContain('20');
    expect(await superQuery('SELECT count(*) FROM public.payments')).toBe('2');
  });

  it('inside an explicit transaction: the usual aborted-transaction behaviour, then the session goes on', async () => {
    const r = await psqlScript('BEGIN;\nINSERT INTO orders VALUES (3, \'c\');\nDROP TABLE orders;\nSELECT 1;\nCOMMIT;\nSELECT count(*) FROM orders;\n');
    expect(r.stderr).toContain('blocked by policy preset "destructive"');
    expect(r.stderr).toContain('current transaction is aborted');
    // COMMIT of an aborted transaction rolls back: the INSERT before the block is gone.
    expect(r.stdout.trim().split('\n').pop()).toBe('2');
  });

  it('the extended protocol (node-postgres with parameters) is decided at Parse; the connection stays usable', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await expect(c.query('DELETE FROM payments WHERE id = $1', [1])).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('payments-read-only') });
      await expect(c.query('DELETE FROM orders')).rejects.toMatchObject({ code: '42501' });
      expect((await c.query('SELECT amount FROM payments WHERE id = $1', [2])).rows).toEqual([{ amount: 20 }]);
      await c.query('BEGIN');
      await expect(c.query('TRUNCATE orders')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('no false positives on look-alikes: string literals, a column named "drop", comments mentioning DELETE', async () => {
    const harmless = [
      "SELECT 'DROP TABLE orders; DELETE FROM payments' AS text",
      'SELECT "drop" FROM "Drop"',
      '-- DELETE FROM payments\nSELECT 1',
      "INSERT INTO \"Drop\" (\"drop\") VALUES ('truncate table payments')",
      'SELECT note AS "delete" FROM orders WHERE id = 1',
    ];
    for (const sql of harmless) {
      const r = await psql(sql);
      expect(r.stderr, sql).toBe('');
    }
  });

  it('policy applies per agent: the schema rule scoped to bot does not block another agent', async () => {
    const c = new pg.Client({ connectionString: pgOnly });
    await c.connect();
    try {
      expect((await c.query('SELECT count(*)::int AS n FROM secrets.keys')).rows).toEqual([{ n: 0 }]);
      await expect(c.query('DROP TABLE orders')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });

  it('text the parser rejects is blocked while rules apply (fail closed), with a clear message', async () => {
    const r = await psql('SELEC * FROM payments');
    expect(r.stderr).toMatch(/blocked/i);
    expect(r.stderr).toMatch(/pars/i);
  });

  it('every block is an audit event naming the rule and the statement', async () => {
    const events = h.store.db.prepare("SELECT detail FROM audit_events WHERE kind = 'statement.blocked' ORDER BY id").all() as { detail: string }[];
    const details = events.map((e) => JSON.parse(e.detail));
    expect(details).toContainEqual(expect.objectContaining({ rule: 'payments-read-only', statement: 'UPDATE payments SET amount = 0 WHERE id = 1' }));
    expect(details.some((d) => String(d.rule).startsWith('destructive') && d.statement === 'DROP TABLE public.orders')).toBe(true);
  });
});

describe('approvals hold statements for a human', () => {
  const pending = async () => {
    for (let i = 0; i < 100; i++) {
      const list = broker.listPending();
      if (list.length) return list;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no approval request appeared');
  };

  it('holds a statement (nothing sent upstream), publishes the request, and runs it once approved', async () => {
    const seen: string[] = [];
    const sub = h.events.on('approval.requested', (a) => seen.push(a.statement));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const q = c.query("INSERT INTO audit_log (msg) VALUES ('one') RETURNING id");
      const [req] = await pending();
      expect(req).toMatchObject({ agentName: 'bot', connectionName: 'app', rule: 'audit-table-needs-approval' });
      expect(seen).toEqual(["INSERT INTO audit_log (msg) VALUES ('one') RETURNING id"]);
      expect(await superQuery('SELECT count(*) FROM public.audit_log')).toBe('0');
      broker.decide(req.id, { decision: 'approve', by: 'admin', reason: 'looks fine' });
      expect((await q).rowCount).toBe(1);
      await settle();
      const rec = lastStatement("INSERT INTO audit_log (msg) VALUES ('one') RETURNING id")!;
      expect(rec).toMatchObject({ action: 'approve', rule: 'audit-table-needs-approval', approval: req.id, code: null });
      expect(h.store.approvals.get(req.id)).toMatchObject({ status: 'approved', decidedBy: 'admin', reason: 'looks fine', scope: 'statement' });
    } finally {
      sub.dispose();
      await c.end();
    }
  });

  it('statements whose effect cannot be known statically (DO, functions off the allow list) wait for approval, not allow', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const q1 = c.query('DO $$ BEGIN PERFORM 1; END $$');
      const [doReq] = await pending();
      expect(doReq.rule).toMatch(/^destructive/);
      broker.decide(doReq.id, { decision: 'deny', by: 'admin' });
      await expect(q1).rejects.toMatchObject({ code: '42501' });
      const q2 = c.query("SELECT pg_terminate_backend(pg_backend_pid() + 100000)");
      const [fnReq] = await pending();
      expect(fnReq.statement).toContain('pg_terminate_backend');
      broker.decide(fnReq.id, { decision: 'approve', by: 'admin' });
      expect((await q2).rows).toHaveLength(1);
      // Harmless built-ins need nobody.
      expect((await c.query("SELECT lower('A') AS l, now() IS NOT NULL AS n, coalesce(null, 1) AS c")).rows).toEqual([{ l: 'a', n: true, c: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('a session-wide approval lets later statements of the same rule through without asking again', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const q = c.query("INSERT INTO audit_log (msg) VALUES ('two')");
      const [req] = await pending();
      broker.decide(req.id, { decision: 'approve', by: 'admin', sessionMinutes: 5 });
      await q;
      await c.query("INSERT INTO audit_log (msg) VALUES ('three')");
      expect(broker.listPending()).toEqual([]);
      await settle();
      expect(lastStatement("INSERT INTO audit_log (msg) VALUES ('three')")).toMatchObject({ action: 'approve', approval: req.id });
    } finally {
      await c.end();
    }
  });

  it('a denial answers 42501 with who denied it and why; the session stays usable', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const q = c.query("INSERT INTO audit_log (msg) VALUES ('denied')");
      const [req] = await pending();
      broker.decide(req.id, { decision: 'deny', by: 'admin', reason: 'not today' });
      await expect(q).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('denied by admin: not today') });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await superQuery("SELECT count(*) FROM public.audit_log WHERE msg = 'denied'")).toBe('0');
    } finally {
      await c.end();
    }
  });

  it('times out with 57014 after the rule’s timeout; psql messages queued behind it run afterwards', async () => {
    const r = await psqlScript("INSERT INTO audit_log (msg) VALUES ('late');\nSELECT 'after';\n");
    expect(r.stderr).toMatch(/approval for policy rule "audit-table-needs-approval" timed out/);
    expect(r.stdout.trim()).toBe('after');
    await settle();
    expect(lastStatement("INSERT INTO audit_log (msg) VALUES ('late');")).toMatchObject({ code: '57014', action: 'approve' });
  });

  it('a client that disconnects withdraws its request', async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    await c.connect();
    c.query("INSERT INTO audit_log (msg) VALUES ('gone')").catch(() => {});
    const [req] = await pending();
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    for (let i = 0; i < 50 && h.store.approvals.get(req.id)!.status === 'pending'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(h.store.approvals.get(req.id)!.status).toBe('withdrawn');
    expect(() => broker.decide(req.id, { decision: 'approve', by: 'admin' })).toThrow(/already withdrawn/);
  });

  it('requests pending when the gateway stops are denied; a new run closes any left over, never approves them', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const q = c.query("INSERT INTO audit_log (msg) VALUES ('stop')");
    const [req] = await pending();
    // A crash leaves a pending row behind: simulate it by writing one, then start a broker as a new run would.
    h.store.approvals.insert({ ...req, id: 'left-by-a-crash' });
    broker.close();
    await expect(q).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('gateway stopped') });
    await c.end();
    expect(h.store.approvals.get(req.id)!.status).toBe('gateway_stopped');
    const next = new ApprovalBroker(h.store, h.audit, h.events, silentLogger);
    expect(next.recoverOrphans()).toBe(1);
    expect(h.store.approvals.get('left-by-a-crash')!.status).toBe('gateway_stopped');
    expect(await superQuery("SELECT count(*) FROM public.audit_log WHERE msg = 'stop'")).toBe('0');
  });
});
