import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalBroker } from '../../src/gateway/approvals/approval-broker';
import { silentLogger } from '../../src/gateway/core/logger';
import { compilePolicy } from '../../src/gateway/policy/policy-engine';
import { parsePolicy } from '../../src/gateway/policy/policy-file';
import { loadSqlParser } from '../../src/gateway/policy/sql-parser';
import { createSqlPolicy } from '../../src/gateway/postgres/sql-policy';
import { GatewayHarness, runTool } from '../helpers/pg-gateway-harness';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * Masking against a real PostgreSQL: column rules resolved through the upstream catalog, value detectors
 * as the backstop, every path a value can take out (aliases, expressions, casts, concatenation, subqueries,
 * JSON/row functions, cursors, RETURNING, COPY, binary format, NOTICE/ERROR), and recordings that hold
 * only masked values.
 */

const POLICY = `
version: 1
masking:
  - name: customer-email
    columns: [public.customers.email]
    strategy: hash
  - name: card-last4
    columns: [customers.card]
    strategy: { partial: 4 }
  - name: ssn-null
    columns: ["*.ssn"]
    strategy: null
  - name: detectors
    detectors: [email, payment_card, iban, us_ssn, aws_access_key]
    strategy: redact
`;

const EMAILS = ['ada@example.com', 'grace@example.org'];
const CARD = '4111111111111111';
const SSN = '219-09-9999';

let db: TestPostgres;
let h: GatewayHarness;
let url: string;
let dsn: string;
let client: pg.Client;

const q = async (text: string, values?: unknown[]) => (await client.query(text, values)).rows;
const rawValues = [...EMAILS, CARD, SSN, 'GB82WEST12345698765432', 'AKIAIOSFODNN7EXAMPLE'];

beforeAll(async () => {
  await loadSqlParser();
  db = await startPostgres({ auth: 'scram-sha-256' });
  const owner = db.users.scram.user;
  await db.query(
    `CREATE TABLE public.customers (id int primary key, name text, email text unique, card text, ssn text, notes text);
     INSERT INTO public.customers VALUES
       (1, 'Ada', '${EMAILS[0]}', '${CARD}', '${SSN}', 'iban GB82WEST12345698765432, key AKIAIOSFODNN7EXAMPLE'),
       (2, 'Grace', '${EMAILS[1]}', '5500005555555559', '078-05-1120', 'nothing to see');
     CREATE TABLE public.orders (id int, customer_id int);
     INSERT INTO public.orders VALUES (1, 1), (2, 1), (3, 2);
     ALTER TABLE public.customers OWNER TO ${owner}; ALTER TABLE public.orders OWNER TO ${owner};`,
    'app',
  );
  h = new GatewayHarness();
  const parsed = parsePolicy(POLICY);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const compiled = compilePolicy(parsed.policy);
  const broker = new ApprovalBroker(h.store, h.audit, h.events, silentLogger);
  await h.start({ policy: { engine: createSqlPolicy(() => compiled), approvals: broker, maskingKey: Buffer.alloc(32, 9) } });
  const conn = h.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: owner, password: db.users.scram.password });
  const a = h.addAgent('bot');
  h.grant(a.id, conn.id);
  url = `postgresql://bot:${encodeURIComponent(a.secret)}@127.0.0.1:${h.port}/app`;
  dsn = h.dsn('app', 'bot', a.secret);
  client = new pg.Client({ connectionString: url });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await h?.stop();
  await db?.stop();
});

const noRaw = (v: unknown) => {
  const text = JSON.stringify(v);
  for (const raw of rawValues) expect(text).not.toContain(raw);
};

describe('column rules (resolved through the upstream catalog)', () => {
  it('mask by table.column whatever the alias; strategies hash, partial and null', async () => {
    const rows = await q('SELECT id, email, email AS contact, card, ssn, name FROM customers ORDER BY id');
    expect(rows[0].email).toMatch(/^tok_[0-9a-f]{16}$/);
    expect(rows[0].contact).toBe(rows[0].email);
    expect(rows[0].card).toBe('************1111');
    expect(rows[0].ssn).toBeNull();
    expect(rows[0].name).toBe('Ada');
    noRaw(rows);
  });

  it('the hash is deterministic, so joins and GROUP BY on masked output still line up', async () => {
    const direct = await q('SELECT email FROM customers WHERE id = 1');
    const grouped = await q('SELECT c.email, count(*)::int AS n FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.email ORDER BY n DESC');
    expect(grouped[0]).toEqual({ email: direct[0].email, n: 2 });
  });

  it('works for prepared statements bound again without a new Describe, and in binary format', async () => {
    const named = { name: 'by-id', text: 'SELECT email, card FROM customers WHERE id = $1' };
    const a = (await client.query({ ...named, values: [1] })).rows;
    const b = (await client.query({ ...named, values: [2] })).rows;
    expect(a[0].card).toBe('************1111');
    expect(b[0].card).toBe('************5559');
    // With parameters, so node-postgres uses the extended protocol (only there does `binary` apply).
    const binary = await client.query({ text: 'SELECT email, notes FROM customers WHERE id = $1', values: [1], binary: true, rowMode: 'array' } as pg.QueryArrayConfig);
    expect(binary.fields.map((f) => f.format)).toEqual(['binary', 'binary']);
    const bin = binary.rows as unknown[][];
    expect(String(bin[0][0])).toMatch(/^tok_/);
    noRaw(bin.map((r) => r.map(String)));
  });
});

