/**
 * SQL analysis with the real PostgreSQL parser (libpg-query, PostgreSQL 17's grammar compiled to WASM).
 *
 * `analyzeSql` turns a query string (possibly several statements) into what policy decides on: for each
 * statement its kind, the tables it reads and writes, the functions it calls and risky conditions. The
 * parse tree is walked generically (every key of every node), so a statement nested anywhere — a
 * data-modifying CTE, a subquery, EXPLAIN ANALYZE, a rule action, a SQL-standard function body — is
 * seen; nothing is decided on the raw text.
 *
 * Pure: the WASM module is loaded once (`loadSqlParser`), after which parsing is synchronous.
 */
import type * as LibPgQuery from 'libpg-query';
import { LruCache } from './lru-cache';
import { objectKindName, statementKind } from './sql-kinds';

/** A risky condition found in a statement (or in a statement nested in it). */
export type SqlCondition = 'delete_without_where' | 'update_without_where';
export const SQL_CONDITIONS: readonly SqlCondition[] = ['delete_without_where', 'update_without_where'];

/** COPY's data direction and where the data comes from or goes to. */
export interface CopyInfo {
  direction: 'from' | 'to';
  /** stdio = the client (FROM STDIN / TO STDOUT); file = a file on the database server; program = a server shell command. */
  target: 'stdio' | 'file' | 'program';
  /** The server file name or program command line. */
  path?: string;
  /** Data format and its options as written (what a result masker needs to split COPY data into fields). */
  format: 'text' | 'csv' | 'binary';
  delimiter?: string;
  null?: string;
  quote?: string;
  escape?: string;
  /** The column list, when one was given. */
  columns?: string[];
  /** The table copied, as written ("users", "public.users"); absent for COPY (query). */
  relation?: string;
  /** CSV HEADER: the first row holds the column names. */
  header?: boolean;
}

/** One statement of a query string, as policy sees it. */
export interface StatementAnalysis {
  /** Normalized kind of the top-level statement, e.g. "select", "drop table", "alter role", "begin". */
  readonly kind: string;
  /** For DDL: the object kind ("table", "function", "role" ...). */
  readonly objectKind?: string;
  /** Short human description used in decisions, e.g. "DROP TABLE public.users", "DELETE FROM t". */
  readonly summary: string;
  /** The statement's own source text (trimmed). */
  readonly text: string;
  /**
   * Every kind that runs: the top kind plus statements nested in it (a DELETE in a CTE, the statement of
   * EXPLAIN ANALYZE, rule actions). For PREPARE only "prepare": its inner statement is `prepare.inner`.
   */
  readonly kinds: readonly string[];
  /** Tables (and views) read, as written in the SQL: "users" or "public.users". CTE names are not tables. */
  readonly tablesRead: readonly string[];
  /** Tables written or changed: DML targets, DDL targets (CREATE/ALTER/DROP/TRUNCATE/GRANT ON), COPY FROM, SELECT INTO. */
  readonly tablesWritten: readonly string[];
  /** Functions called, qualified as written ("lower", "pg_catalog.now", "public.f"). */
  readonly functions: readonly string[];
  readonly conditions: readonly SqlCondition[];
  /** ALTER ... with a DROP subcommand (DROP COLUMN, DROP CONSTRAINT, DROP DEFAULT ...). */
  readonly alterDrops: boolean;
  readonly copy?: CopyInfo;
  /** EXPLAIN: whether it executes the statement (ANALYZE), and that statement. */
  readonly explain?: { analyze: boolean; inner: StatementAnalysis };
  /** SQL-level PREPARE name AS statement. */
  readonly prepare?: { name: string; inner: StatementAnalysis };
  /** SQL-level EXECUTE name. */
  readonly execute?: { name: string };
  /**
   * Every prepared statement this statement runs: EXECUTE name at the top, or nested in EXPLAIN
   * [ANALYZE] EXECUTE and CREATE TABLE ... AS EXECUTE. Policy decides each on what was prepared.
   */
  readonly executes: readonly string[];
  /** DEALLOCATE name, or name null for DEALLOCATE ALL. */
  readonly deallocate?: { name: string | null };
  /** SET / RESET of a setting (name null for RESET ALL); values as written for SET. */
  readonly setting?: { name: string | null; values: readonly string[] | null; local: boolean };
  /** DISCARD's target: DISCARD_ALL (which also deallocates every prepared statement), DISCARD_PLANS ... */
  readonly discard?: string;
}

