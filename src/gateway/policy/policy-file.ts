/**
 * The policy file: YAML in, a validated `Policy` out, with errors that name the line, column and field;
 * and `formatPolicy` to write a policy back (parse(format(p)) deep-equals p). Format: docs/policy.md.
 */
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { DETECTOR_NAMES, PRESET_NAMES, type MaskingRule, type Policy, type PolicyScope, type PresetUse, type SqlMatch, type SqlRule, type SshMatch, type SshRule } from './policy-model';
import type { MaskStrategy } from './policy-types';
import { KIND_GROUPS, KNOWN_KINDS } from './sql-kinds';
import { SQL_CONDITIONS } from './sql-parser';

/** One problem in a policy file. Line and column are 1-based; path is the field, e.g. "rules[2].action". */
export interface PolicyFileError {
  line: number;
  column: number;
  path: string;
  message: string;
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyFileError[] };

// ---------------------------------------------------------------------------------------------------
// Durations: "90s", "5m", "1h30m", "250ms", or a number of seconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h30m" -> 5_400_000; null when not a duration. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? Math.round(text * 1000) : null;
  const s = text.trim().toLowerCase();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(s)) return null;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * UNIT_MS[unit];
  return total > 0 ? total : null;
}

/** 5_400_000 -> "1h30m"; the inverse of parseDuration. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || '0s';
}

// ---------------------------------------------------------------------------------------------------
// Schema. Validates the YAML as written and transforms it into the model.

const MAX_TIMEOUT_MS = 24 * 3_600_000;

const RuleName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'use letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((n) => !(PRESET_NAMES as readonly string[]).includes(n), 'this name is reserved for a preset');

const Pattern = z.string().min(1).max(200);
const PatternList = z.array(Pattern).max(500);

const Duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null || ms > MAX_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration up to 24h such as 30s, 5m or 1h30m' });
      return z.NEVER;
    }
    return ms;
  });

const Scope = z
  .strictObject({
    connections: PatternList.optional(),
    connectionTags: PatternList.optional(),
    agents: PatternList.optional(),
    agentTags: PatternList.optional(),
  })
  .transform((s) => dropUndefined(s) as PolicyScope);

/** Kinds are case-insensitive in the file; the model keeps them lower-case. */
const Kind = z
  .string()
  .min(1)
  .transform((k) => k.trim().toLowerCase().replace(/\s+/g, ' '))
  .refine((k) => kindIsValid(k), { message: 'unknown statement kind (see docs/policy.md for the list, globs such as "drop *", and groups ddl, dml, privileges, transaction)' });

function kindIsValid(k: string): boolean {
  if (KNOWN_KINDS.includes(k) || Object.hasOwn(KIND_GROUPS, k)) return true;
  if (!/[*?]/.test(k)) return false;
  const re = globToRegExp(k);
  return KNOWN_KINDS.some((known) => re.test(known));
}

const Match = z
  .strictObject({
    kinds: z.array(Kind).max(200).optional(),
    tables: PatternList.optional(),
    access: z.enum(['read', 'write', 'any']).optional(),
    functions: PatternList.optional(),
    conditions: z.array(z.enum(SQL_CONDITIONS as [string, ...string[]])).optional(),
  })
  .transform((m) => dropUndefined(m) as SqlMatch);

const Action = z.enum(['allow', 'block', 'approve']);

const Rule = z
  .strictObject({
    name: RuleName,
    scope: Scope.optional(),
    match: Match.optional(),
    action: Action,
    timeout: Duration.optional(),
    message: z.string().min(1).max(500).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.timeout !== undefined && r.action !== 'approve') ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'a timeout only applies to action: approve' });
  })
  .transform((r): SqlRule => {
    const { timeout, ...rest } = r;
    return dropUndefined({ ...rest, timeoutMs: timeout }) as SqlRule;
  });

const SshMatchSchema = z
  .strictObject({
    shell: z.boolean().optional(),
    programs: PatternList.optional(),
    args: PatternList.optional(),
  })
  .transform((m) => dropUndefined(m) as SshMatch);

