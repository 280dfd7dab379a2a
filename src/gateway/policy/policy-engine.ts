/**
 * Decisions: a compiled policy applied to a subject (connection + agent) and a SQL request.
 *
 * - Every statement of a request is decided; the request gets the strictest action of any statement
 *   and any matching rule or preset (block > approve > allow). An allow rule never loosens a stricter
 *   match; it only names itself when nothing stricter matched. No match at all: allow, rule null.
 * - PREPARE is decided on its inner statement; EXECUTE on what was prepared under that name in this
 *   session (SqlSessionState); an EXECUTE of a name the session never prepared is blocked whenever SQL
 *   policy applies to the subject.
 * - A request the parser rejects is blocked when any SQL rule or preset applies to the subject (its text
 *   can't be checked), and allowed otherwise (the database will reject it anyway).
 * - A stored policy that fails to load compiles to `brokenPolicy(error)`, which blocks everything.
 */
import { globToRegExp } from './policy-file';
import { destructiveFinding } from './destructive-preset';
import type { MaskingRule, Policy, PolicyScope, PresetName, SqlRule } from './policy-model';
import { DEFAULT_APPROVAL_TIMEOUT_MS, type MaskingPlan, type PolicyAction, type PolicySubject, type StatementDecision } from './policy-types';
import { KIND_GROUPS } from './sql-kinds';
import { analyzeSql, type SqlAnalysis, type StatementAnalysis } from './sql-parser';
import { SqlSessionState } from './sql-session-state';

type Matcher = (value: string) => boolean;

interface CompiledScope {
  /** True when the scope is "everyone". */
  all: boolean;
  matches(subject: PolicySubject): boolean;
}

interface CompiledRule {
  name: string;
  scope: CompiledScope;
  action: PolicyAction;
  timeoutMs: number;
  message?: string;
  matches(s: StatementAnalysis, searchPath: readonly string[] | null): boolean;
}

interface CompiledPreset {
  name: PresetName;
  scope: CompiledScope;
  action?: 'approve' | 'block';
  timeoutMs: number;
  functionAllowed: Matcher;
}

interface CompiledMasking {
  rule: MaskingRule;
  scope: CompiledScope;
  /** The tables its table.column patterns protect (null when it has none: name patterns and detectors only). */
  tables: ((name: string, searchPath: readonly string[] | null) => boolean) | null;
}

/** A policy ready for the data path: globs compiled, defaults filled in. Immutable; share it freely. */
export interface CompiledPolicy {
  readonly policy: Policy;
  /** Set when the stored policy could not be loaded: every statement is blocked with this reason. */
  readonly broken: string | null;
  readonly rules: readonly CompiledRule[];
  readonly presets: readonly CompiledPreset[];
  readonly masking: readonly CompiledMasking[];
}

const STRICTNESS: Record<PolicyAction, number> = { allow: 0, approve: 1, block: 2 };

// ---------------------------------------------------------------------------------------------------
// Compile

function anyGlob(patterns: readonly string[]): Matcher {
  const res = patterns.map(globToRegExp);
  return (v) => res.some((re) => re.test(v));
}

function compileScope(scope: PolicyScope | undefined): CompiledScope {
  if (!scope || Object.keys(scope).length === 0) return { all: true, matches: () => true };
  const conn = scope.connections && anyGlob(scope.connections);
  const connTags = scope.connectionTags && anyGlob(scope.connectionTags);
  const agent = scope.agents && anyGlob(scope.agents);
  const agentTags = scope.agentTags && anyGlob(scope.agentTags);
  return {
    all: false,
    matches: (s) =>
      (!conn || conn(s.connection.name)) &&
      (!connTags || s.connection.tags.some(connTags)) &&
      (!agent || agent(s.agent.name)) &&
      (!agentTags || s.agent.tags.some(agentTags)),
  };
}

function kindMatcher(kinds: readonly string[]): Matcher {
  const parts: Matcher[] = kinds.map((k) => (Object.hasOwn(KIND_GROUPS, k) ? KIND_GROUPS[k] : /[*?]/.test(k) ? anyGlob([k]) : (v: string) => v === k));
  return (v) => parts.some((m) => m(v));
}

/**
 * Table (or function) name patterns. "name" matches that name in any schema; "schema.name" matches a
 * qualified reference exactly and an unqualified one when `schema` may be on the session's search path
 * (any schema when the search path is unknown).
 */