export type SqlAnalysis =
  | { readonly ok: true; readonly statements: readonly StatementAnalysis[] }
  | { readonly ok: false; readonly error: string };

let loaded: Promise<void> | null = null;
let ready = false;
/** The parser's functions, set once its WASM module is loaded. */
let parseSync: typeof LibPgQuery.parseSync;

/**
 * Load the parser's WASM module. Idempotent; call (and await) once before the first `analyzeSql`. The
 * package itself is imported here, not at start-up, so processes that never parse SQL don't load it.
 */
export function loadSqlParser(): Promise<void> {
  loaded ??= import('libpg-query').then(
    async (lib) => {
      await lib.loadModule();
      parseSync = lib.parseSync;
      ready = true;
    },
    (err) => {
      loaded = null;
      throw err;
    },
  );
  return loaded;
}

/** Whether `loadSqlParser` has completed. */
export function sqlParserReady(): boolean {
  return ready;
}

const CACHE_SIZE = 5000;
/** Longer texts (bulk INSERTs) are analyzed every time, so the cache's memory stays bounded (~5,000 x 16 KB). */
const MAX_CACHED_TEXT = 16 * 1024;
const cache = new LruCache<string, SqlAnalysis>(CACHE_SIZE);

/**
 * Analyze a query string. Synchronous and never throws: a parse error (or a parser that is not loaded)
 * gives `{ ok: false, error }`. Results are cached by exact text (LRU, 5,000 entries) and shared: treat
 * them as read-only.
 */
export function analyzeSql(sql: string): SqlAnalysis {
  const cacheable = sql.length <= MAX_CACHED_TEXT;
  const hit = cacheable ? cache.get(sql) : undefined;
  if (hit) return hit;
  // Frozen: one cached object is shared by every session that sends the same text.
  const result = deepFreeze(analyzeUncached(sql));
  // A parser that is not loaded yet is not a property of the text: don't remember that answer.
  if (ready && cacheable) cache.set(sql, result);
  return result;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k in v) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** Drop every cached analysis (tests and benchmarks). */
export function clearSqlCache(): void {
  cache.clear();
}