const SshRuleSchema = z
  .strictObject({
    name: RuleName,
    scope: Scope.optional(),
    match: SshMatchSchema.optional(),
    action: Action,
    timeout: Duration.optional(),
    message: z.string().min(1).max(500).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.timeout !== undefined && r.action !== 'approve') ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'a timeout only applies to action: approve' });
  })
  .transform((r): SshRule => {
    const { timeout, ...rest } = r;
    return dropUndefined({ ...rest, timeoutMs: timeout }) as SshRule;
  });

const PresetName = z.enum(PRESET_NAMES, { error: () => `unknown preset (known: ${PRESET_NAMES.join(', ')})` });

/** `- destructive` is short for `- { name: destructive }`. */
const Preset = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z
    .strictObject({
      name: PresetName,
      scope: Scope.optional(),
      allowFunctions: PatternList.optional(),
      action: z.enum(['approve', 'block']).optional(),
      timeout: Duration.optional(),
    })
    .transform((p): PresetUse => {
      const { timeout, ...rest } = p;
      return dropUndefined({ ...rest, timeoutMs: timeout }) as PresetUse;
    }),
);

const Strategy = z.union([
  z.enum(['redact', 'hash', 'null']).transform((k): MaskStrategy => ({ kind: k }) as MaskStrategy),
  z.null().transform((): MaskStrategy => ({ kind: 'null' })),
  z.strictObject({ partial: z.number().int().min(1).max(64) }).transform((p): MaskStrategy => ({ kind: 'partial', keep: p.partial })),
], { error: () => 'expected redact, hash, null or { partial: N }' });

