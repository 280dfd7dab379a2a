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
 * An attacker's tour of the PostgreSQL policy (issue 3), with real clients (psql, node-postgres, and
 * hand-driven protocol messages) through the gateway against a real PostgreSQL. Every attempt is a test:
 * those the gateway stops stay as regression tests; those that got through were fixed with the test.
 *
 * Agent "bot" is under guardrails (destructive preset, table rules) and masking; agent "reader" is under
 * masking only (so DO/RAISE and the like run without approval).
 */

const POLICY = `
version: 1
presets:
  - name: destructive
    scope: { agents: [bot] }
    timeout: 1s
rules:
  - name: payments-read-only
    scope: { agents: [bot] }
    match: { tables: [public.payments], access: write }
    action: block
  - name: no-secrets-schema
    scope: { agents: [bot] }
    match: { tables: ["secrets.*"] }
    action: block
  - name: payroll-unreadable
    scope: { agents: [bot] }
    match: { tables: [public.payroll], access: read }
    action: block
  - name: audit-writes-need-approval
    scope: { agents: [bot] }
    match: { tables: [audit_log], access: write }
    action: approve
    timeout: 1s
masking:
  - name: customer-email
    columns: [public.customers.email]
    strategy: hash
  - name: customer-name
    columns: [customers.name]
    strategy: redact
  - name: detectors
    detectors: [email, payment_card]
    strategy: redact
`;

const EMAILS = ['ada@example.com', 'grace@example.org'];
const NAMES = ['Ada Lovelace', 'Grace Hopper'];
const RAW = [...EMAILS, ...NAMES, '4111111111111111'];

let db: TestPostgres;
let h: GatewayHarness;
let broker: ApprovalBroker;
let policy: CompiledPolicy;
let owner: string;
let botDsn: string;
let botUrl: string;
let readerDsn: string;
let readerUrl: string;