function qualifiedMatcher(patterns: readonly string[]): (name: string, searchPath: readonly string[] | null) => boolean {
  const compiled = patterns.map((p) => {
    const dot = p.lastIndexOf('.');
    return dot < 0 ? { schema: null, name: globToRegExp(p) } : { schema: globToRegExp(p.slice(0, dot)), name: globToRegExp(p.slice(dot + 1)) };
  });
  return (full, searchPath) => {
    const dot = full.lastIndexOf('.');
    const schema = dot < 0 ? null : full.slice(0, dot);
    const name = dot < 0 ? full : full.slice(dot + 1);
    return compiled.some((p) => {
      // "schema.*" (a whole schema renamed or granted) stands for every table in it.
      if (name !== '*' && !p.name.test(name)) return false;
      if (!p.schema) return true;
      if (schema !== null) return p.schema.test(schema);
      return searchPath === null || searchPath.some((s) => p.schema!.test(s));
    });
  };
}

function compileRule(r: SqlRule): CompiledRule {
  const m = r.match ?? {};
  const kinds = m.kinds && kindMatcher(m.kinds);
  const tables = m.tables && qualifiedMatcher(m.tables);
  const functions = m.functions && qualifiedMatcher(m.functions);
  const access = m.access ?? 'any';
  const tableCriterion = m.tables !== undefined || m.access !== undefined;
  const conditions = m.conditions;
  return {
    name: r.name,
    scope: compileScope(r.scope),
    action: r.action,
    timeoutMs: r.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    ...(r.message ? { message: r.message } : {}),
    matches(s, searchPath) {
      if (kinds && !s.kinds.some(kinds)) return false;
      if (tableCriterion) {
        const candidates = access === 'read' ? s.tablesRead : access === 'write' ? s.tablesWritten : [...s.tablesRead, ...s.tablesWritten];
        if (tables ? !candidates.some((t) => tables(t, searchPath)) : candidates.length === 0) return false;
      }
      if (functions && !s.functions.some((f) => functions(f, null))) return false;
      if (conditions && !s.conditions.some((c) => conditions.includes(c))) return false;
      return true;
    },
  };
}

/** Compile a validated policy for fast repeated decisions. */
export function compilePolicy(policy: Policy): CompiledPolicy {
  return {
    policy,
    broken: null,
    rules: policy.rules.map(compileRule),
    presets: policy.presets.map((p) => {
      const allowed = p.allowFunctions && qualifiedMatcher(p.allowFunctions);
      return {
        name: p.name,
        scope: compileScope(p.scope),
        ...(p.action ? { action: p.action } : {}),
        timeoutMs: p.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
        // An allow list must not widen: an unqualified call matches only unqualified entries here.
        functionAllowed: allowed ? (f: string) => allowed(f, []) : () => false,
      };
    }),
    masking: policy.masking.map((rule) => {
      // "customers.name" protects table customers (any schema); "public.customers.email" public.customers.
      // "*.email" names a column in every table: a name pattern, not a protected table.
      const tables = (rule.columns ?? [])
        .filter((c) => c.includes('.'))
        .map((c) => c.slice(0, c.lastIndexOf('.')))
        .filter((t) => t.slice(t.lastIndexOf('.') + 1) !== '*');
      return { rule, scope: compileScope(rule.scope), tables: tables.length ? qualifiedMatcher(tables) : null };
    }),
  };
}

/** The policy used when the stored one can't be loaded: blocks every statement, masks every column. */
export function brokenPolicy(reason: string): CompiledPolicy {
  return { policy: { version: 1, presets: [], rules: [], masking: [] }, broken: reason, rules: [], presets: [], masking: [] };
}

// ---------------------------------------------------------------------------------------------------
// Decide

/** Whether any SQL rule or preset applies to this subject (so unparsable text must be blocked). */
export function policyAppliesToSql(compiled: CompiledPolicy, subject: PolicySubject): boolean {
  if (compiled.broken !== null) return true;
  return (
    compiled.rules.some((r) => r.scope.matches(subject)) ||
    compiled.presets.some((p) => p.scope.matches(subject)) ||
    // Masking by table.column is enforced on statements too (see launderingFinding).
    compiled.masking.some((m) => m.tables !== null && m.scope.matches(subject))
  );
}