const CustomDetector = z.strictObject({
  name: z.string().min(1).max(63),
  pattern: z
    .string()
    .min(1)
    .max(1000)
    .refine((p) => {
      try {
        new RegExp(p, 'u');
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression'),
});

const Masking = z
  .strictObject({
    name: RuleName,
    scope: Scope.optional(),
    columns: PatternList.optional(),
    detectors: z.array(z.enum(DETECTOR_NAMES, { error: () => `unknown detector (known: ${DETECTOR_NAMES.join(', ')})` })).optional(),
    custom: z.array(CustomDetector).max(100).optional(),
    strategy: Strategy.optional(),
  })
  .superRefine((m, ctx) => {
    if (!m.columns?.length && !m.detectors?.length && !m.custom?.length) {
      ctx.addIssue({ code: 'custom', message: 'a masking rule needs columns, detectors or custom detectors' });
    }
  })
  .transform((m): MaskingRule => dropUndefined({ ...m, strategy: m.strategy ?? { kind: 'redact' } }) as MaskingRule);

const PolicyFile = z
  .strictObject({
    version: z.literal(1, { error: () => 'expected version: 1' }),
    presets: z.array(Preset).max(50).optional(),
    rules: z.array(Rule).max(2000).optional(),
    masking: z.array(Masking).max(500).optional(),
    ssh: z.array(SshRuleSchema).max(2000).optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, string>();
    const check = (list: { name: string }[] | undefined, key: string) =>
      list?.forEach((r, i) => {
        const other = seen.get(r.name);
        if (other) ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `duplicate rule name (also ${other})` });
        else seen.set(r.name, `${key}[${i}]`);
      });
    check(p.rules, 'rules');
    check(p.masking, 'masking');
    check(p.ssh, 'ssh');
  })
  .transform((p): Policy => ({ version: 1, presets: p.presets ?? [], rules: p.rules ?? [], masking: p.masking ?? [], ...(p.ssh?.length ? { ssh: p.ssh } : {}) }));

function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** A glob ("billing.*", "drop *", "agent-?") as an anchored, case-insensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  const src = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${src}$`, 'i');
}

// ---------------------------------------------------------------------------------------------------
// Parsing with positions.

/**
 * Parse and validate a policy file. Errors come sorted by position, each naming the line and column of
 * the offending field (or of the object missing it) and its path.
 */
export function parsePolicy(text: string): PolicyParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { line: pos.line, column: pos.col, path: '(file)', message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return { ok: false, errors: [{ line: 1, column: 1, path: '(file)', message: err instanceof Error ? err.message : String(err) }] };
  }
  const parsed = PolicyFile.safeParse(data);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const errors = parsed.error.issues.map((issue): PolicyFileError => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      // Point at the first unknown key itself, not at its object.
      const key = issue.keys[0];
      const pos = position(doc.contents, [...path, key], lineCounter, true);
      return { ...pos, path: formatPath([...path, key]), message: `unknown field "${key}"` };
    }
    const missing = path.length > 0 && isMissingField(data, path);
    const message = missing ? `missing required field "${path[path.length - 1]}"` : issue.message;
    return { ...position(doc.contents, path, lineCounter, false), path: formatPath(path), message };
  });
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors };
}

/** Whether `path` names a field its (existing, plain object) parent does not have. */
function isMissingField(data: unknown, path: readonly (string | number)[]): boolean {
  let v: any = data;
  for (const seg of path.slice(0, -1)) {
    if (v === null || typeof v !== 'object') return false;
    v = v[seg];
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Object.hasOwn(v, path[path.length - 1]);
}

/** "rules[2].match.kinds[0]" */
function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Line and column of the node at `path`: its value, or its key when `atKey`. Where the path stops
 * existing (a missing field), the deepest node that exists.
 */
function position(root: unknown, path: readonly (string | number)[], lc: LineCounter, atKey: boolean): { line: number; column: number } {
  let node: unknown = root;
  let at: YamlNode | null = (root as YamlNode) ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (last && atKey && pair.key && typeof pair.key === 'object') {
        at = pair.key as YamlNode;
        break;
      }
      node = pair.value;
      at = (pair.value as YamlNode) ?? (pair.key as YamlNode);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      node = item;
      at = item as YamlNode;
    } else break;
  }
  const offset = at?.range?.[0] ?? 0;
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

// ---------------------------------------------------------------------------------------------------
// Formatting.

const HEADER = ' Gatehouse policy (docs/policy.md). Apply with: gatehouse policy apply FILE';

/** Write a policy as YAML in the file format; parsePolicy(formatPolicy(p)) deep-equals p. */
export function formatPolicy(policy: Policy): string {
  const out: Record<string, unknown> = { version: 1 };
  if (policy.presets.length) out.presets = policy.presets.map(presetToYaml);
  if (policy.rules.length) out.rules = policy.rules.map(ruleToYaml);
  if (policy.masking.length) out.masking = policy.masking.map(maskingToYaml);
  if (policy.ssh?.length) out.ssh = policy.ssh.map(ruleToYaml);
  const doc = new Document(out);
  doc.commentBefore = HEADER;
  visit(doc, {
    Seq(_key, node) {
      // Short lists of plain values read best on one line: kinds: [drop table, truncate].
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
    Map(key, node) {
      if (key === 'value' && node.items.every((p) => isPair(p) && isSeq(p.value))) node.flow = false;
    },
  });
  // A blank line between rules.
  for (const section of ['rules', 'masking', 'ssh']) {
    const seq = doc.get(section, true);
    if (isSeq(seq)) seq.items.forEach((item, i) => i > 0 && ((item as YamlNode).spaceBefore = true));
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function scopeToYaml(s: PolicyScope | undefined): Record<string, unknown> | undefined {
  return s ? { ...s } : undefined;
}

function presetToYaml(p: PresetUse): unknown {
  if (Object.keys(p).length === 1) return p.name;
  return dropUndefined({
    name: p.name,
    scope: scopeToYaml(p.scope),
    allowFunctions: p.allowFunctions,
    action: p.action,
    timeout: p.timeoutMs === undefined ? undefined : formatDuration(p.timeoutMs),
  });
}

function ruleToYaml(r: SqlRule | SshRule): unknown {
  return dropUndefined({
    name: r.name,
    scope: scopeToYaml(r.scope),
    match: r.match ? { ...r.match } : undefined,
    action: r.action,
    timeout: r.timeoutMs === undefined ? undefined : formatDuration(r.timeoutMs),
    message: r.message,
  });
}

function strategyToYaml(s: MaskStrategy): unknown {
  return s.kind === 'partial' ? { partial: s.keep } : s.kind === 'null' ? null : s.kind;
}

function maskingToYaml(m: MaskingRule): unknown {
  return dropUndefined({
    name: m.name,
    scope: scopeToYaml(m.scope),
    columns: m.columns,
    detectors: m.detectors,
    custom: m.custom?.map((c) => ({ ...c })),
    strategy: strategyToYaml(m.strategy),
  });
}
