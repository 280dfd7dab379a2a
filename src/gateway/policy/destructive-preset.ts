/**
 * The built-in "destructive" preset (`presets: [destructive]`): blocks what destroys data, privileges or
 * the server's integrity, and holds for approval what can't be known statically.
 *
 * block:   DROP (any object, incl. DROP OWNED/DATABASE), TRUNCATE, DELETE/UPDATE without a row filter,
 *          ALTER ... DROP (column, constraint, default ...), GRANT/REVOKE (incl. default privileges),
 *          CREATE/ALTER/DROP ROLE/USER/GROUP, role changes (SET/RESET ROLE, SET/RESET SESSION
 *          AUTHORIZATION, ALTER DATABASE ... SET role), COPY ... PROGRAM, COPY from or to a server file,
 *          ALTER SYSTEM
 * approve: DO blocks, LOAD, CREATE RULE/TRIGGER/EVENT TRIGGER (they change what later statements do),
 *          CREATE/ALTER FUNCTION, PROCEDURE, AGGREGATE, OPERATOR, CAST, EXTENSION ... (code that later
 *          statements may run without a visible call: an overload shadowing a safe built-in),
 *          calls of functions that are neither safe built-ins (builtin-functions.ts) nor on `allowFunctions`
 */
import { isSafeBuiltin } from './builtin-functions';
import type { PolicyAction } from './policy-types';
import type { StatementAnalysis } from './sql-parser';

/** One reason the preset matched a statement. */
export interface PresetFinding {
  action: Exclude<PolicyAction, 'allow'>;
  /** Short reason shown in the decision, e.g. "DROP", "DELETE without WHERE", "calls dblink_exec". */
  reason: string;
}

const ROLE_KINDS = new Set(['create role', 'alter role', 'drop role']);
const PRIVILEGE_KINDS = new Set(['grant', 'revoke', 'alter default privileges']);
const TRIGGERING_KINDS = new Set(['create rule', 'create trigger', 'create event trigger']);
/**
 * Statements that define (or rename, move, re-own) code that later statements run without naming it as
 * a call the preset can see: a function or operator overload shadowing a safe built-in (a public.lower(int)
 * wins for lower(1)), an aggregate, a cast, an extension's functions.
 */
const CODE_DEFINING_KINDS = new Set([
  'create function', 'create procedure', 'create aggregate', 'create operator', 'create cast', 'create language',
  'create transform', 'create conversion', 'create operator class', 'create operator family', 'create extension',
  'alter function', 'alter procedure', 'alter routine', 'alter aggregate', 'alter operator', 'alter extension',
]);

/**
 * The strictest finding of the destructive preset for one statement, or null when it has nothing to say.
 * `functionAllowed` tells whether the policy's allowFunctions lists a called function.
 */
export function destructiveFinding(s: StatementAnalysis, functionAllowed: (name: string) => boolean): PresetFinding | null {
  const block = (reason: string): PresetFinding => ({ action: 'block', reason });
  for (const k of s.kinds) {
    if (k.startsWith('drop ')) return block(k.toUpperCase());
    if (k === 'truncate') return block('TRUNCATE');
    if (PRIVILEGE_KINDS.has(k)) return block(k.toUpperCase());
    if (ROLE_KINDS.has(k)) return block(k.toUpperCase());
    if (k === 'set role') return block('role change: SET ROLE / SESSION AUTHORIZATION');
    if (k === 'alter system') return block('ALTER SYSTEM');
  }
  if (s.conditions.includes('delete_without_where')) return block('DELETE without WHERE');
  if (s.conditions.includes('update_without_where')) return block('UPDATE without WHERE');
  if (s.alterDrops) return block('ALTER ... DROP');
  if (s.copy?.target === 'program') return block('COPY ... PROGRAM');
  if (s.copy?.target === 'file') return block(`COPY ${s.copy.direction === 'from' ? 'FROM' : 'TO'} a server file`);

  for (const k of s.kinds) {
    if (k === 'do') return { action: 'approve', reason: 'DO block (its effect cannot be known in advance)' };
    if (k === 'load') return { action: 'approve', reason: 'LOAD of a server library' };
    if (TRIGGERING_KINDS.has(k)) return { action: 'approve', reason: `${k.toUpperCase()} (changes what later statements do)` };
    if (CODE_DEFINING_KINDS.has(k)) return { action: 'approve', reason: `${k.toUpperCase()} (defines code later statements may run unseen)` };
  }
  const unknown = s.functions.filter((f) => !isSafeBuiltin(f) && !functionAllowed(f));
  if (unknown.length > 0) return { action: 'approve', reason: `calls ${unknown.join(', ')}` };
  return null;
}
