import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeSql, clearSqlCache, loadSqlParser, type StatementAnalysis } from '../../src/gateway/policy/sql-parser';
import { KIND_GROUPS, KNOWN_KINDS } from '../../src/gateway/policy/sql-kinds';
import { LruCache } from '../../src/gateway/policy/lru-cache';

beforeAll(async () => {
  await loadSqlParser();
});

/** The analysis of a string that must parse. */
function statements(sql: string): readonly StatementAnalysis[] {
  const a = analyzeSql(sql);
  if (!a.ok) throw new Error(`expected ${sql} to parse: ${a.error}`);
  return a.statements;
}
const one = (sql: string): StatementAnalysis => {
  const s = statements(sql);
  expect(s).toHaveLength(1);
  return s[0];
};

describe('statement kinds', () => {
  it.each([
    ['SELECT 1', 'select'],
    ['VALUES (1)', 'select'],
    ['INSERT INTO t VALUES (1)', 'insert'],
    ['UPDATE t SET a = 1 WHERE id = 2', 'update'],
    ['DELETE FROM t WHERE id = 2', 'delete'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'merge'],
    ['CREATE TABLE t (id int)', 'create table'],
    ['CREATE TABLE t2 AS SELECT * FROM t', 'create table as'],
    ['SELECT * INTO t2 FROM t', 'create table as'],
    ['CREATE MATERIALIZED VIEW mv AS SELECT 1', 'create materialized view'],
    ['CREATE VIEW v AS SELECT 1', 'create view'],
    ['CREATE INDEX i ON t (a)', 'create index'],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', 'create function'],
    ['CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$', 'create procedure'],
    ['CREATE SCHEMA s', 'create schema'],
    ['CREATE EXTENSION pgcrypto', 'create extension'],
    ['ALTER TABLE t ADD COLUMN b int', 'alter table'],
    ['ALTER TABLE t RENAME TO u', 'alter table'],
    ['ALTER INDEX i RENAME TO j', 'alter index'],
    ['DROP TABLE t', 'drop table'],
    ['DROP VIEW v', 'drop view'],
    ['DROP INDEX i', 'drop index'],
    ['DROP FUNCTION f(int)', 'drop function'],
    ['DROP SCHEMA s CASCADE', 'drop schema'],
    ['DROP DATABASE d', 'drop database'],
    ['DROP MATERIALIZED VIEW mv', 'drop materialized view'],
    ['TRUNCATE t', 'truncate'],
    ['GRANT SELECT ON t TO bob', 'grant'],
    ['REVOKE SELECT ON t FROM bob', 'revoke'],
    ['GRANT admin TO bob', 'grant'],
    ['CREATE ROLE bob', 'create role'],
    ['CREATE USER bob', 'create role'],
    ['CREATE GROUP g', 'create role'],
    ['ALTER ROLE bob SUPERUSER', 'alter role'],
    ['ALTER USER bob SET work_mem = 1', 'alter role'],
    ['DROP ROLE bob', 'drop role'],
    ['DROP USER bob', 'drop role'],
    ['COPY t TO STDOUT', 'copy'],
    ['CALL p(1)', 'call'],
    ["DO $$ BEGIN RAISE NOTICE 'x'; END $$", 'do'],
    ['SET work_mem = 64', 'set'],
    ['RESET work_mem', 'reset'],
    ['SHOW work_mem', 'show'],
    ['BEGIN', 'begin'],
    ['START TRANSACTION', 'begin'],
    ['COMMIT', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['SAVEPOINT s', 'savepoint'],
    ['RELEASE SAVEPOINT s', 'release savepoint'],
    ['ROLLBACK TO SAVEPOINT s', 'rollback to savepoint'],
    ["PREPARE TRANSACTION 'x'", 'prepare transaction'],
    ['PREPARE p AS SELECT 1', 'prepare'],
    ['EXECUTE p', 'execute'],
    ['DEALLOCATE p', 'deallocate'],
    ['EXPLAIN SELECT 1', 'explain'],
    ['DECLARE c CURSOR FOR SELECT 1', 'declare'],
    ['FETCH 10 FROM c', 'fetch'],
    ['MOVE 10 IN c', 'move'],
    ['CLOSE c', 'close'],
    ['LISTEN ch', 'listen'],
    ["NOTIFY ch, 'x'", 'notify'],
    ['VACUUM t', 'vacuum'],
    ['ANALYZE t', 'analyze'],
    ['LOCK TABLE t', 'lock'],
    ['DISCARD ALL', 'discard'],
    ["COMMENT ON TABLE t IS 'x'", 'comment'],
    ['REFRESH MATERIALIZED VIEW mv', 'refresh materialized view'],
    ['CREATE RULE r AS ON INSERT TO t DO NOTHING', 'create rule'],
    ['CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()', 'create trigger'],
    ['CREATE CONVERSION c FOR \'LATIN1\' TO \'UTF8\' FROM iso8859_1_to_utf8', 'create conversion'],
  ])('%s is %s', (sql, kind) => {
    expect(one(sql).kind).toBe(kind);
  });

  it('every fixed kind is a known kind, and groups classify them', () => {
    for (const k of ['select', 'drop table', 'alter role', 'begin', 'create function', 'truncate']) expect(KNOWN_KINDS).toContain(k);
    expect(KIND_GROUPS.ddl('drop table')).toBe(true);
    expect(KIND_GROUPS.ddl('select')).toBe(false);
    expect(KIND_GROUPS.dml('merge')).toBe(true);
    expect(KIND_GROUPS.transaction('rollback to savepoint')).toBe(true);
    expect(KIND_GROUPS.privileges('drop role')).toBe(true);
  });

  it('names the DDL object kind', () => {
    expect(one('DROP TABLE t').objectKind).toBe('table');
    expect(one('DROP MATERIALIZED VIEW t').objectKind).toBe('materialized view');
    expect(one('SELECT 1').objectKind).toBeUndefined();
  });

  it('sees a DROP subcommand of ALTER', () => {
    expect(one('ALTER TABLE t DROP COLUMN c').alterDrops).toBe(true);
    expect(one('ALTER TABLE t DROP CONSTRAINT k').alterDrops).toBe(true);
    expect(one('ALTER TABLE t ALTER COLUMN c DROP DEFAULT').alterDrops).toBe(true);
    expect(one('ALTER TABLE t ADD COLUMN c int, DROP COLUMN d').alterDrops).toBe(true);
    expect(one('ALTER TABLE t ADD COLUMN c int').alterDrops).toBe(false);
    expect(one('ALTER TABLE t RENAME COLUMN a TO b').alterDrops).toBe(false);
  });

  it('describes COPY direction and target', () => {
    expect(one('COPY t FROM STDIN').copy).toEqual({ direction: 'from', target: 'stdio', format: 'text', relation: 't' });
    expect(one('COPY t TO STDOUT').copy).toEqual({ direction: 'to', target: 'stdio', format: 'text', relation: 't' });
    expect(one("COPY t FROM '/etc/passwd'").copy).toEqual({ direction: 'from', target: 'file', path: '/etc/passwd', format: 'text', relation: 't' });
    expect(one("COPY t TO PROGRAM 'curl x'").copy).toEqual({ direction: 'to', target: 'program', path: 'curl x', format: 'text', relation: 't' });
    expect(one('COPY (SELECT 1) TO STDOUT').copy).toEqual({ direction: 'to', target: 'stdio', format: 'text' });
    // HEADER: alone, or a boolean-ish argument ({Integer:{}} is 0, {Boolean:{}} false).
    expect(one('COPY s.t TO STDOUT CSV HEADER').copy).toMatchObject({ relation: 's.t', header: true });
    expect(one('COPY t TO STDOUT (FORMAT csv, HEADER 0)').copy?.header).toBe(false);
    expect(one('COPY t TO STDOUT (FORMAT csv, HEADER false)').copy?.header).toBe(false);
    expect(one('COPY t TO STDOUT (FORMAT csv, HEADER on)').copy?.header).toBe(true);
    // Format options, as the result masker needs them to split COPY data into fields.
    expect(one("COPY t (a, b) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'N', QUOTE '''', ESCAPE '\\')").copy).toEqual({
      direction: 'to',
      target: 'stdio',
      format: 'csv',
      delimiter: ';',
      null: 'N',
      quote: "'",
      escape: '\\',
      columns: ['a', 'b'],
      relation: 't',
    });
    expect(one('COPY t TO STDOUT CSV').copy?.format).toBe('csv');
    expect(one('COPY t TO STDOUT WITH (FORMAT binary)').copy?.format).toBe('binary');
    expect(one("COPY t FROM PROGRAM 'id'").copy).toMatchObject({ direction: 'from', target: 'program' });
    expect(one('COPY (SELECT * FROM secret) TO STDOUT').tablesRead).toEqual(['secret']);
    expect(one('COPY t FROM STDIN').tablesWritten).toEqual(['t']);
    expect(one('COPY t TO STDOUT').tablesRead).toEqual(['t']);
  });

  it('analyzes PREPARE, EXECUTE, DEALLOCATE, SET', () => {
    const p = one('PREPARE p(int) AS DELETE FROM t WHERE id = $1');
    expect(p.prepare?.name).toBe('p');
    expect(p.prepare?.inner.kind).toBe('delete');
    expect(p.prepare?.inner.tablesWritten).toEqual(['t']);
    // PREPARE itself runs nothing: its statement's effects are not the PREPARE's.
    expect(p.kinds).toEqual(['prepare']);
    expect(p.tablesWritten).toEqual([]);
    expect(one('EXECUTE p(1)').execute).toEqual({ name: 'p' });
    expect(one('EXECUTE p(1)').executes).toEqual(['p']);
    expect(one('EXPLAIN ANALYZE EXECUTE q').executes).toEqual(['q']);
    expect(one('CREATE TABLE x AS EXECUTE r').executes).toEqual(['r']);
    expect(one('SELECT 1').executes).toEqual([]);
    expect(one('DEALLOCATE p').deallocate).toEqual({ name: 'p' });
    expect(one('DEALLOCATE PREPARE p').deallocate).toEqual({ name: 'p' });
    expect(one('DEALLOCATE ALL').deallocate).toEqual({ name: null });
    expect(one('SET search_path TO a, public').setting).toEqual({ name: 'search_path', values: ['a', 'public'], local: false });
    expect(one('SET LOCAL work_mem = 1').setting?.local).toBe(true);
    expect(one('RESET ALL').setting).toEqual({ name: null, values: null, local: false });
  });

  it('EXPLAIN ANALYZE runs its statement; plain EXPLAIN does not', () => {
    for (const sql of ['EXPLAIN ANALYZE DELETE FROM t', 'EXPLAIN (ANALYZE) DELETE FROM t', 'EXPLAIN (ANALYZE true, BUFFERS) DELETE FROM t', 'EXPLAIN (ANALYZE on) DELETE FROM t']) {
      const s = one(sql);
      expect(s.kinds, sql).toEqual(['explain', 'delete']);
      expect(s.tablesWritten, sql).toEqual(['t']);
      expect(s.conditions, sql).toEqual(['delete_without_where']);
      expect(s.explain?.analyze, sql).toBe(true);
    }
    for (const sql of ['EXPLAIN DELETE FROM t', 'EXPLAIN (ANALYZE false) DELETE FROM t', 'EXPLAIN (ANALYZE off) DELETE FROM t']) {
      const s = one(sql);
      expect(s.kinds, sql).toEqual(['explain']);
      expect(s.tablesWritten, sql).toEqual([]);
      expect(s.tablesRead, sql).toEqual(['t']);
      expect(s.conditions, sql).toEqual([]);
      expect(s.explain?.inner.kind).toBe('delete');
    }
  });

  it('DECLARE CURSOR reads what its query reads', () => {
    const s = one('DECLARE c CURSOR FOR SELECT * FROM secret');
    expect(s.kinds).toEqual(['declare', 'select']);
    expect(s.tablesRead).toEqual(['secret']);
  });

  it('summarizes statements for decision messages', () => {
    expect(one('DROP TABLE public.users').summary).toBe('DROP TABLE public.users');
    expect(one('DELETE FROM t WHERE a = 1').summary).toBe('DELETE FROM t');
    expect(one("COPY t FROM PROGRAM 'id'").summary).toBe('COPY t FROM PROGRAM');
    expect(one('EXECUTE p').summary).toBe('EXECUTE p');
    expect(one('DROP ROLE bob').summary).toBe('DROP ROLE bob');
    expect(one('CREATE RULE r AS ON INSERT TO t DO NOTHING').summary).toBe('CREATE RULE r ON t');
  });
});

describe('tables read and written', () => {
  it('keeps schema qualification as written', () => {
    const s = one('SELECT * FROM public.users u JOIN billing.invoices i ON i.uid = u.id');
    expect(s.tablesRead).toEqual(['public.users', 'billing.invoices']);
    expect(s.tablesWritten).toEqual([]);
  });

  it('finds tables in subqueries, joins, lateral, EXISTS and set operations', () => {
    const s = one(
      'SELECT (SELECT max(x) FROM a) FROM b LEFT JOIN c ON true, LATERAL (SELECT * FROM d) l WHERE EXISTS (SELECT 1 FROM e) UNION SELECT 1 FROM f',
    );
    expect([...s.tablesRead].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('writes: DML targets, INSERT ... SELECT, RETURNING, UPDATE ... FROM, MERGE', () => {
    const ins = one('INSERT INTO a SELECT * FROM b RETURNING (SELECT 1 FROM c)');
    expect(ins.tablesWritten).toEqual(['a']);
    // RETURNING reads the target's rows too (a rule on reading `a` must see it).
    expect([...ins.tablesRead].sort()).toEqual(['a', 'b', 'c']);
    expect(one('INSERT INTO a VALUES (1)').tablesRead).toEqual([]);
    // UPDATE, DELETE and MERGE read the rows they change.
    const up = one('UPDATE a SET x = b.x FROM b WHERE a.id = b.id');
    expect(up.tablesWritten).toEqual(['a']);
    expect(up.tablesRead).toEqual(['a', 'b']);
    const m = one('MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN UPDATE SET x = 1');
    expect(m.tablesWritten).toEqual(['a']);
    expect(m.tablesRead).toEqual(['a', 'b']);
    expect(one('TRUNCATE a, s.b').tablesWritten).toEqual(['a', 's.b']);
    expect(one('DROP TABLE a, s.b').tablesWritten).toEqual(['a', 's.b']);
    expect(one('ALTER TABLE s.a ADD COLUMN c int').tablesWritten).toEqual(['s.a']);
    expect(one('CREATE TABLE t2 AS SELECT * FROM t').tablesWritten).toEqual(['t2']);
    expect(one('SELECT * INTO t2 FROM t').tablesWritten).toEqual(['t2']);
    expect(one('GRANT SELECT ON s.t TO bob').tablesWritten).toEqual(['s.t']);
  });

  it('changes that open new ways to read a table count as reading it; a view writes through to its base tables', () => {
    for (const sql of ['ALTER TABLE s.p RENAME TO q', 'ALTER TABLE s.p SET SCHEMA t', 'ALTER TABLE s.p INHERIT x', 'ALTER TABLE s.p OWNER TO bob', 'GRANT SELECT ON s.p TO bob']) {
      const a = one(sql);
      expect(a.tablesRead, sql).toContain('s.p');
      expect(a.tablesWritten, sql).toContain('s.p');
    }
    expect(one('ALTER SCHEMA secrets RENAME TO open').tablesRead).toEqual(['secrets.*']);
    expect(one('GRANT SELECT ON ALL TABLES IN SCHEMA secrets TO bob').tablesWritten).toEqual(['secrets.*']);
    expect(one('ALTER DATABASE app SET search_path = secrets, public').tablesRead).toEqual(['secrets.*', 'public.*']);
    const v = one('CREATE VIEW v AS SELECT * FROM payments JOIN orders USING (id)');
    expect([...v.tablesWritten].sort()).toEqual(['orders', 'payments', 'v']);
  });

  it('role changes carry the kind "set role", wherever they are', () => {
    for (const sql of ['SET ROLE boss', 'SET LOCAL ROLE boss', 'RESET ROLE', 'SET SESSION AUTHORIZATION boss', 'RESET SESSION AUTHORIZATION', "ALTER DATABASE app SET role = 'boss'"]) {
      expect(one(sql).kinds, sql).toContain('set role');
    }
    expect(one('SET search_path = x').kinds).not.toContain('set role');
  });

  it('CTE names are not tables, with the right scoping', () => {
    const s = one('WITH x AS (SELECT * FROM users) SELECT * FROM x');
    expect(s.tablesRead).toEqual(['users']);
    // A non-recursive CTE's body sees the real table of the same name.
    expect(one('WITH users AS (SELECT * FROM users) SELECT * FROM users').tablesRead).toEqual(['users']);
    // A qualified name is never a CTE.
    expect(one('WITH users AS (SELECT 1) SELECT * FROM users, public.users').tablesRead).toEqual(['public.users']);
    // A CTE is visible only inside its statement.
    expect(one('SELECT * FROM users, (WITH users AS (SELECT 1) SELECT * FROM users) q').tablesRead).toEqual(['users']);
    expect(one('WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r').tablesRead).toEqual([]);
  });

  it('data-modifying CTEs count as writes of the statement', () => {
    const s = one('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d');
    expect(s.kind).toBe('select');
    expect(s.kinds).toEqual(['select', 'delete']);
    expect(s.tablesWritten).toEqual(['t']);
    expect(s.conditions).toEqual(['delete_without_where']);
    const u = one('WITH u AS (UPDATE s.t SET a = 1 WHERE id = 1 RETURNING *) INSERT INTO log SELECT * FROM u');
    expect([...u.tablesWritten].sort()).toEqual(['log', 's.t']);
    expect(u.conditions).toEqual([]);
  });

  it('views are just tables', () => {
    expect(one('SELECT * FROM reporting.v_users').tablesRead).toEqual(['reporting.v_users']);
  });
});

describe('functions and conditions', () => {
  it('lists functions called, qualified as written, anywhere', () => {
    const s = one("SELECT lower(a), pg_catalog.now(), count(*) FROM t WHERE x = myschema.f(1) AND y IN (SELECT g FROM generate_series(1, 3) g)");
    expect([...s.functions].sort()).toEqual(['count', 'generate_series', 'lower', 'myschema.f', 'pg_catalog.now']);
    expect(one('CALL s.proc(1)').functions).toEqual(['s.proc']);
    expect(one("SELECT pg_read_file('/etc/passwd')").functions).toEqual(['pg_read_file']);
    expect(one('CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit_fn()').functions).toEqual(['audit_fn']);
    // A schema-qualified operator runs that schema's function.
    expect(one('SELECT 1 OPERATOR(evil.+) 2, 1 OPERATOR(pg_catalog.+) 2, 1 + 2').functions).toEqual(['evil.+']);
  });

  it('DELETE/UPDATE without a row filter', () => {
    expect(one('DELETE FROM t').conditions).toEqual(['delete_without_where']);
    expect(one('UPDATE t SET a = 1').conditions).toEqual(['update_without_where']);
    expect(one('DELETE FROM t WHERE true').conditions).toEqual(['delete_without_where']);
    expect(one('UPDATE t SET a = 1 WHERE 1 = 1').conditions).toEqual(['update_without_where']);
    expect(one('DELETE FROM t WHERE id = 1').conditions).toEqual([]);
    expect(one('UPDATE t SET a = 1 WHERE a IS NULL').conditions).toEqual([]);
    expect(one('DELETE FROM t WHERE CURRENT OF c').conditions).toEqual([]);
    expect(one('SELECT 1').conditions).toEqual([]);
    // Plain tautologies filter nothing either: x = x, an OR with a branch that refers to no column.
    expect(one('DELETE FROM t WHERE id = id').conditions).toEqual(['delete_without_where']);
    expect(one('DELETE FROM t WHERE "id" = t.id').conditions).toEqual([]);
    expect(one('UPDATE t SET a = 1 WHERE a = 1 OR true').conditions).toEqual(['update_without_where']);
    expect(one('UPDATE t SET a = 1 WHERE (b = b) AND a = 2').conditions).toEqual([]);
    expect(one('DELETE FROM t WHERE a = 1 OR b = 2').conditions).toEqual([]);
  });
});

describe('hiding does not help', () => {
  it('comments and odd spacing', () => {
    const s = one('/* harmless */ DROP -- really\n TABLE /* x */ users');
    expect(s.kind).toBe('drop table');
    expect(s.tablesWritten).toEqual(['users']);
  });

  it('odd casing folds; quoted names are kept as written', () => {
    expect(one('dRoP tAbLe uSeRs').tablesWritten).toEqual(['users']);
    expect(one('DROP TABLE "Users"').tablesWritten).toEqual(['Users']);
    expect(one('DROP TABLE "public"."users"').tablesWritten).toEqual(['public.users']);
  });

  it('every statement of a multi-statement string is analyzed', () => {
    const s = statements("SELECT 1; DROP TABLE users; SELECT 'a;b'");
    expect(s.map((x) => x.kind)).toEqual(['select', 'drop table', 'select']);
    expect(s.map((x) => x.text)).toEqual(['SELECT 1', 'DROP TABLE users', "SELECT 'a;b'"]);
  });

  it('statement texts are right with multi-byte characters before them', () => {
    const s = statements("SELECT 'ünïcødé €'; DELETE FROM t");
    expect(s[1].text).toBe('DELETE FROM t');
  });

  it('statements inside an explicit transaction', () => {
    const s = statements('BEGIN; DELETE FROM t; COMMIT');
    expect(s.map((x) => x.kind)).toEqual(['begin', 'delete', 'commit']);
    expect(s[1].conditions).toEqual(['delete_without_where']);
  });

  it('rule actions and SQL-standard function bodies are seen', () => {
    const r = one('CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM victims');
    expect(r.kinds).toContain('delete');
    expect(r.tablesWritten).toContain('victims');
    expect(r.conditions).toEqual(['delete_without_where']);
    const f = one('CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM victims; END');
    expect(f.kind).toBe('create function');
    expect(f.kinds).toContain('delete');
    expect(f.tablesWritten).toContain('victims');
  });
});

describe('no false positives', () => {
  it('a string literal, a column named drop, a comment mentioning DELETE', () => {
    const s = one(`SELECT 'drop table users; delete from t' AS "drop", "delete" FROM t -- DELETE FROM t`);
    expect(s.kinds).toEqual(['select']);
    expect(s.tablesWritten).toEqual([]);
    expect(s.conditions).toEqual([]);
    expect(one('SELECT "drop" FROM "truncate"').tablesRead).toEqual(['truncate']);
    expect(statements('/* DROP TABLE users */ SELECT 1')).toHaveLength(1);
  });

  it('a comment-only string has no statements', () => {
    expect(statements('-- DROP TABLE users')).toEqual([]);
  });
});

describe('errors and cache', () => {
  it('a syntax error is an analysis error, never a throw', () => {
    const a = analyzeSql('SELEC 1');
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.error).toMatch(/syntax error/);
    expect(analyzeSql('DROP TABLE').ok).toBe(false);
    expect(analyzeSql("SELECT 'unterminated").ok).toBe(false);
  });

  it('caches by exact text', () => {
    clearSqlCache();
    const a = analyzeSql('SELECT 42');
    expect(analyzeSql('SELECT 42')).toBe(a);
    expect(analyzeSql('SELECT  42')).not.toBe(a);
  });

  it('results are frozen (shared by every session); very long texts are not cached', () => {
    const a = analyzeSql('SELECT * FROM t');
    expect(Object.isFrozen(a)).toBe(true);
    if (a.ok) expect(Object.isFrozen(a.statements[0].tablesRead)).toBe(true);
    const long = `SELECT 1 ${' '.repeat(20_000)}`;
    expect(analyzeSql(long)).not.toBe(analyzeSql(long));
    expect(analyzeSql(long).ok).toBe(true);
  });

  it('a statement nested too deeply to check is an error, not a crash', () => {
    const a = analyzeSql(`SELECT ${'1+'.repeat(50_000)}1`);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.error).toMatch(/nested too deeply|syntax error|stack/);
  });

  it('LruCache evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });
});
