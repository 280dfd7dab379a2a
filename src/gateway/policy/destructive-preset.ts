/**
 * The built-in "destructive" preset (`presets: [destructive]`): blocks what destroys data, privileges or
 * the server's integrity, and holds for approval what can't be known statically.
 *
 * block:   DROP (any object, incl. DROP OWNED/DATABASE), TRUNCATE, DELETE/UPDATE without a row filter,
 *          ALTER ... DROP (column, constraint, default ...), GRANT/REVOKE (incl. default privileges),
 *          CREATE/ALTER/DROP ROLE/USER/GROUP, COPY ... PROGRAM, COPY from or to a server file, ALTER SYSTEM
 * approve: DO blocks, LOAD, CREATE RULE/TRIGGER/EVENT TRIGGER (they change what later statements do),
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
  }
  const unknown = s.functions.filter((f) => !isSafeBuiltin(f) && !functionAllowed(f));
  if (unknown.length > 0) return { action: 'approve', reason: `calls ${unknown.join(', ')}` };
  return null;
}
