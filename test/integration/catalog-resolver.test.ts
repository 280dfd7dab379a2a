import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultMasker } from '../../src/gateway/policy/masking/result-masker';
import { CatalogResolver } from '../../src/gateway/postgres/catalog-resolver';
import { HandshakeReader } from '../../src/gateway/postgres/handshake-reader';
import { Backend } from '../../src/gateway/postgres/protocol-codes';
import { SideConnection } from '../../src/gateway/postgres/side-connection';
import { connectUpstream, UpstreamError, type UpstreamTarget } from '../../src/gateway/postgres/upstream';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/** Resolving RowDescription table OIDs + attnums against a real PostgreSQL catalog. */
let db: TestPostgres;
let client: pg.Client;

beforeAll(async () => {
  db = await startPostgres();
  client = new pg.Client({ connectionString: db.url() });
  await client.connect();
  await client.query(`
    CREATE SCHEMA crm;
    CREATE TABLE crm.customers (id int PRIMARY KEY, name text, email text, card text);
    CREATE TABLE public.notes (id int, body text);
    INSERT INTO crm.customers VALUES (1, 'Alice', 'alice@example.com', '4111 1111 1111 1111');
    INSERT INTO public.notes VALUES (1, 'hello');`);
}, 120_000);

afterAll(async () => {
  await client?.end().catch(() => {});
  await db?.stop();
});

const target = (password = db.users.scram.password): UpstreamTarget => ({
  host: '127.0.0.1',
  port: db.port,
  database: 'app',
  user: db.users.scram.user,
  password,
  tlsMode: 'disable',
});

/** The OIDs/attnums node-postgres reports from the real RowDescription of `sql`. */
async function fieldsOf(sql: string): Promise<{ name: string; oid: number; attnum: number }[]> {
  const r = await client.query(sql);
  return r.fields.map((f) => ({ name: f.name, oid: f.tableID, attnum: f.columnID }));
}

/** A resolver that counts the catalog queries its (real) side connections run. */
function countingResolver(t = target()): { resolver: CatalogResolver; queries: () => number; sides: SideConnection[] } {
  let queries = 0;
  const sides: SideConnection[] = [];
  const resolver = new CatalogResolver(async () => {
    const side = await SideConnection.open(t);
    sides.push(side);
    const run = side.query.bind(side);
    side.query = (sql: string) => {
      queries++;
      return run(sql);
    };
    return side;
  });
  return { resolver, queries: () => queries, sides };
}