interface Candidate {
  action: PolicyAction;
  rule: string | null;
  message: string;
  timeoutMs: number;
}

const VERB: Record<PolicyAction, string> = { block: 'blocked', approve: 'approval required', allow: 'allowed' };

/**
 * Decide one request (a simple Query string, possibly several statements, or one Parse's text).
 * `session` is the relay's SqlSessionState for this client session (needed for EXECUTE and search_path;
 * without it, EXECUTE of any name counts as unknown).
 */
export function decideSql(compiled: CompiledPolicy, subject: PolicySubject, sql: string, session?: SqlSessionState, preparedAs?: string): StatementDecision {
  return decideAnalysis(compiled, subject, analyzeSql(sql), session, preparedAs);
}

/**
 * decideSql for an analysis the caller already has. `preparedAs`: the name of a protocol-level Parse;
 * the decision then also covers what that name held before (see SqlSessionState.history): when the
 * name is still taken upstream the Parse fails and a later Bind runs the old statement.
 */
export function decideAnalysis(
  compiled: CompiledPolicy,
  subject: PolicySubject,
  analysis: SqlAnalysis,
  session?: SqlSessionState,
  preparedAs?: string,
): StatementDecision {
  if (compiled.broken !== null) {
    return { action: 'block', rule: null, message: `blocked: the gateway's policy could not be loaded (${compiled.broken})`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
  }
  const applies = policyAppliesToSql(compiled, subject);
  if (!analysis.ok) {
    if (!applies) return allowDefault();
    return { action: 'block', rule: null, message: `blocked: the statement could not be parsed, so policy cannot check it (${analysis.error})`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
  }
  if (!applies) return allowDefault();
  const rules = compiled.rules.filter((r) => r.scope.matches(subject));
  const presets = compiled.presets.filter((p) => p.scope.matches(subject));
  const guards = compiled.masking.filter((m) => m.tables !== null && m.scope.matches(subject));
  // Statements of one request run in order: a PREPARE or SET early in the string counts for the rest.
  // (One statement alone needs no scratch copy: nothing runs before it.)
  const single = analysis.statements.length === 1;
  const scratch = single ? (session ?? EMPTY_SESSION) : (session ?? EMPTY_SESSION).clone();
  let best: Candidate | null = null;
  const consider = (c: Candidate | null) => {
    if (c && (!best || STRICTNESS[c.action] > STRICTNESS[best.action])) best = c;
  };
  for (const s of analysis.statements) {
    consider(decideStatement(s, s.summary, rules, presets, guards, scratch.searchPath, scratch, 0));
    if (!single) scratch.applyStatement(s);
  }
  if (preparedAs && session) {
    if (session.uncertain(preparedAs)) {
      consider({ action: 'block', rule: null, message: `blocked: statement name "${preparedAs}" may still hold a statement deallocated earlier in this session that the gateway no longer remembers`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS });
    }
    for (const earlier of session.history(preparedAs)) {
      consider(decideStatement(earlier, `${earlier.summary} (what "${preparedAs}" held before; it stays if this Parse fails)`, rules, presets, guards, scratch.searchPath, scratch, 1));
    }
  }
  if (!best) return allowDefault();
  const b: Candidate = best;
  return { action: b.action, rule: b.rule, message: b.message, timeoutMs: b.timeoutMs };
}

/** Stands in for "no session": never written to (decisions only read a session they don't copy). */
const EMPTY_SESSION = new SqlSessionState();

function allowDefault(): StatementDecision {
  return { action: 'allow', rule: null, message: 'allowed: no policy rule matched', timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
}

/** The strictest candidate for one statement (and what it prepares or executes). */
function decideStatement(
  s: StatementAnalysis,
  label: string,
  rules: readonly CompiledRule[],
  presets: readonly CompiledPreset[],
  guards: readonly CompiledMasking[],
  searchPath: readonly string[] | null,
  session: SqlSessionState | undefined,
  depth: number,
): Candidate | null {
  let best: Candidate | null = null;
  const consider = (c: Candidate | null) => {
    if (c && (!best || STRICTNESS[c.action] > STRICTNESS[best.action])) best = c;
  };
  for (const r of rules) {
    if (!r.matches(s, searchPath)) continue;
    const why = r.message ? ` (${r.message})` : '';
    consider({ action: r.action, rule: r.name, message: `${VERB[r.action]} by policy rule "${r.name}"${why}: ${label}`, timeoutMs: r.timeoutMs });
  }
  for (const p of presets) {
    const f = destructiveFinding(s, p.functionAllowed);
    if (!f) continue;
    const action = p.action ?? f.action;
    consider({ action, rule: p.name, message: `${VERB[action]} by policy preset "${p.name}" (${f.reason}): ${label}`, timeoutMs: p.timeoutMs });
  }
  for (const g of guards) consider(launderingFinding(s, label, g, searchPath));
  if (s.prepare) consider(decideStatement(s.prepare.inner, label, rules, presets, guards, searchPath, session, depth + 1));
  for (const name of s.executes) {
    const prepared = session?.lookup(name) ?? [];
    if (session?.uncertain(name)) {
      consider({ action: 'block', rule: null, message: `blocked: EXECUTE of "${name}", which may still run a statement deallocated earlier in this session that the gateway no longer remembers`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS });
    }
    if (prepared.length === 0) {
      consider({ action: 'block', rule: null, message: `blocked: EXECUTE of "${name}", which this session has not prepared through the gateway`, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS });
    }
    // Prepared statements can't EXECUTE (PREPARE p AS EXECUTE q is a syntax error), so depth stays small.
    if (depth < 4) for (const inner of prepared) consider(decideStatement(inner, `${label} (${inner.summary})`, rules, presets, guards, searchPath, session, depth + 1));
  }
  return best;
}

/**
 * A statement that would let values masked by a table.column rule out under another name, where the
 * result masker can't see them: reading a protected table while writing another one (INSERT ... SELECT,
 * CREATE TABLE AS, SELECT INTO, a view, UPDATE other SET x = (SELECT ...)), or changing a protected table
 * (renaming it, its columns or its schema, views, rules, triggers on it). Blocked.
 */
const STATISTICS_VIEWS = /^(pg_catalog\.)?(pg_stats|pg_stats_ext|pg_stats_ext_exprs|pg_statistic|pg_statistic_ext_data)$/i;

function launderingFinding(s: StatementAnalysis, label: string, g: CompiledMasking, searchPath: readonly string[] | null): Candidate | null {
  const isProtected = (t: string) => g.tables!(t, searchPath);
  // Planner statistics hold sample values of every column (most_common_vals, histogram_bounds).
  if (s.tablesRead.some((t) => STATISTICS_VIEWS.test(t))) {
    return {
      action: 'block',
      rule: g.rule.name,
      message: `blocked by masking rule "${g.rule.name}" (planner statistics hold sample values of the columns it masks): ${label}`,
      timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS,
    };
  }
  const readsProtected = s.tablesRead.some(isProtected);
  const writesElsewhere = s.tablesWritten.some((t) => !isProtected(t));
  const changesProtected = s.kinds.some((k) => /^(create|alter) /.test(k)) && s.tablesWritten.some(isProtected);
  if (!(readsProtected && writesElsewhere) && !changesProtected) return null;
  const why = changesProtected ? 'changes a table whose columns it masks' : 'would copy columns it masks into another table';
  return {
    action: 'block',
    rule: g.rule.name,
    message: `blocked by masking rule "${g.rule.name}" (${why}, where they would no longer be masked): ${label}`,
    timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS,
  };
}

// ---------------------------------------------------------------------------------------------------
// Masking

/** The masking rules that apply to this subject, in the shape the result masker takes. */
export function maskingPlanFor(compiled: CompiledPolicy, subject: PolicySubject): MaskingPlan {
  if (compiled.broken !== null) {
    // Nothing passes a broken policy anyway (every statement is blocked); mask everything all the same.
    return { columns: [{ rule: '(policy unavailable)', columns: ['*'], strategy: { kind: 'redact' } }], values: [] };
  }
  const columns: MaskingPlan['columns'][number][] = [];
  const values: MaskingPlan['values'][number][] = [];
  for (const m of compiled.masking) {
    if (!m.scope.matches(subject)) continue;
    const r = m.rule;
    if (r.columns?.length) columns.push({ rule: r.name, columns: r.columns, strategy: r.strategy });
    if (r.detectors?.length || r.custom?.length) values.push({ rule: r.name, detectors: r.detectors ?? [], custom: r.custom ?? [], strategy: r.strategy });
  }
  return { columns, values };
}
