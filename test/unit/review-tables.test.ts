import { beforeAll, describe, expect, it } from 'vitest';
import { tablesTouched } from '../../src/gateway/api/tables-touched';
import { loadSqlParser } from '../../src/gateway/policy/sql-parser';

beforeAll(() => loadSqlParser());

describe('tablesTouched (access review evidence)', () => {
  it('splits the tables of many statements into read and written, sorted and once each', () => {
    expect(
      tablesTouched([
        'select * from orders join public.customers c on c.id = orders.customer_id',
        "insert into audit_log select now(), 'x' from orders",
        'update orders set paid = true where id = 1',
        'with gone as (delete from carts returning *) select count(*) from gone',
      ]),
    ).toEqual({ tablesRead: ['carts', 'orders', 'public.customers'], tablesWritten: ['audit_log', 'carts', 'orders'] });
  });

  it('skips what does not parse and returns empty lists for nothing', () => {
    expect(tablesTouched(['selec nope from', 'select 1'])).toEqual({ tablesRead: [], tablesWritten: [] });
    expect(tablesTouched([])).toEqual({ tablesRead: [], tablesWritten: [] });
  });
});