function compile(yaml: string): CompiledPolicy {
  const parsed = parsePolicy(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return compilePolicy(parsed.policy);
}

const superQuery = async (sql: string) => (await db.query(sql, 'app')).trim();
const bot = (sql: string, env?: NodeJS.ProcessEnv) => runTool('psql', [botDsn, '-X', '-At', '-c', sql], undefined, env);
const botScript = (script: string) => runTool('psql', [botDsn, '-X', '-At'], script);
const reader = (sql: string) => runTool('psql', [readerDsn, '-X', '-At', '-c', sql]);
/** The refusal a psql run must show: blocked (42501) or held and not approved in time (57014). */
const REFUSED = /ERROR: {2}(blocked by policy|canceling statement: approval for policy)/;
const noRaw = (v: unknown) => {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  for (const raw of RAW) expect(text).not.toContain(raw);
};

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

beforeAll(async () => {
  await loadSqlParser();
  db = await startPostgres({ auth: 'scram-sha-256' });
  owner = db.users.scram.user;
  await db.query(`CREATE ROLE boss SUPERUSER NOLOGIN; GRANT boss TO ${owner};`);
  await superQuery(`
    CREATE TABLE public.payments (id int primary key, amount int);
    CREATE TABLE public.orders (id int primary key, note text);
    CREATE TABLE public.payroll (id int primary key, salary int);
    CREATE TABLE public.audit_log (id serial primary key, msg text);
    CREATE SCHEMA secrets; CREATE TABLE secrets.keys (k text);
    CREATE TABLE public.customers (id int primary key, name text, email text unique, card text);
    INSERT INTO public.payments VALUES (1, 10), (2, 20);
    INSERT INTO public.orders VALUES (1, 'a'), (2, 'b');
    INSERT INTO public.payroll VALUES (1, 100000);
    INSERT INTO secrets.keys VALUES ('k1');
    INSERT INTO public.customers VALUES (1, '${NAMES[0]}', '${EMAILS[0]}', '4111111111111111'), (2, '${NAMES[1]}', '${EMAILS[1]}', null);
    ALTER TABLE public.payments OWNER TO ${owner}; ALTER TABLE public.orders OWNER TO ${owner};
    ALTER TABLE public.payroll OWNER TO ${owner}; ALTER TABLE public.audit_log OWNER TO ${owner};
    ALTER TABLE public.customers OWNER TO ${owner};
    ALTER SCHEMA secrets OWNER TO ${owner}; ALTER TABLE secrets.keys OWNER TO ${owner};`);
  h = new GatewayHarness();
  broker = new ApprovalBroker(h.store, h.audit, h.events, silentLogger);
  policy = compile(POLICY);
  await h.start({ policy: { engine: createSqlPolicy(() => policy), approvals: broker, maskingKey: Buffer.alloc(32, 5) } });
  const conn = h.addConnection({ name: 'app', host: db.host, port: db.port, database: 'app', username: owner, password: db.users.scram.password });
  const b = h.addAgent('bot');
  h.grant(b.id, conn.id);
  botDsn = h.dsn('app', 'bot', b.secret);
  botUrl = `postgresql://bot:${encodeURIComponent(b.secret)}@127.0.0.1:${h.port}/app`;
  const r = h.addAgent('reader');
  h.grant(r.id, conn.id);
  readerDsn = h.dsn('app', 'reader', r.secret);
  readerUrl = `postgresql://reader:${encodeURIComponent(r.secret)}@127.0.0.1:${h.port}/app`;
}, 120_000);

afterAll(async () => {
  broker?.close();
  await h?.stop();
  await db?.stop();
});

/** The tables the attacks aim at are as the setup left them. */
async function expectIntact() {
  expect(await superQuery("SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM public.payments")).toBe('1:10,2:20');
  expect(await superQuery('SELECT count(*) FROM public.orders')).toBe('2');
  expect(await superQuery('SELECT count(*) FROM public.payroll')).toBe('1');
  expect(await superQuery("SELECT count(*) FROM pg_class WHERE relname IN ('payroll', 'payments', 'keys')")).toBe('3');
  expect(await superQuery("SELECT count(*) FROM pg_namespace WHERE nspname = 'secrets'")).toBe('1');
}

describe('role changes', () => {
  it.each([
    'SET ROLE boss',
    'SET LOCAL ROLE boss',
    'SET SESSION AUTHORIZATION boss',
    'SET role = boss',
    'RESET ROLE',
    'RESET SESSION AUTHORIZATION',
    "ALTER DATABASE app SET role = 'boss'",
  ])('%s is blocked as a role change', async (sql) => {
    const r = await bot(`${sql}; SELECT current_user`);
    expect(r.stderr).toMatch(/blocked by policy preset "destructive" \(role change/);
    expect(r.stdout).not.toContain('boss');
  });

  it('a role or search_path smuggled into the startup packet (PGOPTIONS) does not get past policy', async () => {
    const role = await bot('SELECT current_user', { PGOPTIONS: '-c role=boss' });
    expect(role.stdout).not.toContain('boss');
    expect(role.stderr).toMatch(/role change/);
    const path = await bot('SELECT k FROM keys', { PGOPTIONS: '-c search_path=secrets' });
    expect(path.stdout).not.toContain('k1');
    expect(path.stderr).toMatch(/no-secrets-schema/);
  });
});

describe('code that runs later under a harmless-looking name', () => {
  it('CREATE FUNCTION shadowing a safe built-in (lower(int)) needs approval; so do operators, aggregates, casts and renames', async () => {
    const shadow = "CREATE FUNCTION public.lower(int) RETURNS int LANGUAGE sql AS 'DELETE FROM orders RETURNING 1'";
    const attempts = [
      shadow,
      "CREATE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $$BEGIN DELETE FROM orders; END$$",
      "CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq)",
      'CREATE AGGREGATE public.sneaky(int) (sfunc = int4pl, stype = int)',
      'ALTER FUNCTION int4pl(int, int) RENAME TO lower',
    ];
    for (const sql of attempts) {
      const r = await bot(sql);
      expect(r.stderr, sql).toMatch(REFUSED);
    }
    expect(await superQuery("SELECT count(*) FROM pg_proc WHERE proname IN ('lower', 'wipe', 'sneaky') AND pronamespace = 'public'::regnamespace")).toBe('0');
    // The call that would have run the shadow finds nothing to run.
    const call = await bot('SELECT lower(1)');
    expect(call.code).not.toBe(0);
    await expectIntact();
  });

  it('CREATE RULE / TRIGGER that write are held (and refused when nobody approves)', async () => {
    for (const sql of [
      'CREATE RULE r AS ON INSERT TO orders DO ALSO DELETE FROM orders',
      'CREATE TRIGGER t BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
    ]) {
      const r = await bot(sql);
      expect(r.stderr, sql).toMatch(REFUSED);
    }
    await expectIntact();
  });
});

describe('table rules can not be dodged', () => {
  it.each([
    ['an updatable view over a read-only table', 'CREATE VIEW pv AS SELECT * FROM payments'],
    ['renaming a read-protected table', 'ALTER TABLE payroll RENAME TO pr'],
    ['moving a read-protected table', 'ALTER TABLE payroll SET SCHEMA secrets'],
    ['renaming a protected schema', 'ALTER SCHEMA secrets RENAME TO open'],
    ['making a read-protected table inherit a readable one', 'CREATE TABLE parent (id int, salary int); ALTER TABLE payroll INHERIT parent'],
    ['UPDATE ... RETURNING of a read-protected table', 'UPDATE payroll SET salary = salary WHERE id > 0 RETURNING *'],
    ['DELETE ... RETURNING inside COPY', 'COPY (DELETE FROM payments WHERE id = 1 RETURNING *) TO STDOUT'],
    ['a write through a CTE in a function call', 'SELECT coalesce((WITH d AS (UPDATE payments SET amount = 0 WHERE id = 1 RETURNING 1) SELECT count(*) FROM d), 0)'],
    ['SELECT INTO from a read-protected table', 'SELECT * INTO stolen FROM payroll'],
    ['CREATE TABLE AS from a read-protected table', 'CREATE TABLE stolen AS SELECT * FROM payroll'],
    ['EXPLAIN (ANALYZE) of a write', 'EXPLAIN (ANALYZE, FORMAT json) UPDATE payments SET amount = 0 WHERE id = 1'],
    ['a tautology for a WHERE (x = x)', 'DELETE FROM orders WHERE id = id'],
    ['a tautology for a WHERE (... OR true)', "UPDATE orders SET note = 'x' WHERE id = 1 OR true"],
    ['a Unicode-escaped identifier', 'SELECT * FROM U&"secr\\0065ts".keys'],
    ['SET search_path then an unqualified name', 'SET search_path = secrets; SELECT * FROM keys'],
  ])('%s', async (_what, sql) => {
    const r = await bot(sql);
    expect(r.stderr).toMatch(REFUSED);
    expect(r.stdout).not.toMatch(/100000|k1/);
    await expectIntact();
    expect(await superQuery("SELECT count(*) FROM pg_class WHERE relname IN ('pv', 'pr', 'stolen', 'parent')")).toBe('0');
  });

  it('SET search_path in one message, the unqualified read in the next', async () => {
    const r = await botScript('SET search_path = secrets;\nSELECT k FROM keys;\n');
    expect(r.stderr).toMatch(/no-secrets-schema/);
    expect(r.stdout).not.toContain('k1');
    const viaConfig = await bot("SELECT set_config('search_path', 'secrets', false)");
    expect(viaConfig.stderr).toMatch(REFUSED);
  });

  it('plain EXPLAIN of a write only plans it and is allowed; harmless quoting tricks are just strings', async () => {
    expect((await bot('EXPLAIN UPDATE payments SET amount = 0 WHERE id = 1')).stderr).toBe('');
    for (const sql of ["SELECT $x$DROP TABLE orders$x$", "SELECT E'\\'; DROP TABLE orders; --'", "SELECT U&'\\0044ROP TABLE orders'"]) {
      const r = await bot(sql);
      expect(r.stderr, sql).toBe('');
    }
    await expectIntact();
  });

  it('server files, large objects, remote links and programs', async () => {
    for (const sql of [
      "SELECT pg_read_file('/etc/hostname')",
      "SELECT lo_import('/etc/hostname')",
      "SELECT dblink_exec('dbname=app', 'DELETE FROM orders')",
      "COPY orders FROM PROGRAM 'echo 9'",
      "COPY orders TO '/tmp/gh-orders.txt'",
    ]) {
      const r = await bot(sql);
      expect(r.stderr, sql).toMatch(REFUSED);
    }
    await expectIntact();
  });

  it("psql's \\copy (client-side COPY FROM STDIN / TO STDOUT) is plain COPY and works", async () => {
    const r = await botScript('\\copy audit_log (msg) to stdout\n\\copy orders (id, note) from stdin\n3\tc\n\\.\n');
    expect(r.stderr).toBe('');
    expect(await superQuery('SELECT note FROM public.orders WHERE id = 3')).toBe('c');
    await superQuery('DELETE FROM public.orders WHERE id = 3');
    // ... and COPY FROM STDIN into a read-only table is a write like any other.
    const into = await botScript('\\copy payments from stdin\n9\t9\n\\.\n');
    expect(into.stderr).toMatch(/payments-read-only/);
    await expectIntact();
  });
});

describe('PREPARE / EXECUTE and the extended protocol', () => {
  it('PREPARE in one message, EXECUTE in the next; DEALLOCATE and re-PREPARE under the same name', async () => {
    const r = await botScript(
      'PREPARE p AS SELECT 1;\nDEALLOCATE p;\nPREPARE p AS DELETE FROM payments WHERE id = 1;\nEXECUTE p;\nPREPARE q AS SELECT amount FROM payments WHERE id = 2;\nEXECUTE q;\n',
    );
    expect(r.stderr).toMatch(/payments-read-only/);
    expect(r.stderr).toMatch(/EXECUTE of "p", which this session has not prepared/);
    // Command tags of what ran: the first PREPARE, the DEALLOCATE, PREPARE q; then q's row.
    expect(r.stdout.trim().split('\n')).toEqual(['PREPARE', 'DEALLOCATE', 'PREPARE', '20']);
    await expectIntact();
  });

  it('a name prepared by Parse can be EXECUTEd in SQL; a refused Parse leaves nothing to EXECUTE', async () => {
    const c = await connect(botUrl);
    try {
      expect((await c.query({ name: 'fine', text: 'SELECT amount FROM payments WHERE id = $1', values: [1] })).rows).toEqual([{ amount: 10 }]);
      expect((await c.query('EXECUTE fine(2)')).rows).toEqual([{ amount: 20 }]);
      await expect(c.query({ name: 'evil', text: 'DELETE FROM payments WHERE id = $1', values: [1] })).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('EXECUTE evil(1)')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('not prepared') });
    } finally {
      await c.end();
    }
    await expectIntact();
  });

  it('a DEALLOCATE that failed upstream (aborted transaction) does not let a re-PREPARE hide what the name runs', async () => {
    const c = await connect(botUrl);
    try {
      const prep = c.query("PREPARE w AS INSERT INTO audit_log (msg) VALUES ('approved once')");
      const [req] = await waitPending();
      broker.decide(req.id, { decision: 'approve', by: 'admin' });
      await prep;
      await c.query('BEGIN');
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('DEALLOCATE w')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      // Upstream "w" is still the INSERT; this PREPARE fails there with 42P05.
      await expect(c.query('PREPARE w AS SELECT 1')).rejects.toMatchObject({ code: '42P05' });
      // So EXECUTE w runs the INSERT: it must need approval again (and is refused when nobody gives it).
      await expect(c.query('EXECUTE w')).rejects.toMatchObject({ code: '57014' });
    } finally {
      await c.end();
    }
    expect(await superQuery('SELECT count(*) FROM public.audit_log')).toBe('0');
  });

  it('a named statement approved once is held again when it is bound again (Bind/Execute without a new Parse)', async () => {
    const c = await connect(botUrl);
    const insert = (msg: string) => c.query({ name: 'log-it', text: 'INSERT INTO audit_log (msg) VALUES ($1)', values: [msg] });
    try {
      const first = insert('first');
      const [req] = await waitPending();
      broker.decide(req.id, { decision: 'approve', by: 'admin' });
      await first;
      // node-postgres reuses the prepared statement: only Bind/Execute/Sync go out now.
      const second = insert('second');
      const [again] = await waitPending();
      expect(again.statement).toBe('INSERT INTO audit_log (msg) VALUES ($1)');
      broker.decide(again.id, { decision: 'deny', by: 'admin', reason: 'once was enough' });
      await expect(second).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('once was enough') });
      // The session stays usable, and a session-wide approval lets later runs through.
      const third = insert('third');
      const [wide] = await waitPending();
      broker.decide(wide.id, { decision: 'approve', by: 'admin', sessionMinutes: 5 });
      await third;
      await insert('fourth');
      expect(broker.listPending()).toEqual([]);
    } finally {
      await c.end();
    }
    expect(await superQuery("SELECT string_agg(msg, ',' ORDER BY id) FROM public.audit_log WHERE msg IN ('first', 'second', 'third', 'fourth')")).toBe('first,third,fourth');
    await superQuery('DELETE FROM public.audit_log');
  });

  it('a SQL PREPARE approved once can not be run again through a protocol Bind without asking', async () => {
    const raw = await connect(botUrl);
    try {
      const prep = raw.query("PREPARE sneaky AS INSERT INTO audit_log (msg) VALUES ('sneaky')");
      const [req] = await waitPending();
      broker.decide(req.id, { decision: 'approve', by: 'admin' });
      await prep;
      const con = (raw as unknown as { connection: RawConnection }).connection;
      const pending = rawExchange(con, () => {
        con.bind({ portal: '', statement: 'sneaky', values: [] });
        con.execute({ portal: '', rows: 0 });
        con.sync();
      });
      const [again] = await waitPending();
      expect(again.message).toContain('INSERT INTO audit_log');
      broker.decide(again.id, { decision: 'deny', by: 'admin' });
      const seen = await pending;
      expect(seen.some((m) => m.name === 'errorMessage')).toBe(true);
      expect(seen.some((m) => m.name === 'commandComplete')).toBe(false);
    } finally {
      await raw.end().catch(() => {});
    }
    expect(await superQuery("SELECT count(*) FROM public.audit_log WHERE msg = 'sneaky'")).toBe('0');
  });

  it('PostgreSQL rejects a Parse of several statements (and the gateway decides on all of them first)', async () => {
    const c = await connect(botUrl);
    try {
      await expect(c.query({ text: 'SELECT $1::int; SELECT 2', values: [1] })).rejects.toMatchObject({ code: '42601' });
      await expect(c.query({ text: 'SELECT $1::int; DELETE FROM orders', values: [1] })).rejects.toMatchObject({ code: '42501' });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
    await expectIntact();
  });

  it('a statement cut into one-byte TCP writes is still decided whole', async () => {
    const c = await connect(botUrl);
    try {
      const stream = (c as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
      stream.setNoDelay(true);
      const write = stream.write.bind(stream);
      let chain = Promise.resolve();
      (stream as unknown as { write: (b: Buffer) => boolean }).write = (buf: Buffer) => {
        for (let i = 0; i < buf.length; i++) {
          const byte = buf.subarray(i, i + 1);
          chain = chain.then(() => new Promise((r) => setTimeout(() => r(void write(byte)), 1)));
        }
        return true;
      };
      await expect(c.query('DROP TABLE orders')).rejects.toMatchObject({ code: '42501' });
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('very long statements (1 MB) and deep nesting are decided or refused, never waved through', async () => {
    const c = await connect(botUrl);
    try {
      const filler = 'x'.repeat(1024 * 1024);
      expect((await c.query(`SELECT length('${filler}') AS n`)).rows).toEqual([{ n: filler.length }]);
      await expect(c.query(`SELECT '${filler}'; DELETE FROM orders`)).rejects.toMatchObject({ code: '42501' });
      await expect(c.query(`/* ${filler} */ DROP TABLE payroll`)).rejects.toMatchObject({ code: '42501' });
      // Nesting the parser can take is decided as usual; nesting it can't is refused as unparsable.
      const nested = (depth: number) => 'SELECT ' + '('.repeat(depth) + '1' + ')'.repeat(depth) + '; DELETE FROM orders';
      await expect(c.query(nested(5000))).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('DELETE without WHERE') });
      await expect(c.query(nested(200_000))).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/nested too deeply|could not be parsed/) });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
    await expectIntact();
  });

  it('a write before a blocked statement in a transaction is rolled back: COMMIT commits nothing (simple and extended)', async () => {
    const r = await botScript("BEGIN;\nINSERT INTO orders VALUES (5, 'e');\nDELETE FROM orders;\nCOMMIT;\n");
    expect(r.stderr).toMatch(/blocked by policy preset/);
    const c = await connect(botUrl);
    try {
      await c.query('BEGIN');
      await c.query({ text: 'INSERT INTO orders VALUES ($1, $2)', values: [6, 'f'] });
      await expect(c.query({ text: 'UPDATE orders SET note = $1', values: ['x'] })).rejects.toMatchObject({ code: '42501' });
      const commit = await c.query('COMMIT');
      expect(commit.command).toBe('ROLLBACK');
    } finally {
      await c.end();
    }
    await expectIntact();
  });
});

