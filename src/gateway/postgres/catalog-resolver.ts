import type { ColumnRef } from '../policy/masking/result-masker';
import type { ColumnCatalog } from './relay';
import { SideConnection } from './side-connection';
import type { UpstreamTarget } from './upstream';

/** A (table OID, attribute number) pair from a RowDescription. */
export interface ColumnKey {
  oid: number;
  attnum: number;
}

/** How long "no such column" is believed (a table created in an agent's open transaction appears later). */
const NEGATIVE_TTL_MS = 5_000;
/** Pairs per catalog query. */
const BATCH = 500;
/** Cached columns before the cache is emptied (a long session over many tables). */
const MAX_ENTRIES = 50_000;

/**
 * Resolves result columns (table OID + attribute number from a RowDescription) to schema.table.column
 * through the upstream's catalog (pg_attribute join pg_class join pg_namespace), for masking rules
 * written as table.column. Used in two steps so the relay can hold a RowDescription meanwhile:
 * `has(pairs)` / `lookup(oid, attnum)` answer synchronously from the cache; `fill(pairs)` queries the
 * missing pairs in one batched query on a side connection (opened lazily with the stored credential and
 * reopened when it drops) and resolves once they are cached, as a column or as "not found".
 *
 * Pairs asked for while a query is running wait for it instead of being asked twice. Known columns are
 * cached for the resolver's life (call `invalidate()` after DDL renames); "not found" only for a few
 * seconds. `fill` rejects when the upstream can't be asked; the masker then treats those columns as
 * unresolved (fail closed for table.column rules).
 */
export class CatalogResolver implements ColumnCatalog {
  private readonly cache = new Map<string, ColumnRef | { missingUntil: number }>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private side: Promise<SideConnection> | null = null;
  private closed = false;

  constructor(
    private readonly connect: () => Promise<SideConnection>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A resolver whose side connection goes to `target` (the connection's stored credential). */
  static forTarget(target: UpstreamTarget): CatalogResolver {
    return new CatalogResolver(() => SideConnection.open(target));
  }

  /** The cached source column, or undefined when unknown (not looked up yet, or not found). */
  lookup(oid: number, attnum: number): ColumnRef | undefined {
    const hit = this.cache.get(key(oid, attnum));
    return hit && 'column' in hit ? hit : undefined;
  }

  /** Whether every pair has a current answer in the cache (column or recent "not found"). */
  has(pairs: readonly ColumnKey[]): boolean {
    for (const p of pairs) if (!this.known(key(p.oid, p.attnum))) return false;
    return true;
  }

  /** Look up the pairs not cached yet; resolves when all of them have an answer. */
  async fill(pairs: readonly ColumnKey[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing = new Map<string, ColumnKey>();
    for (const p of pairs) {
      if (!Number.isInteger(p.oid) || p.oid <= 0 || p.oid > 0xffffffff || !Number.isInteger(p.attnum) || Math.abs(p.attnum) > 0x7fff) continue;
      const k = key(p.oid, p.attnum);
      if (this.known(k)) continue;
      const running = this.inFlight.get(k);
      if (running) waits.push(running);
      else missing.set(k, p);
    }
    if (missing.size > 0) {
      const keys = [...missing.keys()];
      const query = this.query([...missing.values()]).finally(() => {
        for (const k of keys) this.inFlight.delete(k);
      });
      for (const k of keys) this.inFlight.set(k, query);
      waits.push(query);
    }
    await Promise.all(waits);
  }

  /** fill(), then the answers in order (undefined for columns that don't exist). */
  async resolve(pairs: readonly ColumnKey[]): Promise<(ColumnRef | undefined)[]> {
    await this.fill(pairs);
    return pairs.map((p) => this.lookup(p.oid, p.attnum));
  }

  /** Forget everything cached (after DDL that renames tables, columns or schemas). */
  invalidate(): void {
    this.cache.clear();
  }

  /** Close the side connection; later fills fail. */
  async close(): Promise<void> {
    this.closed = true;
    const side = this.side;
    this.side = null;
    if (side) (await side.catch(() => null))?.close();
  }

  private known(k: string): boolean {
    const hit = this.cache.get(k);
    if (!hit) return false;
    return 'column' in hit || hit.missingUntil > this.now();
  }

  private async connection(): Promise<SideConnection> {
    if (this.closed) throw new Error('the catalog resolver is closed');
    const current = this.side ? await this.side.catch(() => null) : null;
    if (current?.usable) return current;
    current?.close();
    const opening = this.connect();
    this.side = opening;
    // A failed open is not kept: the next fill tries again.
    opening.catch(() => {
      if (this.side === opening) this.side = null;
    });
    return opening;
  }

  /** Run `sql` on the side connection; once more on a new one if the old one turns out to be gone. */
  private async run(sql: string): Promise<(string | null)[][]> {
    const side = await this.connection();
    try {
      return await side.query(sql);
    } catch (err) {
      // An idle connection the server closed (restart, idle timeout) is only noticed when used.
      if (side.usable) throw err;
      return (await this.connection()).query(sql);
    }
  }

  private async query(pairs: ColumnKey[]): Promise<void> {
    if (this.cache.size + pairs.length > MAX_ENTRIES) this.cache.clear();
    for (let i = 0; i < pairs.length; i += BATCH) {
      const batch = pairs.slice(i, i + BATCH);
      // Numbers only, validated in fill(): safe to inline into the simple query.
      const list = batch.map((p) => `(${p.oid}::oid, ${p.attnum}::int2)`).join(', ');
      const rows = await this.run(
        'SELECT a.attrelid::int8, a.attnum, n.nspname, c.relname, a.attname ' +
          'FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid ' +
          'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
          `WHERE (a.attrelid, a.attnum) IN (${list})`,
      );
      const missingUntil = this.now() + NEGATIVE_TTL_MS;
      for (const p of batch) this.cache.set(key(p.oid, p.attnum), { missingUntil });
      for (const [oid, attnum, schema, table, column] of rows) {
        if (oid === null || attnum === null || schema === null || table === null || column === null) continue;
        this.cache.set(key(Number(oid), Number(attnum)), { schema, table, column });
      }
    }
  }
}

const key = (oid: number, attnum: number) => `${oid}:${attnum}`;