describe('CatalogResolver', () => {
  it('resolves the columns of a real RowDescription (aliases and joins included) in one batched query', async () => {
    const fields = await fieldsOf('SELECT c.email AS contact, c.name, n.body, 1 AS one FROM crm.customers c JOIN notes n ON n.id = c.id');
    const { resolver, queries } = countingResolver();
    try {
      const pairs = fields.filter((f) => f.oid !== 0);
      expect(pairs).toHaveLength(3);
      expect(resolver.has(pairs)).toBe(false);
      const resolved = await resolver.resolve(pairs);
      expect(resolved).toEqual([
        { schema: 'crm', table: 'customers', column: 'email' },
        { schema: 'crm', table: 'customers', column: 'name' },
        { schema: 'public', table: 'notes', column: 'body' },
      ]);
      expect(queries()).toBe(1);
      expect(resolver.has(pairs)).toBe(true);
      expect(resolver.lookup(pairs[0].oid, pairs[0].attnum)).toEqual({ schema: 'crm', table: 'customers', column: 'email' });
      // Cached: no second query.
      await resolver.fill(pairs);
      expect(queries()).toBe(1);
    } finally {
      await resolver.close();
    }
  });

  it('concurrent fills of the same pairs share one query; unknown pairs are answered "not found"', async () => {
    const fields = await fieldsOf('SELECT id, card FROM crm.customers');
    const { resolver, queries } = countingResolver();
    try {
      const pairs = fields.map((f) => ({ oid: f.oid, attnum: f.attnum }));
      const ghost = { oid: 4_000_000_000, attnum: 1 };
      await Promise.all([resolver.fill(pairs), resolver.fill(pairs), resolver.fill([...pairs, ghost])]);
      expect(queries()).toBeLessThanOrEqual(2);
      expect(resolver.lookup(pairs[1].oid, pairs[1].attnum)?.column).toBe('card');
      expect(resolver.lookup(ghost.oid, ghost.attnum)).toBeUndefined();
      expect(resolver.has([ghost])).toBe(true);
    } finally {
      await resolver.close();
    }
  });

  it('reopens the side connection after the upstream drops it', async () => {
    const fields = await fieldsOf('SELECT name FROM crm.customers');
    const { resolver, sides } = countingResolver();
    try {
      await resolver.fill([{ oid: fields[0].oid, attnum: fields[0].attnum }]);
      await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse-catalog'`);
      await new Promise((r) => setTimeout(r, 200));
      const body = await fieldsOf('SELECT body FROM notes');
      expect(await resolver.resolve([{ oid: body[0].oid, attnum: body[0].attnum }])).toEqual([{ schema: 'public', table: 'notes', column: 'body' }]);
      expect(sides.length).toBe(2);
    } finally {
      await resolver.close();
    }
  });

  it('rejects when the stored credential does not work (the masker then fails closed)', async () => {
    const resolver = CatalogResolver.forTarget(target('wrong-password'));
    try {
      await expect(resolver.fill([{ oid: 1259, attnum: 1 }])).rejects.toBeInstanceOf(UpstreamError);
      expect(resolver.has([{ oid: 1259, attnum: 1 }])).toBe(false);
    } finally {
      await resolver.close();
    }
  });

  it('drives the ResultMasker on real RowDescription/DataRow bytes: table.column rules see through aliases', async () => {
    const resolver = CatalogResolver.forTarget(target());
    const up = await connectUpstream(target(), {});
    const reader = new HandshakeReader(up.socket);
    try {
      if (up.leftover.length) up.socket.unshift(up.leftover);
      up.socket.write(serialize.query("SELECT email AS e, name, 'bob@example.com' AS lit FROM crm.customers"));
      const messages: { type: number; raw: Buffer }[] = [];
      for (;;) {
        const m = await reader.readAny(1 << 20);
        messages.push(m);
        if (m.type === Backend.readyForQuery) break;
      }
      const masker = new ResultMasker(
        {
          columns: [{ rule: 'crm-email', columns: ['crm.customers.email'], strategy: { kind: 'hash' } }],
          values: [{ rule: 'pii', detectors: ['email'], custom: [], strategy: { kind: 'redact' } }],
        },
        Buffer.alloc(32, 3),
        (oid, attnum) => resolver.lookup(oid, attnum),
      );
      const desc = messages.find((m) => m.type === Backend.rowDescription)!.raw;
      await resolver.fill(masker.catalogLookups(desc));
      masker.rowDescription(desc);
      const row = masker.dataRow(messages.find((m) => m.type === Backend.dataRow)!.raw);
      const values: string[] = [];
      let pos = 7;
      for (let i = 0; i < row.readInt16BE(5); i++) {
        const len = row.readInt32BE(pos);
        values.push(row.toString('utf8', pos + 4, pos + 4 + len));
        pos += 4 + len;
      }
      expect(pos).toBe(row.length);
      expect(values[0]).toMatch(/^tok_[0-9a-f]{16}$/);
      expect(values[1]).toBe('Alice');
      expect(values[2]).toBe('[email redacted]');
      expect(masker.takeCounts()).toEqual({ 'crm-email:column': 1, 'pii:email': 1 });
    } finally {
      reader.release();
      up.socket.end(serialize.end());
      await resolver.close();
    }
  });
});
