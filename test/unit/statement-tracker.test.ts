import { describe, expect, it } from 'vitest';
import { StatementTracker, type TrackedStatement } from '../../src/gateway/postgres/statement-tracker';

function tracker() {
  const out: TrackedStatement[] = [];
  return { t: new StatementTracker((s) => out.push(s)), out };
}

describe('StatementTracker', () => {
  it('a refused Bind: the injected Parse/Bind replies are dropped, the error is the refusal, the statement keeps its name', () => {
    const { t, out } = tracker();
    t.parse('s', 'INSERT INTO a VALUES (1)');
    t.sync();
    t.acknowledged();
    t.readyForQuery();
    t.refusedBind('INSERT INTO a VALUES (1)', { policyAction: 'approve', policyRule: 'r', approvalId: 'x' });
    t.execute('');
    t.sync();
    expect(t.rewritePending).toBe(true);
    expect(t.acknowledged().injected).toBe(true);
    expect(t.acknowledged().injected).toBe(true);
    expect(t.errorIsRefusal).toBe(true);
    t.error('42501');
    t.readyForQuery();
    expect(t.rewritePending).toBe(false);
    expect(out.at(-1)).toMatchObject({ sql: 'INSERT INTO a VALUES (1)', errorCode: '42501', policyAction: 'approve' });
    // The name still binds (and is recorded) afterwards.
    t.bind('', 's', 0);
    t.execute('');
    t.sync();
    t.acknowledged();
    t.commandComplete('INSERT 0 1', 1);
    t.readyForQuery();
    expect(out.at(-1)).toMatchObject({ sql: 'INSERT INTO a VALUES (1)', errorCode: null, rows: 1 });
  });

  it('tells which portal a Describe and an Execute answer (result masking keeps a shape per portal)', () => {
    const { t } = tracker();
    t.parse('a', 'SELECT 1');
    t.bind('pa', 'a', 0, [0]);
    t.describe('P', 'pa');
    t.execute('pa');
    t.describe('S', 'a');
    t.sync();
    t.acknowledged(); // ParseComplete
    expect(t.acknowledged().bound).toEqual({ statement: 'a', portal: 'pa', formats: [0] });
    expect(t.describedPortal()).toBe('pa');
    expect(t.described()).toBeNull();
    expect(t.executingPortal()).toBe('pa');
    t.executeEnded(); // PortalSuspended
    expect(t.executingPortal()).toBeNull();
    expect(t.describedPortal()).toBeNull();
    expect(t.described()).toBe('a');
    t.readyForQuery();
    t.query('SELECT 1');
    expect(t.executingPortal()).toBeNull();
  });

  it('records a simple query with several statements as one row with every tag', () => {
    const { t, out } = tracker();
    t.query('BEGIN; INSERT INTO t VALUES (1); COMMIT');
    t.commandComplete('BEGIN', null);
    t.commandComplete('INSERT 0 1', 1);
    t.commandComplete('COMMIT', null);
    expect(out).toHaveLength(0);
    t.readyForQuery();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ protocol: 'simple', commandTag: 'BEGIN; INSERT 0 1; COMMIT', rows: 1, errorCode: null });
  });

  it('keeps the SQLSTATE of a failing simple query', () => {
    const { t, out } = tracker();
    t.query('SELECT 1/0');
    t.error('22012');
    t.readyForQuery();
    expect(out[0]).toMatchObject({ errorCode: '22012', commandTag: null });
  });

  it('pairs pipelined extended-protocol executes with their results', () => {
    const { t, out } = tracker();
    t.parse('s1', 'SELECT $1::int');
    t.bind('', 's1', 1);
    t.describe();
    t.execute('');
    t.parse('', 'UPDATE x SET a = 1');
    t.bind('', '', 0);
    t.execute('');
    t.sync();
    t.acknowledged(); // ParseComplete
    t.acknowledged(); // BindComplete
    t.described(); // RowDescription
    t.commandComplete('SELECT 1', 1);
    t.acknowledged();
    t.acknowledged();
    t.commandComplete('UPDATE 5', 5);
    t.readyForQuery();
    expect(out.map((s) => [s.sql, s.paramCount, s.commandTag, s.rows])).toEqual([
      ['SELECT $1::int', 1, 'SELECT 1', 1],
      ['UPDATE x SET a = 1', 0, 'UPDATE 5', 5],
    ]);
    expect(t.outstanding).toBe(0);
  });

  it('after an extended-protocol error, marks the failing statement and the skipped rest of the batch', () => {
    const { t, out } = tracker();
    t.parse('', 'SELECT nope');
    t.bind('', '', 0);
    t.execute('');
    t.parse('', 'SELECT 2');
    t.bind('', '', 0);
    t.execute('');
    t.sync();
    t.parse('', 'SELECT 3');
    t.bind('', '', 0);
    t.execute('');
    t.sync();
    t.error('42703');
    t.readyForQuery();
    t.acknowledged();
    t.acknowledged();
    t.commandComplete('SELECT 1', 1);
    t.readyForQuery();
    expect(out.map((s) => [s.sql, s.errorCode])).toEqual([
      ['SELECT nope', '42703'],
      ['SELECT 2', 'skipped'],
      ['SELECT 3', null],
    ]);
  });

  it('re-executes a named prepared statement by its remembered text', () => {
    const { t, out } = tracker();
    t.parse('p1', 'SELECT * FROM a WHERE id = $1');
    t.sync();
    t.acknowledged();
    t.readyForQuery();
    for (let i = 0; i < 3; i++) {
      t.bind('', 'p1', 1);
      t.execute('');
      t.sync();
      t.acknowledged();
      t.commandComplete('SELECT 1', 1);
      t.readyForQuery();
    }
    expect(out).toHaveLength(3);
    expect(out.every((s) => s.sql === 'SELECT * FROM a WHERE id = $1' && s.paramCount === 1)).toBe(true);
  });

  it('records outstanding statements when the session aborts', () => {
    const { t, out } = tracker();
    t.query('SELECT pg_sleep(100)');
    t.abort('08006');
    expect(out[0]).toMatchObject({ sql: 'SELECT pg_sleep(100)', errorCode: '08006' });
  });
});