describe('value detectors are the backstop where a column rule cannot see', () => {
  const paths: [string, string][] = [
    ['an expression', 'SELECT lower(email) AS e FROM customers'],
    ['a cast', 'SELECT email::varchar(100) AS e FROM customers'],
    ['concatenation', "SELECT 'mail: ' || email || ' card ' || card AS e FROM customers"],
    ['a subquery', 'SELECT (SELECT email FROM customers c2 WHERE c2.id = c.id) AS e FROM customers c'],
    ['JSON and row functions', 'SELECT row_to_json(c) AS j, json_agg(c.ssn) OVER () AS a, ROW(c.email, c.card)::text AS r FROM customers c'],
    ['free text', 'SELECT notes FROM customers'],
  ];
  it.each(paths)('%s', async (_what, sql) => {
    const rows = await q(sql);
    expect(rows.length).toBeGreaterThan(0);
    noRaw(rows);
  });

  it('cursors (DECLARE/FETCH)', async () => {
    await q('BEGIN');
    await q('DECLARE cur CURSOR FOR SELECT email, card, notes FROM customers');
    const rows = await q('FETCH ALL FROM cur');
    await q('COMMIT');
    expect(rows).toHaveLength(2);
    noRaw(rows);
  });

  it('RETURNING clauses', async () => {
    const rows = await q("UPDATE customers SET name = name || '' WHERE id = 1 RETURNING email, card, ssn, notes");
    expect(rows[0].card).toBe('************1111');
    noRaw(rows);
  });

  it('COPY ... TO STDOUT (text and CSV)', async () => {
    const text = await runTool('psql', [dsn, '-X', '-c', 'COPY customers TO STDOUT']);
    const csv = await runTool('psql', [dsn, '-X', '-c', 'COPY (SELECT * FROM customers) TO STDOUT WITH (FORMAT csv, HEADER)']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(csv.stdout).toContain('id,name,email');
    noRaw(text.stdout + csv.stdout);
  });

  it('COPY with its own CSV options and a column list keeps the format while masking', async () => {
    const r = await runTool('psql', [dsn, '-X', '-c', "COPY customers (id, notes, email) TO STDOUT WITH (FORMAT csv, DELIMITER ';', QUOTE '''')"]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.split(';')).toHaveLength(3);
    expect(lines.map((l) => l.split(';')[0]).sort()).toEqual(['1', '2']);
    noRaw(r.stdout);
  });

  it('values echoed in ERROR details and NOTICEs', async () => {
    await expect(q(`INSERT INTO customers (id, email) SELECT 9, email FROM customers WHERE id = 1`)).rejects.toSatisfy((err: { detail?: string; message: string }) => {
      expect(err.detail).toMatch(/already exists/);
      noRaw([err.detail, err.message]);
      return true;
    });
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(`${n.message} ${n.detail ?? ''}`));
    await q(`DO $$ BEGIN RAISE NOTICE 'customer %', (SELECT email FROM customers WHERE id = 2); END $$`);
    await new Promise((r) => setTimeout(r, 50));
    expect(notices.length).toBe(1);
    noRaw(notices);
  });

  it('binary COPY cannot be masked: the session ends instead of leaking', async () => {
    const r = await runTool('psql', [dsn, '-X', '-c', 'COPY customers TO STDOUT WITH (FORMAT binary)']);
    expect(r.stderr).toMatch(/binary COPY output cannot be masked/);
    noRaw(r.stdout);
  });
});

describe('recordings', () => {
  it('hold only masked values: counts and a bounded preview per statement, and no raw value anywhere in the store', async () => {
    await q('SELECT email, card FROM customers WHERE id = 1');
    await new Promise((r) => setTimeout(r, 150));
    h.recorder.flush();
    const rec = h.store.db
      .prepare("SELECT masked_values AS n, result_preview AS p, masked_by AS by FROM statements WHERE sql = 'SELECT email, card FROM customers WHERE id = 1' ORDER BY id DESC")
      .get() as { n: number; p: string; by: string };
    expect(rec.n).toBe(2);
    // The count split by rule (column rules here), kept for reviews and evidence.
    expect(JSON.parse(rec.by)).toEqual({ 'customer-email:column': 1, 'card-last4:column': 1 });
    // A computed value is caught by the detectors, counted by detector.
    await q("SELECT 'write to ' || email || ' or pay with ' || card AS note FROM customers WHERE id = 1");
    await new Promise((r) => setTimeout(r, 150));
    h.recorder.flush();
    const computed = h.store.db.prepare("SELECT masked_by AS by FROM statements WHERE sql LIKE 'SELECT ''write to%' ORDER BY id DESC").get() as { by: string };
    expect(JSON.parse(computed.by)).toEqual({ 'detectors:email': 1, 'detectors:payment_card': 1 });
    const preview = JSON.parse(rec.p);
    expect(preview.columns).toEqual(['email', 'card']);
    expect(preview.rows[0][1]).toBe('************1111');
    // Nothing in the store or the journal holds a raw value (the test's SQL never spells one out).
    const dump = h.store.db.prepare('SELECT group_concat(coalesce(result_preview, \'\'), \' \') AS d FROM statements').get() as { d: string };
    noRaw(dump.d);
    for (const f of ['gatehouse.db', 'gatehouse.db-wal', 'recording.journal']) {
      if (existsSync(path.join(h.dataDir, f))) noRaw(readFileSync(path.join(h.dataDir, f)).toString('latin1'));
    }
  });
});