function analyzeUncached(sql: string): SqlAnalysis {
  if (!ready) return { ok: false, error: 'the SQL parser is not loaded' };
  let tree: any;
  try {
    tree = parseSync(sql);
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, error: 'the statement is nested too deeply to check' };
    return { ok: false, error: `syntax error: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    // Statement locations are byte offsets into the UTF-8 text.
    const bytes = /[\u0080-\uffff]/.test(sql) ? new TextEncoder().encode(sql) : null;
    const slice = (start: number, len: number | undefined): string => {
      if (!bytes) return sql.slice(start, len ? start + len : undefined).trim();
      return new TextDecoder().decode(bytes.subarray(start, len ? start + len : undefined)).trim();
    };
    const statements = ((tree?.stmts ?? []) as any[]).map((raw) => {
      const [type, node] = nodeEntry(raw.stmt);
      return analyzeStatement(type, node, slice(raw.stmt_location ?? 0, raw.stmt_len));
    });
    return { ok: true, statements };
  } catch (err) {
    // Analysis bugs must not turn into an allow: report them as a failed analysis (callers fail closed).
    if (err instanceof RangeError) return { ok: false, error: 'the statement is nested too deeply to check' };
    return { ok: false, error: `analysis failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** `{ SelectStmt: {...} }` -> ["SelectStmt", {...}]. */
function nodeEntry(wrapped: any): [string, Record<string, any>] {
  const keys = wrapped && typeof wrapped === 'object' ? Object.keys(wrapped) : [];
  if (keys.length !== 1) throw new Error('unexpected parse node shape');
  return [keys[0], wrapped[keys[0]] ?? {}];
}

const isNodeName = (k: string): boolean => k.charCodeAt(0) >= 65 && k.charCodeAt(0) <= 90;
const isStatementNode = (k: string): boolean => k.endsWith('Stmt');

/** String nodes of a name list (`[{String:{sval}}...]`) joined with dots. */
function dotted(list: unknown): string {
  if (!Array.isArray(list)) return '';
  return list.map((i: any) => i?.String?.sval ?? (i?.A_Star ? '*' : '')).filter((s: string) => s !== '').join('.');
}

function rangeVarName(rv: any): string {
  return [rv.schemaname, rv.relname].filter((s) => typeof s === 'string' && s !== '').join('.');
}

/** Accumulates what a statement (and everything nested in it) touches. */
class Collector {
  readonly kinds = new Set<string>();
  readonly read = new Set<string>();
  readonly written = new Set<string>();
  readonly functions = new Set<string>();
  readonly conditions = new Set<SqlCondition>();
  readonly executes = new Set<string>();
  alterDrops = false;

  merge(a: StatementAnalysis, executes: boolean): void {
    for (const t of a.tablesRead) this.read.add(t);
    for (const f of a.functions) this.functions.add(f);
    // Even a plain EXPLAIN EXECUTE is decided on the prepared statement (conservatively, as if it ran).
    for (const e of a.executes) this.executes.add(e);
    if (executes) {
      for (const k of a.kinds) this.kinds.add(k);
      for (const t of a.tablesWritten) this.written.add(t);
      for (const c of a.conditions) this.conditions.add(c);
      this.alterDrops ||= a.alterDrops;
    } else {
      // A plain EXPLAIN plans its statement without running it: its targets are only looked at.
      for (const t of a.tablesWritten) this.read.add(t);
    }
  }
}

interface Scope {
  /** CTE names visible here: an unqualified table reference with one of these names is the CTE. */
  ctes: ReadonlySet<string>;
}

const NO_CTES: Scope = { ctes: new Set() };

/** Fields of a statement node whose relations are written (or changed by DDL), by node type. */
const WRITE_FIELDS: Record<string, readonly string[]> = {
  InsertStmt: ['relation'],
  UpdateStmt: ['relation'],
  DeleteStmt: ['relation'],
  MergeStmt: ['relation'],
  TruncateStmt: ['relations'],
  AlterTableStmt: ['relation'],
  CreateStmt: ['relation'],
  CreateForeignTableStmt: ['base'],
  IndexStmt: ['relation'],
  CreateTableAsStmt: ['into'],
  SelectStmt: ['intoClause'],
  ViewStmt: ['view'],
  RenameStmt: ['relation'],
  RuleStmt: ['relation'],
  CreateTrigStmt: ['relation'],
  RefreshMatViewStmt: ['relation'],
  AlterObjectSchemaStmt: ['relation'],
  AlterOwnerStmt: ['relation'],
  CreatePolicyStmt: ['table'],
  AlterPolicyStmt: ['table'],
  ClusterStmt: ['relation'],
  GrantStmt: ['objects'],
  CreateStatsStmt: [],
};

/** Settings whose change is a role change (SET ROLE, SET SESSION AUTHORIZATION). */
const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

const TABLE_LIKE_DROPS = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE']);

/** Walks one statement's tree, filling a Collector. */
class Walker {
  constructor(
    private readonly c: Collector,
    /** Whether nested statements execute (false under a plain EXPLAIN). */
    private readonly executes: boolean,
  ) {}

  value(v: unknown, scope: Scope, write: boolean): void {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const item of v) this.value(item, scope, write);
      return;
    }
    const o = v as Record<string, unknown>;
    // Typed pointer fields (e.g. DeleteStmt.relation) carry a RangeVar without its node wrapper.
    if (typeof o.relname === 'string') {
      this.rangeVar(o, scope, write);
      return;
    }
    for (const k in o) {
      const child = o[k];
      if (isNodeName(k) && child && typeof child === 'object' && !Array.isArray(child)) this.node(k, child as Record<string, any>, scope, write);
      else this.value(child, scope, write);
    }
  }

  private rangeVar(rv: Record<string, any>, scope: Scope, write: boolean): void {
    const name = rangeVarName(rv);
    if (write && this.executes) this.c.written.add(name);
    else if (!rv.schemaname && scope.ctes.has(rv.relname)) {
      // A reference to a CTE, not a table.
    } else this.c.read.add(name);
    if (rv.alias) this.value(rv.alias, scope, false);
  }

  node(type: string, n: Record<string, any>, scope: Scope, write: boolean): void {
    if (type === 'RangeVar') return this.rangeVar(n, scope, write);
    if (type === 'FuncCall') {
      const name = dotted(n.funcname);
      if (name) this.c.functions.add(name);
      for (const k in n) if (k !== 'funcname') this.value(n[k], scope, false);
      return;
    }
    if (isStatementNode(type)) return this.statement(type, n, scope);
    if (type === 'A_Expr' && Array.isArray(n.name) && n.name.length > 1) {
      // OPERATOR(schema.op) runs that schema's operator function: name it like a call.
      const name = dotted(n.name);
      if (!/^pg_catalog\./i.test(name)) this.c.functions.add(name);
    }
    this.value(n, scope, write);
  }

  /** A statement anywhere in the tree (the top one included). */
  statement(type: string, n: Record<string, any>, outer: Scope): void {
    switch (type) {
      // These carry a complete statement of their own: analyze it as one and merge.
      case 'ExplainStmt': {
        const inner = analyzeNested(n.query);
        if (inner) this.c.merge(inner, this.executes && explainAnalyzes(n.options));
        this.c.kinds.add('explain');
        return;
      }
      case 'PrepareStmt':
        // Decided on its inner statement (see StatementAnalysis.prepare); PREPARE itself runs nothing.
        this.c.kinds.add('prepare');
        return;
      case 'DeclareCursorStmt': {
        const inner = analyzeNested(n.query);
        if (inner) this.c.merge(inner, this.executes);
        this.c.kinds.add('declare');
        return;
      }
    }
    if (this.executes) this.c.kinds.add(statementKind(type, n));
    if (this.executes && type === 'VariableSetStmt' && ROLE_SETTINGS.has(String(n.name ?? '').toLowerCase())) {
      // SET ROLE, SET SESSION AUTHORIZATION and their RESETs change who the statements after them run as;
      // so does ALTER DATABASE ... SET role for later sessions (its SET is walked here as a nested statement).
      this.c.kinds.add('set role');
    }
    if (type === 'ExecuteStmt' && n.name) this.c.executes.add(String(n.name));

    if (this.executes && (type === 'DeleteStmt' || type === 'UpdateStmt') && !filtersRows(n.whereClause)) {
      this.c.conditions.add(type === 'DeleteStmt' ? 'delete_without_where' : 'update_without_where');
    }
    if (type === 'AlterTableStmt' && Array.isArray(n.cmds)) {
      const drops = (cmd: any): boolean => {
        const sub = String(cmd?.AlterTableCmd?.subtype ?? '');
        // ALTER COLUMN ... DROP DEFAULT is AT_ColumnDefault without a new default.
        return /^AT_Drop|^AT_DetachPartition/.test(sub) || (sub === 'AT_ColumnDefault' && !cmd.AlterTableCmd.def);
      };
      if (n.cmds.some(drops)) this.c.alterDrops = true;
    }
    if (type === 'AlterDomainStmt' && (n.subtype === 'X' || n.subtype === 'N')) this.c.alterDrops = true;
    if (type === 'DropStmt' && TABLE_LIKE_DROPS.has(n.removeType) && Array.isArray(n.objects) && this.executes) {
      for (const obj of n.objects) {
        const name = dotted(obj?.List?.items);
        if (name) this.c.written.add(name);
      }
    }
    if (type === 'CallStmt' && n.funccall) {
      const name = dotted(n.funccall.funcname);
      if (name) this.c.functions.add(name);
    }
    if ((type === 'CreateTrigStmt' || type === 'CreateEventTrigStmt') && n.funcname) {
      // The trigger function runs later, on every matching event: name it like a call.
      const name = dotted(n.funcname);
      if (name) this.c.functions.add(name);
    }

    if (this.executes) this.alsoRead(type, n);

    const scope = n.withClause ? this.withClause(n.withClause, outer) : outer;
    const writeFields = WRITE_FIELDS[type] ?? [];
    const writesCopy = type === 'CopyStmt' && n.is_from === true;
    for (const k in n) {
      if (k === 'withClause') continue;
      if (type === 'CallStmt' && k === 'funccall') {
        for (const a in n.funccall) if (a !== 'funcname') this.value(n.funccall[a], scope, false);
        continue;
      }
      const write = writeFields.includes(k) || (writesCopy && k === 'relation');
      this.value(n[k], scope, write);
    }
  }

  /**
   * Targets that are read as well as written, so a rule on reading a table can't be dodged by a write
   * or a DDL change: UPDATE/DELETE/MERGE (and INSERT with RETURNING or ON CONFLICT) read their target
   * rows; renaming, moving, re-parenting, re-owning, granting or putting rules, triggers or policies on
   * a table opens new ways to read it; renaming or re-owning a schema does so for every table in it
   * (named "schema.*", which every table pattern of that schema matches). A view's base tables count as
   * written: a simple view is updatable, and writes through it reach them.
   */
  private alsoRead(type: string, n: Record<string, any>): void {
    const both = (name: string) => {
      if (!name) return;
      this.c.read.add(name);
      this.c.written.add(name);
    };
    switch (type) {
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        if (n.relation) this.c.read.add(rangeVarName(n.relation));
        return;
      case 'InsertStmt':
        if (n.relation && (n.returningList?.length || n.onConflictClause)) this.c.read.add(rangeVarName(n.relation));
        return;
      case 'AlterTableStmt':
      case 'RenameStmt':
      case 'AlterObjectSchemaStmt':
      case 'AlterOwnerStmt':
      case 'RuleStmt':
      case 'CreateTrigStmt':
      case 'ClusterStmt':
        if (n.relation) both(rangeVarName(n.relation));
        if ((type === 'RenameStmt' || type === 'AlterOwnerStmt') && (n.renameType ?? n.objectType) === 'OBJECT_SCHEMA') {
          const schema = type === 'RenameStmt' ? n.subname : n.object?.String?.sval;
          if (schema) both(`${schema}.*`);
        }
        return;
      case 'CreatePolicyStmt':
      case 'AlterPolicyStmt':
        if (n.table) both(rangeVarName(n.table));
        return;
      case 'GrantStmt':
        if (n.objtype !== 'OBJECT_TABLE' && n.objtype !== 'OBJECT_SEQUENCE') return;
        for (const o of n.objects ?? []) {
          if (o?.RangeVar) both(rangeVarName(o.RangeVar));
          else if (n.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' && o?.String?.sval) both(`${o.String.sval}.*`);
        }
        return;
      case 'AlterDatabaseSetStmt':
      case 'AlterRoleSetStmt': {
        // A stored default for later sessions (the gateway assumes they start on the default search_path).
        const set = n.setstmt;
        const name = String(set?.name ?? '').toLowerCase();
        if (ROLE_SETTINGS.has(name)) this.c.kinds.add('set role');
        if (name === 'search_path' && Array.isArray(set.args)) {
          for (const a of set.args) for (const schema of constText(a).split(',')) if (schema.trim()) both(`${schema.trim()}.*`);
        }
        return;
      }
      case 'ViewStmt': {
        const inner = analyzeNested(n.query);
        for (const t of inner?.tablesRead ?? []) this.c.written.add(t);
        return;
      }
    }
  }

  /** Walk CTE bodies with the right visibility and return the scope for the statement's body. */
  private withClause(w: Record<string, any>, outer: Scope): Scope {
    const ctes: any[] = (w.ctes ?? []).map((c: any) => c?.CommonTableExpr).filter(Boolean);
    const all = new Set([...outer.ctes, ...ctes.map((c) => c.ctename as string)]);
    const visible = new Set(outer.ctes);
    for (const cte of ctes) {
      // WITH RECURSIVE: every CTE sees all of them; otherwise each sees only the ones before it.
      const scope: Scope = { ctes: w.recursive ? all : new Set(visible) };
      for (const k in cte) if (k !== 'ctename') this.value(cte[k], scope, false);
      visible.add(cte.ctename);
    }
    return { ctes: all };
  }
}

/** EXPLAIN's options say ANALYZE (absent argument, or anything but false/off/0/no). */
function explainAnalyzes(options: unknown): boolean {
  if (!Array.isArray(options)) return false;
  return options.some((o: any) => {
    const d = o?.DefElem;
    if (!d || String(d.defname).toLowerCase() !== 'analyze') return false;
    const arg = d.arg;
    if (!arg) return true;
    const s = arg.String?.sval ?? arg.Boolean?.boolval ?? arg.Integer?.ival ?? arg.A_Const?.sval?.sval;
    if (s === undefined) return arg.Boolean ? false : arg.Integer ? false : true; // {Boolean:{}} is false, {Integer:{}} is 0
    return !['false', 'off', '0', 'no'].includes(String(s).toLowerCase());
  });
}

/**
 * Whether a WHERE clause can filter rows: it must exist and refer to something of the row (a column)
 * or be WHERE CURRENT OF a cursor. `WHERE true` or `WHERE 1 = 1` affect every row like no WHERE at all,
 * and so do the plain tautologies `WHERE id = id` and `WHERE id = 1 OR true` (an OR filters only if
 * every branch does). Other tautologies over columns (`WHERE id IS NOT NULL`) can't be told apart from
 * real filters.
 */
function filtersRows(where: unknown): boolean {
  if (!where) return false;
  const w = where as Record<string, any>;
  const bool = w.BoolExpr;
  if (bool && Array.isArray(bool.args)) {
    if (bool.boolop === 'OR_EXPR') return bool.args.every(filtersRows);
    if (bool.boolop === 'AND_EXPR') return bool.args.some(filtersRows);
  }
  const expr = w.A_Expr;
  if (expr && expr.kind === 'AEXPR_OP' && dotted(expr.name) === '=' && expr.lexpr?.ColumnRef && JSON.stringify(stripLocations(expr.lexpr)) === JSON.stringify(stripLocations(expr.rexpr))) {
    return false; // x = x
  }
  let found = false;
  const visit = (v: unknown): void => {
    if (found || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(visit);
    for (const k in v as object) {
      if (k === 'ColumnRef' || k === 'CurrentOfExpr') {
        found = true;
        return;
      }
      visit((v as any)[k]);
    }
  };
  visit(where);
  return found;
}

/** A parse node without its `location` fields (to compare two expressions). */
function stripLocations(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(stripLocations);
  const out: Record<string, unknown> = {};
  for (const k in v as object) if (k !== 'location') out[k] = stripLocations((v as any)[k]);
  return out;
}

function analyzeNested(wrapped: unknown): StatementAnalysis | null {
  if (!wrapped) return null;
  const [type, node] = nodeEntry(wrapped);
  return analyzeStatement(type, node, '');
}

function analyzeStatement(type: string, n: Record<string, any>, text: string): StatementAnalysis {
  const c = new Collector();
  new Walker(c, true).statement(type, n, NO_CTES);
  const kind = statementKind(type, n);
  const extra: { -readonly [K in keyof StatementAnalysis]?: StatementAnalysis[K] } = {};
  if (/^(create|alter|drop) /.test(kind)) extra.objectKind = kind.replace(/^(create|alter|drop) /, '');
  switch (type) {
    case 'CopyStmt':
      extra.copy = {
        direction: n.is_from ? 'from' : 'to',
        target: n.is_program ? 'program' : n.filename ? 'file' : 'stdio',
        ...(n.filename ? { path: String(n.filename) } : {}),
        ...copyOptions(n),
      } satisfies CopyInfo;
      break;
    case 'ExplainStmt': {
      const inner = analyzeNested(n.query);
      if (inner) extra.explain = { analyze: explainAnalyzes(n.options), inner };
      break;
    }
    case 'PrepareStmt': {
      const inner = analyzeNested(n.query);
      if (inner) extra.prepare = { name: String(n.name ?? ''), inner };
      break;
    }
    case 'ExecuteStmt':
      extra.execute = { name: String(n.name ?? '') };
      break;
    case 'DeallocateStmt':
      extra.deallocate = { name: n.isall || n.name == null ? null : String(n.name) };
      break;
    case 'DiscardStmt':
      extra.discard = String(n.target ?? '');
      break;
    case 'VariableSetStmt':
      extra.setting = {
        name: n.kind === 'VAR_RESET_ALL' ? null : String(n.name ?? ''),
        values: n.kind === 'VAR_SET_VALUE' && Array.isArray(n.args) ? n.args.map(constText) : null,
        local: n.is_local === true,
      };
      break;
  }
  const analysis: StatementAnalysis = {
    kind,
    summary: '',
    text,
    kinds: [kind, ...[...c.kinds].filter((k) => k !== kind)],
    tablesRead: [...c.read],
    tablesWritten: [...c.written],
    functions: [...c.functions],
    conditions: [...c.conditions],
    alterDrops: c.alterDrops,
    executes: [...c.executes],
    ...extra,
  };
  return { ...analysis, summary: summarize(type, n, analysis) };
}

function constText(a: any): string {
  const k = a?.A_Const;
  if (!k) return '';
  return String(k.sval?.sval ?? k.ival?.ival ?? k.fval?.fval ?? k.boolval?.boolval ?? (k.ival ? 0 : ''));
}

/** "DROP TABLE public.users", "DELETE FROM t", "COPY t FROM PROGRAM", "EXECUTE p" ... */
function summarize(type: string, n: Record<string, any>, a: StatementAnalysis): string {
  const upper = a.kind.toUpperCase();
  const list = (xs: readonly string[]) => (xs.length > 3 ? `${xs.slice(0, 3).join(', ')}, ...` : xs.join(', '));
  const target = (name: string | undefined) => (name ? `${upper} ${name}` : upper);
  switch (type) {
    case 'DeleteStmt':
      return `DELETE FROM ${rangeVarName(n.relation)}`;
    case 'InsertStmt':
      return `INSERT INTO ${rangeVarName(n.relation)}`;
    case 'UpdateStmt':
    case 'MergeStmt':
      return target(rangeVarName(n.relation));
    case 'CopyStmt': {
      const src = n.relation ? rangeVarName(n.relation) : '(query)';
      const where = a.copy!.target === 'program' ? 'PROGRAM' : a.copy!.target === 'file' ? `'${a.copy!.path}'` : n.is_from ? 'STDIN' : 'STDOUT';
      return `COPY ${src} ${n.is_from ? 'FROM' : 'TO'} ${where}`;
    }
    case 'DropStmt': {
      const names = (n.objects ?? []).map((o: any) => dotted(o?.List?.items) || dotted(o?.ObjectWithArgs?.objname) || o?.String?.sval || '').filter(Boolean);
      return target(list(names));
    }
    case 'ExecuteStmt':
      return `EXECUTE ${n.name}`;
    case 'PrepareStmt':
      return `PREPARE ${n.name} AS ${a.prepare?.inner.summary ?? ''}`.trim();
    case 'ExplainStmt':
      return `EXPLAIN${a.explain?.analyze ? ' ANALYZE' : ''} ${a.explain?.inner.summary ?? ''}`.trim();
    case 'CallStmt':
      return target(dotted(n.funccall?.funcname));
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
    case 'AlterRoleSetStmt':
      return target(n.role?.rolename ?? n.role);
    case 'DropRoleStmt':
      return target(list((n.roles ?? []).map((r: any) => r?.RoleSpec?.rolename ?? '').filter(Boolean)));
    case 'VariableSetStmt':
      return a.setting?.name ? `${upper} ${a.setting.name}` : upper;
    case 'RuleStmt':
      return `CREATE RULE ${n.rulename} ON ${rangeVarName(n.relation)}`;
    case 'CreateTrigStmt':
      return `CREATE TRIGGER ${n.trigname} ON ${rangeVarName(n.relation)}`;
    case 'SelectStmt':
      return a.kind === 'select' ? 'SELECT' : target(list(a.tablesWritten));
    default:
      if (a.tablesWritten.length > 0) return target(list(a.tablesWritten));
      if (/^(create|alter|drop) /.test(a.kind)) {
        const name = dotted(n.funcname) || dotted(n.defnames) || n.idxname || n.schemaname || n.extname || n.dbname || n.trigname || n.rulename || '';
        return target(typeof name === 'string' ? name : '');
      }
      return upper;
  }
}

/** A short description of a whole analysis: the statement summaries joined with "; ". */
export function describeAnalysis(a: SqlAnalysis): string {
  return a.ok ? a.statements.map((s) => s.summary).join('; ') : a.error;
}

export { objectKindName };

/** COPY's format options (WITH (FORMAT csv, DELIMITER ';', ...) and the legacy CSV / BINARY keywords). */
function copyOptions(n: Record<string, any>): Pick<CopyInfo, 'format' | 'delimiter' | 'null' | 'quote' | 'escape' | 'columns' | 'relation' | 'header'> {
  const out: Pick<CopyInfo, 'format' | 'delimiter' | 'null' | 'quote' | 'escape' | 'columns' | 'relation' | 'header'> = { format: 'text' };
  if (n.relation) out.relation = rangeVarName(n.relation);
  for (const o of n.options ?? []) {
    const d = o?.DefElem;
    if (!d) continue;
    const value = d.arg?.String?.sval ?? d.arg?.Boolean?.boolval;
    switch (d.defname) {
      case 'format':
        if (value === 'csv' || value === 'binary' || value === 'text') out.format = value;
        break;
      case 'csv': // legacy `COPY ... CSV`
        out.format = 'csv';
        break;
      case 'binary': // legacy `COPY ... BINARY`
        out.format = 'binary';
        break;
      case 'delimiter':
      case 'null':
      case 'quote':
      case 'escape':
        if (typeof value === 'string') out[d.defname as 'delimiter'] = value;
        break;
      case 'header': // HEADER alone, or a boolean-ish argument
        // {Boolean:{}} is false and {Integer:{}} is 0 (the parse tree omits zero values).
        if (d.arg == null) out.header = true;
        else if (d.arg.Boolean) out.header = d.arg.Boolean.boolval === true;
        else if (d.arg.Integer) out.header = (d.arg.Integer.ival ?? 0) !== 0;
        else out.header = typeof value === 'string' && !['false', 'off', '0', 'no'].includes(value.toLowerCase());
        break;
    }
  }
  const cols = (n.attlist ?? []).map((c: any) => c?.String?.sval).filter((c: unknown): c is string => typeof c === 'string');
  if (cols.length) out.columns = cols;
  return out;
}