async function waitPending() {
  for (let i = 0; i < 100; i++) {
    const list = broker.listPending();
    if (list.length) return list;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no approval request appeared');
}

describe('masking bypasses', () => {
  let c: pg.Client;
  beforeAll(async () => {
    c = await connect(readerUrl);
  });
  afterAll(async () => {
    await c?.end();
  });
  const rows = async (text: string) => (await c.query(text)).rows;

  it.each([
    ['string_agg', "SELECT string_agg(email, ',') AS v FROM customers"],
    ['array_agg', 'SELECT array_agg(email) AS v FROM customers'],
    ['to_json', 'SELECT to_json(email) AS v FROM customers'],
    ['jsonb_build_object', "SELECT jsonb_build_object('e', email) AS v FROM customers"],
    ['format()', "SELECT format('%s <%s>', 'x', email) AS v FROM customers"],
    ['a whole row', 'SELECT c AS v FROM customers c'],
  ])('detectors catch the email in %s', async (_what, sql) => {
    const r = await rows(sql);
    expect(r.length).toBeGreaterThan(0);
    for (const e of EMAILS) expect(JSON.stringify(r)).not.toContain(e);
  });

  it('column rules hold in text and binary format, for aliases, and for cursors WITH HOLD fetched through the extended protocol', async () => {
    const text = await rows('SELECT name AS n, email AS e FROM customers ORDER BY id');
    expect(text[0].n).not.toBe(NAMES[0]);
    expect(text[0].e).toMatch(/^tok_/);
    const bin = await c.query({ text: 'SELECT name, email FROM customers WHERE id > $1 ORDER BY id', values: [0], binary: true, rowMode: 'array' } as pg.QueryArrayConfig);
    expect(bin.fields.map((f) => f.format)).toEqual(['binary', 'binary']);
    noRaw(bin.rows.map((r) => r.map(String)));
    await c.query('DECLARE held CURSOR WITH HOLD FOR SELECT id, name, email FROM customers ORDER BY id');
    const fetched = (await c.query({ name: 'fetch-held', text: 'FETCH ALL FROM held' })).rows;
    await c.query('CLOSE held');
    expect(fetched).toHaveLength(2);
    noRaw(fetched);
  });

  it('binary format: arrays, records, a domain over text and bytea holding an email come back NULL', async () => {
    await superQuery(`DO $$ BEGIN CREATE DOMAIN public.mail AS text; EXCEPTION WHEN duplicate_object THEN NULL; END $$; ALTER DOMAIN public.mail OWNER TO ${owner}`);
    const sql =
      "SELECT array_agg(email) AS a, (SELECT row(email, 1) FROM customers WHERE id = 1) AS r, (SELECT email::mail FROM customers WHERE id = 1) AS d, (SELECT convert_to(email, 'UTF8') FROM customers WHERE id = 1) AS b FROM customers";
    // Parameters make node-postgres use the extended protocol, where `binary` asks for binary results.
    const res = await c.query({ text: `${sql} WHERE $1::int = 1`, values: [1], binary: true, rowMode: 'array' } as pg.QueryArrayConfig);
    expect(res.fields.map((f) => f.format)).toEqual(['binary', 'binary', 'binary', 'binary']);
    const r = res.rows as unknown[][];
    const asText = (v: unknown): string => (v === null ? 'NULL' : Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map(asText).join(',') : String(v));
    const values = r[0].map(asText);
    expect(values).toHaveLength(4);
    noRaw(values);
  });

  it('a reported setting filled from data (ParameterStatus) goes through the detectors; planner statistics are off limits', async () => {
    const reported: string[] = [];
    (c as unknown as { connection: RawConnection }).connection.on('parameterStatus', (m) => reported.push(String((m as unknown as { parameterValue: string }).parameterValue)));
    await c.query("SELECT 1 FROM (SELECT set_config('application_name', 'to ' || email, false) FROM customers WHERE id = 1) s");
    expect(reported.length).toBeGreaterThan(0);
    noRaw(reported);
    await c.query("SET application_name = 'tests'");
    await superQuery('ANALYZE public.customers');
    const stats = await reader("SELECT most_common_vals FROM pg_stats WHERE tablename = 'customers'");
    expect(stats.stderr).toMatch(/blocked by masking rule "customer-(name|email)" \(planner statistics/);
    noRaw(stats.stdout);
  });

  it('LISTEN/NOTIFY payloads go through the detectors', async () => {
    const listener = await connect(readerUrl);
    try {
      const got: string[] = [];
      listener.on('notification', (n) => got.push(n.payload ?? ''));
      await listener.query('LISTEN leak');
      await c.query(`SELECT pg_notify('leak', (SELECT 'mail ' || email FROM customers WHERE id = 1))`);
      await c.query(`NOTIFY leak, 'card 4111111111111111'`);
      for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toHaveLength(2);
      noRaw(got);
    } finally {
      await listener.end();
    }
  });

  it('RAISE NOTICE and error messages that echo a value', async () => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    c.on('notice', onNotice);
    await c.query(`DO $$ BEGIN RAISE NOTICE 'it is %', (SELECT email FROM customers WHERE id = 1); END $$`);
    await new Promise((r) => setTimeout(r, 50));
    c.off('notice', onNotice);
    expect(notices).toHaveLength(1);
    noRaw(notices);
    for (const sql of [
      'SELECT email::int FROM customers',
      'SELECT name::int FROM customers',
      'SELECT name::date FROM customers',
      'SELECT name::regclass FROM customers',
      'SELECT name::regtype FROM customers',
      'SELECT name::json FROM customers',
    ]) {
      const err = await c.query(sql).then(
        () => null,
        (e: Error & { detail?: string }) => `${e.message} ${e.detail ?? ''}`,
      );
      expect(err, sql).not.toBeNull();
      noRaw(err);
    }
  });

  it('a portal executed with a row limit (PortalSuspended, then Execute again) stays masked, even with another portal in between', async () => {
    const raw = await connect(readerUrl);
    try {
      const con = (raw as unknown as { connection: RawConnection }).connection;
      const seen = await rawExchange(con, () => {
        con.query('BEGIN');
      });
      expect(seen.some((m) => m.name === 'readyForQuery')).toBe(true);
      const out = await rawExchange(con, () => {
        con.parse({ name: 'a', text: 'SELECT name, email FROM customers ORDER BY id', types: [] });
        con.bind({ portal: 'pa', statement: 'a', values: [] });
        con.describe({ type: 'P', name: 'pa' });
        con.execute({ portal: 'pa', rows: 1 });
        con.parse({ name: 'b', text: "SELECT 'x'::text AS one, 'y'::text AS two", types: [] });
        con.bind({ portal: 'pb', statement: 'b', values: [] });
        con.describe({ type: 'P', name: 'pb' });
        con.execute({ portal: 'pb', rows: 0 });
        con.execute({ portal: 'pa', rows: 1 });
        con.sync();
      });
      const values = out.filter((m) => m.name === 'dataRow').map((m) => m.fields);
      expect(values).toHaveLength(3);
      noRaw(values);
      expect(out.filter((m) => m.name === 'portalSuspended')).toHaveLength(2);
      await rawExchange(con, () => con.query('COMMIT'));
    } finally {
      await raw.end().catch(() => {});
    }
  });

  it('COPY ... TO STDOUT: CSV with quotes, and a column list, stay masked', async () => {
    const csv = await runTool('psql', [readerDsn, '-X', '-c', `COPY (SELECT id, '"' || email || '",x' AS q FROM customers) TO STDOUT WITH (FORMAT csv, QUOTE '"')`]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.trim().split('\n')).toHaveLength(2);
    noRaw(csv.stdout);
    for (const sql of ['COPY customers (name) TO STDOUT', 'COPY customers TO STDOUT', 'COPY customers (id, name) TO STDOUT WITH (FORMAT csv)', 'COPY public.customers (name) TO STDOUT']) {
      const r = await runTool('psql', [readerDsn, '-X', '-c', sql]);
      expect(r.code, sql).toBe(0);
      expect(r.stdout.trim().split('\n'), sql).toHaveLength(2);
      noRaw(r.stdout);
    }
  });

  it('values masked by a table.column rule can not be laundered into another table, a view or a renamed column', async () => {
    for (const sql of [
      'CREATE VIEW cv AS SELECT name FROM customers',
      'CREATE TABLE stolen AS SELECT name FROM customers',
      'SELECT name INTO stolen FROM customers',
      'CREATE MATERIALIZED VIEW mv AS SELECT name FROM customers',
      'INSERT INTO orders SELECT id + 10, name FROM customers',
      'UPDATE orders SET note = (SELECT name FROM customers WHERE id = 1) WHERE id = 1',
      'ALTER TABLE customers RENAME TO people',
      'ALTER TABLE customers RENAME COLUMN name TO n',
      'ALTER TABLE customers SET SCHEMA secrets',
      'ALTER SCHEMA public RENAME TO open',
      'CREATE RULE r AS ON SELECT TO customers DO INSTEAD SELECT * FROM customers',
    ]) {
      const r = await reader(sql);
      expect(r.stderr, sql).toMatch(/blocked by masking rule "customer-(name|email)"/);
    }
    expect(await superQuery("SELECT count(*) FROM pg_class WHERE relname IN ('cv', 'stolen', 'mv', 'people')")).toBe('0');
    expect(await superQuery('SELECT count(*) FROM public.orders')).toBe('2');
    expect(await superQuery("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'public.customers'::regclass AND attnum > 0")).toBe('id,name,email,card');
    // Writing the masked table itself, and reading it, stay possible.
    expect((await reader("UPDATE customers SET card = card WHERE id = 2 RETURNING name")).stdout).not.toContain(NAMES[1]);
  });

  it('100,000 rows stay masked, in order, every one', async () => {
    const r = await rows("SELECT g, 'user' || g || '@example.com' AS e FROM generate_series(1, 100000) g");
    expect(r).toHaveLength(100000);
    expect(r.filter((x) => String(x.e).includes('@example.com'))).toHaveLength(0);
    expect(r[99999].g).toBe(100000);
  });

  it('the hash strategy gives the same token in two sessions (and for bot and reader alike)', async () => {
    const other = await connect(botUrl);
    try {
      const a = await rows('SELECT email FROM customers WHERE id = 1');
      const b = (await other.query('SELECT email FROM customers WHERE id = 1')).rows;
      expect(a[0].email).toMatch(/^tok_/);
      expect(b[0].email).toBe(a[0].email);
    } finally {
      await other.end();
    }
  });
});

describe('robustness', () => {
  it('an ErrorResponse in the middle of a masked result: rows before it masked, the session usable', async () => {
    const c = await connect(readerUrl);
    try {
      await expect(c.query('SELECT email, 1 / (2 - id) AS x FROM customers ORDER BY id')).rejects.toMatchObject({ code: '22012' });
      const r = await reader("SELECT email, 1 / (2 - id) FROM customers ORDER BY id");
      expect(r.stderr).toMatch(/division by zero/);
      noRaw(r.stdout);
      expect((await c.query('SELECT email FROM customers WHERE id = 2')).rows[0].email).toMatch(/^tok_/);
    } finally {
      await c.end();
    }
  });

  it('a client that disconnects while its RowDescription waits for the catalog does not hurt anyone else', async () => {
    await superQuery(`CREATE TABLE public.fresh (name text); INSERT INTO public.fresh VALUES ('x'); ALTER TABLE public.fresh OWNER TO ${owner}`);
    const c = await connect(readerUrl);
    c.query('SELECT * FROM fresh').catch(() => {});
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const d = await connect(readerUrl);
    try {
      expect((await d.query('SELECT name FROM fresh')).rows).toEqual([{ name: 'x' }]);
    } finally {
      await d.end();
    }
  });

  it('policy apply reaches open sessions at their next statement: new guardrails and new masking rules', async () => {
    const c = await connect(readerUrl);
    const before = policy;
    try {
      expect((await c.query('SELECT note FROM orders WHERE id = 1')).rows).toEqual([{ note: 'a' }]);
      policy = compile(POLICY + '  - name: notes\n    columns: [orders.note]\n    strategy: redact\n');
      const masked = (await c.query('SELECT note FROM orders WHERE id = 1')).rows[0].note;
      expect(masked).not.toBe('a');
      policy = compile(POLICY.replace('scope: { agents: [bot] }\n    timeout: 1s', 'timeout: 1s'));
      await expect(c.query('DROP TABLE orders')).rejects.toMatchObject({ code: '42501' });
    } finally {
      policy = before;
      await c.end();
    }
    await expectIntact();
  });
});

interface RawMessage {
  name: string;
  fields?: unknown[];
}
interface RawConnection {
  query(text: string): void;
  parse(q: { name: string; text: string; types: unknown[] }): void;
  bind(q: { portal: string; statement: string; values: unknown[] }): void;
  describe(q: { type: 'P' | 'S'; name: string }): void;
  execute(q: { portal: string; rows: number }): void;
  sync(): void;
  on(ev: string, fn: (m: RawMessage) => void): void;
  removeAllListeners(ev: string): void;
}

const RAW_EVENTS = ['rowDescription', 'dataRow', 'portalSuspended', 'commandComplete', 'readyForQuery', 'errorMessage', 'parseComplete', 'bindComplete', 'noData'];

/** Drive the protocol by hand on a connected client's connection; resolves at ReadyForQuery. */
function rawExchange(con: RawConnection, send: () => void): Promise<RawMessage[]> {
  for (const ev of RAW_EVENTS) con.removeAllListeners(ev);
  return new Promise((resolve) => {
    const seen: RawMessage[] = [];
    for (const ev of RAW_EVENTS) {
      con.on(ev, (m) => {
        seen.push({ name: ev, fields: (m as { fields?: unknown[] }).fields?.map((f) => (Buffer.isBuffer(f) ? f.toString() : f)) });
        if (ev === 'readyForQuery') resolve(seen);
      });
    }
    send();
  });
}
