import type { ColumnMaskRule } from '../policy-types';
import { strictness } from './strategies';

/** A source table column, as resolved from (table OID, attribute number) through the upstream catalog. */
export interface ColumnRef {
  schema: string;
  table: string;
  column: string;
}

/**
 * Where a result column comes from: a resolved table column, `'unresolved'` (it has a table OID but the
 * catalog lookup gave nothing: fail closed), or undefined (an expression; only its name can be matched).
 */
export type ColumnSource = ColumnRef | 'unresolved' | undefined;

interface CompiledPattern {
  /** 1 = column name only, 2 = table.column, 3 = schema.table.column. */
  parts: RegExp[];
}

/** Glob (* any run, ? one character) to an anchored case-insensitive regex: SQL folds unquoted names. */
function globToRegex(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'is');
}

/**
 * The column rules of a plan, compiled. A pattern without dots matches the column name the client sees
 * (an alias included) and also the resolved source column's name, so `SELECT email AS e FROM users` is
 * caught by a rule on `email`; `table.column` and `schema.table.column` match the resolved source only.
 * When several rules match, the strictest strategy wins (null > redact > hash > partial), then the first.
 */
export class ColumnMatcher {
  private readonly rules: { rule: ColumnMaskRule; patterns: CompiledPattern[]; order: number }[];

  constructor(rules: readonly ColumnMaskRule[]) {
    this.rules = rules
      .map((rule, order) => ({
        rule,
        order,
        patterns: rule.columns.map((c) => ({ parts: c.split('.').map(globToRegex) })),
      }))
      .sort((a, b) => strictness(b.rule.strategy) - strictness(a.rule.strategy) || a.order - b.order);
  }

  /** Whether there are any column rules. */
  get enabled(): boolean {
    return this.rules.length > 0;
  }

  /** The strictest rule (what an unresolvable column gets). */
  get strictest(): ColumnMaskRule | null {
    return this.rules[0]?.rule ?? null;
  }

  /**
   * The rule for a result column named `name` from `source`, or null. For an unresolved table column the
   * qualified patterns can't be decided, so they fail closed: the strictest rule that has a qualified
   * pattern applies (or a stricter one matching the name). Rules with name patterns only are matched on
   * the name (the value detectors are the backstop for an alias).
   */
  match(name: string, source: ColumnSource): ColumnMaskRule | null {
    if (source === 'unresolved') {
      for (const { rule, patterns } of this.rules) {
        for (const { parts } of patterns) if (parts.length > 1 || parts[0].test(name)) return rule;
      }
      return null;
    }
    for (const { rule, patterns } of this.rules) {
      for (const { parts } of patterns) {
        if (matches(parts, name, source)) return rule;
      }
    }
    return null;
  }

  /**
   * The rule for column `column` of the table `table` as written in SQL ("users" or "public.users"): a
   * COPY's column list, where no catalog tells the schema. An unqualified table may be in any schema, so
   * schema.table.column patterns match on table and column alone (fail closed).
   */
  matchTableColumn(column: string, table: string): ColumnMaskRule | null {
    const { schema, name } = splitTable(table);
    for (const { rule, patterns } of this.rules) {
      for (const { parts } of patterns) {
        if (matches(parts.length === 3 && schema === null ? parts.slice(1) : parts, column, { schema: schema ?? '', table: name, column })) return rule;
      }
    }
    return null;
  }

  /**
   * The strictest rule that may apply to some column of one of `tables` (as written; null = any table):
   * what every field of a COPY gets when its columns are not named. Name-only patterns may match any
   * column, so they count for every table.
   */
  strictestFor(tables: readonly string[] | null): ColumnMaskRule | null {
    for (const { rule, patterns } of this.rules) {
      for (const { parts } of patterns) {
        if (parts.length === 1 || tables === null) return rule;
        for (const t of tables) {
          const { schema, name } = splitTable(t);
          if (parts[parts.length - 2].test(name) && (parts.length === 2 || schema === null || parts[0].test(schema))) return rule;
        }
      }
    }
    return null;
  }

  /** The rule for a bare column name (COPY column lists, names in error details), or null. */
  matchName(name: string): ColumnMaskRule | null {
    for (const { rule, patterns } of this.rules) {
      for (const { parts } of patterns) if (parts.length === 1 && parts[0].test(name)) return rule;
    }
    return null;
  }
}

function splitTable(table: string): { schema: string | null; name: string } {
  const dot = table.lastIndexOf('.');
  return dot < 0 ? { schema: null, name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

function matches(parts: RegExp[], name: string, source: ColumnRef | undefined): boolean {
  switch (parts.length) {
    case 1:
      return parts[0].test(name) || (source !== undefined && parts[0].test(source.column));
    case 2:
      return source !== undefined && parts[0].test(source.table) && parts[1].test(source.column);
    case 3:
      return source !== undefined && parts[0].test(source.schema) && parts[1].test(source.table) && parts[2].test(source.column);
    default:
      return false;
  }
}
